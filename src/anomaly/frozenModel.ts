/**
 * Run a loaded Keras-style layers model as a frozen inference function built from plain TF.js ops, with every
 * batch norm that directly follows a convolution folded into that convolution's weights and bias.
 *
 * Why: tfjs-layers' Conv2D uses `fused.conv2d`, whose custom gradient always computes the filter and bias
 * gradients too, and tfjs's batch-norm gradient tiles per-channel factors to the full activation size. For an
 * *input* gradient (the Anomaly Score's PGD) both are wasted work; with plain ops only the input path is
 * differentiated. Folding is exact algebra: BN(conv(x, W) + b) = conv(x, W g) + (b - mean) g + beta with
 * g = gamma / sqrt(var + eps) per output channel; results differ from the layers model by float rounding only.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { Tf } from '../tf/backend.ts';

/** A frozen model: apply(x) -> the output of `outputLayer`. */
export interface FrozenModel {
  apply(x: TfTypes.Tensor): TfTypes.Tensor;
  dispose(): void;
}

type Config = Record<string, unknown>;

/** tfjs-layers' getConfig() spells keys in camelCase, Keras JSON in snake_case: accept both. */
function cfg(c: Config, camel: string, snake: string): unknown {
  return c[camel] !== undefined ? c[camel] : c[snake];
}

interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Config;
  getWeights(): TfTypes.Tensor[];
  inboundNodes: { inboundLayers: { name: string }[] }[];
}

type Step = { name: string; inputs: string[]; run: (ins: TfTypes.Tensor[]) => TfTypes.Tensor };

/** Layer classes this module can run; a model with any other layer is refused (the caller falls back). */
export const FROZEN_LAYER_CLASSES = Object.freeze([
  'InputLayer',
  'ZeroPadding2D',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'Concatenate',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Flatten',
]);

/**
 * Freeze `model` up to (and including) layer `outputLayer` (default: the last layer).
 * @returns null when the model holds a layer class outside `FROZEN_LAYER_CLASSES` or an unsupported setting.
 */
