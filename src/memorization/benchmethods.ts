/**
 * Embedding methods for the benchmark (`benchmark.ts`): the untrained MobileNetV2 backbone's pooled features
 * (fed [0, 1] input, as nsfwjs feeds it), and DeepSSIM trained per seed on the benchmark's training images only.
 * TensorFlow.js loads on first use.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { EmbeddingMethod } from './benchmark.ts';
import { embedPlanes } from './embed.ts';
import { unitRange } from './generate.ts';
import { l2NormaliseRows } from './metrics.ts';
import { mobileNetV2Parts, planesToBatch } from './model.ts';
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
