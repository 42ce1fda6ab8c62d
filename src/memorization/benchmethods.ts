/**
 * Embedding methods for the benchmark (`benchmark.ts`): the untrained MobileNetV2 backbone's pooled features
 * (fed [0, 1] input, as nsfwjs feeds it), and DeepSSIM trained per seed on the benchmark's training images only.
 * TensorFlow.js loads on first use.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { EmbeddingMethod } from './benchmark.ts';
import { BlindspotError } from '../errors.ts';
export { halvePlane } from './plane.ts';
import { embedPlanes } from './embed.ts';
import { unitRange } from './generate.ts';
import { l2NormaliseRows } from './metrics.ts';
import { mobileNetV2Parts, planesToBatch } from './model.ts';
import { halvePlane } from './plane.ts';
import { loadDeepSsimModel } from './store.ts';
import { trainSpatialDeepSsim, type SpatialTrainOptions, type SpatialValidation } from './spatial.ts';
import { loadTf } from './tfjs.ts';
import { trainDeepSsim, type TrainOptions, type TrainProgress } from './train.ts';

/** Pooled `out_relu` features of the untrained (nsfwjs-pretrained) MobileNetV2, [0, 1] input. */
export function untrainedBackboneMethod(size: number): EmbeddingMethod {
  return {
    name: 'MobileNetV2 features, untrained ([0,1] input)',
    prepare: async () => {
      const tf = await loadTf();
      return async (planes) => {
        const { frozen } = await mobileNetV2Parts(tf, size, 'head');
        const dim = (frozen.outputs[0]!.shape as number[])[3]!;
        const out = new Float32Array(planes.length * dim);
        for (let s = 0; s < planes.length; s += 32) {
          const unit = planes.slice(s, s + 32).map((p) => unitRange(p));
          const y = tf.tidy(() => tf.mean(frozen.predict(planesToBatch(tf, unit, size, 3)) as TfTypes.Tensor4D, [1, 2]));
          out.set(await y.data(), s * dim);
          y.dispose();
        }
        frozen.dispose();
        return { embeddings: l2NormaliseRows(out, dim), dim };
      };
    },
  };
}

/** DeepSSIM trained on the seed's training planes with `options` (seed taken from the benchmark). */
export function deepSsimMethod(name: string, options: Partial<TrainOptions>, onProgress?: (p: TrainProgress) => void): EmbeddingMethod {
  return {
    name,
    prepare: async (train, seed) => {
      const tf = await loadTf();
      const trained = await trainDeepSsim(tf, train, { ...options, seed }, onProgress);
      return async (planes) => embedPlanes(tf, trained.network.embedder, planes, 32);
    },
  };
}

/**
 * A saved DeepSSIM model folder (e.g. the shipped one) as a benchmark method: no training per seed. Planes are
 * halved until they match the model's input side (a model trained at 64 scores a 128 benchmark on 64x64
 * means); the card's `inference.average` is honoured.
 */
export function modelMethod(name: string, dir: string, benchSize: number): EmbeddingMethod {
  return {
    name,
    prepare: async () => {
      const tf = await loadTf();
      const { model, card } = await loadDeepSsimModel(tf, dir);
      if (card.size > benchSize || benchSize % card.size !== 0 || ((benchSize / card.size) & (benchSize / card.size - 1)) !== 0) {
        model.dispose();
        throw new BlindspotError('E_INVALID_OPTION', `the model's input side ${card.size} must be the benchmark size ${benchSize} divided by a power of 2`, dir);
      }
      const fit = (p: Float32Array) => {
        let q = p;
        for (let s = benchSize; s > card.size; s >>= 1) q = halvePlane(q, s);
        return q;
      };
      return async (planes) => embedPlanes(tf, model, planes.map(fit), 32, undefined, card.inference?.average ?? 'none');
    },
  };
}

/**
 * The spatial DeepSSIM encoder (spatial.ts) trained per seed from scratch on exact-target pairs of the seed's
 * training images (85%; 15% validate), at `options.size` (planes are halved until they match: the CPU budget).
 */
export function spatialDeepSsimMethod(name: string, benchSize: number, options: Partial<SpatialTrainOptions>, onProgress?: (v: SpatialValidation) => void): EmbeddingMethod {
  const size = options.size ?? benchSize;
  const fit = (p: Float32Array) => {
    let q = p;
    for (let s = benchSize; s > size; s >>= 1) q = halvePlane(q, s);
    return q;
  };
  return {
    name,
    prepare: async (train, seed) => {
      const tf = await loadTf();
      const planes = train.map(fit);
      const nVal = Math.max(2, Math.round(planes.length * 0.15));
      const r = await trainSpatialDeepSsim(tf, { images: planes.slice(nVal) }, { images: planes.slice(0, nVal) }, { ...options, size, seed }, onProgress);
      return async (ps) => {
        const out: Float32Array[] = [];
        for (let s = 0; s < ps.length; s += 32) {
          const y = tf.tidy(() => r.model.predict(planesToBatch(tf, ps.slice(s, s + 32).map(fit), size, 1)) as TfTypes.Tensor);
          out.push((await y.data()) as Float32Array);
          y.dispose();
        }
        const dim = (r.model.outputs[0]!.shape as number[])[1]!;
        const all = new Float32Array(ps.length * dim);
        let at = 0;
        for (const o of out) {
          all.set(o, at);
          at += o.length;
        }
        return { embeddings: l2NormaliseRows(all, dim), dim };
      };
    },
  };
}
