/**
 * Feature extractors M(x) for the Anomaly Score: differentiable TensorFlow.js models that map a batch of images
 * in [0,1] (NHWC, at the extractor's input size) to feature vectors. All load offline from files on disk.
 *
 * - `mobilenet_v2` (default): the MobileNetV2 shipped in nsfwjs 4.4 (MIT; ImageNet-initialised, fine-tuned by
 *   nsfwjs on its 5-class task), 224x224x3, input in [0,1] (nsfwjs divides by 255), features = the 1280-d output
 *   of `flatten_1` (7x7 average pool of `out_relu`), i.e. the pooled penultimate layer.
 * - `inception_v3`: nsfwjs's InceptionV3, 299x299x3, 2048-d `flatten_1`. Its batch-norm layers have no `scale`
 *   (gamma), and tfjs's batch-norm gradient fails without one; folding the batch norms into the convolutions
 *   (frozenModel.ts) removes them from the differentiated graph.
 * Built-in models run frozen (frozenModel.ts): batch norms folded, plain ops, only the input path differentiated.
 * - a folder holding a TF.js `model.json` (layers or graph model) plus an optional JSON card: any model that
 *   takes [0,1] images; 4-D outputs are global-average-pooled. A DeepSSIM encoder folder (card.json with
 *   format 'blindspot-deepssim', written by src/memorization) is recognised: its input size and channels come
 *   from the card and each image is z-scored inside the wrapper, as DeepSSIM's preprocessing does (images are
 *   stretched to the square input here, not padded).
 *
 * - `dinov2:PATH`: DINOv2 ViT (the paper's extractor) from a user-supplied safetensors file (dinov2.ts).
 *
 * Every extractor reports its name and the SHA-256 of its weight bytes, recorded in every output.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { type Tf, fsModelHandler, packageDir } from '../tf/backend.ts';
import { freezeLayersModel } from './frozenModel.ts';

/** A differentiable feature map M: [B,H,W,C] in [0,1] -> [B,F]. */
export interface FeatureExtractor {
  /** 'mobilenet_v2', 'inception_v3', or the model folder's card name / folder name. */
  readonly name: string;
  /** Square input size in pixels (images are resized to it). */
  readonly inputSize: number;
  /** Input channels: 3 (grey images are repeated) or 1. */
  readonly channels: 1 | 3;
  /** Length of the feature vector. */
  readonly featureSize: number;
  /** SHA-256 (hex) of the weight bytes as stored. */
  readonly weightsSha256: string;
  /** Where the weights came from (package path or folder). */
  readonly source: string;
  /** M(x): differentiable, call inside tf.tidy / tf.grad. */
  apply(x: TfTypes.Tensor4D): TfTypes.Tensor2D;
  dispose(): void;
}

export const BUILTIN_EXTRACTORS = ['mobilenet_v2', 'inception_v3'] as const;
export type BuiltinExtractor = (typeof BUILTIN_EXTRACTORS)[number];

/** The JSON card a model folder may carry (`card.json`, `model-card.json` or `extractor.json`). */
export interface ExtractorCard {
  name?: string;
  /** Square input size; also read from `size` or `inputShape`. */
  inputSize?: number;
  size?: number;
  channels?: 1 | 3;
  /** Layer whose output is the feature (layers models); default: the model output. */
  outputLayer?: string;
  /** 'blindspot-deepssim' marks a DeepSSIM encoder folder (src/memorization): its input is z-scored per image. */
  format?: string;
  backbone?: string;
}

const CARD_NAMES = ['card.json', 'model-card.json', 'extractor.json'];

interface NsfwjsModelModule {
  modelTopology: {
    model_config: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  };
  weightsManifest: { paths: string[]; weights: TfTypes.io.WeightsManifestEntry[] }[];
}

/**
 * Load a feature extractor.
 * @param tf the TF.js namespace from `initTf`.
 * @param spec 'mobilenet_v2' (default), 'inception_v3', 'dinov2:PATH' (a DINOv2 safetensors file), or a folder
 *   (or model.json path) of a TF.js model.
 * @throws BlindspotError E_NOT_FOUND (missing package/folder/file), E_CORRUPT (unreadable model),
 *   E_INVALID_OPTION (a model without a usable input shape or output).
 */
export async function loadExtractor(tf: Tf, spec: string = 'mobilenet_v2'): Promise<FeatureExtractor> {
  if (spec === 'mobilenet_v2' || spec === 'inception_v3') return loadNsfwjs(tf, spec);
  if (spec.startsWith('dinov2:')) return (await import('./dinov2.ts')).loadDinoV2Extractor(tf, spec.slice(7));
  return loadFolderModel(tf, spec);
}

