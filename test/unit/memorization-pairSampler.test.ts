/**
 * The exact-target pair sampler on the 64x64 brain fixtures: it covers every SSIM bin it claims (all of
 * [0.5, 1] in 0.05 steps), each target is the exact SSIM of the pair (recomputed here), the fixed validation set
 * fills every bin, and the same seed gives the same pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readImage } from '../../src/image/read.ts';
import { createPairSampler, DEFAULT_PAIR_SAMPLER_OPTIONS, resolvePairSamplerOptions } from '../../src/memorization/pairSampler.ts';
import { preparePlane } from '../../src/memorization/plane.ts';
import { ssimTarget } from '../../src/memorization/ssimTarget.ts';
import { fixture } from '../helpers/cli.ts';

const SIZE = 64;
const DIR = fixture('brain');
const files = readdirSync(DIR).filter((f) => f.endsWith('.png')).sort();
const images = await Promise.all(files.map(async (f) => preparePlane(await readImage(`${DIR}/${f}`), SIZE).data));
const edges = DEFAULT_PAIR_SAMPLER_OPTIONS.edges;

test('the sampler covers every SSIM bin it claims, with exact targets', () => {
  const s = createPairSampler({ images }, { size: SIZE }, 3);
  const pairs = s.draw(420);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const p of pairs) {
    counts[p.bin]!++;
    assert.ok(p.target >= Math.max(-1, edges[p.bin]!) && (p.target < edges[p.bin + 1]! || p.bin === edges.length - 2), `${p.target} in bin ${p.bin}`);
  }
  assert.equal(s.unreachable.size, 0, `unreachable bins ${[...s.unreachable]}`);
  // Weights 1 : 2 x 10 over 420 draws: ~20 below 0.5, ~40 per bin of [0.5, 1]; 15 is far below any plausible draw.
  counts.forEach((c, b) => assert.ok(c >= (b === 0 ? 5 : 15), `bin ${b} [${edges[b]}, ${edges[b + 1]}): ${c} pairs ${JSON.stringify(counts)}`));
  for (const p of pairs.slice(0, 40)) assert.equal(p.target, ssimTarget(p.a, p.b, SIZE, SIZE));
  const kinds = new Set(pairs.map((p) => p.kind));
  assert.ok(kinds.has('degraded') && (kinds.has('other') || kinds.has('hard')), [...kinds].join(', '));
});

test('validation bins: perBin fills every bin of the decision region, and a seed reproduces its pairs', () => {
  const s = createPairSampler({ images }, { size: SIZE }, 11);
  const val = s.perBin(3);
  assert.equal(val.length, 3 * (edges.length - 1));
  for (let b = 0; b < edges.length - 1; b++) assert.equal(val.filter((p) => p.bin === b).length, 3);
  const again = createPairSampler({ images }, { size: SIZE }, 11).perBin(3);
  assert.deepEqual(again.map((p) => p.target), val.map((p) => p.target));
});

test('neighbour pairs come from volumes; options are checked', () => {
  const mni = files.map((f, i) => (f.startsWith('mni_') ? images[i]! : null)).filter((p): p is Float32Array => p !== null);
  const s = createPairSampler({ images: [], volumes: [mni] }, { size: SIZE }, 5);
  const pairs = s.draw(60);
  assert.ok(pairs.some((p) => p.kind === 'neighbour'));
  assert.throws(() => resolvePairSamplerOptions({ edges: [0.5, 0.4] }), /invalid edges/);
  assert.throws(() => resolvePairSamplerOptions({ binWeights: [1] }), /invalid binWeights/);
  assert.throws(() => resolvePairSamplerOptions({ bogus: 1 } as never), /unknown pair sampler option "bogus"/);
});
