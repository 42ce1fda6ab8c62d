/**
 * DeepSSIM training with TensorFlow.js (wasm) on a tiny real set: AdamW and clipping against analytic values,
 * the augmentation bank really holds augmented images, and a few training steps lower the validation MSE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readImage } from '../../src/image/read.ts';
import { buildNetwork } from '../../src/memorization/model.ts';
import { preparePlane } from '../../src/memorization/plane.ts';
import { createRng } from '../../src/memorization/rng.ts';
import { loadTf } from '../../src/memorization/tfjs.ts';
import { AdamW, buildBank, clipByGlobalNorm, trainDeepSsim } from '../../src/memorization/train.ts';
import { fixture } from '../helpers/cli.ts';

const SIZE = 64;
const DIR = fixture('brain');
const planes = await Promise.all(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map(async (f) => preparePlane(await readImage(`${DIR}/${f}`), SIZE).data),
);
const tf = await loadTf();

test('AdamW step is decoupled weight decay then Adam: w=1, g=0.5, lr 0.1, wd 0.1 -> 0.89 (first step, m^/sqrt(v^) = 1)', async () => {
  const w = tf.variable(tf.scalar(1));
  const opt = new AdamW(tf, [w], 0.1, 0.1);
  opt.step([tf.scalar(0.5)]);
  // PyTorch AdamW: w <- w (1 - lr wd) - lr m^/(sqrt(v^) + eps); first step m^ = g, v^ = g^2.
  assert.ok(Math.abs((await w.data())[0]! - (1 * (1 - 0.01) - 0.1 * (0.5 / (0.5 + 1e-8)))) < 1e-6);
  opt.dispose();
  w.dispose();
});

test('gradient clipping scales to global norm 1 across tensors ([3] and [4] -> [0.6] and [0.8]) and leaves small ones', async () => {
  const [a, b] = clipByGlobalNorm(tf, [tf.tensor1d([3]), tf.tensor1d([4])], 1);
  assert.ok(Math.abs((await a!.data())[0]! - 0.6) < 1e-5 && Math.abs((await b!.data())[0]! - 0.8) < 1e-5);
  const [c] = clipByGlobalNorm(tf, [tf.tensor1d([0.3])], 1);
  assert.ok(Math.abs((await c!.data())[0]! - 0.3) < 1e-6);
});

test('the augmentation bank holds truly augmented images (p = 1: every variant differs from its source)', async () => {
  const net = await buildNetwork(tf, 'compact', SIZE, 1);
  const bank = await buildBank(tf, net, planes.slice(0, 3), SIZE, 2, createRng(3), { p: 1, maxRotation: 0.17, gammaRange: [0.5, 1.5] }, 8);
  assert.deepEqual(bank.features.shape, [6, SIZE, SIZE, 1]);
  const rows = (await bank.features.data()) as Float32Array;
  for (let r = 0; r < 6; r++) {
    const src = planes[Math.floor(r / 2)]!;
    let maxDiff = 0;
    for (let i = 0; i < src.length; i++) maxDiff = Math.max(maxDiff, Math.abs(rows[r * src.length + i]! - src[i]!));
    assert.ok(maxDiff > 0.5, `variant ${r} differs from its source`);
  }
  bank.features.dispose();
  net.embedder.dispose();
});

test('a few DeepSSIM training steps on 13 real brain slices lower the validation MSE below the untrained MSE', async () => {
  const r = await trainDeepSsim(tf, planes, {
    size: SIZE,
    epochs: 3,
    pairsPerEpoch: 32,
    validationPairs: 24,
    batchSize: 8,
    variantsPerImage: 3,
    trainableFrom: 'head',
    validationShare: 0.3,
  });
  assert.equal(r.history.length, 3);
  const best = Math.min(...r.history.map((h) => h.validationMse));
  assert.ok(best < r.initialValidationMse, `best ${best} vs untrained ${r.initialValidationMse}`);
  assert.equal(r.validation.mse, best);
  assert.ok(Number.isFinite(r.validation.pearson));
  r.network.embedder.dispose();
});
