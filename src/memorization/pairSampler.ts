/**
 * Unlimited exact-target training pairs for DeepSSIM: every pair's target is computed by the project's own SSIM
 * (`ssimTarget`, skimage mode, ~0.3 ms per 128² pair), never looked up. Pair kinds:
 * - degraded copy: an image against itself with noise, blur, shift or a mix at a continuous strength (targets
 *   from 1 down to ~0.3: the Duplicate/Similar border is crossed densely);
 * - neighbour: two slices of one volume at a graded offset;
 * - other: two different images (other subjects, other levels);
 * - hard negative: the most similar of a few random other-image pairs (pixel-hard).
 * Sampling is stratified by target bin: each draw picks a bin uniformly and generates candidates until one lands
 * in it (candidates for other bins are queued, not wasted), so [0.5, 1] is covered evenly however rare its pairs
 * are among random pairs. A bin that nothing reaches within the attempt budget is reported, not faked.
 */
import { invalidOption, mergeOptions } from '../errors.ts';
import { shiftPlane, zScoreInPlace } from './plane.ts';
import { createRng, type Rng } from './rng.ts';
import { ssimTarget } from './ssimTarget.ts';

export const PAIR_KINDS = ['degraded', 'neighbour', 'other', 'hard'] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

/** One exact-target pair; `a` is the real/first image (its range is the SSIM data range). */
export interface SampledPair {
  a: Float32Array;
  b: Float32Array;
  target: number;
  kind: PairKind;
  bin: number;
}

/** Sampler options. */
export interface PairSamplerOptions {
  /** Plane side. Default 128. */
  size: number;
  /** Bin edges, increasing; bin i is [edges[i], edges[i + 1]) (the last is closed). Default: < 0.5, then 0.05 steps to 1. */
  edges: number[];
  /** Relative weight of each bin in the draw (same length as the bins). Default: 1 for < 0.5, 2 for each bin of [0.5, 1]. */
  binWeights: number[];
  /** Candidates generated per draw before a bin is declared unreachable. Default 400. */
  maxAttempts: number;
  /** Queued candidates kept per bin. Default 64. */
  queueCap: number;
  /** Other-image pairs examined per hard negative. Default 8. */
  hardPool: number;
  /** Largest neighbour offset in slices. Default 12. */
  maxOffset: number;
}

const DEFAULT_EDGES = [-1, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1];

export const DEFAULT_PAIR_SAMPLER_OPTIONS: Readonly<PairSamplerOptions> = Object.freeze({
  size: 128,
  edges: DEFAULT_EDGES,
  binWeights: [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
  maxAttempts: 400,
  queueCap: 64,
  hardPool: 8,
  maxOffset: 12,
});

/**
 * Merge and check sampler options.
 * @throws BlindspotError E_INVALID_OPTION
 */
export function resolvePairSamplerOptions(partial: Partial<PairSamplerOptions> = {}): PairSamplerOptions {
  const o = mergeOptions(DEFAULT_PAIR_SAMPLER_OPTIONS, partial, 'pair sampler');
  if (!Array.isArray(o.edges) || o.edges.length < 2 || o.edges.some((e, i) => i > 0 && !(e > o.edges[i - 1]!))) throw invalidOption('edges', 'at least 2 increasing numbers', o.edges);
  if (partial.edges && !partial.binWeights) o.binWeights = new Array<number>(o.edges.length - 1).fill(1);
  if (!Array.isArray(o.binWeights) || o.binWeights.length !== o.edges.length - 1 || o.binWeights.some((w) => !(w >= 0)) || !o.binWeights.some((w) => w > 0)) {
    throw invalidOption('binWeights', `${o.edges.length - 1} weights >= 0, not all 0`, o.binWeights);
  }
  for (const k of ['size', 'maxAttempts', 'queueCap', 'hardPool', 'maxOffset'] as const) if (!Number.isInteger(o[k]) || o[k] < 1) throw invalidOption(k, 'an integer >= 1', o[k]);
  if (o.size < 7) throw invalidOption('size', 'an integer >= 7', o.size);
  return o;
}

/** What the sampler draws from: z-scored `size x size` images and volumes (slice stacks, null = blank). */
export interface PairSource {
  images: readonly Float32Array[];
  volumes?: readonly (readonly (Float32Array | null)[])[];
}

/** A degraded copy of a z-scored plane at strength s in [0, 1] (noise, blur, shift or two of them). */
export function degrade(p: Float32Array, size: number, s: number, rng: Rng): Float32Array {
  let out: Float32Array = Float32Array.from(p);
  const kinds = ['noise', 'blur', 'shift'] as const;
  const first = kinds[rng.int(3)]!;
  const second = rng.next() < 0.4 ? kinds[rng.int(3)] : undefined;
  for (const k of second && second !== first ? [first, second] : [first]) {
    if (k === 'noise') {
      const sigma = 1.2 * s;
      for (let i = 0; i < out.length; i++) out[i]! += sigma * rng.normal();
    } else if (k === 'blur') {
      out = boxBlur(out, size, Math.max(1, Math.round(4 * s)));
    } else {
      const r = Math.round(8 * s);
      out = shiftPlane(out, size, rng.int(2 * r + 1) - r, rng.int(2 * r + 1) - r);
    }
  }
  return zScoreInPlace(out);
}

/** Separable box blur of radius r, clamped edges (two passes: a cheap near-Gaussian). */
function boxBlur(src: Float32Array, size: number, r: number): Float32Array {
  const pass = (from: Float32Array, horizontal: boolean) => {
    const to = new Float32Array(from.length);
    const inv = 1 / (2 * r + 1);
    for (let line = 0; line < size; line++) {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) {
          const j = Math.min(size - 1, Math.max(0, i + k));
          acc += horizontal ? from[line * size + j]! : from[j * size + line]!;
        }
        if (horizontal) to[line * size + i] = acc * inv;
        else to[i * size + line] = acc * inv;
      }
    }
    return to;
  };
  return pass(pass(src, true), false);
}

