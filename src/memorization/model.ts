/**
 * The DeepSSIM encoder in TensorFlow.js: backbone -> global average pool -> BatchNorm -> Dense 512 -> GELU ->
 * Dropout 0.33 -> Dense 256 (the head of the official code; arXiv:2509.16582). Two backbones train on a CPU:
 * - `mobilenetv2`: nsfwjs 4.4's pretrained MobileNetV2 (ImageNet-initialised, MIT, shipped inside npm), rebuilt
 *   at the training size, cut at `out_relu`; all layers are frozen by
 *   default (the reference freezes ConvNeXt's first two stages; a 2-core CPU affords less: `trainableFrom` moves
 *   the cut: `Conv_1` (the last 1x1 conv), `block_14_expand`, ...; the benchmark found the head alone better on 115 images). The backbone always runs in inference mode (BatchNorm on its moving statistics,
 *   as when fine-tuning Keras models); the head's BatchNorm and Dropout train.
 * - `compact`: a small CNN trained from scratch (five stride-2 stages, 16..256 channels, BatchNorm + ReLU).
 * Input: a z-scored grey plane, repeated to 3 channels for the pretrained backbone.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { packageDir } from '../tf/backend.ts';
import type { Tf } from './tfjs.ts';

export type BackboneName = 'mobilenetv2' | 'compact';
export const BACKBONES: readonly BackboneName[] = ['mobilenetv2', 'compact'];

/** The first trainable MobileNetV2 layer: everything before it is frozen. */
export const MOBILENET_TRAINABLE_FROM = 'head';
/** Where the MobileNetV2 backbone is cut (last feature map, 1280 channels). */
export const MOBILENET_OUTPUT = 'out_relu';

/**
 * The network in three parts: `frozen` (pretrained layers that never train; null for the compact CNN),
 * `trainable` (the rest of the backbone) and `head`. Training runs the frozen part once per augmented image
 * (an augmentation bank) and only the trainable part and head per step.
 */
export interface DeepSsimNetwork {
  frozen: TfTypes.LayersModel | null;
  /** Null when only the head trains (`trainableFrom: 'head'`). */
  trainable: TfTypes.LayersModel | null;
  head: TfTypes.LayersModel;
  /** frozen + trainable + head as one model (shares weights with the parts): what is saved and used for scans. */
  embedder: TfTypes.LayersModel;
  /** Input channels the embedder expects (3 for MobileNetV2, 1 for the compact CNN). */
  channels: number;
}

/** Head sizes from the reference code. */
export const HEAD = Object.freeze({ hidden: 512, embedding: 256, dropout: 0.33 });

interface NsfwjsModelJson {
  modelTopology: TfTypes.io.ModelJSON['modelTopology'];
  weightsManifest: { paths: string[]; weights: TfTypes.io.WeightsManifestEntry[] }[];
}

/**
 * Load nsfwjs's MobileNetV2 (224x224x3 classifier) from the package files: the topology and base64 weight shards
 * ship as CommonJS modules inside `nsfwjs/dist/models/mobilenet_v2/` (no network).
 */
export async function loadNsfwjsMobileNetV2(tf: Tf): Promise<TfTypes.LayersModel> {
  const require = createRequire(import.meta.url);
  // The package's `exports` hide dist/models, so require the files by absolute path.
  const dir = join(packageDir('nsfwjs'), 'dist', 'models', 'mobilenet_v2');
  const load = <T>(file: string): T => {
    try {
      return require(join(dir, file)) as T;
    } catch {
      throw new BlindspotError('E_NOT_FOUND', 'nsfwjs MobileNetV2 file missing or unreadable', join(dir, file));
    }
  };
  const json = load<NsfwjsModelJson>('model.min.js');
  const group = json.weightsManifest[0]!;
  const parts = group.paths.map((p) => Buffer.from(load<string>(`${p}.min.js`), 'base64'));
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }));
}

/**
 * Re-apply the layers of a loaded functional model on new symbolic inputs: `seeds` maps layer names to the
 * tensors that replace their outputs; every later layer whose inputs are all available is applied, in the
 * model's (topological) order, up to and including `upTo`. Convolutions are size-agnostic, so pretrained
 * weights carry over to any input size.
 */
export function rewire(src: TfTypes.LayersModel, seeds: Map<string, TfTypes.SymbolicTensor>, upTo: string): TfTypes.SymbolicTensor {
  const outputs = new Map(seeds);
  for (const layer of src.layers) {
    if (outputs.has(layer.name)) continue;
    const node = (layer as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }).inboundNodes[0]!;
    const ins = node.inboundLayers.map((l) => outputs.get(l.name));
    if (ins.length === 0 || ins.some((t) => t === undefined)) continue;
    outputs.set(layer.name, layer.apply(ins.length === 1 ? ins[0]! : (ins as TfTypes.SymbolicTensor[])) as TfTypes.SymbolicTensor);
    if (layer.name === upTo) break;
  }
  const out = outputs.get(upTo);
  if (!out) throw new Error(`layer ${upTo} not reachable in ${src.name}`);
  return out;
}

/** The MobileNetV2 layer whose output feeds the first trainable block. */
export function mobileNetCutBefore(trainableFrom: string): string {
  if (trainableFrom === 'head') return MOBILENET_OUTPUT;
  if (trainableFrom === 'Conv_1') return 'block_16_project_BN';
  const m = /^block_(\d+)_expand$/.exec(trainableFrom);
  if (!m) throw new Error(`trainableFrom must be a block_N_expand layer, got ${trainableFrom}`);
  const n = Number(m[1]);
  // Residual blocks end in block_N_add; blocks 3, 6, 10, 13, 16 change shape and end in block_N_project_BN.
  return [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].includes(n - 1) ? `block_${n - 1}_add` : `block_${n - 1}_project_BN`;
}

