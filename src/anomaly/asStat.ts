/**
 * AS from two (complexity, vulnerability) point sets, with the small-sample guards: the 2-D KS D and its
 * asymptotic p, and, when the effective sample size N_e = n1 n2/(n1 + n2) is below 20 (where Numerical Recipes'
 * p approximation stops being accurate), a warning and a permutation-null p next to it. Pure, no TF.js.
 */
import { BlindspotError } from '../errors.ts';
import { KS2D_SMALL_SAMPLE_NE, ks2d, ks2dPermutation } from './ks2d.ts';

/** AS of two sets, as recorded in every output. */
export interface AsResult {
  /** AS: the 2-D KS statistic D (lower = closer to real). */
  as: number;
  /** The asymptotic KS p-value. */
  p: number;
  n1: number;
  n2: number;
  /** n1 n2 / (n1 + n2). */
  effectiveN: number;
  /** Permutation-null p (only for small sets, see `AS_PERMUTATIONS`). */
  pPermutation?: number;
  /** How many permutations `pPermutation` used. */
  permutations?: number;
  /** One-line warning when N_e < 20. */
  warning?: string;
}

/** Permutations of the small-sample null. */
export const AS_PERMUTATIONS = 2000;
/** Budget of quadrant counts for the permutation null ((n1 + n2)² per permutation). */
const PERMUTATION_BUDGET = 4e8;

/**
 * AS between two point sets.
 * @param real `{ complexity, vulnerability }` of each real image; @param generated the same for the other set.
 * @param seed seed of the permutation null (the run's seed).
 * @throws BlindspotError E_TOO_SMALL when a set has fewer than 2 points (E_EMPTY when it has none).
 */
export function asFromPoints(
  real: readonly { complexity: number; vulnerability: number }[],
  generated: readonly { complexity: number; vulnerability: number }[],
  seed = 0,
  realName = 'real',
  generatedName = 'generated',
): AsResult {
  for (const [set, name, label] of [
    [real, realName, 'real'],
    [generated, generatedName, 'generated'],
  ] as const) {
    if (set.length === 0) throw new BlindspotError('E_EMPTY', `no ${label} image could be scored`, name);
    if (set.length < 2)
      throw new BlindspotError('E_TOO_SMALL', `AS needs at least 2 scored ${label} images, got 1`, name);
  }
  const x1 = real.map((i) => i.complexity);
  const y1 = real.map((i) => i.vulnerability);
  const x2 = generated.map((i) => i.complexity);
  const y2 = generated.map((i) => i.vulnerability);
  const r = ks2d(x1, y1, x2, y2);
  const n1 = real.length;
  const n2 = generated.length;
  const effectiveN = (n1 * n2) / (n1 + n2);
  const out: AsResult = { as: r.D, p: r.p, n1, n2, effectiveN };
  if (effectiveN >= KS2D_SMALL_SAMPLE_NE) return out;
  out.warning =
    `small sets (${n1} real, ${n2} generated; n1*n2/(n1+n2) = ${effectiveN.toFixed(1)} < ${KS2D_SMALL_SAMPLE_NE}): ` +
    'the asymptotic p is unreliable and D has a large real-vs-real floor; read the permutation p';
  const permutations = Math.min(AS_PERMUTATIONS, Math.floor(PERMUTATION_BUDGET / (n1 + n2) ** 2));
  if (permutations >= 100) {
    out.pPermutation = ks2dPermutation(x1, y1, x2, y2, permutations, seed).p;
    out.permutations = permutations;
  }
  return out;
}
