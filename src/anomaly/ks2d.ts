/**
 * Two-sample two-dimensional Kolmogorov–Smirnov test (Peacock 1983; Fasano & Franceschini 1987), as in
 * Numerical Recipes (Press et al. 2007, §14.8, `ks2d2s`) and the `ndtest.ks2d2s` used by the Anomaly Score's
 * official code. Pure, O(n²) time, O(1) extra memory.
 *
 * For every point of one sample, the fractions of each sample in the four quadrants around it are compared
 * (ties count as "<=", i.e. the point itself falls in the lower-left quadrant); the origin point's own 1/n is
 * taken out of its lower-left quadrant before the extremes are taken. D = mean of the two directions. The p-value
 * is the Kolmogorov distribution's survival function at D·√N_e / (1 + r (0.25 − 0.75/√N_e)), with
 * N_e = n1 n2/(n1 + n2) and r = √(1 − (r1² + r2²)/2) from the samples' Pearson correlations.
 * Numerical Recipes notes the p-value is accurate for N_e ≳ 20 and p ≲ 0.2.
 */
import { invalidOption } from '../errors.ts';
import { pearson } from '../stats/correlation.ts';
import { createRng } from './rng.ts';

/** Result of `ks2d`. */
export interface Ks2dResult {
  /** The 2-D KS statistic (mean of both directions), in [0, 1]. */
  D: number;
  /** Approximate p-value (Kolmogorov distribution with the correlation correction). */
  p: number;
}

/**
 * Two-sample 2-D KS test between the point sets (x1, y1) and (x2, y2).
 * @param x1 first sample, x coordinates (array of numbers).
 * @param y1 first sample, y coordinates (same length as x1).
 * @param x2 second sample, x coordinates.
 * @param y2 second sample, y coordinates (same length as x2).
 * @returns `{ D, p }` as plain numbers.
 * @throws BlindspotError E_INVALID_OPTION when lengths differ, a sample is empty, or a value is not finite.
 * Reference: Fasano & Franceschini, MNRAS 225:155 (1987), doi:10.1093/mnras/225.1.155; Press et al.,
 * Numerical Recipes 3rd ed. §14.8.
 */
export function ks2d(
  x1: ArrayLike<number>,
  y1: ArrayLike<number>,
  x2: ArrayLike<number>,
  y2: ArrayLike<number>,
): Ks2dResult {
  checkSample('x1/y1', x1, y1);
  checkSample('x2/y2', x2, y2);
  const n1 = x1.length;
  const n2 = x2.length;
  const D = (maxDist(x1, y1, x2, y2) + maxDist(x2, y2, x1, y1)) / 2;
  const sqen = Math.sqrt((n1 * n2) / (n1 + n2));
  // A constant coordinate has no correlation to correct for: take r = 0 there.
  const r1 = pearson(x1, y1) || 0;
  const r2 = pearson(x2, y2) || 0;
  const rr = Math.sqrt(1 - 0.5 * (r1 * r1 + r2 * r2));
  const d = (D * sqen) / (1 + rr * (0.25 - 0.75 / sqen));
  return { D, p: kolmogorovSurvival(d) };
}

function checkSample(name: string, x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw invalidOption(name, 'equal lengths', `${x.length} and ${y.length}`);
  if (x.length === 0) throw invalidOption(name, 'a non-empty sample', 'an empty one');
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i]))
      throw invalidOption(name, 'finite values', `${x[i]}, ${y[i]} at ${i}`);
  }
}

/** Fraction of (xx, yy) in each quadrant around (x, y): [lower-left, x<= & y>, x> & y<=, upper-right]. */
function quadrants(
  x: number,
  y: number,
  xx: ArrayLike<number>,
  yy: ArrayLike<number>,
  out: Float64Array,
): void {
  const n = xx.length;
  let na = 0;
  let nb = 0;
  let nc = 0;
  for (let j = 0; j < n; j++) {
    const left = xx[j]! <= x;
    const low = yy[j]! <= y;
    if (left) {
      if (low) na++;
      else nb++;
    } else if (low) nc++;
  }
  const a = na / n;
  const b = nb / n;
  const c = nc / n;
  out[0] = a;
  out[1] = b;
  out[2] = c;
  out[3] = 1 - a - b - c;
}

