/**
 * The Anomaly Score over image sets: per-image complexity C, vulnerability V and AS-i = V / C, and
 * AS = the 2-D KS statistic between the (C, V) points of a real and a generated set (Hwang et al., CVPR 2024,
 * arXiv:2312.10634). I/O at the edges: files are read and preprocessed here; the math is in measure.ts,
 * stats.ts and ks2d.ts. Long work reports through `onProgress`; a bad image is recorded in `errors` and skipped.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { readImage } from '../image/read.ts';
import type { Image } from '../image/types.ts';
import { initTf, type Tf } from '../tf/backend.ts';
import { type FeatureExtractor, loadExtractor } from './extractor.ts';
import { type AsResult, asFromPoints } from './asStat.ts';
import {
  DEFAULT_MEASURE_SETTINGS,
  type MeasureSettings,
  complexity,
  passesPerImage,
  vulnerability,
} from './measure.ts';
import { type AnomalyOptions, resolveAnomalyOptions } from './options.ts';
import { toExtractorInput } from './preprocess.ts';
import { createRng } from './rng.ts';

/** One image's scores. */
export interface ImageScore {
  /** File name (the key of its random stream). */
  name: string;
  file: string;
  complexity: number;
  vulnerability: number;
  /** AS-i = V / C (lower = more natural); Infinity when C = 0. */
  asi: number;
}

/** A bad item, skipped. */
export interface ItemError {
  file: string;
  message: string;
}

/** Scores of one set. */
export interface SetScores {
  images: ImageScore[];
  errors: ItemError[];
  /** Clean feature vectors in `images` order (only with `keepFeatures`). */
  features?: Float32Array[];
}

/** What was used to compute the scores: recorded in every output. */
export interface ExtractorInfo {
  name: string;
  sha256: string;
  inputSize: number;
  channels: number;
  featureSize: number;
  source: string;
}

export interface AnomalyProgress {
  set: string;
  done: number;
  total: number;
  file: string;
}

/** An item to score: a name (stream key, shown in reports) and a loader. */
export interface ScoreItem {
  name: string;
  file: string;
  load: () => Promise<Image>;
}

const IMAGE_EXTENSIONS = new Set([
  '.png',
  '.jpg',
  '.jpeg',
  '.tif',
  '.tiff',
  '.webp',
  '.gif',
  '.bmp',
  '.dcm',
  '.dicom',
]);

/**
 * Image files of a folder (non-recursive), sorted by name; at most `n` (0 = all).
 * @throws BlindspotError E_UNREADABLE (no such folder), E_EMPTY (no image files).
 */
export async function listImages(dir: string, n = 0): Promise<ScoreItem[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new BlindspotError('E_UNREADABLE', 'no such folder', dir);
  }
  const files = names.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  if (files.length === 0)
    throw new BlindspotError('E_EMPTY', 'no image files (png, jpg, tif, webp, gif, bmp, dcm) in folder', dir);
  const chosen = n > 0 ? files.slice(0, n) : files;
  return chosen.map((f) => ({ name: f, file: join(dir, f), load: () => readImage(join(dir, f)) }));
}

/** A loaded extractor plus settings, reused across sets. */
export interface AnomalySession {
  readonly options: AnomalyOptions;
  readonly settings: MeasureSettings;
  readonly extractor: ExtractorInfo;
  /** Forward/backward passes per image. */
  readonly passes: ReturnType<typeof passesPerImage>;
  /** Score items; `set` labels progress events. */
  score(
    items: readonly ScoreItem[],
    set: string,
    onProgress?: (p: AnomalyProgress) => void,
  ): Promise<SetScores>;
  dispose(): void;
}

/**
 * Initialise TF.js, load the extractor, and return a session that scores sets of images.
 * @param options see `AnomalyOptions` (defaults `DEFAULT_ANOMALY_OPTIONS`).
 * @throws BlindspotError E_INVALID_OPTION, E_NOT_FOUND / E_CORRUPT for a missing or broken extractor.
 */
export async function createAnomalySession(options?: Partial<AnomalyOptions>): Promise<AnomalySession> {
  const o = resolveAnomalyOptions(options);
  const tf = await initTf(o.backend);
  const ex = await loadExtractor(tf, o.extractor);
  const settings: MeasureSettings = { ...DEFAULT_MEASURE_SETTINGS, officialCompat: o.officialCompat };
  const info: ExtractorInfo = {
    name: ex.name,
    sha256: ex.weightsSha256,
    inputSize: ex.inputSize,
    channels: ex.channels,
    featureSize: ex.featureSize,
    source: ex.source,
  };
  return {
    options: o,
    settings,
    extractor: info,
    passes: passesPerImage(settings),
    score: (items, set, onProgress) => scoreItems(tf, ex, o, settings, items, set, onProgress),
    dispose: () => ex.dispose(),
  };
}

