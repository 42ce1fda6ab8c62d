/**
 * Training pairs for DeepSSIM: candidate pairs of images (all pairs, or a seeded random subset when there are
 * too many), their SSIM targets, and a per-epoch sample stratified over SSIM bins so that high-SSIM pairs are not
 * rare; plus self-pairs (an image with itself, target exactly 1), which the independent augmentations of the two
 * sides turn into "same structure, different pose/contrast" examples.
 */
import type { Rng } from './rng.ts';
import { shuffled } from './rng.ts';
import { ssimTarget } from './ssimTarget.ts';

/** A pair of images (indices into a plane list) and its SSIM target. `a` is the real/first image. */
export interface Pair {
  a: number;
  b: number;
  target: number;
}

/**
 * Candidate pairs over `count` images: all unordered pairs when there are at most `maxCandidates`, otherwise a
 * seeded sample of distinct pairs. The order inside each pair (which image is "first") is drawn at random.
 */
export function candidatePairs(count: number, maxCandidates: number, rng: Rng): [number, number][] {
  const total = (count * (count - 1)) / 2;
  const out: [number, number][] = [];
  const orient = (i: number, j: number): [number, number] => (rng.next() < 0.5 ? [i, j] : [j, i]);
  if (total <= maxCandidates) {
    for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) out.push(orient(i, j));
    return out;
  }
  const seen = new Set<number>();
  while (out.length < maxCandidates) {
    const i = rng.int(count);
    const j = rng.int(count);
    if (i === j) continue;
    const key = Math.min(i, j) * count + Math.max(i, j);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(orient(i, j));
  }
  return out;
}

/**
 * SSIM targets of candidate pairs of z-scored planes (all the same size), reporting progress every 256 pairs.
 */
export function scorePairs(
  planes: readonly Float32Array[],
  size: number,
  candidates: readonly [number, number][],
  onProgress?: (done: number, total: number) => void,
): Pair[] {
  const out: Pair[] = [];
  // The SSIM kernel works on float64: convert each plane once, reuse one map buffer.
  const wide = planes.map((p) => Float64Array.from(p));
  const scratch = new Float64Array((size - 6) * (size - 6));
  for (let k = 0; k < candidates.length; k++) {
    const [a, b] = candidates[k]!;
    out.push({ a, b, target: ssimTarget(wide[a]!, wide[b]!, size, size, scratch) });
    if (onProgress && (k % 256 === 255 || k === candidates.length - 1)) onProgress(k + 1, candidates.length);
  }
  return out;
}

/**
 * Draw `count` pairs: a share `selfShare` of self-pairs (target 1) and the rest stratified over `bins` equal
 * SSIM bins on [0, 1] (negative SSIM falls in the first bin): each non-empty bin gets an equal quota, taken
 * without replacement; quotas a bin cannot fill go to the bins that still have pairs.
 */
export function stratifiedSample(scored: readonly Pair[], imageCount: number, count: number, bins: number, selfShare: number, rng: Rng): Pair[] {
  const selfCount = Math.min(count, Math.round(count * selfShare));
  const out: Pair[] = [];
  for (let k = 0; k < selfCount; k++) {
    const i = rng.int(imageCount);
    out.push({ a: i, b: i, target: 1 });
  }
  const byBin: Pair[][] = Array.from({ length: bins }, () => []);
  for (const p of scored) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(p.target * bins)));
    byBin[bin]!.push(p);
  }
  const pools = byBin.map((b) => shuffled(b, rng));
  let need = count - selfCount;
  while (need > 0) {
    const open = pools.filter((p) => p.length > 0);
    if (open.length === 0) break;
    const quota = Math.max(1, Math.floor(need / open.length));
    for (const pool of open) {
      for (let q = 0; q < quota && pool.length > 0 && need > 0; q++, need--) out.push(pool.pop()!);
    }
  }
  return shuffled(out, rng);
}

/** Counts of pair targets per SSIM bin (for the model card). */
export function binCounts(pairs: readonly Pair[], bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  for (const p of pairs) out[Math.min(bins - 1, Math.max(0, Math.floor(p.target * bins)))]!++;
  return out;
}
