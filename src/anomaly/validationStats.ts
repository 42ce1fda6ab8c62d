/**
 * Pure statistics of the Anomaly Score validation (bench/anomaly-validate.ts): the exact paired sign test,
 * AUROC (Mann-Whitney, ties counted one half), and the k-nearest-neighbour feature-distance baseline score.
 */

/** Binomial(n, 1/2) probability of exactly k, computed in logs (exact enough for n up to thousands). */
function binomHalf(n: number, k: number): number {
  let lg = 0;
  for (let i = 1; i <= k; i++) lg += Math.log(n - k + i) - Math.log(i);
  return Math.exp(lg - n * Math.LN2);
}

/** Result of `signTest`. */
export interface SignTestResult {
  /** Pairs where the difference has the tested sign. */
  k: number;
  /** Pairs with a non-zero difference. */
  n: number;
  /** Exact two-sided p (doubled smaller tail, capped at 1). */
  pTwoSided: number;
  /** Exact one-sided p for "more than half have the tested sign": P(X >= k). */
  pOneSided: number;
}

/**
 * Exact sign test of paired differences d_i = after_i - before_i; tied pairs (d = 0) are dropped.
 * @param direction +1 tests "after > before", -1 tests "after < before".
 */
export function signTest(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  direction: 1 | -1,
): SignTestResult {
  let k = 0;
  let n = 0;
  for (let i = 0; i < before.length; i++) {
    const d = (after[i]! - before[i]!) * direction;
    if (d === 0 || !Number.isFinite(d)) continue;
    n++;
    if (d > 0) k++;
  }
  let upper = 0;
  for (let j = k; j <= n; j++) upper += binomHalf(n, j);
  let lower = 0;
  for (let j = 0; j <= k; j++) lower += binomHalf(n, j);
  return { k, n, pTwoSided: Math.min(1, 2 * Math.min(upper, lower)), pOneSided: Math.min(1, upper) };
}

/**
 * AUROC of `positive` scores against `negative` scores: P(score_pos > score_neg) + P(tie)/2.
 * 0.5 = no separation; 1 = every positive above every negative.
 */
export function auroc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < positive.length; i++) {
    for (let j = 0; j < negative.length; j++) {
      const a = positive[i]!;
      const b = negative[j]!;
      s += a > b ? 1 : a === b ? 0.5 : 0;
    }
  }
  return s / (positive.length * negative.length);
}

/**
 * kNN baseline: each query's mean Euclidean distance to its k nearest reference feature vectors.
 * @param queries feature vectors to score; @param reference the reference set (e.g. held-apart real images).
 */
export function knnDistance(
  queries: readonly ArrayLike<number>[],
  reference: readonly ArrayLike<number>[],
  k = 3,
): Float64Array {
  const out = new Float64Array(queries.length);
  const kk = Math.min(k, reference.length);
  const d = new Float64Array(reference.length);
  for (const [qi, q] of queries.entries()) {
    for (const [ri, r] of reference.entries()) {
      let s = 0;
      for (let j = 0; j < q.length; j++) s += (q[j]! - r[j]!) ** 2;
      d[ri] = Math.sqrt(s);
    }
    const sorted = Float64Array.from(d).sort();
    let m = 0;
    for (let j = 0; j < kk; j++) m += sorted[j]!;
    out[qi] = m / kk;
  }
  return out;
}