/** One direction: points of sample 1 as origins. */
function maxDist(
  x1: ArrayLike<number>,
  y1: ArrayLike<number>,
  x2: ArrayLike<number>,
  y2: ArrayLike<number>,
): number {
  const n1 = x1.length;
  const q1 = new Float64Array(4);
  const q2 = new Float64Array(4);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n1; i++) {
    quadrants(x1[i]!, y1[i]!, x1, y1, q1);
    quadrants(x1[i]!, y1[i]!, x2, y2, q2);
    for (let k = 0; k < 4; k++) {
      // The origin counts itself in its lower-left quadrant: remove its 1/n1 there (the reference's "re-assign").
      const v = k === 0 ? q1[0]! - q2[0]! - 1 / n1 : q1[k]! - q2[k]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Math.max(-lo, hi + 1 / n1);
}

/** Below this effective sample size N_e = n1 n2/(n1 + n2) the asymptotic p is unreliable (Numerical Recipes). */
export const KS2D_SMALL_SAMPLE_NE = 20;

/** Result of `ks2dPermutation`. */
export interface Ks2dPermutationResult {
  /** The observed D (as `ks2d`). */
  D: number;
  /** (1 + #{null D >= observed D}) / (1 + permutations): exact-size permutation p-value. */
  p: number;
  /** The null D of every permutation, sorted ascending. */
  nullD: Float64Array;
}

/**
 * Permutation null of the 2-D KS statistic: pool both samples, re-split them at random into sizes n1 and n2
 * `permutations` times, and compare the observed D with the re-split Ds. Unlike the asymptotic p it is valid at
 * any sample size (it only assumes the points are exchangeable under the null). Deterministic for a seed.
 * Cost: `permutations` x O((n1 + n2)²).
 * @param permutations number of random re-splits (default 1000).
 * @param seed seed of the re-splits (default 0).
 * @throws BlindspotError E_INVALID_OPTION as `ks2d`, or for permutations < 1.
 */
export function ks2dPermutation(
  x1: ArrayLike<number>,
  y1: ArrayLike<number>,
  x2: ArrayLike<number>,
  y2: ArrayLike<number>,
  permutations = 1000,
  seed = 0,
): Ks2dPermutationResult {
  const D = ks2d(x1, y1, x2, y2).D;
  if (!Number.isInteger(permutations) || permutations < 1)
    throw invalidOption('permutations', 'an integer >= 1', permutations);
  const n1 = x1.length;
  const n = n1 + x2.length;
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  for (let i = 0; i < n1; i++) [px[i], py[i]] = [x1[i]!, y1[i]!];
  for (let i = n1; i < n; i++) [px[i], py[i]] = [x2[i - n1]!, y2[i - n1]!];
  const rng = createRng(seed, 'ks2d-permutation');
  const nullD = new Float64Array(permutations);
  let above = 0;
  for (let b = 0; b < permutations; b++) {
    // Fisher-Yates on the pooled points; the first n1 form sample 1.
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [px[i], px[j]] = [px[j]!, px[i]!];
      [py[i], py[j]] = [py[j]!, py[i]!];
    }
    const a = px.subarray(0, n1);
    const ay = py.subarray(0, n1);
    const c = px.subarray(n1);
    const cy = py.subarray(n1);
    const d = (maxDist(a, ay, c, cy) + maxDist(c, cy, a, ay)) / 2;
    nullD[b] = d;
    // A tolerance so that Ds equal in exact arithmetic (multiples of 1/(2 n1 n2)) count as ties.
    if (d >= D - 1e-12) above++;
  }
  nullD.sort();
  return { D, p: (1 + above) / (1 + permutations), nullD };
}

/**
 * Survival function of the Kolmogorov distribution, Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²) (scipy's
 * `kstwobign.sf`). For small λ the complementary series 1 − (√(2π)/λ) Σ_{k≥1} exp(−(2k−1)²π²/(8λ²)) is used,
 * which converges fast there. Accurate to ~1e-15 absolute.
 */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1) {
    const f = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let s = 0;
    for (let k = 1; k < 50; k++) {
      const t = Math.exp(f * (2 * k - 1) * (2 * k - 1));
      s += t;
      if (t < 1e-300 || t < s * 1e-17) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * s;
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * lambda * lambda);
    s += k % 2 === 1 ? t : -t;
    if (t < 1e-300 || t < Math.abs(s) * 1e-17) break;
  }
  return Math.max(0, Math.min(1, 2 * s));
}
