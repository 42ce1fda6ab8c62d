/**
 * DeepSSIM building blocks without TensorFlow.js: the SSIM target against a plain per-window scikit-image SSIM
 * written here, augmentations (analytic identities, truly applied, targets untouched), stratified pairs, and the
 * classification metrics against hand-computed values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { readImage } from '../../src/image/read.ts';
import { applyAugmentation, drawAugmentation, gammaInPlace, rotatePlane, type AppliedAugmentation } from '../../src/memorization/augment.ts';
import { calibrateThresholds } from '../../src/memorization/metrics.ts';
import { classificationReport, cosineTopK, labelFor, spearman, type MemorizationLabel } from '../../src/memorization/metrics.ts';
import { binCounts, candidatePairs, scorePairs, stratifiedSample } from '../../src/memorization/pairs.ts';
import { minMax, preparePlane } from '../../src/memorization/plane.ts';
import { createRng } from '../../src/memorization/rng.ts';
import { ssimTarget } from '../../src/memorization/ssimTarget.ts';
import { fixture } from '../helpers/cli.ts';

const SIZE = 64;
const DIR = fixture('brain');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.png')).sort();
const planes = await Promise.all(FILES.map(async (f) => preparePlane(await readImage(`${DIR}/${f}`), SIZE).data));

/**
 * Plain scikit-image structural_similarity defaults, one window at a time (no summed areas, no streaming):
 * 7x7 uniform window, sample covariance N/(N-1), K1 0.01, K2 0.03, mean over windows fully inside the image.
 */
function plainSkimageSsim(x: ArrayLike<number>, y: ArrayLike<number>, w: number, h: number, L: number): number {
  const N = 49;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  let total = 0;
  let count = 0;
  for (let r = 3; r < h - 3; r++) {
    for (let c = 3; c < w - 3; c++) {
      let mx = 0;
      let my = 0;
      for (let dr = -3; dr <= 3; dr++) for (let dc = -3; dc <= 3; dc++) {
        mx += x[(r + dr) * w + c + dc]!;
        my += y[(r + dr) * w + c + dc]!;
      }
      mx /= N;
      my /= N;
      let vx = 0;
      let vy = 0;
      let vxy = 0;
      for (let dr = -3; dr <= 3; dr++) for (let dc = -3; dc <= 3; dc++) {
        const a = x[(r + dr) * w + c + dc]! - mx;
        const b = y[(r + dr) * w + c + dc]! - my;
        vx += a * a;
        vy += b * b;
        vxy += a * b;
      }
      vx /= N - 1;
      vy /= N - 1;
      vxy /= N - 1;
      total += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

/** The reference code's target: z-scored pair, data range of the first image. */
function plainTarget(a: Float32Array, b: Float32Array): number {
  const { min, max } = minMax(a);
  return plainSkimageSsim(a, b, SIZE, SIZE, max - min);
}

test('SSIM target equals a plain per-window skimage SSIM of the z-scored pair with the first image range (1e-9)', () => {
  assert.ok(planes.length >= 12);
  for (const [i, j] of [[0, 1], [2, 9], [7, 8], [12, 3], [5, 5]] as const) {
    const got = ssimTarget(planes[i]!, planes[j]!, SIZE, SIZE);
    assert.ok(Math.abs(got - plainTarget(planes[i]!, planes[j]!)) < 1e-9, `${FILES[i]} vs ${FILES[j]}: ${got}`);
  }
  assert.equal(ssimTarget(planes[4]!, planes[4]!, SIZE, SIZE), 1);
});

test('SSIM target uses the data range of the first (real) image: swapping the pair changes it when ranges differ', () => {
  const a = planes[0]!;
  const b = planes[7]!;
  const ra = minMax(a).max - minMax(a).min;
  const rb = minMax(b).max - minMax(b).min;
  assert.notEqual(ra.toFixed(3), rb.toFixed(3));
  assert.ok(Math.abs(ssimTarget(b, a, SIZE, SIZE) - plainTarget(b, a)) < 1e-9);
  assert.ok(Math.abs(ssimTarget(a, b, SIZE, SIZE) - ssimTarget(b, a, SIZE, SIZE)) > 1e-6);
});

const p = (a: Partial<AppliedAugmentation>): AppliedAugmentation => ({ vflip: false, hflip: false, rotation: 0, gamma: 1, ...a });

test('vflip + hflip equals a rotation by pi (exact, bilinear taps land on pixel centres)', () => {
  const plane = { width: SIZE, height: SIZE, data: planes[2]! };
  const flipped = applyAugmentation(plane, p({ vflip: true, hflip: true })).data;
  const rotated = rotatePlane(planes[2]!, SIZE, SIZE, Math.PI);
  for (let i = 0; i < flipped.length; i++) assert.ok(Math.abs(flipped[i]! - rotated[i]!) < 1e-4);
});

test('gamma after min-max scaling keeps the minimum and maximum and maps the mid-range by t^gamma', () => {
  const d = Float32Array.from([-2, -1, 0, 1, 2]);
  gammaInPlace(d, 2);
  assert.ok(Math.abs(d[0]! + 2) < 1e-5 && Math.abs(d[4]! - 2) < 1e-5);
  assert.ok(Math.abs(d[2]! - (0.25 * 4 - 2)) < 1e-5); // t = 0.5 -> 0.25, back to the range [-2, 2]
});

test('augmentations are truly applied (pixels change) while the pair targets stay the un-augmented SSIM', () => {
  const rng = createRng(7);
  const cand = candidatePairs(planes.length, 1000, rng);
  const scored = scorePairs(planes, SIZE, cand);
  const always = { p: 1, maxRotation: 0.17, gammaRange: [0.5, 1.5] as [number, number] };
  for (const pair of scored.slice(0, 12)) {
    const a = applyAugmentation({ width: SIZE, height: SIZE, data: planes[pair.a]! }, drawAugmentation(rng, always)).data;
    const b = applyAugmentation({ width: SIZE, height: SIZE, data: planes[pair.b]! }, drawAugmentation(rng, always)).data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - planes[pair.a]![i]!));
    assert.ok(maxDiff > 0.5, 'augmentation changed the pixels');
    // The target is the plain SSIM of the un-augmented pair, not of the augmented one.
    assert.ok(Math.abs(pair.target - plainTarget(planes[pair.a]!, planes[pair.b]!)) < 1e-9);
    assert.ok(Math.abs(pair.target - plainTarget(a, b)) > 1e-4);
  }
});

test('each augmentation is drawn with probability p = 0.33 (2000 draws, 4 sigma)', () => {
  const rng = createRng(11);
  const n = 2000;
  const hits = { vflip: 0, hflip: 0, rotation: 0, gamma: 0 };
  for (let i = 0; i < n; i++) {
    const a = drawAugmentation(rng);
    if (a.vflip) hits.vflip++;
    if (a.hflip) hits.hflip++;
    if (a.rotation !== 0) {
      hits.rotation++;
      assert.ok(Math.abs(a.rotation) <= 0.17);
    }
    if (a.gamma !== 1) {
      hits.gamma++;
      assert.ok(a.gamma >= 0.5 && a.gamma <= 1.5);
    }
  }
  const sd = Math.sqrt(n * 0.33 * 0.67);
  for (const [k, v] of Object.entries(hits)) assert.ok(Math.abs(v - n * 0.33) < 4 * sd, `${k}: ${v}`);
});

test('stratified sampling fills SSIM bins evenly where the candidates allow, self-pairs have target 1', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => {
      const rng = createRng(seed);
      // Synthetic scored candidates: 90% low SSIM, a few high ones.
      const scored = Array.from({ length: 400 }, (_, k) => ({ a: k % 20, b: (k + 1) % 20, target: k < 360 ? 0.05 + 0.1 * rng.next() : 0.9 + 0.09 * rng.next() }));
      const sample = stratifiedSample(scored, 20, 100, 10, 0.2, rng);
      assert.equal(sample.length, 100);
      assert.equal(sample.filter((s) => s.a === s.b && s.target === 1).length, 20);
      // The 80 non-self pairs split evenly over the three non-empty bins (0, 1 and 9): 26 or 27 each, so the
      // rare high-SSIM bin gets a third of the sample instead of its 10% share of the candidates.
      const counts = binCounts(sample.filter((s) => s.a !== s.b), 10);
      for (const bin of [0, 1, 9]) assert.ok(counts[bin] === 26 || counts[bin] === 27, `bin ${bin}: ${counts[bin]}`);
      assert.equal(counts[0]! + counts[1]! + counts[9]!, 80);
    }),
    { numRuns: 20 },
  );
});

