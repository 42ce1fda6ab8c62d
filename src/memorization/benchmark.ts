/**
 * The DeepSSIM benchmark on the paper's protocol (`blindspot memorization eval`): labelled (real, generated)
 * pairs from `benchset.ts`, scored by every method in the same run, over several seeds (mean +- sd).
 * Two protocols:
 * - per pair (the official evaluation): the score of the given pair, labelled at the paper's fixed thresholds
 *   (<= 0.60 Different, > 0.85 Duplicate); macro-F1 over the three classes. Also with thresholds calibrated on a
 *   disjoint half of the pairs (shown separately; L2 has no fixed scale);
 * - best match: each generated image against the whole training set; source-found accuracy (Duplicates whose
 *   best match is their source) and macro-F1 with thresholds calibrated on one half, reported on the other.
 * Methods: the ORACLE (exact SSIM of the un-augmented pair: a perfect SSIM regressor with perfect invariance to
 * the test-time augmentation; its per-pair score is the ceiling and checks that labels agree with the metric),
 * pixel SSIM, NCC, L2, flip-invariant NCC and SSIM (best over the 8 dihedral transforms), and any embedding
 * methods passed in (the untrained backbone, a trained DeepSSIM), each prepared on the training images only.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { readImageFolder } from './folder.ts';
import { buildBenchSet, DEFAULT_BENCH_SET_OPTIONS, dihedral, loadVolumeStack, ncc, type BenchImage, type BenchSet, type BenchSetOptions, type VolumeStack } from './benchset.ts';
import { calibrateThresholds, classificationReport, labelFor, MEMORIZATION_LABELS, type MemorizationLabel } from './metrics.ts';
import { meanStd, minMax } from './plane.ts';
import { createRng, shuffled } from './rng.ts';
import { ssimMap, uniformTaps } from '../ssim/index.ts';

/** An embedding method: prepared once per seed on the training planes, then embeds any planes (L2-normalised rows). */
export interface EmbeddingMethod {
  name: string;
  prepare(train: readonly Float32Array[], seed: number): Promise<(planes: readonly Float32Array[]) => Promise<{ embeddings: Float32Array; dim: number }>>;
}

/** Benchmark options. */
export interface BenchmarkOptions extends BenchSetOptions {
  /** Folder of 2-D slices (split by image per seed). */
  images: string;
  /** NIfTI volumes, each `group=path` (volumes of one group give each other's same-level Similar) or a path. */
  volumes: string[];
  /** Seeds (one full set and split per seed). Default 1..5. */
  seeds: number[];
  /** Share of pairs used to calibrate thresholds (the rest is the test half). Default 0.5. */
  calibrationShare: number;
  /** Run the best-match protocol too (an SSIM per generated x training image x 8 for flip-SSIM). Default true. */
  retrieval: boolean;
  /** Score the pixel baselines (false: the ORACLE only, e.g. when they were measured in another run). Default true. */
  baselines: boolean;
  /**
   * SHA-256 (hex) of files an evaluated model was trained on: such images leave the pool, such a volume is an
   * error (a benchmark on the model's own training data would measure recall of its training set). Default [].
   */
  exclude: string[];
}

export const DEFAULT_BENCHMARK_OPTIONS: Readonly<BenchmarkOptions> = Object.freeze({
  ...DEFAULT_BENCH_SET_OPTIONS,
  images: '',
  volumes: [] as string[],
  seeds: [1, 2, 3, 4, 5],
  calibrationShare: 0.5,
  retrieval: true,
  baselines: true,
  exclude: [] as string[],
});

/**
 * Merge and check benchmark options.
 * @throws BlindspotError E_INVALID_OPTION
 */
