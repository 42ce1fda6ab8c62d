/**
 * A DeepSSIM encoder that keeps spatial information, trained from scratch on exact-target pairs
 * (`pairSampler.ts`): a compact 1-channel CNN (five stride-2 stages, 128 -> 4 px) with multi-stage pooling —
 * the global means of stages 3 and 4 plus the whole 4x4 map of stage 5, flattened — so the embedding encodes
 * where structure is, which SSIM measures and a global average discards. Invariance to flips, rotation and
 * gamma comes from augmenting both sides of every pair (the target stays the un-augmented SSIM).
 * Training is resumable: a checkpoint folder holds the network, the AdamW moments and the step; pairs and
 * augmentations of step k depend only on (seed, k), so a resumed run continues the same sequence.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { applyAugmentation, drawAugmentation, type AugmentOptions } from './augment.ts';
import { mse, pearson } from './metrics.ts';
import { createPairSampler, type PairSource, type SampledPair } from './pairSampler.ts';
import { planesToBatch } from './model.ts';
import { halveTo } from './plane.ts';
import { createRng } from './rng.ts';
import type { Tf } from './tfjs.ts';
import { AdamW, clipByGlobalNorm } from './train.ts';

/** Options of the spatial encoder's training. */
export interface SpatialTrainOptions {
  /** The network's input side. */
  size: number;
  /**
   * Side at which pairs are made, augmented and their SSIM target computed (0 = `size`): the planes of the pair
   * source are this size and are 2x2-mean-halved to `size` for the network, so a 64-px network learns the SSIM of
   * 128-px images (what a 128-px benchmark labels). A power-of-2 multiple of `size`.
   */
  sampleSize: number;
  /** Total optimiser steps (a resumed run stops here too). Default 2000. */
  steps: number;
  /** Pairs per step. Default 16. */
  batchSize: number;
  learningRate: number;
  /** Learning rate at `steps` (cosine decay from `learningRate`); 0 (default) = constant `learningRate`. */
  learningRateFinal: number;
  weightDecay: number;
  clipNorm: number;
  /** Training augmentation of both sides (default p 0.5: between the paper's 0.33 and its test-time 0.8). */
  augment: AugmentOptions;
  /** Validation pairs per SSIM bin (fixed set from the validation images). Default 6. */
  validationPerBin: number;
  /** Steps between validation + checkpoint. Default 100. */
  checkpointEvery: number;
  /** Checkpoint folder ('' = none); an existing checkpoint there is resumed. */
  checkpointDir: string;
  /** Wall-clock budget in seconds (0 = none): training stops at the first checkpoint after it. */
  timeBudgetS: number;
  seed: number;
}

export const DEFAULT_SPATIAL_TRAIN_OPTIONS: Readonly<SpatialTrainOptions> = Object.freeze({
  size: 128,
  sampleSize: 0,
  steps: 2000,
  batchSize: 16,
  learningRate: 1e-3,
  learningRateFinal: 0,
  weightDecay: 1e-3,
  clipNorm: 1,
  augment: Object.freeze({ p: 0.5, maxRotation: 0.1745, gammaRange: [0.5, 1.5] as [number, number] }),
  validationPerBin: 6,
  checkpointEvery: 100,
  checkpointDir: '',
  timeBudgetS: 0,
  seed: 42,
});

/**
 * Merge and check options.
 * @throws BlindspotError E_INVALID_OPTION
 */
