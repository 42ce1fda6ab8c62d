/**
 * The DeepSSIM benchmark (paper protocol) on the 64x64 brain fixtures: the ORACLE row is the exact SSIM of the
 * un-augmented pair (checked against a plain per-window scikit-image SSIM written here), Duplicates stay above
 * 0.85 before augmentation, test-time augmentation really changes the generated images, and the 8 dihedral
 * transforms are the square's symmetry group. Also: files an evaluated model saw leave the pool (by SHA-256),
 * and the shipped model's data split keeps near-copies on one side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readImage } from '../../src/image/read.ts';
import { buildBenchSet, DEFAULT_BENCH_SET_OPTIONS, dihedral, ncc, type BenchImage, type VolumeStack } from '../../src/memorization/benchset.ts';
import { resolveBenchmarkOptions, runMemorizationBenchmark, scoreBenchSet } from '../../src/memorization/benchmark.ts';
import { nearCopyGroups, shippedModelSplit } from '../../src/memorization/split.ts';
import { minMax, preparePlane } from '../../src/memorization/plane.ts';
import { createRng } from '../../src/memorization/rng.ts';
import { fixture } from '../helpers/cli.ts';

const SIZE = 64;
const DIR = fixture('brain');
const load = async (f: string) => preparePlane(await readImage(`${DIR}/${f}`), SIZE).data;
const files = readdirSync(DIR).filter((f) => f.endsWith('.png')).sort();
const folder: BenchImage[] = await Promise.all(files.filter((f) => f.startsWith('antspy_')).map(async (f) => ({ name: f, plane: await load(f) })));
// The six MNI slices, 10 mm apart, stand in for a volume.
const mni: VolumeStack = { name: 'mni', sliceMm: 10, group: 't1', slices: await Promise.all(files.filter((f) => f.startsWith('mni_')).sort((a, b) => Number(/z(\d+)/.exec(a)![1]) - Number(/z(\d+)/.exec(b)![1])).map(load)) };

/** Plain scikit-image SSIM defaults, one 7x7 window at a time, data range of the first image. */
function plainSsim(x: Float32Array, y: Float32Array): number {
  const { min, max } = minMax(x);
  const L = max - min;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  let total = 0;
  let count = 0;
  for (let r = 3; r < SIZE - 3; r++) {
    for (let c = 3; c < SIZE - 3; c++) {
      let mx = 0, my = 0;
      for (let i = -3; i <= 3; i++) for (let j = -3; j <= 3; j++) { mx += x[(r + i) * SIZE + c + j]!; my += y[(r + i) * SIZE + c + j]!; }
      mx /= 49; my /= 49;
      let vx = 0, vy = 0, vxy = 0;
      for (let i = -3; i <= 3; i++) for (let j = -3; j <= 3; j++) {
        const a = x[(r + i) * SIZE + c + j]! - mx;
        const b = y[(r + i) * SIZE + c + j]! - my;
        vx += a * a; vy += b * b; vxy += a * b;
      }
      vx /= 48; vy /= 48; vxy /= 48;
      total += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

const options = { ...DEFAULT_BENCH_SET_OPTIONS, size: SIZE, duplicates: 6, similar: 4, different: 4 };
const set = await buildBenchSet(folder, [mni], options, createRng(7));

test('the set has every class, Duplicates stay above 0.85 before augmentation, and test-time augmentation changes the images', () => {
  const count = (l: string) => set.pairs.filter((p) => p.truth === l).length;
  assert.deepEqual([count('Duplicate'), count('Similar'), count('Different')], [6, 4, 4]);
  for (const p of set.pairs.filter((q) => q.truth === 'Duplicate')) {
    assert.equal(p.source, p.real);
    assert.ok(plainSsim(set.train[p.real]!.plane, p.clean) > 0.85, p.what);
  }
  // p = 0.8 per transform: the chance that none of 4 is drawn is 0.2^4; 14 images all untouched is impossible.
  const changed = set.pairs.filter((p) => p.generated.some((v, i) => Math.abs(v - p.clean[i]!) > 1e-3)).length;
  assert.ok(changed >= 12, `${changed} of ${set.pairs.length} changed`);
  // Similar and Different images are never training images.
  for (const p of set.pairs.filter((q) => q.truth !== 'Duplicate')) assert.ok(set.train.every((t) => t.plane !== p.clean), p.what);
});

test('ORACLE row equals the exact SSIM of the un-augmented pair (plain per-window skimage SSIM, 1e-9)', async () => {
  const rows = await scoreBenchSet(set, SIZE, [], { calibrationShare: 0.5, retrieval: true, seed: 7 });
  const oracle = rows.find((r) => r.method.startsWith('ORACLE'))!;
  set.pairs.forEach((p, i) => {
    const want = plainSsim(set.train[p.real]!.plane, p.clean);
    assert.ok(Math.abs(oracle.pair[i]! - want) < 1e-9, `${p.name}: ${oracle.pair[i]} vs ${want}`);
  });
  // Duplicates are > 0.85 by construction, so the oracle labels every one of them Duplicate at the fixed threshold.
  assert.equal(oracle.scores.pairFixedPerClass!.Duplicate > 0, true);
  assert.equal(oracle.scores.sourceFound, 1);
  const pixel = rows.find((r) => r.method === 'pixel SSIM')!;
  assert.ok(set.pairs.some((_, i) => Math.abs(pixel.pair[i]! - oracle.pair[i]!) > 0.05), 'augmentation must move pixel SSIM');
});

test('the 8 dihedral transforms are distinct and form the square group; flip-invariant NCC of a flipped copy is 1', () => {
  const p = folder[0]!.plane;
  const all = Array.from({ length: 8 }, (_, k) => dihedral(p, SIZE, k));
  for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) assert.ok(all[a]!.some((v, i) => v !== all[b]![i]), `${a} vs ${b}`);
  assert.deepEqual(dihedral(dihedral(p, SIZE, 2), SIZE, 2), p);
  assert.deepEqual(dihedral(dihedral(p, SIZE, 1), SIZE, 3), p);
  const hflip = new Float32Array(p.length);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) hflip[y * SIZE + x] = p[y * SIZE + SIZE - 1 - x]!;
  assert.ok(all.some((d) => Math.abs(ncc(d, hflip) - 1) < 1e-9));
});

test('benchmark options: unknown keys and bad values end in one-line E_INVALID_OPTION errors', () => {
  assert.throws(() => resolveBenchmarkOptions({ images: 'x', bogus: 1 } as never), /unknown memorization eval option "bogus"/);
  assert.throws(() => resolveBenchmarkOptions({ images: 'x', seeds: [] }), /invalid seeds/);
  assert.throws(() => resolveBenchmarkOptions({ images: 'x', duplicateMinSsim: 1.2 }), /invalid duplicateMinSsim/);
  assert.throws(() => resolveBenchmarkOptions({}), /invalid images/);
  assert.throws(() => resolveBenchmarkOptions({ images: 'x', exclude: ['abc'] }), /invalid exclude/);
});

test('images an evaluated model was trained on leave the pool by SHA-256; a volume it saw is refused', async () => {
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  const seen = files.filter((f) => f.startsWith('mni_')).slice(0, 3).map((f) => sha(`${DIR}/${f}`));
  const r = await runMemorizationBenchmark({ images: DIR, size: 64, seeds: [1], duplicates: 2, similar: 2, different: 2, retrieval: false, baselines: false, exclude: seen });
  assert.equal(r.excluded, 3);
  assert.equal(r.pool, files.length - 3);
  const vol = new URL('../fixtures/medical/brain/', import.meta.url).pathname;
  const nii = `${vol}mni_icbm152_t1_09a_z103-105.nii.gz`;
  await assert.rejects(runMemorizationBenchmark({ images: DIR, size: 64, seeds: [1], volumes: [nii], exclude: [sha(nii)] }), /in the evaluated model's training data/);
});

test('shipped-model split: near-copies land on one side, the split is deterministic and disjoint', () => {
  const planes = folder.map((f) => f.plane);
  // a near copy (tiny noise) of the first image joins its group
  const copy = Float32Array.from(planes[0]!, (v, i) => v + 0.01 * Math.sin(i));
  const names = [...folder.map((f) => f.name), 'zz_copy_of_first.png'];
  const all = [...planes, copy];
  const groups = nearCopyGroups(all);
  assert.ok(groups.some((g) => g.includes(0) && g.includes(all.length - 1)));
  const a = shippedModelSplit(names, all);
  assert.deepEqual(shippedModelSplit(names, all), a);
  assert.equal(a.train.length + a.bench.length, all.length);
  assert.ok(!a.train.some((i) => a.bench.includes(i)));
  const side = (i: number) => (a.train.includes(i) ? 'train' : 'bench');
  assert.equal(side(0), side(all.length - 1));
});