export function resolveBenchmarkOptions(partial: Partial<BenchmarkOptions> = {}): BenchmarkOptions {
  const o = mergeOptions(DEFAULT_BENCHMARK_OPTIONS, partial, 'memorization eval');
  if (typeof o.images !== 'string' || o.images === '') throw invalidOption('images', 'a folder of 2-D slices', o.images);
  if (!Array.isArray(o.volumes) || o.volumes.some((v) => typeof v !== 'string' || v === '')) throw invalidOption('volumes', 'a list of NIfTI paths', o.volumes);
  if (!Array.isArray(o.seeds) || o.seeds.length === 0 || o.seeds.some((s) => !Number.isInteger(s) || s < 0)) throw invalidOption('seeds', 'a non-empty list of integers >= 0', o.seeds);
  if (!Number.isInteger(o.size) || o.size < 32 || o.size > 512) throw invalidOption('size', 'an integer in [32, 512] (default 128)', o.size);
  for (const k of ['duplicates', 'similar', 'different'] as const) if (!Number.isInteger(o[k]) || o[k] < 2) throw invalidOption(k, `an integer >= 2 (default ${DEFAULT_BENCHMARK_OPTIONS[k]})`, o[k]);
  for (const k of ['trainShare', 'calibrationShare'] as const) if (!(o[k] > 0 && o[k] < 1)) throw invalidOption(k, 'a number in (0, 1)', o[k]);
  if (!(o.duplicateMinSsim > 0 && o.duplicateMinSsim < 1)) throw invalidOption('duplicateMinSsim', 'a number in (0, 1) (default 0.85)', o.duplicateMinSsim);
  if (!(o.anchorStepMm > 0)) throw invalidOption('anchorStepMm', 'a number > 0 (default 20)', o.anchorStepMm);
  if (!Array.isArray(o.exclude) || o.exclude.some((h) => typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))) throw invalidOption('exclude', 'a list of SHA-256 hex digests', o.exclude);
  if (!Array.isArray(o.similarOffsetsMm) || o.similarOffsetsMm.length === 0 || o.similarOffsetsMm.some((m) => !(m > 0))) throw invalidOption('similarOffsetsMm', 'a non-empty list of numbers > 0', o.similarOffsetsMm);
  return o;
}

/** One method on one seed. */
export interface SeedScores {
  /** Per pair, fixed 0.85 / 0.60 (null for L2). */
  pairFixedF1: number | null;
  /** Per pair, thresholds calibrated on the calibration half, macro-F1 on the test half. */
  pairCalibratedF1: number;
  /** Best match, calibrated thresholds, test half (null without retrieval). */
  retrievalF1: number | null;
  /** Share of Duplicates whose best training match is their source (null without retrieval). */
  sourceFound: number | null;
  /** Mean per-pair score by true class. */
  meanPairScore: Record<MemorizationLabel, number>;
  /** Per-class F1 at the fixed thresholds (null for L2). */
  pairFixedPerClass: Record<MemorizationLabel, number> | null;
}

/** Mean and sample standard deviation over seeds. */
export interface MeanSd {
  mean: number;
  sd: number;
  n: number;
}

export interface MethodSummary {
  method: string;
  similarityScale: boolean;
  perSeed: SeedScores[];
  pairFixedF1: MeanSd | null;
  pairCalibratedF1: MeanSd;
  retrievalF1: MeanSd | null;
  sourceFound: MeanSd | null;
}

export interface BenchmarkResult {
  options: BenchmarkOptions;
  seeds: { seed: number; train: number; heldOut: number; droppedNearCopies: number; pairs: Record<MemorizationLabel, number> }[];
  methods: MethodSummary[];
  /** Images of the folder left out because an evaluated model was trained on them (`exclude`). */
  excluded: number;
  /** Usable images in the pool (after `exclude`). */
  pool: number;
}

export type BenchmarkProgress = { phase: 'read' | 'volumes' | 'set' | 'pixel' | 'embed'; seed?: number; done: number; total: number; method?: string };

/** A pixel method: a score per (real, generated) pair of z-scored planes, with per-plane caches. */
interface PixelMethod {
  name: string;
  similarityScale: boolean;
  /** Score of the training plane `t` against the generated plane at `g` (prepared views). */
  score(t: number, g: number): number;
}

const TAPS = uniformTaps(7);
const COV_NORM = 49 / 48;