export function resolveSpatialTrainOptions(partial: Partial<SpatialTrainOptions> = {}): SpatialTrainOptions {
  const o = mergeOptions(DEFAULT_SPATIAL_TRAIN_OPTIONS, partial, 'spatial DeepSSIM training');
  for (const k of ['steps', 'batchSize', 'validationPerBin', 'checkpointEvery'] as const) if (!Number.isInteger(o[k]) || o[k] < 1) throw invalidOption(k, 'an integer >= 1', o[k]);
  if (!Number.isInteger(o.size) || o.size < 32 || o.size % 32 !== 0) throw invalidOption('size', 'a multiple of 32 >= 32 (five stride-2 stages)', o.size);
  const ratio = o.sampleSize / o.size;
  if (o.sampleSize !== 0 && !(Number.isInteger(ratio) && ratio >= 1 && (ratio & (ratio - 1)) === 0)) throw invalidOption('sampleSize', `0 or size (${o.size}) times a power of 2`, o.sampleSize);
  for (const k of ['learningRate', 'clipNorm'] as const) if (!(o[k] > 0)) throw invalidOption(k, 'a number > 0', o[k]);
  if (!(o.learningRateFinal >= 0 && o.learningRateFinal <= o.learningRate)) throw invalidOption('learningRateFinal', 'a number in [0, learningRate] (0 = constant)', o.learningRateFinal);
  if (!(o.weightDecay >= 0) || !(o.timeBudgetS >= 0)) throw invalidOption('weightDecay/timeBudgetS', 'numbers >= 0', [o.weightDecay, o.timeBudgetS]);
  o.augment = mergeOptions(DEFAULT_SPATIAL_TRAIN_OPTIONS.augment, o.augment, 'augment');
  return o;
}

/** The encoder: [n, size, size, 1] z-scored planes -> [n, 128] embeddings. */
export function spatialEncoder(tf: Tf, size: number, seed: number): TfTypes.LayersModel {
  const input = tf.input({ shape: [size, size, 1], name: 'spatial_input' });
  let x: TfTypes.SymbolicTensor = input;
  let s = seed;
  const conv = (filters: number, strides: number, name: string) => {
    x = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: s++ }), name }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.9, name: `${name}_bn` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.reLU({ name: `${name}_relu` }).apply(x) as TfTypes.SymbolicTensor;
  };
  const taps: TfTypes.SymbolicTensor[] = [];
  [16, 32, 48, 64, 64].forEach((filters, i) => {
    conv(filters, 2, `s${i}a`);
    if (i > 0) conv(filters, 1, `s${i}b`);
    if (i === 2 || i === 3) taps.push(tf.layers.globalAveragePooling2d({ name: `s${i}_gap` }).apply(x) as TfTypes.SymbolicTensor);
  });
  taps.push(tf.layers.flatten({ name: 's4_map' }).apply(x) as TfTypes.SymbolicTensor);
  let h = tf.layers.concatenate({ name: 'multi_stage' }).apply(taps) as TfTypes.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9, name: 'head_bn' }).apply(h) as TfTypes.SymbolicTensor;
  h = tf.layers.dense({ units: 256, kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'head_fc1' }).apply(h) as TfTypes.SymbolicTensor;
  h = tf.layers.activation({ activation: 'gelu', name: 'head_gelu' }).apply(h) as TfTypes.SymbolicTensor;
  h = tf.layers.dense({ units: 128, kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'head_fc2' }).apply(h) as TfTypes.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h, name: 'deepssim_spatial' });
}

/** Cosine of L2-normalised embeddings of two batches (one forward pass over both). */
function cosine(tf: Tf, model: TfTypes.LayersModel, a: TfTypes.Tensor, b: TfTypes.Tensor, training: boolean): TfTypes.Tensor1D {
  const n = a.shape[0]!;
  const emb = model.apply(tf.concat([a, b], 0), { training }) as TfTypes.Tensor2D;
  const unit = tf.div(emb, tf.maximum(tf.norm(emb, 2, 1, true), 1e-8));
  const [ea, eb] = tf.split(unit, [n, n], 0);
  return tf.sum(tf.mul(ea!, eb!), 1) as TfTypes.Tensor1D;
}

/** Augment both sides of pairs at `from` px (rng per call), then halve them to the network's `size`. */
function augmentedBatch(tf: Tf, pairs: readonly SampledPair[], from: number, size: number, aug: AugmentOptions, seed: number): { a: TfTypes.Tensor4D; b: TfTypes.Tensor4D; y: TfTypes.Tensor1D } {
  const rng = createRng(seed);
  const side = (p: Float32Array) => halveTo(applyAugmentation({ width: from, height: from, data: p }, drawAugmentation(rng, aug)).data, from, size);
  return {
    a: planesToBatch(tf, pairs.map((p) => side(p.a)), size, 1),
    b: planesToBatch(tf, pairs.map((p) => side(p.b)), size, 1),
    y: tf.tensor1d(pairs.map((p) => p.target)),
  };
}