export function freezeLayersModel(
  tf: Tf,
  model: TfTypes.LayersModel,
  outputLayer?: string,
): FrozenModel | null {
  const layers = model.layers as unknown as LayerLike[];
  const last = outputLayer ?? layers[layers.length - 1]!.name;
  const stopAt = layers.findIndex((l) => l.name === last);
  if (stopAt < 0) return null;
  const used = layers.slice(0, stopAt + 1);
  const consumers = new Map<string, number>();
  for (const l of used) {
    for (const i of l.inboundNodes[0]?.inboundLayers ?? [])
      consumers.set(i.name, (consumers.get(i.name) ?? 0) + 1);
  }
  const owned: TfTypes.Tensor[] = [];
  const keep = <T extends TfTypes.Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  // BN layers folded into the conv before them (and so skipped as steps).
  const folded = new Set<string>();
  const steps: Step[] = [];

  /** Per-channel (scale g, shift) of an inference-mode batch norm. */
  const bnAffine = (bn: LayerLike): { g: Float32Array; shift: Float32Array } | null => {
    const c = bn.getConfig();
    const axis = c['axis'];
    if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && (axis[0] === -1 || axis[0] === 3))))
      return null;
    const w = bn.getWeights().map((t) => t.dataSync() as Float32Array);
    let k = 0;
    const gamma = c['scale'] !== false ? w[k++]! : null;
    const beta = c['center'] !== false ? w[k++]! : null;
    const mean = w[k++]!;
    const variance = w[k++]!;
    const eps = Number(c['epsilon'] ?? 1e-3);
    const n = mean.length;
    const g = new Float32Array(n);
    const shift = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      g[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
      shift[i] = (beta ? beta[i]! : 0) - mean[i]! * g[i]!;
    }
    return { g, shift };
  };

  const activation = (name: unknown): ((t: TfTypes.Tensor) => TfTypes.Tensor) | null => {
    if (name === undefined || name === null || name === 'linear') return (t) => t;
    if (name === 'relu') return (t) => tf.relu(t);
    if (name === 'relu6') return (t) => tf.relu6(t);
    return null;
  };

  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];

  for (const layer of used) {
    const cls = layer.getClassName();
    const c = layer.getConfig();
    const inputs = (layer.inboundNodes[0]?.inboundLayers ?? []).map((l) => l.name);
    if (!FROZEN_LAYER_CLASSES.includes(cls)) return null;
    const format = cfg(c, 'dataFormat', 'data_format');
    if (format !== undefined && format !== 'channels_last' && format !== 'channelsLast') return null;
    if (cls === 'InputLayer') continue;
    if (folded.has(layer.name)) continue;
    switch (cls) {
      case 'ZeroPadding2D': {
        const p = c['padding'] as [[number, number], [number, number]];
        steps.push({ name: layer.name, inputs, run: ([x]) => tf.pad(x!, [[0, 0], p[0], p[1], [0, 0]]) });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = cls === 'DepthwiseConv2D';
        const weights = layer.getWeights();
        const kernel = weights[0]!;
        const kshape = kernel.shape as [number, number, number, number];
        const outChannels = depthwise ? kshape[2] * kshape[3] : kshape[3];
        const kData = Float32Array.from(kernel.dataSync() as Float32Array);
        const bias = new Float32Array(outChannels);
        if (cfg(c, 'useBias', 'use_bias') !== false && weights[1])
          bias.set(weights[1].dataSync() as Float32Array);
        const act = activation(c['activation']);
        if (act === null) return null;
        // Fold a following batch norm (only consumer, and the conv itself has a linear activation).
        const next = used.find((l) =>
          (l.inboundNodes[0]?.inboundLayers ?? []).some((i) => i.name === layer.name),
        );
        // The step carries the layer's name, or the folded BN's name: the BN's consumers read it.
        let stepName = layer.name;
        if (
          next &&
          next.getClassName() === 'BatchNormalization' &&
          consumers.get(layer.name) === 1 &&
          (c['activation'] === 'linear' || c['activation'] === undefined)
        ) {
          const aff = bnAffine(next);
          if (aff === null) return null;
          // Output channel o is the last kernel index for Conv2D, (channel * multiplier + q) for depthwise.
          for (let i = 0; i < kData.length; i++) kData[i]! *= aff.g[i % outChannels]!;
          for (let o = 0; o < outChannels; o++) bias[o] = bias[o]! * aff.g[o]! + aff.shift[o]!;
          folded.add(next.name);
          stepName = next.name; // the conv's activation is linear here
        }
        const k = keep(tf.tensor4d(kData, kshape));
        const b = keep(tf.tensor1d(bias));
        const strides = pair(c['strides']);
        const dil = pair(cfg(c, 'dilationRate', 'dilation_rate') ?? 1);
        const pad = c['padding'] as 'same' | 'valid';
        const a = act;
        steps.push({
          name: stepName,
          inputs,
          run: ([x]) =>
            a(
              tf.add(
                depthwise
                  ? tf.depthwiseConv2d(x as TfTypes.Tensor4D, k, strides, pad, 'NHWC', dil)
                  : tf.conv2d(x as TfTypes.Tensor4D, k, strides, pad, 'NHWC', dil),
                b,
              ),
            ),
        });
        break;
      }
      case 'BatchNormalization': {
        const aff = bnAffine(layer);
        if (aff === null) return null;
        const g = keep(tf.tensor1d(aff.g));
        const s = keep(tf.tensor1d(aff.shift));
        steps.push({ name: layer.name, inputs, run: ([x]) => tf.add(tf.mul(x!, g), s) });
        break;
      }
      case 'ReLU': {
        const max = cfg(c, 'maxValue', 'max_value');
        const slope = Number(cfg(c, 'negativeSlope', 'negative_slope') ?? 0);
        const threshold = Number(c['threshold'] ?? 0);
        if (slope !== 0 || threshold !== 0) return null;
        if (max === 6) steps.push({ name: layer.name, inputs, run: ([x]) => tf.relu6(x!) });
        else if (max === null || max === undefined)
          steps.push({ name: layer.name, inputs, run: ([x]) => tf.relu(x!) });
        else steps.push({ name: layer.name, inputs, run: ([x]) => tf.clipByValue(x!, 0, Number(max)) });
        break;
      }
      case 'Activation': {
        const a = activation(c['activation']);
        if (a === null) return null;
        steps.push({ name: layer.name, inputs, run: ([x]) => a(x!) });
        break;
      }
      case 'Add':
        steps.push({
          name: layer.name,
          inputs,
          run: (xs) => (xs.length === 2 ? tf.add(xs[0]!, xs[1]!) : tf.addN(xs)),
        });
        break;
      case 'Concatenate': {
        const axis = Number(c['axis'] ?? -1);
        steps.push({ name: layer.name, inputs, run: (xs) => tf.concat(xs, axis) });
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const size = pair(cfg(c, 'poolSize', 'pool_size'));
        const strides = pair(c['strides'] ?? cfg(c, 'poolSize', 'pool_size'));
        const pad = c['padding'] as 'same' | 'valid';
        const max = cls === 'MaxPooling2D';
        steps.push({
          name: layer.name,
          inputs,
          run: ([x]) =>
            max
              ? tf.maxPool(x as TfTypes.Tensor4D, size, strides, pad)
              : tf.avgPool(x as TfTypes.Tensor4D, size, strides, pad),
        });
        break;
      }
      case 'GlobalAveragePooling2D':
        steps.push({ name: layer.name, inputs, run: ([x]) => tf.mean(x!, [1, 2]) });
        break;
      case 'Flatten':
        steps.push({ name: layer.name, inputs, run: ([x]) => tf.reshape(x!, [x!.shape[0]!, -1]) });
        break;
      default:
        return null;
    }
  }
  // The input layer's name, from the model's input tensor (Sequential models leave `inputLayers` empty).
  const inputName = (model.inputs[0] as unknown as { sourceLayer?: { name: string } } | undefined)
    ?.sourceLayer?.name;
  if (inputName === undefined) return null;
  const outName = last;
  return {
    apply(x) {
      const values = new Map<string, TfTypes.Tensor>([[inputName, x]]);
      for (const s of steps) values.set(s.name, s.run(s.inputs.map((n) => values.get(n)!)));
      return values.get(outName)!;
    },
    dispose() {
      for (const t of owned) t.dispose();
    },
  };
}
