/**
 * Memorization scan: embed a training set and a generated set with a DeepSSIM model, find each generated
 * image's k nearest training images by exact cosine similarity, and label the best match Duplicate / Similar /
 * Different with the paper's thresholds (0.85 / 0.60). Exact search is a dot product per pair: fine up to
 * ~100k training images; beyond that an ANN index (usearch, hnswlib-node) would be the next step.
 */
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { embedPlanes } from './embed.ts';
import { readImageFolder, type ImageFolder } from './folder.ts';
import { cosineTopK, DEFAULT_LABEL_THRESHOLDS, labelFor, type LabelThresholds, type MemorizationLabel } from './metrics.ts';
import { halveTo } from './plane.ts';
import { loadDeepSsimModel, type ModelCard } from './store.ts';
import { loadTf } from './tfjs.ts';

/** Scan options. */
export interface ScanOptions {
  /** Nearest training images reported per generated image. Default 5. */
  k: number;
  /** Cosine above which the best match is a Duplicate. Default 0.85. */
  duplicate: number;
  /** Cosine at or below which it is Different (Similar in between). Default 0.60. */
  similar: number;
  /** Images per forward pass. Default 32. */
  batchSize: number;
}

export const DEFAULT_SCAN_OPTIONS: Readonly<ScanOptions> = Object.freeze({
  k: 5,
  duplicate: DEFAULT_LABEL_THRESHOLDS.duplicate,
  similar: DEFAULT_LABEL_THRESHOLDS.similar,
  batchSize: 32,
});

/**
 * Merge and check scan options.
 * @throws BlindspotError E_INVALID_OPTION
 */
export function resolveScanOptions(partial: Partial<ScanOptions> = {}): ScanOptions {
  const o = mergeOptions(DEFAULT_SCAN_OPTIONS, partial, 'memorization scan');
  if (!Number.isInteger(o.k) || o.k < 1 || o.k > 1000) throw invalidOption('k', 'an integer in [1, 1000] (default 5)', o.k);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 1024) throw invalidOption('batchSize', 'an integer in [1, 1024] (default 32)', o.batchSize);
  if (!(o.similar >= -1 && o.similar <= 1)) throw invalidOption('similar', 'a cosine in [-1, 1] (default 0.6)', o.similar);
  if (!(o.duplicate >= o.similar && o.duplicate <= 1)) throw invalidOption('duplicate', `a cosine in [similar = ${o.similar}, 1] (default 0.85)`, o.duplicate);
  return o;
}

/** One generated image's result. */
export interface ScanMatch {
  generated: string;
  /** Best match first. */
  neighbours: { train: string; cosine: number }[];
  /** Label of the best match. */
  label: MemorizationLabel;
}

/** A scan's result. */
export interface ScanResult {
  matches: ScanMatch[];
  counts: Record<MemorizationLabel, number>;
  options: ScanOptions;
  model: { dir: string; backbone: string; size: number; dataHash: string };
  trainDir: string;
  generatedDir: string;
  trainImages: number;
  generatedImages: number;
  skipped: { file: string; reason: string }[];
}

/**
 * Pure part of a scan: top-k by cosine over L2-normalised embeddings, and labels.
 * @param train training embeddings [nTrain x dim]
 * @param generated generated embeddings [nGen x dim]
 */
export function matchEmbeddings(
  train: Float32Array,
  generated: Float32Array,
  dim: number,
  trainNames: readonly string[],
  generatedNames: readonly string[],
  options: ScanOptions,
): ScanMatch[] {
  const thresholds: LabelThresholds = { duplicate: options.duplicate, similar: options.similar };
  return cosineTopK(generated, train, dim, options.k).map((nb, q) => ({
    generated: generatedNames[q]!,
    neighbours: nb.map((n) => ({ train: trainNames[n.index]!, cosine: n.score })),
    label: labelFor(nb[0]!.score, thresholds),
  }));
}

/** Progress events of a scan. */
export type ScanProgress = { phase: 'read' | 'embed'; set: 'train' | 'generated'; done: number; total: number };

/**
 * Scan a generated folder against a training folder with a DeepSSIM model folder.
 * @param trainDir training images
 * @param generatedDir generated images
 * @param modelDir a folder written by `trainMemorizationModel` (model.json, weights.bin, card.json)
 * @param partial options (k 5, duplicate 0.85, similar 0.60, batchSize 32)
 * @throws BlindspotError E_NOT_FOUND / E_EMPTY for missing or empty folders, the model folder errors of
 *   `loadDeepSsimModel`, E_INVALID_OPTION
 */
export async function scanMemorization(
  trainDir: string,
  generatedDir: string,
  modelDir: string,
  partial: Partial<ScanOptions> = {},
  onProgress?: (p: ScanProgress) => void,
): Promise<ScanResult & { train: ImageFolder; generated: ImageFolder }> {
  const options = resolveScanOptions(partial);
  const tf = await loadTf();
  const { model, card } = await loadDeepSsimModel(tf, modelDir);
  try {
    // Read at the side where the model's SSIM is defined, then halve to the network's input (as in training).
    const readSize = card.ssimSize ?? card.size;
    const fit = (f: ImageFolder) => (readSize === card.size ? f.planes : f.planes.map((p) => halveTo(p, readSize, card.size)));
    const train = await readImageFolder(trainDir, readSize, (done, total) => onProgress?.({ phase: 'read', set: 'train', done, total }));
    const generated = await readImageFolder(generatedDir, readSize, (done, total) => onProgress?.({ phase: 'read', set: 'generated', done, total }));
    const average = card.inference?.average ?? 'none';
    const te = await embedPlanes(tf, model, fit(train), options.batchSize, (done, total) => onProgress?.({ phase: 'embed', set: 'train', done, total }), average);
    const ge = await embedPlanes(tf, model, fit(generated), options.batchSize, (done, total) => onProgress?.({ phase: 'embed', set: 'generated', done, total }), average);
    if (te.dim !== ge.dim) throw new BlindspotError('E_UNSUPPORTED', 'embedding sizes differ');
    const matches = matchEmbeddings(te.embeddings, ge.embeddings, te.dim, train.names, generated.names, options);
    return { ...summarise(matches, options, card, modelDir, train, generated), train, generated };
  } finally {
    model.dispose();
  }
}

function summarise(matches: ScanMatch[], options: ScanOptions, card: ModelCard, modelDir: string, train: ImageFolder, generated: ImageFolder): ScanResult {
  const counts: Record<MemorizationLabel, number> = { Duplicate: 0, Similar: 0, Different: 0 };
  for (const m of matches) counts[m.label]++;
  return {
    matches,
    counts,
    options,
    model: { dir: modelDir, backbone: card.backbone, size: card.size, dataHash: card.training.dataHash },
    trainDir: train.dir,
    generatedDir: generated.dir,
    trainImages: train.names.length,
    generatedImages: generated.names.length,
    skipped: [...train.skipped, ...generated.skipped],
  };
}