/** Validation record. */
export interface SpatialValidation {
  step: number;
  trainMse: number;
  mse: number;
  pearson: number;
  /** Per SSIM bin of the sampler: [lower edge, MSE, pairs]. */
  perBin: [number, number, number][];
}

interface CheckpointState {
  format: 'blindspot-deepssim-spatial-checkpoint';
  step: number;
  options: SpatialTrainOptions;
  history: SpatialValidation[];
  moments: number;
}

export interface SpatialTrained {
  model: TfTypes.LayersModel;
  history: SpatialValidation[];
  step: number;
  resumedFrom: number;
}

/** Serialise the weights of a list of tensors as one float32 buffer. */
async function weightsBuffer(ts: readonly TfTypes.Tensor[]): Promise<Buffer> {
  const parts = await Promise.all(ts.map(async (t) => Buffer.from(((await t.data()) as Float32Array).buffer)));
  return Buffer.concat(parts);
}

function restoreInto(tf: Tf, vars: readonly TfTypes.Variable[], buf: Buffer, offset: number): number {
  let at = offset;
  for (const v of vars) {
    const n = v.size;
    const arr = new Float32Array(buf.buffer.slice(buf.byteOffset + at * 4, buf.byteOffset + (at + n) * 4));
    v.assign(tf.tensor(arr, v.shape));
    at += n;
  }
  return at;
}

/**
 * Train the spatial encoder on exact-target pairs.
 * @param train z-scored planes the pairs are made from (and volumes for neighbour pairs)
 * @param validation z-scored planes for the fixed validation set (other images than `train`)
 * @throws BlindspotError E_EMPTY for too few images, E_CORRUPT for an unreadable checkpoint
 */
export async function trainSpatialDeepSsim(tf: Tf, train: PairSource, validation: PairSource, partial: Partial<SpatialTrainOptions> = {}, onProgress?: (v: SpatialValidation) => void): Promise<SpatialTrained> {
  const o = resolveSpatialTrainOptions(partial);
  if (train.images.length < 2) throw new BlindspotError('E_EMPTY', `spatial DeepSSIM training needs at least 2 images, got ${train.images.length}`);
  const model = spatialEncoder(tf, o.size, o.seed);
  const vars = model.trainableWeights.map((w) => w.read() as TfTypes.Variable);
  const optimizer = new AdamW(tf, vars, o.learningRate, o.weightDecay);
  const from = o.sampleSize || o.size;
  const valSampler = createPairSampler(validation, { size: from }, o.seed + 1);
  const valPairs = valSampler.perBin(o.validationPerBin);
  let step = 0;
  let history: SpatialValidation[] = [];
  const stateFile = o.checkpointDir ? join(o.checkpointDir, 'state.json') : '';
  if (stateFile) {
    const raw = await readFile(stateFile, 'utf8').catch(() => null);
    if (raw !== null) {
      let st: CheckpointState;
      try {
        st = JSON.parse(raw) as CheckpointState;
      } catch {
        throw new BlindspotError('E_CORRUPT', 'checkpoint state is not JSON', stateFile);
      }
      if (st.format !== 'blindspot-deepssim-spatial-checkpoint' || st.options.size !== o.size || st.options.seed !== o.seed) {
        throw new BlindspotError('E_CORRUPT', 'checkpoint of another format, size or seed', stateFile);
      }
      const buf = await readFile(join(o.checkpointDir, 'weights.bin'));
      const all = model.weights.map((w) => w.read() as TfTypes.Variable);
      const at = restoreInto(tf, all, buf, 0);
      if (restoreInto(tf, optimizer.moments(), buf, at) * 4 !== buf.length) throw new BlindspotError('E_CORRUPT', 'checkpoint weights do not match the network', join(o.checkpointDir, 'weights.bin'));
      optimizer.setStep(st.moments);
      step = st.step;
      history = st.history;
    }
  }
  const resumedFrom = step;
  const started = performance.now();
  let lossSum = 0;
  let lossCount = 0;
  while (step < o.steps) {
    // The pairs of a checkpoint interval come from a sampler seeded by (seed, interval): resumable exactly.
    const interval = Math.floor(step / o.checkpointEvery);
    const sampler = createPairSampler(train, { size: from }, (o.seed * 100003 + interval) >>> 0);
    const end = Math.min(o.steps, (interval + 1) * o.checkpointEvery);
    for (; step < end; step++) {
      // Cosine schedule over the planned steps: a function of the step only, so a resumed run continues it.
      const lrEnd = o.learningRateFinal > 0 ? o.learningRateFinal : o.learningRate;
      optimizer.setLearningRate(lrEnd + 0.5 * (o.learningRate - lrEnd) * (1 + Math.cos((Math.PI * step) / o.steps)));
      const batch = augmentedBatch(tf, sampler.draw(o.batchSize), from, o.size, o.augment, (o.seed * 7919 + step) >>> 0);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(cosine(tf, model, batch.a, batch.b, true), batch.y))) as TfTypes.Scalar, vars);
      const ordered = vars.map((v) => grads[v.name]!);
      const clipped = clipByGlobalNorm(tf, ordered, o.clipNorm);
      optimizer.step(clipped);
      lossSum += (await value.data())[0]!;
      lossCount++;
      tf.dispose([batch.a, batch.b, batch.y, value, ...ordered, ...clipped]);
    }
    const v = await validate(tf, model, valPairs, valSampler.options.edges, o, step, lossSum / Math.max(1, lossCount));
    lossSum = 0;
    lossCount = 0;
    history.push(v);
    onProgress?.(v);
    if (o.checkpointDir) await writeCheckpoint(o, model, optimizer, step, history);
    if (o.timeBudgetS > 0 && (performance.now() - started) / 1000 > o.timeBudgetS) break;
  }
  optimizer.dispose();
  return { model, history, step, resumedFrom };
}