async function loadNsfwjs(tf: Tf, which: BuiltinExtractor): Promise<FeatureExtractor> {
  const dir = join(packageDir('nsfwjs'), 'dist', 'models', which);
  const require = createRequire(import.meta.url);
  let json: NsfwjsModelModule;
  try {
    json = require(join(dir, 'model.min.js')) as NsfwjsModelModule;
  } catch {
    throw new BlindspotError('E_NOT_FOUND', 'nsfwjs model topology missing', join(dir, 'model.min.js'));
  }
  const group = json.weightsManifest[0]!;
  const parts = group.paths.map((p) => {
    const file = join(dir, `${p}.min.js`);
    try {
      return Buffer.from(require(file) as string, 'base64');
    } catch {
      throw new BlindspotError('E_NOT_FOUND', 'nsfwjs weight shard missing', file);
    }
  });
  const all = Buffer.concat(parts);
  const sha = createHash('sha256').update(all).digest('hex');
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const full = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as never, weightSpecs: group.weights, weightData }),
  );
  const frozen = freezeLayersModel(tf, full, 'flatten_1');
  full.dispose();
  if (frozen === null) throw new BlindspotError('E_CORRUPT', 'unexpected layer in the nsfwjs model', dir);
  const inputSize = which === 'mobilenet_v2' ? 224 : 299;
  const featureSize = which === 'mobilenet_v2' ? 1280 : 2048;
  return {
    name: which,
    inputSize,
    channels: 3,
    featureSize,
    weightsSha256: sha,
    source: `nsfwjs/dist/models/${which}`,
    apply: (x) => frozen.apply(x) as TfTypes.Tensor2D,
    dispose: () => frozen.dispose(),
  };
}

function readCard(dir: string): ExtractorCard {
  for (const n of CARD_NAMES) {
    const file = join(dir, n);
    if (!existsSync(file)) continue;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ExtractorCard;
    } catch {
      throw new BlindspotError('E_CORRUPT', 'model card is not valid JSON', file);
    }
  }
  return {};
}

async function loadFolderModel(tf: Tf, spec: string): Promise<FeatureExtractor> {
  const jsonPath = spec.endsWith('.json') ? resolve(spec) : resolve(spec, 'model.json');
  const dir = resolve(jsonPath, '..');
  if (!existsSync(jsonPath)) throw new BlindspotError('E_NOT_FOUND', 'no TF.js model.json here', jsonPath);
  const card = readCard(dir);
  const handler = fsModelHandler(jsonPath);
  const artifacts = (await handler.load()) as {
    format?: string;
    modelTopology?: unknown;
    weightData?: ArrayBuffer;
  };
  const sha = createHash('sha256')
    .update(new Uint8Array(artifacts.weightData ?? new ArrayBuffer(0)))
    .digest('hex');
  const isGraph =
    artifacts.format === 'graph-model' || (artifacts.modelTopology as { node?: unknown })?.node !== undefined;
  const memory = { load: async () => artifacts } as unknown as TfTypes.io.IOHandler;
  let run: (x: TfTypes.Tensor4D) => TfTypes.Tensor;
  let inputShape: (number | null)[] | undefined;
  let disposeModel: () => void;
  try {
    if (isGraph) {
      const g = await tf.loadGraphModel(memory);
      inputShape = g.inputs[0]?.shape;
      run = (x) => g.execute(x) as TfTypes.Tensor;
      disposeModel = () => g.dispose();
    } else {
      const m = await tf.loadLayersModel(memory);
      inputShape = m.inputs[0]?.shape;
      const frozen = m.inputs.length === 1 ? freezeLayersModel(tf, m, card.outputLayer) : null;
      if (frozen !== null) {
        m.dispose();
        run = (x) => frozen.apply(x);
        disposeModel = () => frozen.dispose();
      } else {
        const cut = card.outputLayer
          ? tf.model({
              inputs: m.inputs,
              outputs: m.getLayer(card.outputLayer).output as TfTypes.SymbolicTensor,
            })
          : m;
        run = (x) => cut.apply(x, { training: false }) as TfTypes.Tensor;
        disposeModel = () => m.dispose();
      }
    }
  } catch (e) {
    if (e instanceof BlindspotError) throw e;
    throw new BlindspotError(
      'E_CORRUPT',
      `cannot load TF.js model (${(e as Error).message.split('\n')[0]})`,
      jsonPath,
    );
  }
  const inputSize = card.inputSize ?? card.size ?? inputShape?.[1] ?? null;
  const channels = card.channels ?? inputShape?.[3] ?? 3;
  if (inputSize === null || inputSize === undefined || !(inputSize > 0)) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      'model has no fixed input size; give "inputSize" in card.json',
      jsonPath,
    );
  }
  if (channels !== 1 && channels !== 3) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `model input must have 1 or 3 channels, has ${channels}`,
      jsonPath,
    );
  }
  // DeepSSIM encoders take each image z-scored (mean 0, sd 1 over its pixels), not [0,1] samples.
  const deepSsim = card.format === 'blindspot-deepssim';
  const zscore = (x: TfTypes.Tensor4D): TfTypes.Tensor4D => {
    const { mean, variance } = tf.moments(x, [1, 2, 3], true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))) as TfTypes.Tensor4D;
  };
  const apply = (x: TfTypes.Tensor4D): TfTypes.Tensor2D => {
    const y = run(deepSsim ? zscore(x) : x);
    if (y.rank === 4) return tf.mean(y, [1, 2]) as TfTypes.Tensor2D;
    if (y.rank === 2) return y as TfTypes.Tensor2D;
    return tf.reshape(y, [y.shape[0]!, -1]) as TfTypes.Tensor2D;
  };
  const probe = tf.tidy(
    () => apply(tf.zeros([1, inputSize, inputSize, channels]) as TfTypes.Tensor4D).shape[1]!,
  );
  return {
    name: card.name ?? (deepSsim ? `deepssim-${card.backbone ?? 'encoder'}` : basename(dir)),
    inputSize,
    channels,
    featureSize: probe,
    weightsSha256: sha,
    source: dir,
    apply,
    dispose: disposeModel,
  };
}