async function scoreItems(
  tf: Tf,
  ex: FeatureExtractor,
  o: AnomalyOptions,
  settings: MeasureSettings,
  items: readonly ScoreItem[],
  set: string,
  onProgress?: (p: AnomalyProgress) => void,
): Promise<SetScores> {
  const shape: [number, number, number] = [ex.inputSize, ex.inputSize, ex.channels];
  const map = (x: TfTypes.Tensor4D): TfTypes.Tensor2D => ex.apply(x);
  const images: ImageScore[] = [];
  const errors: ItemError[] = [];
  const features: Float32Array[] = [];
  let done = 0;
  for (let start = 0; start < items.length; start += o.batchSize) {
    const batch: { item: ScoreItem; x: Float32Array; c: number }[] = [];
    for (const item of items.slice(start, start + o.batchSize)) {
      try {
        const img = await item.load();
        const x = await toExtractorInput(img, ex.inputSize, ex.channels);
        const rng = createRng(o.seed, `C:${item.name}`);
        const c = complexity(tf, map, x, shape, rng, settings).complexity;
        batch.push({ item, x, c });
      } catch (e) {
        if (!(e instanceof BlindspotError)) throw e;
        errors.push({ file: item.file, message: e.message });
        done++;
        onProgress?.({ set, done, total: items.length, file: item.file });
      }
    }
    if (batch.length === 0) continue;
    const rngs = batch.map((b) => createRng(o.seed, `V:${b.item.name}`));
    const v = vulnerability(
      tf,
      map,
      batch.map((b) => b.x),
      shape,
      rngs,
      settings,
    );
    batch.forEach((b, i) => {
      const vi = v.values[i]!;
      images.push({
        name: b.item.name,
        file: b.item.file,
        complexity: b.c,
        vulnerability: vi,
        asi: vi / b.c,
      });
      if (o.keepFeatures) features.push(v.features[i]!);
      done++;
      onProgress?.({ set, done, total: items.length, file: b.item.file });
    });
  }
  return o.keepFeatures ? { images, errors, features } : { images, errors };
}

/** Result of `anomalyScore`. */
export interface AnomalyScoreResult extends AsResult {
  real: SetScores;
  generated: SetScores;
  extractor: ExtractorInfo;
  seed: number;
  officialCompat: boolean;
  settings: MeasureSettings;
  passes: ReturnType<typeof passesPerImage>;
}

/**
 * AS between a folder of real and a folder of generated images.
 * @param realDir folder of real images; @param generatedDir folder of generated images.
 * @param options see `AnomalyOptions`.
 * @param onProgress called after each image.
 * @throws BlindspotError E_UNREADABLE / E_EMPTY for folders, E_EMPTY when a set has no scorable image.
 */
export async function anomalyScore(
  realDir: string,
  generatedDir: string,
  options?: Partial<AnomalyOptions>,
  onProgress?: (p: AnomalyProgress) => void,
): Promise<AnomalyScoreResult> {
  const o = resolveAnomalyOptions(options);
  const realItems = await listImages(realDir, o.n);
  const genItems = await listImages(generatedDir, o.n);
  const session = await createAnomalySession(o);
  try {
    const real = await session.score(realItems, 'real', onProgress);
    const generated = await session.score(genItems, 'generated', onProgress);
    return {
      ...asFromSets(real, generated, realDir, generatedDir, o.seed),
      real,
      generated,
      ...sessionFacts(session),
    };
  } finally {
    session.dispose();
  }
}

/**
 * AS (2-D KS D and p) between two scored sets, with a warning and a permutation p for small sets (asStat.ts).
 * @param seed seed of the permutation null.
 * @throws BlindspotError E_EMPTY when a set has no scored image, E_TOO_SMALL when it has one.
 */
export function asFromSets(
  real: SetScores,
  generated: SetScores,
  realName = 'real',
  generatedName = 'generated',
  seed = 0,
): AsResult {
  return asFromPoints(real.images, generated.images, seed, realName, generatedName);
}

function sessionFacts(
  s: AnomalySession,
): Pick<AnomalyScoreResult, 'extractor' | 'seed' | 'officialCompat' | 'settings' | 'passes'> {
  return {
    extractor: s.extractor,
    seed: s.options.seed,
    officialCompat: s.options.officialCompat,
    settings: s.settings,
    passes: s.passes,
  };
}

/** Result of `anomalyScoreI`. */
export interface AnomalyScoreIResult {
  images: SetScores;
  extractor: ExtractorInfo;
  seed: number;
  officialCompat: boolean;
  settings: MeasureSettings;
  passes: ReturnType<typeof passesPerImage>;
}

/**
 * AS-i (= V / C) of every image in a folder.
 * @throws BlindspotError E_UNREADABLE / E_EMPTY for the folder.
 */
export async function anomalyScoreI(
  dir: string,
  options?: Partial<AnomalyOptions>,
  onProgress?: (p: AnomalyProgress) => void,
): Promise<AnomalyScoreIResult> {
  const o = resolveAnomalyOptions(options);
  const items = await listImages(dir, o.n);
  const session = await createAnomalySession(o);
  try {
    const images = await session.score(items, 'images', onProgress);
    return { images, ...sessionFacts(session) };
  } finally {
    session.dispose();
  }
}
