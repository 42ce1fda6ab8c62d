/**
 * Scores and classification metrics for memorization detection: cosine top-k, the Duplicate / Similar /
 * Different labels, precision/recall/F1 per class and macro-F1 (as scikit-learn's `classification_report` with
 * zero_division=0, which the reference evaluation prints), and Pearson/Spearman correlation.
 */

/** The three memorization classes, in report order. */
export const MEMORIZATION_LABELS = ['Duplicate', 'Similar', 'Different'] as const;
export type MemorizationLabel = (typeof MEMORIZATION_LABELS)[number];

/** Thresholds on a similarity score: > duplicate -> Duplicate, <= similar -> Different, else Similar. */
export interface LabelThresholds {
  /** Default 0.85 (the paper's upper threshold). */
  duplicate: number;
  /** Default 0.60 (the paper's lower threshold). */
  similar: number;
}

export const DEFAULT_LABEL_THRESHOLDS: Readonly<LabelThresholds> = Object.freeze({ duplicate: 0.85, similar: 0.6 });

/** Label a score as the reference scorer does: `score <= similar` Different, `score > duplicate` Duplicate. */
export function labelFor(score: number, t: LabelThresholds = DEFAULT_LABEL_THRESHOLDS): MemorizationLabel {
  if (!(score > t.similar)) return 'Different';
  if (score > t.duplicate) return 'Duplicate';
  return 'Similar';
}

/** Per-class and macro scores. */
export interface ClassReport {
  perClass: Record<MemorizationLabel, { precision: number; recall: number; f1: number; support: number }>;
  macroF1: number;
  accuracy: number;
}

/** Precision, recall, F1 per class and their macro average (zero when a class has no predictions). */
export function classificationReport(truth: readonly MemorizationLabel[], predicted: readonly MemorizationLabel[]): ClassReport {
  const perClass = {} as ClassReport['perClass'];
  let f1Sum = 0;
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) correct++;
  for (const label of MEMORIZATION_LABELS) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i] === label;
      const p = predicted[i] === label;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support: tp + fn };
    f1Sum += f1;
  }
  return { perClass, macroF1: f1Sum / MEMORIZATION_LABELS.length, accuracy: truth.length > 0 ? correct / truth.length : 0 };
}

/**
 * Thresholds (similar < duplicate) that maximise macro-F1 on the given scores; candidates are midpoints between
 * consecutive distinct scores (at most ~120 of them, evenly by rank). Ties go to the first found (lowest).
 */
export function calibrateThresholds(scores: ArrayLike<number>, truth: readonly MemorizationLabel[]): LabelThresholds {
  const sorted = Array.from(scores).sort((a, b) => a - b);
  const cands: number[] = [sorted[0]! - 1];
  const stride = Math.max(1, Math.floor(sorted.length / 120));
  for (let i = 0; i + 1 < sorted.length; i += stride) if (sorted[i + 1]! > sorted[i]!) cands.push((sorted[i]! + sorted[i + 1]!) / 2);
  cands.push(sorted[sorted.length - 1]! + 1);
  let best = { f1: -1, t: { ...DEFAULT_LABEL_THRESHOLDS } };
  const pred: MemorizationLabel[] = new Array(truth.length);
  for (let i = 0; i < cands.length; i++) {
    for (let j = i; j < cands.length; j++) {
      const t = { similar: cands[i]!, duplicate: cands[j]! };
      for (let k = 0; k < truth.length; k++) pred[k] = labelFor(scores[k]!, t);
      const f1 = classificationReport(truth, pred).macroF1;
      if (f1 > best.f1) best = { f1, t };
    }
  }
  return best.t;
}

export { pearson, ranks, spearman } from '../stats/correlation.ts';

/** Mean squared error. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return a.length > 0 ? s / a.length : NaN;
}

/**
 * L2-normalise the rows of a row-major matrix (n x dim) in place; all-zero rows stay zero.
 */
export function l2NormaliseRows(m: Float32Array, dim: number): Float32Array {
  for (let r = 0; r * dim < m.length; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += m[r * dim + j]! * m[r * dim + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) m[r * dim + j]! *= inv;
  }
  return m;
}

/** One neighbour of a query: index into the reference set and its score. */
export interface Neighbour {
  index: number;
  score: number;
}

/**
 * Exact top-k by a score matrix function: for each query q, the k references with the highest `score(q, r)`,
 * best first; ties keep the lower reference index first (deterministic).
 */
export function topKByScore(queries: number, references: number, k: number, score: (q: number, r: number) => number): Neighbour[][] {
  const out: Neighbour[][] = [];
  const kk = Math.min(k, references);
  for (let q = 0; q < queries; q++) {
    const best: Neighbour[] = [];
    for (let r = 0; r < references; r++) {
      const s = score(q, r);
      if (best.length === kk && !(s > best[kk - 1]!.score)) continue;
      let pos = best.length;
      while (pos > 0 && s > best[pos - 1]!.score) pos--;
      best.splice(pos, 0, { index: r, score: s });
      if (best.length > kk) best.pop();
    }
    out.push(best);
  }
  return out;
}

/**
 * Exact cosine top-k between L2-normalised embeddings (row-major, `dim` columns): a dot product per pair.
 */
export function cosineTopK(queries: Float32Array, references: Float32Array, dim: number, k: number): Neighbour[][] {
  const nq = queries.length / dim;
  const nr = references.length / dim;
  return topKByScore(nq, nr, k, (q, r) => {
    let s = 0;
    const qo = q * dim;
    const ro = r * dim;
    for (let j = 0; j < dim; j++) s += queries[qo + j]! * references[ro + j]!;
    return s;
  });
}
