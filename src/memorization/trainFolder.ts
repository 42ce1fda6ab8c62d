/**
 * `blindspot memorization train` as a library call: read a folder, train DeepSSIM, save the model folder with
 * its card.
 */
import { resolve } from 'node:path';
import { readImageFolder } from './folder.ts';
import { HEAD } from './model.ts';
import { DEFAULT_LABEL_THRESHOLDS } from './metrics.ts';
import { MODEL_CARD_FORMAT, MODEL_CARD_VERSION, saveDeepSsimModel, type FolderTraining, type ModelCard } from './store.ts';
import { loadTf } from './tfjs.ts';
import { resolveTrainOptions, trainDeepSsim, type TrainOptions, type TrainProgress } from './train.ts';

/** Progress of `trainMemorizationModel`: reading files, then the training events. */
export type TrainFolderProgress = { phase: 'read'; done: number; total: number; skipped?: { file: string; reason: string } } | TrainProgress;

/**
 * Train a DeepSSIM model on the images of a folder and save it.
 * @param imagesDir training images (PNG/JPEG/TIFF/...; unreadable files are skipped and listed in the card)
 * @param outDir model folder to write (model.json, weights.bin, card.json)
 * @param partial training options (see `DEFAULT_TRAIN_OPTIONS`: size 128, epochs 10, mobilenetv2, ...)
 * @returns the model card that was written
 * @throws BlindspotError E_NOT_FOUND / E_EMPTY for a missing or empty folder (or fewer than 6 usable images),
 *   E_INVALID_OPTION
 * @see A. Scardace et al., "A Novel Metric for Detecting Memorization in Generative Models for Brain MRI
 *   Synthesis", arXiv:2509.16582 (2025)
 */
export async function trainMemorizationModel(
  imagesDir: string,
  outDir: string,
  partial: Partial<TrainOptions> = {},
  onProgress?: (p: TrainFolderProgress) => void,
): Promise<ModelCard & { training: FolderTraining }> {
  const options = resolveTrainOptions(partial);
  const folder = await readImageFolder(imagesDir, options.size, (done, total, skipped) => onProgress?.({ phase: 'read', done, total, ...(skipped ? { skipped } : {}) }));
  const tf = await loadTf();
  const trained = await trainDeepSsim(tf, folder.planes, options, onProgress);
  const card: ModelCard & { training: FolderTraining } = {
    format: MODEL_CARD_FORMAT,
    version: MODEL_CARD_VERSION,
    method: 'DeepSSIM (Scardace et al. 2025, arXiv:2509.16582): cosine of L2-normalised embeddings regressed on skimage SSIM',
    backbone: options.backbone,
    size: options.size,
    channels: trained.network.channels,
    embeddingDim: HEAD.embedding,
    preprocessing: `grey (BT.601 luma), padded to a square with the image minimum, triangle-filter resize to ${options.size}x${options.size}, z-scored per image${trained.network.channels === 3 ? ', repeated to 3 channels' : ''}`,
    training: {
      imagesDir: resolve(imagesDir),
      dataHash: folder.dataHash,
      images: folder.planes.length,
      trainImages: trained.trainImages,
      validationImages: trained.validationImages,
      skipped: folder.skipped.length,
      options,
      history: trained.history,
      bestEpoch: trained.bestEpoch,
      initialValidationMse: trained.initialValidationMse,
    },
    validation: trained.validation,
    thresholds: { ...DEFAULT_LABEL_THRESHOLDS },
  };
  await saveDeepSsimModel(outDir, trained.network.embedder, card);
  trained.network.embedder.dispose();
  return card;
}
