/**
 * The DeepSSIM encoder in TensorFlow.js: backbone -> global average pool -> BatchNorm -> Dense 512 -> GELU ->
 * Dropout 0.33 -> Dense 256 (the head of the official code; arXiv:2509.16582). Two backbones train on a CPU:
 * - `mobilenetv2`: nsfwjs 4.4's pretrained MobileNetV2 (ImageNet-initialised, MIT, shipped inside npm), rebuilt
 *   at the training size, cut at `out_relu`; layers before `block_13_expand` are frozen (the reference freezes
 *   ConvNeXt's early stages). The backbone always runs in inference mode (BatchNorm on its moving statistics,
 *   as when fine-tuning Keras models); the head's BatchNorm and Dropout train.
 * - `compact`: a small CNN trained from scratch (five stride-2 stages, 16..256 channels, BatchNorm + ReLU).
 * Input: a z-scored grey plane, repeated to 3 channels for the pretrained backbone.
 */
import { createRequire } from 'node:module';
import type * as TfTypes from '@tensorflow/tfjs';
import type { Tf } from './tfjs.ts';

export type BackboneName = 'mobilenetv2' | 'compact';
export const BACKBONES: readonly BackboneName[] = ['mobilenetv2', 'compact'];

/** The first trainable MobileNetV2 layer: everything before it is frozen. */
export const MOBILENET_TRAINABLE_FROM = 'block_13_expand';
/** Where the MobileNetV2 backbone is cut (last feature map, 1280 channels). */
export const MOBILENET_OUTPUT = 'out_relu';

/** The two halves trained separately (backbone in inference mode) and the saved whole. */
export interface DeepSsimNetwork {
  backbone: TfTypes.LayersModel;
  head: TfTypes.LayersModel;
  /** backbone + head as one model (shares weights with the two halves): what is saved and used for scans. */
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
  const json = require('nsfwjs/dist/models/mobilenet_v2/model.min.js') as NsfwjsModelJson;
  const group = json.weightsManifest[0]!;
  const parts = group.paths.map((p) => {
    const shard = require(`nsfwjs/dist/models/mobilenet_v2/${p.replace(/\.bin$/, '')}.min.js`) as string;
    return Buffer.from(shard, 'base64');
  });
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }));
}

/**
 * Re-wire the layers of a loaded functional model on a new input size, up to the layer `upTo` (inclusive).
 * Convolutions are size-agnostic, so the pretrained weights carry over.
 */
export function rebuildAtSize(tf: Tf, src: TfTypes.LayersModel, size: number, upTo: string, name: string): TfTypes.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: `${name}_input` });
  const outputs = new Map<string, TfTypes.SymbolicTensor>();
  outputs.set(src.layers[0]!.name, input);
  let last: TfTypes.SymbolicTensor | undefined;
  for (const layer of src.layers.slice(1)) {
    const node = (layer as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }).inboundNodes[0]!;
    const ins = node.inboundLayers.map((l) => outputs.get(l.name)!);
    last = layer.apply(ins.length === 1 ? ins[0]! : ins) as TfTypes.SymbolicTensor;
    outputs.set(layer.name, last);
    if (layer.name === upTo) break;
  }
  if (!outputs.has(upTo)) throw new Error(`layer ${upTo} not found in ${src.name}`);
  return tf.model({ inputs: input, outputs: outputs.get(upTo)!, name });
}

/** MobileNetV2 backbone at `size`, frozen before `MOBILENET_TRAINABLE_FROM`. */
export async function mobileNetV2Backbone(tf: Tf, size: number): Promise<TfTypes.LayersModel> {
  const full = await loadNsfwjsMobileNetV2(tf);
  const backbone = rebuildAtSize(tf, full, size, MOBILENET_OUTPUT, 'mobilenetv2_backbone');
  let trainable = false;
  for (const layer of backbone.layers) {
    if (layer.name === MOBILENET_TRAINABLE_FROM) trainable = true;
    layer.trainable = trainable;
  }
  return backbone;
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
export async function buildNetwork(tf: Tf, backboneName: BackboneName, size: number, seed: number): Promise<DeepSsimNetwork> {
  const backbone = backboneName === 'mobilenetv2' ? await mobileNetV2Backbone(tf, size) : compactBackbone(tf, size, seed);
  const featureShape = (backbone.outputs[0]!.shape as number[]).slice(1);
  const head = deepSsimHead(tf, featureShape, seed + 1000);
  const channels = (backbone.inputs[0]!.shape as number[])[3]!;
  const input = tf.input({ shape: [size, size, channels], name: 'deepssim_input' });
  const out = head.apply(backbone.apply(input)) as TfTypes.SymbolicTensor;
  const embedder = tf.model({ inputs: input, outputs: out, name: 'deepssim_embedder' });
  return { backbone, head, embedder, channels };
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
