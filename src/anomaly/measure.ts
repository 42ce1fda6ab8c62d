/**
 * Complexity C and vulnerability V of images under a differentiable feature map M (TensorFlow.js), exactly as
 * Hwang, Lee & Lee, "Anomaly Score: Evaluating Generative Models and Individual Generated Images based on
 * Complexity and Vulnerability", CVPR 2024 (arXiv:2312.10634):
 *
 * - C(x): n = Gaussian direction of unit L2 norm over the whole image; x_k = clamp(x + 0.01 k n, 0, 1),
 *   k = 0..10 in one batched forward pass; C = mean angle between consecutive feature differences.
 * - V(x): L-inf PGD (eps 8/255, step 2/255, 10 steps) from x + U(-1e-6, 1e-6) on the loss MSE(M(x'), M(x));
 *   V = ||M(x_final) - M(x)||_2. Default: gradient *ascent* (the adversarial perturbation the paper describes).
 *   `officialCompat`: the official repository's update, x' + step * sign(grad(-loss)), i.e. descent.
 *
 * Cost per image: C = 11 forwards (one batch); V = 12 forwards + 10 backwards.
 */
import type * as TfTypes from '@tensorflow/tfjs';
import type { Tf } from '../tf/backend.ts';
import { type Rng, unitGaussian } from './rng.ts';
import { complexityFromTrajectory } from './stats.ts';

/** The feature map: [B,H,W,C] in [0,1] -> [B,F], differentiable. */
export type FeatureMap = (x: TfTypes.Tensor4D) => TfTypes.Tensor2D;

/** Method constants (defaults from the paper / official code). */
export interface MeasureSettings {
  /** Complexity: number of steps K (K+1 points, K-1 angles). Default 10. */
  complexitySteps: number;
  /** Complexity: step length along the unit-norm direction. Default 0.01. */
  complexityEps: number;
  /** PGD radius (L-inf). Default 8/255. */
  pgdEps: number;
  /** PGD step. Default 2/255. */
  pgdStep: number;
  /** PGD iterations. Default 10. */
  pgdSteps: number;
  /** Half-width of the uniform start noise. Default 1e-6. */
  startNoise: number;
  /** Reproduce the official code's (descending) update. Default false (ascent). */
  officialCompat: boolean;
}

export const DEFAULT_MEASURE_SETTINGS: Readonly<MeasureSettings> = Object.freeze({
  complexitySteps: 10,
  complexityEps: 0.01,
  pgdEps: 8 / 255,
  pgdStep: 2 / 255,
  pgdSteps: 10,
  startNoise: 1e-6,
  officialCompat: false,
});

/**
 * sign(x) exactly (1, -1 or 0). tfjs-backend-wasm 4.22's `Sign` returns 0 for |x| below ~1e-7, and the MSE
 * gradient at the PGD start (features moved by ~1e-6) is that small: with `tf.sign` most pixels would not move
 * on the first step. Comparisons are exact on every backend.
 */
export function exactSign(tf: Tf, x: TfTypes.Tensor): TfTypes.Tensor {
  return tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32'));
}

/** Forward/backward passes per image for the given settings (for benchmarks and reports). */
export function passesPerImage(s: MeasureSettings): {
  complexityForwards: number;
  vulnerabilityForwards: number;
  vulnerabilityBackwards: number;
} {
  return {
    complexityForwards: s.complexitySteps + 1,
    vulnerabilityForwards: s.pgdSteps + 2,
    vulnerabilityBackwards: s.pgdSteps,
  };
}

/**
 * Complexity of one image.
 * @param x the image, H*W*C samples in [0,1] (NHWC order, batch of one).
 * @param shape [H, W, C].
 * @param rng the image's random stream (draws H*W*C normals).
 * @returns C in radians and the K-1 angles (NaN where a feature difference was exactly zero).
 */
export function complexity(
  tf: Tf,
  map: FeatureMap,
  x: Float32Array,
  shape: [number, number, number],
  rng: Rng,
  settings: MeasureSettings = DEFAULT_MEASURE_SETTINGS,
): { complexity: number; angles: Float64Array } {
  const n = unitGaussian(rng, x.length);
  const points = settings.complexitySteps + 1;
  const feats = tf.tidy(() => {
    const xt = tf.tensor4d(x, [1, ...shape]);
    const nt = tf.tensor4d(n, [1, ...shape]);
    const k = tf.tensor4d(
      Float32Array.from({ length: points }, (_, i) => settings.complexityEps * i),
      [points, 1, 1, 1],
    );
    const batch = tf.clipByValue(tf.add(xt, tf.mul(k, nt)), 0, 1) as TfTypes.Tensor4D;
    return map(batch);
  });
  const data = feats.dataSync();
  const dim = feats.shape[1];
  feats.dispose();
  return complexityFromTrajectory(data, points, dim);
}

/**
 * Vulnerability of a batch of images (each image's gradient depends on its own features only).
 * @param xs images, each H*W*C samples in [0,1].
 * @param rngs one random stream per image (draws H*W*C uniforms for the PGD start).
 * @returns V per image, and each image's clean features M(x).
 */
export function vulnerability(
  tf: Tf,
  map: FeatureMap,
  xs: readonly Float32Array[],
  shape: [number, number, number],
  rngs: readonly Rng[],
  settings: MeasureSettings = DEFAULT_MEASURE_SETTINGS,
): { values: number[]; features: Float32Array[] } {
  const b = xs.length;
  const size = shape[0] * shape[1] * shape[2];
  const x0Data = new Float32Array(b * size);
  const noise = new Float32Array(b * size);
  for (let i = 0; i < b; i++) {
    x0Data.set(xs[i]!, i * size);
    const r = rngs[i]!;
    for (let j = 0; j < size; j++) noise[i * size + j] = (2 * r.uniform() - 1) * settings.startNoise;
  }
  const x0 = tf.tensor4d(x0Data, [b, ...shape]);
  const f0 = tf.tidy(() => map(x0));
  const f0Data = f0.dataSync() as Float32Array;
  const dim = f0.shape[1];
  const features = Array.from({ length: b }, (_, i) => f0Data.slice(i * dim, (i + 1) * dim));
  let adv = tf.tidy(() =>
    tf.clipByValue(tf.add(x0, tf.tensor4d(noise, [b, ...shape])), 0, 1),
  ) as TfTypes.Tensor4D;
  const lossOf = (a: TfTypes.Tensor): TfTypes.Scalar =>
    tf.mean(tf.squaredDifference(map(a as TfTypes.Tensor4D), f0));
  const gradOf = tf.grad(lossOf);
  const step = settings.officialCompat ? -settings.pgdStep : settings.pgdStep;
  for (let it = 0; it < settings.pgdSteps; it++) {
    const next = tf.tidy(() => {
      const g = gradOf(adv);
      const moved = tf.add(adv, tf.mul(step, exactSign(tf, g)));
      const delta = tf.clipByValue(tf.sub(moved, x0), -settings.pgdEps, settings.pgdEps);
      return tf.clipByValue(tf.add(x0, delta), 0, 1) as TfTypes.Tensor4D;
    });
    adv.dispose();
    adv = next;
  }
  const dist = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(map(adv), f0)), 1)));
  const v = Array.from(dist.dataSync());
  dist.dispose();
  adv.dispose();
  f0.dispose();
  x0.dispose();
  return { values: v, features };
}