/** Pixel methods over prepared float64 views (training planes, generated planes and their dihedral variants). */
function pixelMethods(train: readonly Float32Array[], gen: readonly Float32Array[], clean: readonly Float32Array[], size: number): PixelMethod[] {
  const wideT = train.map((p) => Float64Array.from(p));
  const constT = train.map((p) => {
    const { min, max } = minMax(p);
    const L = max - min > 0 ? max - min : 1;
    return { C1: (0.01 * L) ** 2, C2: (0.03 * L) ** 2, covNorm: COV_NORM };
  });
  const variants = gen.map((g) => Array.from({ length: 8 }, (_, k) => (k === 0 ? g : dihedral(g, size, k))));
  const wideV = variants.map((vs) => vs.map((v) => Float64Array.from(v)));
  const wideC = clean.map((p) => Float64Array.from(p));
  const scratch = new Float64Array((size - 6) * (size - 6));
  // skimage-mode SSIM with the real (training) image's data range, as the DeepSSIM target.
  const ssim = (t: number, y: Float64Array) => ssimMap(wideT[t]!, y, size, size, TAPS, constT[t]!, { out: scratch }).mssim;
  const negL2 = (a: Float32Array, b: Float32Array) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return -Math.sqrt(s / a.length);
  };
  const best = (f: (k: number) => number) => {
    let b = -Infinity;
    for (let k = 0; k < 8; k++) b = Math.max(b, f(k));
    return b;
  };
  return [
    { name: 'ORACLE: exact SSIM of the un-augmented pair', similarityScale: true, score: (t, g) => ssim(t, wideC[g]!) },
    { name: 'pixel SSIM', similarityScale: true, score: (t, g) => ssim(t, wideV[g]![0]!) },
    { name: 'NCC', similarityScale: true, score: (t, g) => ncc(train[t]!, gen[g]!) },
    { name: 'L2 (negative RMSE)', similarityScale: false, score: (t, g) => negL2(train[t]!, gen[g]!) },
    { name: 'flip-invariant NCC (best of 8 dihedral)', similarityScale: true, score: (t, g) => best((k) => ncc(train[t]!, variants[g]![k]!)) },
    { name: 'flip-invariant SSIM (best of 8 dihedral)', similarityScale: true, score: (t, g) => best((k) => ssim(t, wideV[g]![k]!)) },
  ];
}

/** Stratified calibration / test split of pair indices. */
function calibrationSplit(truth: readonly MemorizationLabel[], share: number, seed: number): { cal: number[]; test: number[] } {
  const rng = createRng(seed ^ 0x5bd1e995);
  const cal = new Set<number>();
  for (const label of MEMORIZATION_LABELS) {
    const idx = shuffled(truth.map((t, i) => (t === label ? i : -1)).filter((i) => i >= 0), rng);
    idx.slice(0, Math.round(idx.length * share)).forEach((i) => cal.add(i));
  }
  return { cal: [...cal].sort((a, b) => a - b), test: truth.map((_, i) => i).filter((i) => !cal.has(i)) };
}

/** Macro-F1 on `test` with thresholds calibrated on `cal`. */
function calibratedF1(scores: ArrayLike<number>, truth: readonly MemorizationLabel[], split: { cal: number[]; test: number[] }): number {
  const t = calibrateThresholds(split.cal.map((i) => scores[i]!), split.cal.map((i) => truth[i]!));
  return classificationReport(split.test.map((i) => truth[i]!), split.test.map((i) => labelFor(scores[i]!, t))).macroF1;
}

/**
 * Protocol scores of one method on one seed.
 * @param pairScore the score of each labelled pair (its given real image)
 * @param best the best-match score and index of each generated image over the training set (null: no retrieval)
 */
export function protocolScores(set: BenchSet, pairScore: Float64Array, best: { score: Float64Array; index: Int32Array } | null, similarityScale: boolean, calibrationShare: number, seed: number): SeedScores {
  const truth = set.pairs.map((p) => p.truth);
  const split = calibrationSplit(truth, calibrationShare, seed);
  const fixed = similarityScale ? classificationReport(truth, Array.from(pairScore, (s) => labelFor(s))) : null;
  const meanPairScore = {} as Record<MemorizationLabel, number>;
  for (const label of MEMORIZATION_LABELS) {
    const v = set.pairs.map((p, i) => (p.truth === label ? pairScore[i]! : NaN)).filter((x) => !Number.isNaN(x));
    meanPairScore[label] = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  }
  let sourceFound: number | null = null;
  if (best) {
    const dups = set.pairs.map((p, i) => (p.truth === 'Duplicate' ? i : -1)).filter((i) => i >= 0);
    sourceFound = dups.filter((i) => best.index[i] === set.pairs[i]!.source).length / Math.max(1, dups.length);
  }
  return {
    pairFixedF1: fixed ? fixed.macroF1 : null,
    pairCalibratedF1: calibratedF1(pairScore, truth, split),
    retrievalF1: best ? calibratedF1(best.score, truth, split) : null,
    sourceFound,
    meanPairScore,
    pairFixedPerClass: fixed ? { Duplicate: fixed.perClass.Duplicate.f1, Similar: fixed.perClass.Similar.f1, Different: fixed.perClass.Different.f1 } : null,
  };
}