async function validate(tf: Tf, model: TfTypes.LayersModel, pairs: readonly SampledPair[], edges: readonly number[], o: SpatialTrainOptions, step: number, trainMse: number): Promise<SpatialValidation> {
  const pred = new Float32Array(pairs.length);
  for (let s = 0; s < pairs.length; s += 32) {
    const chunk = pairs.slice(s, s + 32);
    // Validation augmentations are fixed (seeded by the chunk), as the test-time augmentation of a benchmark.
    const batch = augmentedBatch(tf, chunk, o.sampleSize || o.size, o.size, { ...o.augment, p: 0.8 }, (o.seed * 31 + s) >>> 0);
    const c = tf.tidy(() => cosine(tf, model, batch.a, batch.b, false));
    pred.set(await c.data(), s);
    tf.dispose([batch.a, batch.b, batch.y, c]);
  }
  const targets = Float32Array.from(pairs, (p) => p.target);
  const perBin: [number, number, number][] = [];
  for (let b = 0; b + 1 < edges.length; b++) {
    const idx = pairs.map((p, i) => (p.bin === b ? i : -1)).filter((i) => i >= 0);
    if (idx.length > 0) perBin.push([edges[b]!, mse(idx.map((i) => pred[i]!), idx.map((i) => targets[i]!)), idx.length]);
  }
  return { step, trainMse, mse: mse(pred, targets), pearson: pearson(pred, targets), perBin };
}

async function writeCheckpoint(o: SpatialTrainOptions, model: TfTypes.LayersModel, opt: AdamW, step: number, history: SpatialValidation[]): Promise<void> {
  await mkdir(o.checkpointDir, { recursive: true });
  const buf = Buffer.concat([await weightsBuffer(model.weights.map((w) => w.read())), await weightsBuffer(opt.moments())]);
  // Write then rename: an interrupted write never leaves a half checkpoint.
  await writeFile(join(o.checkpointDir, 'weights.bin.tmp'), buf);
  await rename(join(o.checkpointDir, 'weights.bin.tmp'), join(o.checkpointDir, 'weights.bin'));
  const state: CheckpointState = { format: 'blindspot-deepssim-spatial-checkpoint', step, options: o, history, moments: opt.stepCount() };
  await writeFile(join(o.checkpointDir, 'state.json.tmp'), JSON.stringify(state, null, 1) + '\n');
  await rename(join(o.checkpointDir, 'state.json.tmp'), join(o.checkpointDir, 'state.json'));
}
