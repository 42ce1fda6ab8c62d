/**
 * The spatial DeepSSIM encoder (spatial.ts) at 32x32 on the brain fixtures: training is resumable — 2 steps,
 * stop, resume to 4 steps gives the same weights as 4 steps straight (pairs and augmentations depend on
 * (seed, step) only; the AdamW moments and step travel in the checkpoint); a checkpoint of another seed is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../src/image/read.ts';
import { preparePlane } from '../../src/memorization/plane.ts';
import { trainSpatialDeepSsim } from '../../src/memorization/spatial.ts';
import { loadTf } from '../../src/memorization/tfjs.ts';
import { fixture } from '../helpers/cli.ts';

const SIZE = 32;
const DIR = fixture('brain');
const planes = await Promise.all(readdirSync(DIR).filter((f) => f.endsWith('.png')).sort().map(async (f) => preparePlane(await readImage(`${DIR}/${f}`), SIZE).data));
const tf = await loadTf();
const train = { images: planes.slice(3) };
const val = { images: planes.slice(0, 3) };
const base = { size: SIZE, batchSize: 2, checkpointEvery: 2, validationPerBin: 1, seed: 5 };

test('spatial DeepSSIM training resumes from its checkpoint to the same weights as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spatial-ckpt-'));
  try {
    const straight = await trainSpatialDeepSsim(tf, train, val, { ...base, steps: 4 });
    const first = await trainSpatialDeepSsim(tf, train, val, { ...base, steps: 2, checkpointDir: dir });
    assert.equal(first.step, 2);
    first.model.dispose();
    const resumed = await trainSpatialDeepSsim(tf, train, val, { ...base, steps: 4, checkpointDir: dir });
    assert.equal(resumed.resumedFrom, 2);
    assert.equal(resumed.step, 4);
    assert.equal(resumed.history.length, 2);
    const a = straight.model.getWeights();
    const b = resumed.model.getWeights();
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!.dataSync();
      const y = b[i]!.dataSync();
      for (let j = 0; j < x.length; j++) maxDiff = Math.max(maxDiff, Math.abs(x[j]! - y[j]!));
    }
    assert.ok(maxDiff < 1e-6, `max weight difference ${maxDiff}`);
    // Training moved the weights at all (the check above is not two untouched initialisations).
    const fresh = await trainSpatialDeepSsim(tf, train, val, { ...base, steps: 1, learningRate: 1e-9 });
    assert.ok(fresh.model.getWeights().some((w, i) => Math.abs(w.dataSync()[0]! - a[i]!.dataSync()[0]!) > 1e-6));
    await assert.rejects(trainSpatialDeepSsim(tf, train, val, { ...base, seed: 6, steps: 4, checkpointDir: dir }), /checkpoint of another format, size or seed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
