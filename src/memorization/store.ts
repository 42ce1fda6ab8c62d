/**
 * DeepSSIM model folders: `model.json` + `weights.bin` (a TensorFlow.js layers model, written with `fs`, no
 * `file://` handler) and `card.json` (what the model is, what it was trained on, how well it predicts SSIM).
 * The card has no timestamp, so the same training run writes the same bytes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { loadLayersModelFromDir } from '../tf/backend.ts';
import type { EmbeddingAverage } from './embed.ts';
import type { BackboneName } from './model.ts';
import type { Tf } from './tfjs.ts';
import type { EpochRecord, TrainOptions, ValidationSummary } from './train.ts';

/** The card's format tag; scans refuse folders without it. */
export const MODEL_CARD_FORMAT = 'blindspot-deepssim';
export const MODEL_CARD_VERSION = 1;

/** How a model trained with `blindspot memorization train` was trained. */
export interface FolderTraining {
  imagesDir: string;
  dataHash: string;
  images: number;
  trainImages: number;
  validationImages: number;
  skipped: number;
  options: TrainOptions;
  history: EpochRecord[];
  bestEpoch: number;
  initialValidationMse: number;
}

/** How the shipped spatial model was trained (examples/deepssim-train-spatial.ts; details in MODEL_CARD.md). */
export interface SpatialTraining {
  /** SHA-256 over the sorted (file, file SHA-256) list in `training-files.json`. */
  dataHash: string;
  /** The list of every file the model saw, with its SHA-256 (next to card.json). */
  filesList: string;
  trainImages: number;
  validationImages: number;
  steps: number;
  pairsPerStep: number;
  wallSeconds: number;
  options: Record<string, unknown>;
}

/** `card.json` of a DeepSSIM model folder. */
export interface ModelCard {
  format: typeof MODEL_CARD_FORMAT;
  version: number;
  method: string;
  backbone: BackboneName | 'spatial';
  /** Input plane side; scans resize images to it. */
  size: number;
  /**
   * Side at which the model's SSIM is defined (default `size`): scans read images at this side and halve them
   * (2x2 means) to `size`, as in training. A power-of-2 multiple of `size`.
   */
  ssimSize?: number;
  /** Input channels (3: grey repeated for MobileNetV2; 1: compact CNN). */
  channels: number;
  embeddingDim: number;
  /** Preprocessing, in words (so other tools can reproduce it). */
  preprocessing: string;
  training: FolderTraining | SpatialTraining;
  validation: ValidationSummary;
  thresholds: { duplicate: number; similar: number };
  /** Inference: `average` = the embedding is the mean of the unit embeddings of the 4 flips or 8 flips/rotations. */
  inference?: { average: EmbeddingAverage };
}

/** The shipped DeepSSIM model folder (spatial CNN, trained once; see its MODEL_CARD.md). */
export const SHIPPED_MODEL_DIR = fileURLToPath(new URL('../../models/deepssim-spatial/', import.meta.url));

/**
 * The files a benchmark of a model must leave out, from its folder's `training-files.json` (none when there is
 * no list): the files it was trained on, and `benchmarkExclude` (files of its training side it did not use, which
 * hold near-copies of the trained ones).
 */
export async function modelTrainingFiles(dir: string): Promise<{ file: string; sha256: string }[]> {
  const text = await readFile(join(dir, 'training-files.json'), 'utf8').catch(() => null);
  if (text === null) return [];
  try {
    const list = JSON.parse(text) as { files: { file: string; sha256: string }[]; benchmarkExclude?: { file: string; sha256: string }[] };
    return [...list.files, ...(list.benchmarkExclude ?? [])];
  } catch {
    throw new BlindspotError('E_CORRUPT', 'training-files.json is not valid JSON', join(dir, 'training-files.json'));
  }
}

/** Write a model folder (created if needed): model.json, weights.bin, card.json. */
export async function saveDeepSsimModel(dir: string, model: TfTypes.LayersModel, card: ModelCard): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save({
    async save(artifacts: TfTypes.io.ModelArtifacts): Promise<TfTypes.io.SaveResult> {
      const weightData = artifacts.weightData as ArrayBuffer;
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(json));
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    },
  });
  await writeFile(join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
}

/**
 * Read and check a model card.
 * @throws BlindspotError E_NOT_FOUND (no card.json), E_CORRUPT (not JSON), E_UNSUPPORTED (not a DeepSSIM card,
 *   or a card whose fields do not describe a usable model), naming the file.
 */
export async function readModelCard(dir: string): Promise<ModelCard> {
  const file = join(dir, 'card.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new BlindspotError('E_NOT_FOUND', 'no model card (card.json) in the model folder; train one with `blindspot memorization train`', file);
  }
  let card: Partial<ModelCard>;
  try {
    card = JSON.parse(text) as Partial<ModelCard>;
  } catch {
    throw new BlindspotError('E_CORRUPT', 'model card is not valid JSON', file);
  }
  if (card.format !== MODEL_CARD_FORMAT) {
    throw new BlindspotError('E_UNSUPPORTED', `not a DeepSSIM model card (format ${JSON.stringify(card.format)}, expected "${MODEL_CARD_FORMAT}")`, file);
  }
  if (card.version !== MODEL_CARD_VERSION) {
    throw new BlindspotError('E_UNSUPPORTED', `model card version ${String(card.version)} is not supported (expected ${MODEL_CARD_VERSION})`, file);
  }
  const okInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  if (!okInt(card.size, 7) || !(card.channels === 1 || card.channels === 3) || !okInt(card.embeddingDim, 1)) {
    throw new BlindspotError('E_UNSUPPORTED', 'model card lacks a valid size, channels or embeddingDim', file);
  }
  const ratio = (card.ssimSize ?? card.size!) / card.size!;
  if (!(Number.isInteger(ratio) && ratio >= 1 && (ratio & (ratio - 1)) === 0)) {
    throw new BlindspotError('E_UNSUPPORTED', `model card ssimSize ${String(card.ssimSize)} is not size ${card.size} times a power of 2`, file);
  }
  return card as ModelCard;
}

/**
 * Load a model folder and check that the network matches its card (input size and channels, embedding size).
 * @throws BlindspotError as `readModelCard`, plus E_NOT_FOUND for missing model files and E_UNSUPPORTED when the
 *   network and the card disagree.
 */
export async function loadDeepSsimModel(tf: Tf, dir: string): Promise<{ model: TfTypes.LayersModel; card: ModelCard }> {
  const card = await readModelCard(dir);
  const model = await loadLayersModelFromDir(tf, dir);
  const inShape = model.inputs[0]!.shape;
  const outShape = model.outputs[0]!.shape;
  if (inShape[1] !== card.size || inShape[2] !== card.size || inShape[3] !== card.channels || outShape[1] !== card.embeddingDim) {
    model.dispose();
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `model card does not match the network: card says ${card.size}x${card.size}x${card.channels} -> ${card.embeddingDim}, model.json has ${inShape.slice(1).join('x')} -> ${String(outShape[1])}`,
      join(dir, 'card.json'),
    );
  }
  return { model, card };
}
