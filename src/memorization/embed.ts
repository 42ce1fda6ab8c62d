/**
 * Batched embedding of z-scored planes with a DeepSSIM embedder (inference mode), L2-normalised so that a dot
 * product is the cosine similarity.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import { l2NormaliseRows } from './metrics.ts';
import { planesToBatch } from './model.ts';
import type { Tf } from './tfjs.ts';

/**
 * Embed planes in batches.
 * @param tf initialised TensorFlow.js
 * @param model an embedder: [n, size, size, channels] -> [n, dim]
 * @param planes z-scored `size x size` planes
 * @param batchSize images per forward pass (default 32)
 * @param onProgress (done, total) after each batch
 * @returns row-major [planes.length x dim] L2-normalised embeddings and `dim`
 */
export async function embedPlanes(
  tf: Tf,
  model: TfTypes.LayersModel,
  planes: readonly Float32Array[],
  batchSize = 32,
  onProgress?: (done: number, total: number) => void,
): Promise<{ embeddings: Float32Array; dim: number }> {
  const [, size, , channels] = model.inputs[0]!.shape as number[];
  const dim = (model.outputs[0]!.shape as number[])[1]!;
  const out = new Float32Array(planes.length * dim);
  for (let s = 0; s < planes.length; s += batchSize) {
    const chunk = planes.slice(s, s + batchSize);
    const y = tf.tidy(() => model.predict(planesToBatch(tf, chunk, size!, channels!)) as TfTypes.Tensor);
    out.set(await y.data(), s * dim);
    y.dispose();
    onProgress?.(Math.min(planes.length, s + batchSize), planes.length);
  }
  return { embeddings: l2NormaliseRows(out, dim), dim };
}