/** An exact-target pair sampler. */
export interface PairSampler {
  readonly options: PairSamplerOptions;
  /** Draw one pair (bin chosen by weight; falls back to the nearest reachable bin). */
  next(): SampledPair;
  /** Draw `n` pairs. */
  draw(n: number): SampledPair[];
  /** Exactly `perBin` pairs in every bin with weight > 0 (a fixed validation set); throws when a bin is unreachable. */
  perBin(perBin: number): SampledPair[];
  /** Bins found unreachable so far. */
  readonly unreachable: ReadonlySet<number>;
  binOf(target: number): number;
}

/**
 * Create a sampler.
 * @param source images (and optionally volumes), z-scored, all `size x size`
 * @param seed the sampler's seed (same seed, same pairs)
 */
export function createPairSampler(source: PairSource, partial: Partial<PairSamplerOptions>, seed: number): PairSampler {
  const o = resolvePairSamplerOptions(partial);
  const { size, edges } = o;
  const rng = createRng(seed);
  const images = source.images;
  const volumes = (source.volumes ?? []).filter((v) => v.filter(Boolean).length >= 2);
  if (images.length < 2 && volumes.length === 0) throw invalidOption('source', 'at least 2 images or a volume', images.length);
  for (const p of images) if (p.length !== size * size) throw invalidOption('images', `${size}x${size} planes`, p.length);
  const scratch = new Float64Array((size - 6) * (size - 6));
  const nb = edges.length - 1;
  const queues: SampledPair[][] = Array.from({ length: nb }, () => []);
  const unreachable = new Set<number>();
  const binOf = (t: number) => {
    if (t < edges[0]!) return 0;
    for (let i = nb - 1; i >= 0; i--) if (t >= edges[i]!) return i;
    return 0;
  };
  const target = (a: Float32Array, b: Float32Array) => ssimTarget(a, b, size, size, scratch);
  const make = (a: Float32Array, b: Float32Array, kind: PairKind, t = target(a, b)): SampledPair => ({ a, b, target: t, kind, bin: binOf(t) });
  const twoImages = (): [Float32Array, Float32Array] => {
    const i = rng.int(images.length);
    let j = rng.int(images.length - 1);
    if (j >= i) j++;
    return [images[i]!, images[j]!];
  };

  /** One candidate aimed at bin `want` (degraded copies use a strength that tends to land near it). */
  const candidate = (want: number): SampledPair => {
    const lo = Math.max(0, edges[want]!);
    const high = lo >= 0.5;
    const u = rng.next();
    if (images.length >= 2 && !high && u < 0.35) return make(...twoImages(), 'other');
    if (images.length >= 2 && !high && u < 0.5) {
      let best: SampledPair | null = null;
      for (let k = 0; k < o.hardPool; k++) {
        const c = make(...twoImages(), 'hard');
        if (!best || c.target > best.target) best = c;
      }
      return best!;
    }
    if (volumes.length > 0 && u < 0.7) {
      const v = volumes[rng.int(volumes.length)]!;
      const z = rng.int(v.length);
      const dz = (1 + rng.int(o.maxOffset)) * (rng.next() < 0.5 ? -1 : 1);
      const a = v[z];
      const b = v[z + dz];
      if (a && b) return make(a, b, 'neighbour');
    }
    const pool = images.length > 0 ? images : volumes.flatMap((v) => v.filter((p): p is Float32Array => p !== null));
    const a = pool[rng.int(pool.length)]!;
    // Strength: a coarse inverse of the target (1 - SSIM grows roughly with s), jittered so that bins blend.
    const s = Math.min(1, Math.max(0, (1 - lo) * (0.6 + 0.8 * rng.next())));
    return make(a, degrade(a, size, s, rng), 'degraded');
  };

  const fill = (want: number): SampledPair | null => {
    if (queues[want]!.length > 0) return queues[want]!.pop()!;
    for (let k = 0; k < o.maxAttempts; k++) {
      const c = candidate(want);
      if (c.bin === want) return c;
      // Low bins belong to other-image pairs: strong degradations overflowing there are not queued.
      if (queues[c.bin]!.length < o.queueCap && !(c.kind === 'degraded' && edges[c.bin + 1]! <= 0.5)) queues[c.bin]!.push(c);
    }
    unreachable.add(want);
    return null;
  };
  const totalWeight = () => o.binWeights.reduce((s, w, i) => s + (unreachable.has(i) ? 0 : w), 0);
  const next = (): SampledPair => {
    for (;;) {
      const tw = totalWeight();
      if (tw === 0) throw invalidOption('source', 'images that reach at least one SSIM bin', 'none reached');
      let r = rng.next() * tw;
      let want = 0;
      for (let i = 0; i < nb; i++) {
        if (unreachable.has(i)) continue;
        r -= o.binWeights[i]!;
        want = i;
        if (r < 0) break;
      }
      const p = fill(want);
      if (p) return p;
    }
  };
  return {
    options: o,
    next,
    draw: (n) => Array.from({ length: n }, next),
    perBin: (per) => {
      const out: SampledPair[] = [];
      for (let b = 0; b < nb; b++) {
        if (!(o.binWeights[b]! > 0)) continue;
        for (let k = 0; k < per; k++) {
          const p = fill(b);
          if (!p) throw invalidOption('source', `pairs in SSIM bin [${edges[b]}, ${edges[b + 1]})`, 'none reached');
          out.push(p);
        }
      }
      return out;
    },
    unreachable,
    binOf,
  };
}