/** Per-pair scores and best matches of a score function over (training index, generated index). */
function scoreAll(set: BenchSet, score: (t: number, g: number) => number, retrieval: boolean, tick?: () => void): { pair: Float64Array; best: { score: Float64Array; index: Int32Array } | null } {
  const n = set.pairs.length;
  const pair = new Float64Array(n);
  const bs = new Float64Array(n);
  const bi = new Int32Array(n);
  for (let g = 0; g < n; g++) {
    pair[g] = score(set.pairs[g]!.real, g);
    if (retrieval) {
      let b = -Infinity;
      let at = -1;
      for (let t = 0; t < set.train.length; t++) {
        const s = t === set.pairs[g]!.real ? pair[g]! : score(t, g);
        if (s > b) {
          b = s;
          at = t;
        }
      }
      bs[g] = b;
      bi[g] = at;
    }
    tick?.();
  }
  return { pair, best: retrieval ? { score: bs, index: bi } : null };
}

/** Cosine of L2-normalised rows. */
function cosineScorer(te: Float32Array, ge: Float32Array, dim: number): (t: number, g: number) => number {
  return (t, g) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += te[t * dim + j]! * ge[g * dim + j]!;
    return s;
  };
}

/** Score one seed's set with every method. */
export async function scoreBenchSet(
  set: BenchSet,
  size: number,
  embedding: readonly EmbeddingMethod[],
  o: { calibrationShare: number; retrieval: boolean; seed: number; baselines?: boolean },
  onProgress?: (p: BenchmarkProgress) => void,
): Promise<{ method: string; similarityScale: boolean; scores: SeedScores; pair: Float64Array }[]> {
  const trainPlanes = set.train.map((t) => t.plane);
  const gen = set.pairs.map((p) => p.generated);
  const out: { method: string; similarityScale: boolean; scores: SeedScores; pair: Float64Array }[] = [];
  const pixel = pixelMethods(trainPlanes, gen, set.pairs.map((p) => p.clean), size);
  for (const m of o.baselines === false ? pixel.slice(0, 1) : pixel) {
    let done = 0;
    const r = scoreAll(set, m.score, o.retrieval, () => onProgress?.({ phase: 'pixel', seed: o.seed, method: m.name, done: ++done, total: gen.length }));
    out.push({ method: m.name, similarityScale: m.similarityScale, scores: protocolScores(set, r.pair, r.best, m.similarityScale, o.calibrationShare, o.seed), pair: r.pair });
  }
  for (const m of embedding) {
    onProgress?.({ phase: 'embed', seed: o.seed, method: m.name, done: 0, total: 1 });
    const embed = await m.prepare(trainPlanes, o.seed);
    const te = await embed(trainPlanes);
    const ge = await embed(gen);
    const r = scoreAll(set, cosineScorer(te.embeddings, ge.embeddings, te.dim), o.retrieval);
    out.push({ method: m.name, similarityScale: true, scores: protocolScores(set, r.pair, r.best, true, o.calibrationShare, o.seed), pair: r.pair });
    onProgress?.({ phase: 'embed', seed: o.seed, method: m.name, done: 1, total: 1 });
  }
  return out;
}

/** Mean and sample sd. */
export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/** Split `group=path` into its parts (a plain path is its own group). */
function volumeSpec(spec: string): { group: string; file: string } {
  const eq = spec.indexOf('=');
  return eq > 0 && !spec.slice(0, eq).includes('/') ? { group: spec.slice(0, eq), file: spec.slice(eq + 1) } : { group: spec, file: spec };
}

/**
 * Run the benchmark over all seeds.
 * @param partial options (`images` required)
 * @param embedding embedding methods (untrained backbone, DeepSSIM...) prepared per seed on the training planes
 * @throws BlindspotError E_NOT_FOUND / E_EMPTY / E_INVALID_OPTION
 */
