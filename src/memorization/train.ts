/**
 * DeepSSIM training (Scardace et al. 2025, "A Novel Metric for Detecting Memorization in Generative Models for
 * Brain MRI Synthesis", arXiv:2509.16582): a siamese encoder whose cosine similarity of L2-normalised embeddings
 * is regressed onto the SSIM of the un-augmented pair with an MSE loss; AdamW (decoupled weight decay, written
 * out here because TensorFlow.js has no AdamW), gradient clipping at global norm 1, best checkpoint by
 * validation MSE. Splits are by image, so validation pairs never share an image with training pairs.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { applyAugmentation, drawAugmentation, DEFAULT_AUGMENT_OPTIONS, type AugmentOptions } from './augment.ts';
import { mse, pearson, spearman } from './metrics.ts';
import { BACKBONES, buildNetwork, MOBILENET_TRAINABLE_FROM, planesToBatch, type BackboneName, type DeepSsimNetwork } from './model.ts';
import { binCounts, candidatePairs, scorePairs, stratifiedSample, type Pair } from './pairs.ts';
import { createRng, shuffled, type Rng } from './rng.ts';
import type { Tf } from './tfjs.ts';

/** Training options; defaults follow the reference where it has one. */
export interface TrainOptions {
  /** Side of the square input plane. Default 128. */
  size: number;
  /** Epochs (passes over `pairsPerEpoch` pairs). Default 10. */
  epochs: number;
  /** Backbone: pretrained MobileNetV2 (nsfwjs) with early stages frozen, or a compact CNN from scratch. */
  backbone: BackboneName;
  /** Pairs per optimiser step. Default 16 (32 images). */
  batchSize: number;
  /** AdamW learning rate. Default 1e-3 (reference). */
  learningRate: number;
  /** AdamW decoupled weight decay. Default 1e-3 (reference). */
  weightDecay: number;
  /** Gradient clipping by global norm. Default 1.0 (reference). */
  clipNorm: number;
  /** Training pairs drawn per epoch (stratified over SSIM bins). Default 512. */
  pairsPerEpoch: number;
  /** Validation pairs (fixed for the run). Default 256. */
  validationPairs: number;
  /** Share of images held out for validation (split by image). Default 0.2. */
  validationShare: number;
  /** Share of self-pairs (an image with itself, target 1) in every sample. Default 0.2. */
  selfPairShare: number;
  /** SSIM bins for stratification. Default 10. */
  bins: number;
  /** Upper bound on scored candidate pairs per split. Default 20000. */
  maxCandidatePairs: number;
  /** Augmentations (reference: p 0.33, rotation 0.17 rad, gamma 0.5..1.5). */
  augment: AugmentOptions;
  /**
   * Augmented variants drawn per training image (the augmentation bank; each variant draws every transform
   * independently with probability p). The frozen backbone runs once per variant instead of once per step,
   * which is what makes training fit a CPU. Default 8.
   */
  variantsPerImage: number;
  /** First trainable MobileNetV2 layer (earlier layers are frozen): `head` (default), `Conv_1` or `block_N_expand`. */
  trainableFrom: string;
  /** Seed for splits, pairs, augmentations and initialisers. Default 42 (reference). */
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: Readonly<TrainOptions> = Object.freeze({
  size: 128,
  epochs: 10,
  backbone: 'mobilenetv2' as BackboneName,
  batchSize: 16,
  learningRate: 1e-3,
  weightDecay: 1e-3,
  clipNorm: 1,
  pairsPerEpoch: 512,
  validationPairs: 256,
  validationShare: 0.2,
  selfPairShare: 0.2,
  bins: 10,
  maxCandidatePairs: 20000,
  augment: DEFAULT_AUGMENT_OPTIONS,
  variantsPerImage: 8,
  trainableFrom: MOBILENET_TRAINABLE_FROM,
  seed: 42,
});

/**
 * Merge and check training options.
 * @throws BlindspotError E_INVALID_OPTION naming the option, the expected range and the value.
 */
export function resolveTrainOptions(partial: Partial<TrainOptions> = {}): TrainOptions {
  const o = mergeOptions(DEFAULT_TRAIN_OPTIONS, partial, 'memorization train');
  const int = (name: keyof TrainOptions, min: number, max: number) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw invalidOption(name, `an integer in [${min}, ${max}] (default ${DEFAULT_TRAIN_OPTIONS[name] as number})`, v);
  };
  const num = (name: keyof TrainOptions, min: number, max: number, openMin = false) => {
    const v = o[name] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (openMin ? v <= min : v < min)) {
      throw invalidOption(name, `a number in ${openMin ? '(' : '['}${min}, ${max}] (default ${DEFAULT_TRAIN_OPTIONS[name] as number})`, v);
    }
  };
  int('size', 32, 512);
  int('epochs', 1, 1000);
  int('batchSize', 2, 256);
  num('learningRate', 0, 1, true);
  num('weightDecay', 0, 1);
  num('clipNorm', 0, 1e6, true);
  int('pairsPerEpoch', 2, 1e7);
  int('validationPairs', 2, 1e7);
  num('validationShare', 0, 0.9, true);
  num('selfPairShare', 0, 1);
  int('bins', 1, 100);
  int('maxCandidatePairs', 10, 1e8);
  int('seed', 0, 2 ** 32 - 1);
  int('variantsPerImage', 1, 256);
  if (!/^(head|Conv_1|block_(1[0-6]|[2-9])_expand)$/.test(o.trainableFrom)) {
    throw invalidOption('trainableFrom', `head, Conv_1 or block_N_expand with N in 2..16 (default ${MOBILENET_TRAINABLE_FROM})`, o.trainableFrom);
  }
  if (!BACKBONES.includes(o.backbone)) throw invalidOption('backbone', BACKBONES.join('|'), o.backbone);
  o.augment = mergeOptions(DEFAULT_AUGMENT_OPTIONS, o.augment, 'augment');
  return o;
}

