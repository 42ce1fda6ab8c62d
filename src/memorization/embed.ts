/**
 * Batched embedding of z-scored planes with a DeepSSIM embedder (inference mode), L2-normalised so that a dot
 * product is the cosine similarity.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { l2NormaliseRows } from './metrics.ts';
import { planesToBatch } from './model.ts';
import type { Tf } from './tfjs.ts';
import { dihedral } from './benchset.ts';

/** Transforms an embedding can be averaged over: none, the 4 flips (identity, h, v, both), the 8 flips/90° rotations. */
export type EmbeddingAverage = 'none' | 'flips' | 'dihedral';

/** `dihedral()` indices of each averaging group (0 identity, 2 = both flips, 4 horizontal, 6 vertical). */
const AVERAGE_GROUPS: Record<EmbeddingAverage, readonly number[]> = { none: [0], flips: [0, 2, 4, 6], dihedral: [0, 1, 2, 3, 4, 5, 6, 7] };

/**
 * Embed planes in batches. With `average` 'flips' or 'dihedral', a plane's embedding is the mean of the unit
 * embeddings of its transforms (then normalised): exactly invariant to that group, at 4x / 8x the cost.
 * @param tf initialised TensorFlow.js
 * @param model an embedder: [n, size, size, channels] -> [n, dim]
 * @param planes z-scored `size x size` planes
 * @param batchSize images per forward pass (default 32)
 * @param onProgress (done, total) after each batch
 * @param average transforms to average the embedding over (default 'none')
 * @returns row-major [planes.length x dim] L2-normalised embeddings and `dim`
 */
export async function embedPlanes(
  tf: Tf,
  model: TfTypes.LayersModel,
  planes: readonly Float32Array[],
  batchSize = 32,
  onProgress?: (done: number, total: number) => void,
  average: EmbeddingAverage = 'none',
): Promise<{ embeddings: Float32Array; dim: number }> {
  const [, size, , channels] = model.inputs[0]!.shape as number[];
  const dim = (model.outputs[0]!.shape as number[])[1]!;
  const out = new Float32Array(planes.length * dim);
  for (let s = 0; s < planes.length; s += batchSize) {
    const chunk = planes.slice(s, s + batchSize);
    if (average !== 'none') {
      const n = chunk.length;
      const group = AVERAGE_GROUPS[average];
      const all = chunk.flatMap((p) => group.map((k) => (k === 0 ? p : dihedral(p, size!, k))));
      const y = tf.tidy(() => {
        const e = model.predict(planesToBatch(tf, all, size!, channels!)) as TfTypes.Tensor2D;
        return tf.mean(tf.reshape(tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12)), [n, group.length, dim]), 1);
      });
      out.set(await y.data(), s * dim);
      y.dispose();
    } else {
      const y = tf.tidy(() => model.predict(planesToBatch(tf, chunk, size!, channels!)) as TfTypes.Tensor);
      out.set(await y.data(), s * dim);
      y.dispose();
    }
    onProgress?.(Math.min(planes.length, s + batchSize), planes.length);
  }
  return { embeddings: l2NormaliseRows(out, dim), dim };
}