test('labels follow the reference scorer: <= 0.60 Different, > 0.85 Duplicate, Similar in between', () => {
  assert.equal(labelFor(0.6), 'Different');
  assert.equal(labelFor(0.600001), 'Similar');
  assert.equal(labelFor(0.85), 'Similar');
  assert.equal(labelFor(0.850001), 'Duplicate');
});

test('classification report matches hand-computed precision/recall/F1 and macro-F1', () => {
  const t: MemorizationLabel[] = ['Duplicate', 'Duplicate', 'Similar', 'Different', 'Different', 'Different'];
  const y: MemorizationLabel[] = ['Duplicate', 'Similar', 'Similar', 'Different', 'Duplicate', 'Different'];
  const r = classificationReport(t, y);
  // Duplicate: tp 1, fp 1, fn 1 -> P 0.5 R 0.5; Similar: tp 1, fp 1, fn 0 -> P 0.5 R 1; Different: tp 2 fp 0 fn 1.
  assert.equal(r.perClass.Duplicate.f1, 0.5);
  assert.ok(Math.abs(r.perClass.Similar.f1 - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.perClass.Different.f1 - 0.8) < 1e-12);
  assert.ok(Math.abs(r.macroF1 - (0.5 + 2 / 3 + 0.8) / 3) < 1e-12);
});

test('Spearman of a monotone map is 1, of a reversal -1, and handles ties as average ranks (scipy: 0.7631578947)', () => {
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 8, 27, 64]) - 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  // scipy.stats.spearmanr([1, 2, 2, 3, 4], [1, 3, 2, 4, 3]).statistic = 0.7631578947368421 (scipy 1.x, run here)
  assert.ok(Math.abs(spearman([1, 2, 2, 3, 4], [1, 3, 2, 4, 3]) - 0.7631578947368421) < 1e-12);
});

test('exact cosine top-k returns the best matches first, ties by lower index', () => {
  const refs = Float32Array.from([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2, 1, 0]);
  const q = Float32Array.from([1, 0]);
  const [nb] = cosineTopK(q, refs, 2, 3);
  assert.deepEqual(nb!.map((n) => n.index), [0, 3, 2]);
});

test('calibrated thresholds separate cleanly separable scores (macro-F1 1)', () => {
  const scores = [0.1, 0.2, 0.3, 0.5, 0.55, 0.6, 0.9, 0.95, 0.97];
  const truth: MemorizationLabel[] = ['Different', 'Different', 'Different', 'Similar', 'Similar', 'Similar', 'Duplicate', 'Duplicate', 'Duplicate'];
  const t = calibrateThresholds(scores, truth);
  assert.equal(classificationReport(truth, scores.map((s) => labelFor(s, t))).macroF1, 1);
});