/** One epoch's record. */
export interface EpochRecord {
  epoch: number;
  trainMse: number;
  validationMse: number;
}

/** Validation of the kept (best) checkpoint. */
export interface ValidationSummary {
  mse: number;
  /** Pearson correlation between predicted cosine and SSIM target over the validation pairs. */
  pearson: number;
  spearman: number;
  pairs: number;
  /** Pairs per SSIM bin [0, 0.1), ..., [0.9, 1]. */
  binCounts: number[];
}

/** Progress events of a training run. */
export type TrainProgress =
  | { phase: 'targets'; done: number; total: number }
  | { phase: 'bank'; done: number; total: number }
  | { phase: 'train'; epoch: number; epochs: number; step: number; steps: number; loss: number }
  | { phase: 'epoch'; record: EpochRecord; best: boolean };

/** The result of training: the network (best checkpoint restored) and what the model card records. */
export interface TrainedDeepSsim {
  network: DeepSsimNetwork;
  options: TrainOptions;
  history: EpochRecord[];
  bestEpoch: number;
  validation: ValidationSummary;
  trainImages: number;
  validationImages: number;
  /** MSE of the untrained network on the validation pairs (epoch 0). */
  initialValidationMse: number;
}

/** Split image indices by image into train and validation (seeded). */
export function splitByImage(count: number, validationShare: number, rng: Rng): { train: number[]; validation: number[] } {
  const order = shuffled(
    Array.from({ length: count }, (_, i) => i),
    rng,
  );
  const nVal = Math.max(2, Math.round(count * validationShare));
  return { validation: order.slice(0, nVal).sort((a, b) => a - b), train: order.slice(nVal).sort((a, b) => a - b) };
}

/**
 * The augmentation bank: `variants` augmented copies of every image, already passed through the frozen part of
 * the network (or the augmented planes themselves when nothing is frozen), as one [n * variants, ...] tensor.
 * Variant v of image i is row i * variants + v.
 */
export interface AugmentationBank {
  features: TfTypes.Tensor;
  variants: number;
}

