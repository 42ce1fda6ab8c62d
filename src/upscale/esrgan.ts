/**
 * The UpscalerJS ESRGAN networks, loaded offline from their npm packages and run with TensorFlow.js.
 *
 * Pre/post-processing follows the packages' own model definitions (packages/shared/src/esrgan/esrgan.ts in
 * UpscalerJS): RDN models (slim, medium) take and return RGB in [0, 255]; RRDN models (thick) take and return
 * [0, 1] and need two custom layers, `MultiplyBeta` (x 0.2, the residual scaling of Wang et al. 2018) and
 * `PixelShuffle<s>x` (depth-to-space), re-implemented here from that description.
 *
 * Reference: X. Wang et al., "ESRGAN: Enhanced Super-Resolution Generative Adversarial Networks", ECCV Workshops
 * 2018, doi:10.1007/978-3-030-11021-5_5; Y. Zhang et al., "Residual Dense Network for Image Super-Resolution",
 * CVPR 2018, doi:10.1109/CVPR.2018.00262.
 */
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { initTf, loadLayersModelFromDir, packageDir, type Tf, type TfBackendName } from '../tf/backend.ts';
import { UPSCALE_MODELS, type UpscaleModelName } from './models.ts';

/** A loaded network: predict maps RGB HWC (values in `valueMax` range) of w x h to (w*scale) x (h*scale). */
export interface EsrganNetwork {
  name: UpscaleModelName;
  scale: number;
  valueMax: number;
  modelDir: string;
  /** Run the network on one RGB image; returns a new Float32Array, clipped to [0, valueMax] as UpscalerJS does. */
  predict(rgb: Float32Array, width: number, height: number): Promise<Float32Array>;
}

const cache = new Map<string, Promise<EsrganNetwork>>();
const registered = new Set<string>();

/**
 * Load (once per process, backend and scale) an ESRGAN network from its npm package.
 * @param name 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick'
 * @param scale 2, 3, 4 or 8
 * @param backend TF.js backend (default: initTf's default, wasm)
 * @throws BlindspotError E_INVALID_OPTION (not a network, unsupported scale), E_NOT_FOUND (package missing)
 */
export function loadEsrgan(
  name: UpscaleModelName,
  scale: number,
  backend?: TfBackendName,
): Promise<EsrganNetwork> {
  const info = UPSCALE_MODELS[name];
  if (info.kind !== 'network' || !info.package || !info.valueMax) {
    throw new BlindspotError('E_INVALID_OPTION', `${name} is not a network model`);
  }
  if (!info.scales.includes(scale)) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `${name} has no x${scale} model (available: ${info.scales.join(', ')})`,
    );
  }
  const key = `${name}|${scale}|${backend ?? ''}`;
  let p = cache.get(key);
  if (!p) {
    p = load(name, scale, info.package, info.valueMax, backend);
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

async function load(
  name: UpscaleModelName,
  scale: number,
  pkg: string,
  valueMax: number,
  backend: TfBackendName | undefined,
): Promise<EsrganNetwork> {
  const tf = await initTf(backend);
  registerCustomLayers(tf, scale);
  const modelDir = join(packageDir(pkg), 'models', `x${scale}`);
  const model = await loadLayersModelFromDir(tf, modelDir);
  return {
    name,
    scale,
    valueMax,
    modelDir,
    predict: (rgb, width, height) => predict(tf, model, rgb, width, height, scale, valueMax),
  };
}

async function predict(
  tf: Tf,
  model: LayersModel,
  rgb: Float32Array,
  width: number,
  height: number,
  scale: number,
  valueMax: number,
): Promise<Float32Array> {
  const out = tf.tidy(() => {
    const x = tf.tensor4d(rgb, [1, height, width, 3], 'float32');
    const y = model.predict(x) as import('@tensorflow/tfjs').Tensor;
    return tf.clipByValue(y, 0, valueMax);
  });
  try {
    const [, oh, ow, oc] = out.shape;
    if (oh !== height * scale || ow !== width * scale || oc !== 3) {
      throw new Error(
        `unexpected network output shape ${out.shape.join('x')} for ${width}x${height} x${scale}`,
      );
    }
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/** Register the RRDN custom layers under the class names the thick model.json files use. */
function registerCustomLayers(tf: Tf, scale: number): void {
  const Layer = tf.layers.Layer;
  const first = (inputs: unknown): import('@tensorflow/tfjs').Tensor =>
    (Array.isArray(inputs) ? inputs[0] : inputs) as import('@tensorflow/tfjs').Tensor;
  if (!registered.has('MultiplyBeta')) {
    class MultiplyBeta extends Layer {
      static className = 'MultiplyBeta';
      override call(inputs: import('@tensorflow/tfjs').Tensor | import('@tensorflow/tfjs').Tensor[]) {
        return tf.mul(first(inputs), 0.2);
      }
    }
    tf.serialization.registerClass(MultiplyBeta);
    registered.add('MultiplyBeta');
  }
  const shuffleName = `PixelShuffle${scale}x`;
  if (!registered.has(shuffleName)) {
    class PixelShuffle extends Layer {
      static className = shuffleName;
      override computeOutputShape(
        shape: import('@tensorflow/tfjs').Shape | import('@tensorflow/tfjs').Shape[],
      ) {
        const s = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
        const up = (v: number | null | undefined) => (v == null ? null : v * scale);
        return [s[0] ?? null, up(s[1]), up(s[2]), 3];
      }
      override call(inputs: import('@tensorflow/tfjs').Tensor | import('@tensorflow/tfjs').Tensor[]) {
        return tf.depthToSpace(first(inputs) as import('@tensorflow/tfjs').Tensor4D, scale, 'NHWC');
      }
    }
    tf.serialization.registerClass(PixelShuffle);
    registered.add(shuffleName);
  }
}