/** MobileNetV2 split at `trainableFrom` into a frozen and a trainable model, at input `size`. */
export async function mobileNetV2Parts(
  tf: Tf,
  size: number,
  trainableFrom: string = MOBILENET_TRAINABLE_FROM,
): Promise<{ frozen: TfTypes.LayersModel; trainable: TfTypes.LayersModel | null }> {
  const full = await loadNsfwjsMobileNetV2(tf);
  const cut = mobileNetCutBefore(trainableFrom);
  const input = tf.input({ shape: [size, size, 3], name: 'mobilenetv2_input' });
  const cutOut = rewire(full, new Map([[full.layers[0]!.name, input]]), cut);
  const frozen = tf.model({ inputs: input, outputs: cutOut, name: 'mobilenetv2_frozen' });
  frozen.trainable = false;
  if (cut === MOBILENET_OUTPUT) return { frozen, trainable: null };
  const mid = tf.input({ shape: (cutOut.shape as number[]).slice(1), name: 'mobilenetv2_mid' });
  const top = rewire(full, new Map([[cut, mid]]), MOBILENET_OUTPUT);
  const trainable = tf.model({ inputs: mid, outputs: top, name: 'mobilenetv2_trainable' });
  for (const layer of trainable.layers) layer.trainable = true;
  return { frozen, trainable };
}

/** A compact CNN from scratch: five stride-2 3x3 conv stages (16, 32, 64, 128, 256), each conv + BN + ReLU twice. */
export function compactBackbone(tf: Tf, size: number, seed: number): TfTypes.LayersModel {
  const input = tf.input({ shape: [size, size, 1], name: 'compact_input' });
  let x: TfTypes.SymbolicTensor = input;
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  [16, 32, 64, 128, 256].forEach((filters, i) => {
    x = tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(), name: `c${i}a` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.9, name: `c${i}a_bn` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.reLU({ name: `c${i}a_relu` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.conv2d({ filters, kernelSize: 3, strides: 1, padding: 'same', useBias: false, kernelInitializer: init(), name: `c${i}b` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.9, name: `c${i}b_bn` }).apply(x) as TfTypes.SymbolicTensor;
    x = tf.layers.reLU({ name: `c${i}b_relu` }).apply(x) as TfTypes.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: x, name: 'compact_backbone' });
}

/** The reference head: GAP -> BatchNorm -> Dense 512 -> GELU -> Dropout 0.33 -> Dense 256. */
export function deepSsimHead(tf: Tf, featureShape: number[], seed: number): TfTypes.LayersModel {
  const input = tf.input({ shape: featureShape, name: 'head_input' });
  let x = tf.layers.globalAveragePooling2d({ name: 'head_gap' }).apply(input) as TfTypes.SymbolicTensor;
  // PyTorch BatchNorm1d momentum 0.1 = Keras momentum 0.9; eps 1e-5 as PyTorch.
  x = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'head_bn' }).apply(x) as TfTypes.SymbolicTensor;
  x = tf.layers.dense({ units: HEAD.hidden, kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'head_fc1' }).apply(x) as TfTypes.SymbolicTensor;
  x = tf.layers.activation({ activation: 'gelu', name: 'head_gelu' }).apply(x) as TfTypes.SymbolicTensor;
  x = tf.layers.dropout({ rate: HEAD.dropout, seed: seed + 1, name: 'head_dropout' }).apply(x) as TfTypes.SymbolicTensor;
  x = tf.layers.dense({ units: HEAD.embedding, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }), name: 'head_fc2' }).apply(x) as TfTypes.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'deepssim_head' });
}

/** Build the network for a backbone at `size` (seeded initialisers). */
export async function buildNetwork(tf: Tf, backboneName: BackboneName, size: number, seed: number, trainableFrom = MOBILENET_TRAINABLE_FROM): Promise<DeepSsimNetwork> {
  let frozen: TfTypes.LayersModel | null = null;
  let trainable: TfTypes.LayersModel | null;
  if (backboneName === 'mobilenetv2') ({ frozen, trainable } = await mobileNetV2Parts(tf, size, trainableFrom));
  else trainable = compactBackbone(tf, size, seed);
  const featureShape = ((trainable ?? frozen!).outputs[0]!.shape as number[]).slice(1);
  const head = deepSsimHead(tf, featureShape, seed + 1000);
  const channels = backboneName === 'mobilenetv2' ? 3 : 1;
  const input = tf.input({ shape: [size, size, channels], name: 'deepssim_input' });
  const mid = frozen ? (frozen.apply(input) as TfTypes.SymbolicTensor) : input;
  const out = head.apply(trainable ? trainable.apply(mid) : mid) as TfTypes.SymbolicTensor;
  const embedder = tf.model({ inputs: input, outputs: out, name: 'deepssim_embedder' });
  return { frozen, trainable, head, embedder, channels };
}

/**
 * Stack z-scored planes into a [n, size, size, channels] batch (channels 3 repeats the grey plane, as the
 * reference's `.repeat(3, 1, 1)`).
 */
export function planesToBatch(tf: Tf, planes: readonly Float32Array[], size: number, channels: number): TfTypes.Tensor4D {
  const n = planes.length;
  const px = size * size;
  const buf = new Float32Array(n * px * channels);
  for (let i = 0; i < n; i++) {
    const p = planes[i]!;
    const o = i * px * channels;
    if (channels === 1) buf.set(p, o);
    else for (let j = 0; j < px; j++) for (let c = 0; c < channels; c++) buf[o + j * channels + c] = p[j]!;
  }
  return tf.tensor4d(buf, [n, size, size, channels]);
}