/** Build an augmentation bank (the frozen part runs in inference mode, in batches of `batchSize`). */
export async function buildBank(
  tf: Tf,
  net: DeepSsimNetwork,
  planes: readonly Float32Array[],
  size: number,
  variants: number,
  rng: Rng,
  aug: AugmentOptions,
  batchSize: number,
  onProgress?: (done: number, total: number) => void,
): Promise<AugmentationBank> {
  const total = planes.length * variants;
  const parts: TfTypes.Tensor[] = [];
  let pending: Float32Array[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    parts.push(
      tf.tidy(() => {
        const x = planesToBatch(tf, batch, size, net.channels);
        return net.frozen ? (net.frozen.apply(x, { training: false }) as TfTypes.Tensor) : x;
      }),
    );
  };
  let done = 0;
  for (let i = 0; i < planes.length; i++) {
    for (let v = 0; v < variants; v++) {
      pending.push(applyAugmentation({ width: size, height: size, data: planes[i]! }, drawAugmentation(rng, aug)).data);
      if (pending.length === batchSize) {
        flush();
        await tf.nextFrame?.();
      }
      done++;
    }
    onProgress?.(done, total);
  }
  flush();
  const features = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
  if (parts.length > 1) tf.dispose(parts);
  return { features, variants };
}

/** Pairs resolved to bank rows (one variant per side) and their targets. */
interface BankPairs {
  rowsA: Int32Array;
  rowsB: Int32Array;
  targets: Float32Array;
}

/** Pick an independent random variant for each side of each pair (self-pairs get two different draws). */
function bankPairs(pairs: readonly Pair[], variants: number, rng: Rng): BankPairs {
  const rowsA = new Int32Array(pairs.length);
  const rowsB = new Int32Array(pairs.length);
  const targets = new Float32Array(pairs.length);
  pairs.forEach((p, k) => {
    const va = rng.int(variants);
    let vb = rng.int(variants);
    if (p.a === p.b && variants > 1 && vb === va) vb = (va + 1 + rng.int(variants - 1)) % variants;
    rowsA[k] = p.a * variants + va;
    rowsB[k] = p.b * variants + vb;
    targets[k] = p.target;
  });
  return { rowsA, rowsB, targets };
}

/**
 * Cosine similarity of the L2-normalised embeddings of two batches of frozen features (one forward pass over
 * both halves, so batch statistics see the whole batch). A pretrained backbone runs in inference mode
 * (its BatchNorm keeps the pretrained statistics, as when fine-tuning Keras models); a backbone trained from
 * scratch and the head train.
 */
export function pairCosine(tf: Tf, net: DeepSsimNetwork, a: TfTypes.Tensor, b: TfTypes.Tensor, training: boolean): TfTypes.Tensor1D {
  const n = a.shape[0]!;
  const both = tf.concat([a, b], 0);
  const features = net.trainable ? (net.trainable.apply(both, { training: training && net.frozen === null }) as TfTypes.Tensor) : both;
  const emb = net.head.apply(features, { training }) as TfTypes.Tensor2D;
  const unit = tf.div(emb, tf.maximum(tf.norm(emb, 2, 1, true), 1e-8));
  const [ea, eb] = tf.split(unit, [n, n], 0);
  return tf.sum(tf.mul(ea!, eb!), 1) as TfTypes.Tensor1D;
}

/** Predicted cosine for bank pairs (inference mode), in batches. */
async function predictBankPairs(tf: Tf, net: DeepSsimNetwork, bank: AugmentationBank, pairs: BankPairs, batchSize: number): Promise<Float32Array> {
  const out = new Float32Array(pairs.targets.length);
  for (let s = 0; s < out.length; s += batchSize) {
    const e = Math.min(out.length, s + batchSize);
    const cos = tf.tidy(() => {
      const a = tf.gather(bank.features, pairs.rowsA.subarray(s, e));
      const b = tf.gather(bank.features, pairs.rowsB.subarray(s, e));
      return pairCosine(tf, net, a, b, false);
    });
    out.set(await cos.data(), s);
    cos.dispose();
  }
  return out;
}