export async function runMemorizationBenchmark(partial: Partial<BenchmarkOptions>, embedding: readonly EmbeddingMethod[] = [], onProgress?: (p: BenchmarkProgress) => void): Promise<BenchmarkResult> {
  const o = resolveBenchmarkOptions(partial);
  const folder = await readImageFolder(o.images, o.size, (done, total) => onProgress?.({ phase: 'read', done, total }));
  const excluded = new Set(o.exclude);
  const seen = excluded.size > 0 ? await Promise.all(folder.files.map(async (f) => excluded.has(await sha256Of(f)))) : folder.files.map(() => false);
  const pool: BenchImage[] = folder.planes.map((plane, i) => ({ name: folder.names[i]!, plane })).filter((it, i) => !seen[i] && meanStd(it.plane).std > 0);
  if (pool.length < 10) throw new BlindspotError('E_EMPTY', `the benchmark needs at least 10 usable images, got ${pool.length}`, o.images);
  const volumes: VolumeStack[] = [];
  for (const [i, spec] of o.volumes.entries()) {
    const { group, file } = volumeSpec(spec);
    if (excluded.size > 0 && excluded.has(await sha256Of(file))) throw new BlindspotError('E_INVALID_OPTION', 'this volume is in the evaluated model\'s training data; benchmark on volumes it never saw', file);
    volumes.push(await loadVolumeStack(file, o.size, group));
    onProgress?.({ phase: 'volumes', done: i + 1, total: o.volumes.length });
  }
  const perMethod = new Map<string, { similarityScale: boolean; perSeed: SeedScores[] }>();
  const seeds: BenchmarkResult['seeds'] = [];
  for (const seed of o.seeds) {
    const set = await buildBenchSet(pool, volumes, o, createRng(seed));
    onProgress?.({ phase: 'set', seed, done: set.pairs.length, total: set.pairs.length });
    const counts = { Duplicate: 0, Similar: 0, Different: 0 } as Record<MemorizationLabel, number>;
    for (const p of set.pairs) counts[p.truth]++;
    seeds.push({ seed, train: set.train.length, heldOut: set.heldOut, droppedNearCopies: set.droppedNearCopies, pairs: counts });
    for (const r of await scoreBenchSet(set, o.size, embedding, { calibrationShare: o.calibrationShare, retrieval: o.retrieval, seed, baselines: o.baselines }, onProgress)) {
      const e = perMethod.get(r.method) ?? { similarityScale: r.similarityScale, perSeed: [] };
      e.perSeed.push(r.scores);
      perMethod.set(r.method, e);
    }
  }
  const methods: MethodSummary[] = [...perMethod].map(([method, e]) => {
    const pick = (f: (s: SeedScores) => number | null): MeanSd | null => {
      const v = e.perSeed.map(f);
      return v.some((x) => x === null) ? null : meanSd(v as number[]);
    };
    return {
      method,
      similarityScale: e.similarityScale,
      perSeed: e.perSeed,
      pairFixedF1: pick((s) => s.pairFixedF1),
      pairCalibratedF1: meanSd(e.perSeed.map((s) => s.pairCalibratedF1)),
      retrievalF1: pick((s) => s.retrievalF1),
      sourceFound: pick((s) => s.sourceFound),
    };
  });
  return { options: o, seeds, methods, excluded: seen.filter(Boolean).length, pool: pool.length };
}

async function sha256Of(file: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    throw new BlindspotError('E_NOT_FOUND', 'cannot read the file', file);
  }
}

const ms = (m: MeanSd | null) => (m ? `${(100 * m.mean).toFixed(1)} ± ${(100 * m.sd).toFixed(1)}` : 'n/a');

/** The benchmark as Markdown (mean ± sd over seeds, in percent). */
export function benchmarkMarkdown(r: BenchmarkResult): string {
  const s = r.seeds;
  const avg = (f: (x: (typeof s)[number]) => number) => (s.reduce((a, x) => a + f(x), 0) / s.length).toFixed(0);
  const lines = [
    `DeepSSIM benchmark, paper protocol: ${s.length} seeds (${s.map((x) => x.seed).join(', ')}), ${r.options.size}x${r.options.size}; pool ${r.pool} images` +
      `${r.excluded > 0 ? ` (${r.excluded} left out: an evaluated model was trained on them or on near-copies of them)` : ''}; per seed ~${avg((x) => x.train)} training images, ` +
      `${avg((x) => x.pairs.Duplicate)} Duplicate / ${avg((x) => x.pairs.Similar)} Similar / ${avg((x) => x.pairs.Different)} Different pairs, test-time augmentation p = 0.8 on every generated image.`,
    '',
    '| method | per-pair macro-F1, fixed 0.85/0.60 | Dup / Sim / Diff F1 (fixed) | per-pair macro-F1, calibrated | best-match macro-F1, calibrated | source found |',
    '|---|---|---|---|---|---|',
  ];
  for (const m of r.methods) {
    const pc = m.perSeed.map((x) => x.pairFixedPerClass);
    const cls = pc.some((x) => x === null) ? 'n/a' : MEMORIZATION_LABELS.map((l) => (100 * meanSd(pc.map((x) => x![l])).mean).toFixed(0)).join(' / ');
    lines.push(`| ${m.method} | ${ms(m.pairFixedF1)} | ${cls} | ${ms(m.pairCalibratedF1)} | ${ms(m.retrievalF1)} | ${ms(m.sourceFound)} |`);
  }
  return lines.join('\n') + '\n';
}
