/**
 * Pure statistics for the Anomaly Score: the complexity angles from a feature trajectory, Spearman's rho, and
 * the Fréchet (FID-style) distance between two feature sets.
 */

/**
 * Complexity C from the features of the K+1 points x_0..x_K along one noise direction: the mean angle (radians)
 * between consecutive feature differences D_k = M(x_k) - M(x_{k-1}), k = 1..K (K-1 angles).
 * Guards: a zero difference has no direction, so angles that involve one are left out of the mean (C = 0 when
 * none is left: the features did not move, the trajectory is flat). The angle is arccos of the cosine clamped
 * to [-1, 1], computed in Kahan's stable form.
 * Hwang et al., CVPR 2024 (arXiv:2312.10634), Eq. for C.
 * @param features (K+1) x dim row-major feature vectors.
 * @param points K+1.
 * @param dim feature length.
 * @returns `{ complexity, angles }` (angles: NaN where undefined).
 */
export function complexityFromTrajectory(
  features: ArrayLike<number>,
  points: number,
  dim: number,
): { complexity: number; angles: Float64Array } {
  const k = points - 1;
  const diffs = new Float64Array(k * dim);
  const norms = new Float64Array(k);
  for (let s = 0; s < k; s++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const d = features[(s + 1) * dim + j]! - features[s * dim + j]!;
      diffs[s * dim + j] = d;
      ss += d * d;
    }
    norms[s] = Math.sqrt(ss);
  }
  const angles = new Float64Array(Math.max(0, k - 1));
  let sum = 0;
  let count = 0;
  for (let s = 0; s + 1 < k; s++) {
    if (!(norms[s]! > 0) || !(norms[s + 1]! > 0)) {
      angles[s] = NaN;
      continue;
    }
    // Kahan's angle 2 atan2(|u - v|, |u + v|) of the unit vectors: arccos(clamp(<u, v>, -1, 1)) in exact
    // arithmetic, but without arccos's loss of precision near 0 and pi (arccos(1 - 1e-16) is 1.5e-8).
    let diff2 = 0;
    let sum2 = 0;
    for (let j = 0; j < dim; j++) {
      const u = diffs[s * dim + j]! / norms[s]!;
      const v = diffs[(s + 1) * dim + j]! / norms[s + 1]!;
      diff2 += (u - v) * (u - v);
      sum2 += (u + v) * (u + v);
    }
    const a = 2 * Math.atan2(Math.sqrt(diff2), Math.sqrt(sum2));
    angles[s] = a;
    sum += a;
    count++;
  }
  return { complexity: count > 0 ? sum / count : 0, angles };
}

export { ranks, spearman } from '../stats/correlation.ts';

/** Eigenvalues of a symmetric n x n matrix (row-major, copied) by cyclic Jacobi rotations. */
export function symmetricEigenvalues(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  let total = 0;
  for (const v of a) total += v * v;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off <= 1e-32 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = a[i * n + i]!;
  return ev;
}

/**
 * Fréchet distance between Gaussians fitted to two feature sets (the FID formula):
 * ||mu1 - mu2||² + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}), sample covariances (n - 1).
 * tr((S1 S2)^{1/2}) is the sum of the singular values of A1 A2ᵀ / √((n1-1)(n2-1)) (A = centred rows): the same
 * non-zero spectrum, computed in the small n1 x n1 space, so no d x d matrix square root is needed.
 * Heusel et al., NeurIPS 2017 (arXiv:1706.08500).
 * @param f1 n1 x dim row-major features; @param f2 n2 x dim.
 * @throws RangeError when a set has fewer than 2 rows.
 */
export function frechetDistance(
  f1: ArrayLike<number>,
  n1: number,
  f2: ArrayLike<number>,
  n2: number,
  dim: number,
): number {
  if (n1 < 2 || n2 < 2) throw new RangeError('Fréchet distance needs at least 2 feature vectors per set');
  const center = (f: ArrayLike<number>, n: number): { a: Float64Array; mu: Float64Array } => {
    const mu = new Float64Array(dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mu[j]! += f[i * dim + j]!;
    for (let j = 0; j < dim; j++) mu[j]! /= n;
    const a = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) a[i * dim + j] = f[i * dim + j]! - mu[j]!;
    return { a, mu };
  };
  const c1 = center(f1, n1);
  const c2 = center(f2, n2);
  let meanTerm = 0;
  for (let j = 0; j < dim; j++) meanTerm += (c1.mu[j]! - c2.mu[j]!) ** 2;
  let tr1 = 0;
  for (const v of c1.a) tr1 += v * v;
  tr1 /= n1 - 1;
  let tr2 = 0;
  for (const v of c2.a) tr2 += v * v;
  tr2 /= n2 - 1;
  // M = A1 A2ᵀ / sqrt((n1-1)(n2-1)); eigenvalues of M Mᵀ are the squared singular values.
  const scale = 1 / Math.sqrt((n1 - 1) * (n2 - 1));
  const m = new Float64Array(n1 * n2);
  for (let i = 0; i < n1; i++) {
    for (let k = 0; k < n2; k++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += c1.a[i * dim + j]! * c2.a[k * dim + j]!;
      m[i * n2 + k] = s * scale;
    }
  }
  const mmt = new Float64Array(n1 * n1);
  for (let i = 0; i < n1; i++) {
    for (let k = i; k < n1; k++) {
      let s = 0;
      for (let j = 0; j < n2; j++) s += m[i * n2 + j]! * m[k * n2 + j]!;
      mmt[i * n1 + k] = s;
      mmt[k * n1 + i] = s;
    }
  }
  // Rank-deficient spectra (n < d is the rule) leave round-off eigenvalues ~1e-16 |M|; their square roots
  // (~1e-8) would be noise, so eigenvalues below 1e-13 of the largest count as zero.
  const evs = symmetricEigenvalues(mmt, n1);
  let maxEv = 0;
  for (const ev of evs) maxEv = Math.max(maxEv, ev);
  let trSqrt = 0;
  for (const ev of evs) if (ev > 1e-13 * maxEv) trSqrt += Math.sqrt(ev);
  return meanTerm + tr1 + tr2 - 2 * trSqrt;
}