/**
 * AdamW (Loshchilov & Hutter 2019, doi:10.48550/arXiv.1711.05101) as PyTorch implements it: w -= lr * wd * w,
 * then the Adam step with bias correction; beta1 0.9, beta2 0.999, eps 1e-8.
 */
export class AdamW {
  private readonly m: TfTypes.Variable[];
  private readonly v: TfTypes.Variable[];
  private t = 0;
  constructor(
    private readonly tf: Tf,
    private readonly vars: TfTypes.Variable[],
    private lr: number,
    private readonly weightDecay: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = vars.map((w) => tf.variable(tf.zerosLike(w), false));
    this.v = vars.map((w) => tf.variable(tf.zerosLike(w), false));
  }

  /** Apply one step with gradients in the order of `vars`. */
  step(grads: TfTypes.Tensor[]): void {
    const tf = this.tf;
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const g = grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.eps));
        const decayed = tf.mul(w, 1 - this.lr * this.weightDecay);
        w.assign(tf.sub(decayed, tf.mul(update, this.lr)));
      });
    });
  }

  /** Change the learning rate (schedules). */
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  /** The first and second moments (m of every variable, then v), for checkpoints. */
  moments(): TfTypes.Variable[] {
    return [...this.m, ...this.v];
  }

  /** Steps taken (the bias-correction counter). */
  stepCount(): number {
    return this.t;
  }

  /** Restore the step counter of a checkpoint (the moments are restored through `moments()`). */
  setStep(t: number): void {
    this.t = t;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/** Scale gradients so that their global L2 norm is at most `maxNorm` (PyTorch clip_grad_norm_). */
export function clipByGlobalNorm(tf: Tf, grads: TfTypes.Tensor[], maxNorm: number): TfTypes.Tensor[] {
  return tf.tidy(() => {
    const total = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    return grads.map((g) => tf.mul(g, scale));
  });
}

/**
 * Train DeepSSIM on z-scored planes (see `readImageFolder`).
 * @param tf the initialised TensorFlow.js (`loadTf()`).
 * @param planes z-scored `size x size` planes, at least 6 images (4 to train, 2 to validate).
 * @param partial options (see `DEFAULT_TRAIN_OPTIONS`).
 * @param onProgress progress events (targets, steps, epochs).
 * @throws BlindspotError E_EMPTY when there are too few images; E_INVALID_OPTION for bad options.
 */
export async function trainDeepSsim(
  tf: Tf,
  planes: readonly Float32Array[],
  partial: Partial<TrainOptions> = {},
  onProgress?: (p: TrainProgress) => void,
): Promise<TrainedDeepSsim> {
  const options = resolveTrainOptions(partial);
  const { size } = options;
  if (planes.length < 6) throw new BlindspotError('E_EMPTY', `DeepSSIM training needs at least 6 images, got ${planes.length}`);
  for (const p of planes) if (p.length !== size * size) throw invalidOption('planes', `${size}x${size} planes`, p.length);
  const rng = createRng(options.seed);
  const split = splitByImage(planes.length, options.validationShare, rng);
  const trainPlanes = split.train.map((i) => planes[i]!);
  const valPlanes = split.validation.map((i) => planes[i]!);

  // SSIM targets of candidate pairs, computed once per split.
  const trainCand = candidatePairs(trainPlanes.length, options.maxCandidatePairs, rng);
  const valCand = candidatePairs(valPlanes.length, options.maxCandidatePairs, rng);
  const totalTargets = trainCand.length + valCand.length;
  const trainScored = scorePairs(trainPlanes, size, trainCand, (d) => onProgress?.({ phase: 'targets', done: d, total: totalTargets }));
  const valScored = scorePairs(valPlanes, size, valCand, (d) => onProgress?.({ phase: 'targets', done: trainCand.length + d, total: totalTargets }));

  const network = await buildNetwork(tf, options.backbone, size, options.seed, options.trainableFrom);
  const evalBatch = options.batchSize * 2;

  // Augmentation banks: training images with `variantsPerImage` variants, validation images with 2 (fixed).
  const bankRng = createRng(options.seed + 3);
  const bankTotal = (trainPlanes.length * options.variantsPerImage + valPlanes.length * 2);
  const trainBank = await buildBank(tf, network, trainPlanes, size, options.variantsPerImage, bankRng, options.augment, evalBatch, (d) =>
    onProgress?.({ phase: 'bank', done: d, total: bankTotal }),
  );
  const valBank = await buildBank(tf, network, valPlanes, size, 2, bankRng, options.augment, evalBatch, (d) =>
    onProgress?.({ phase: 'bank', done: trainPlanes.length * options.variantsPerImage + d, total: bankTotal }),
  );

  // A fixed validation set: stratified pairs, variants drawn once.
  const valRng = createRng(options.seed + 1);
  const valPairs = stratifiedSample(valScored, valPlanes.length, options.validationPairs, options.bins, options.selfPairShare, valRng);
  const valBatch = bankPairs(valPairs, valBank.variants, valRng);

  const vars = [...(network.trainable?.trainableWeights ?? []), ...network.head.trainableWeights].map((w) => w.read() as TfTypes.Variable);
  const optimizer = new AdamW(tf, vars, options.learningRate, options.weightDecay);

  const initialPred = await predictBankPairs(tf, network, valBank, valBatch, evalBatch);
  const initialValidationMse = mse(initialPred, valBatch.targets);

  const history: EpochRecord[] = [];
  let best = { mse: Infinity, epoch: 0, weights: [] as TfTypes.Tensor[], pred: initialPred };
  const trainRng = createRng(options.seed + 2);
  // A Dropout layer with a fixed seed draws the same mask on every call; give each step its own seed (still
  // reproducible) so that dropout varies as it should.
  const dropout = network.head.getLayer('head_dropout') as unknown as { seed: number | undefined };
  let globalStep = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const pairs = stratifiedSample(trainScored, trainPlanes.length, options.pairsPerEpoch, options.bins, options.selfPairShare, trainRng);
    const steps = Math.ceil(pairs.length / options.batchSize);
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      const chunk = bankPairs(pairs.slice(s * options.batchSize, (s + 1) * options.batchSize), trainBank.variants, trainRng);
      const a = tf.gather(trainBank.features, chunk.rowsA);
      const b = tf.gather(trainBank.features, chunk.rowsB);
      const y = tf.tensor1d(chunk.targets);
      dropout.seed = (options.seed * 7919 + ++globalStep) >>> 0;
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(pairCosine(tf, network, a, b, true), y))) as TfTypes.Scalar, vars);
      const ordered = vars.map((v) => grads[v.name]!);
      const clipped = clipByGlobalNorm(tf, ordered, options.clipNorm);
      optimizer.step(clipped);
      const loss = (await value.data())[0]!;
      tf.dispose([a, b, y, value, ...ordered, ...clipped]);
      lossSum += loss * chunk.targets.length;
      onProgress?.({ phase: 'train', epoch, epochs: options.epochs, step: s + 1, steps, loss });
    }
    const pred = await predictBankPairs(tf, network, valBank, valBatch, evalBatch);
    const record: EpochRecord = { epoch, trainMse: lossSum / pairs.length, validationMse: mse(pred, valBatch.targets) };
    history.push(record);
    const isBest = record.validationMse < best.mse;
    if (isBest) {
      tf.dispose(best.weights);
      best = { mse: record.validationMse, epoch, weights: network.embedder.getWeights().map((w) => w.clone()), pred };
    }
    onProgress?.({ phase: 'epoch', record, best: isBest });
  }
  tf.dispose([trainBank.features, valBank.features]);
  optimizer.dispose();
  network.embedder.setWeights(best.weights);
  tf.dispose(best.weights);
  const validation: ValidationSummary = {
    mse: mse(best.pred, valBatch.targets),
    pearson: pearson(best.pred, valBatch.targets),
    spearman: spearman(best.pred, valBatch.targets),
    pairs: valPairs.length,
    binCounts: binCounts(valPairs, options.bins),
  };
  return {
    network,
    options,
    history,
    bestEpoch: best.epoch,
    validation,
    trainImages: trainPlanes.length,
    validationImages: valPlanes.length,
    initialValidationMse,
  };
}
