/**
 * Upscale one image with a network or a classical resampler, plainly or with the x8 dihedral self-ensemble
 * (TTA), tiled for bounded memory; and the study's degradation pipeline GT -> bicubic 1/scale -> model -> GT size.
 */
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import type { Image } from '../image/types.ts';
import { DIHEDRAL_COUNT, dihedral, dihedralInverse } from './dihedral.ts';
import { imresize } from './imresize.ts';
import { UPSCALE_MODELS, byoModel, isUpscaleModelName, type ByoModelSpec, type UpscaleModelName } from './models.ts';
import { cropInterleaved, runTiled } from './tile.ts';

/**
 * Inference backend: 'onnx' (ONNX Runtime, CPU), 'wasm' / 'cpu' (TensorFlow.js), or 'auto': onnx for the models
 * it runs (Real-ESRGAN, ncnn and ONNX models: ~4x less CPU than TF.js wasm, bench/upscale-onnx.ts), wasm for the
 * UpscalerJS models (TF.js layers models only).
 */
export type UpscaleBackend = 'auto' | 'onnx' | 'wasm' | 'cpu';

/** Options of `upscaleImage`, `upscaleFromGt` and `upscaleFolder`. */
export interface UpscaleOptions {
  /** Which upscaler (default 'esrgan-slim'): a registry name, or a user's model `onnx:PATH` / `ncnn:DIR`. */
  model: UpscaleModelName | ByoModelSpec;
  /**
   * Integer scale factor (default 2). UpscalerJS networks: 2, 3, 4, 8; Real-ESRGAN: 2, 3, 4; classical: 2..8; a
   * user's model: up to its own scale. A network whose own scale is larger (x4 for a x2 study) runs at its scale
   * and its output is downscaled with MATLAB bicubic imresize, as Upscayl does (recorded in `meta.upscale`).
   */
  scale: number;
  /** x8 dihedral self-ensemble (default false). */
  tta: boolean;
  /** Tile core size in input (LR) pixels for networks; 0 = whole image at once (default 256). */
  tile: number;
  /** Context pixels around each tile, in input pixels (default 16). */
  tileOverlap: number;
  /** Inference backend (default 'auto', see UpscaleBackend). */
  backend: UpscaleBackend;
  /** ONNX Runtime intra-op threads per worker, 0 = the cores divided among the workers (default 0). */
  threads: number;
  /** Input layout of an `onnx:` model (default 'nchw'). */
  modelLayout: 'nchw' | 'nhwc';
  /** Value range an `onnx:` model takes and returns: 1 ([0, 1], default) or 255. */
  modelRange: 1 | 255;
  /** Channel order of an `onnx:` model (default 'rgb'). */
  modelChannelOrder: 'rgb' | 'bgr';
  /** Folder of converted ncnn -> ONNX models ('' = $BLINDSPOT_CACHE_DIR or ~/.cache/blindspot, then /onnx). */
  cacheDir: string;
  /**
   * How samples map to a network's input range: 'range' (default) maps [0, data range] (e.g. 0-255, 0-65535);
   * 'minmax' maps the image's own [min, max], for 16-bit CT/MR that use a small part of their range (a network
   * trained on 8-bit photos would otherwise see a nearly black image). The output is mapped back the same way.
   */
  intensity: 'range' | 'minmax';
}

export const DEFAULT_UPSCALE_OPTIONS: Readonly<UpscaleOptions> = Object.freeze({
  model: 'esrgan-slim',
  scale: 2,
  tta: false,
  tile: 256,
  tileOverlap: 16,
  backend: 'auto',
  threads: 0,
  modelLayout: 'nchw',
  modelRange: 1,
  modelChannelOrder: 'rgb',
  cacheDir: '',
  intensity: 'range',
});

/** Whether a model is a network (anything but the classical resamplers). */
export function isNetworkModel(model: string): boolean {
  return byoModel(model) !== null || (isUpscaleModelName(model) && UPSCALE_MODELS[model].kind === 'network');
}

/**
 * Merge and check upscale options.
 * @throws BlindspotError E_INVALID_OPTION naming the bad option.
 */
export function resolveUpscaleOptions(partial?: Partial<UpscaleOptions>): UpscaleOptions {
  const o = mergeOptions(DEFAULT_UPSCALE_OPTIONS, partial, 'upscale');
  const byo = typeof o.model === 'string' ? byoModel(o.model) : null;
  if (typeof o.model !== 'string' || (!byo && !isUpscaleModelName(o.model))) {
    throw invalidOption('model', `${Object.keys(UPSCALE_MODELS).join('|')}|onnx:PATH|ncnn:DIR`, o.model);
  }
  if (byo) {
    if (!Number.isInteger(o.scale) || o.scale < 1 || o.scale > 16) throw invalidOption('scale', 'an integer 1..16', o.scale);
  } else {
    const scales = UPSCALE_MODELS[o.model as UpscaleModelName].scales;
    if (!Number.isInteger(o.scale) || !scales.includes(o.scale)) {
      throw invalidOption('scale', `one of ${scales.join(', ')} for ${o.model}`, o.scale);
    }
  }
  if (typeof o.tta !== 'boolean') throw invalidOption('tta', 'a boolean', o.tta);
  if (!Number.isInteger(o.tile) || o.tile < 0 || (o.tile > 0 && o.tile < 16)) {
    throw invalidOption('tile', 'an integer >= 16, or 0 for no tiling', o.tile);
  }
  if (!Number.isInteger(o.tileOverlap) || o.tileOverlap < 0) {
    throw invalidOption('tileOverlap', 'an integer >= 0', o.tileOverlap);
  }
  if (!['auto', 'onnx', 'wasm', 'cpu'].includes(o.backend)) throw invalidOption('backend', 'auto|onnx|wasm|cpu', o.backend);
  const tfOnly = !byo && UPSCALE_MODELS[o.model as UpscaleModelName].format === 'tfjs';
  if (o.backend === 'auto') o.backend = tfOnly ? 'wasm' : isNetworkModel(o.model) ? 'onnx' : 'wasm';
  if (o.backend === 'onnx' && tfOnly) throw invalidOption('backend', `wasm|cpu for ${o.model} (a TF.js model)`, o.backend);
  if (o.backend !== 'onnx' && byo?.format === 'onnx') throw invalidOption('backend', 'onnx for an onnx: model', o.backend);
  if (!Number.isInteger(o.threads) || o.threads < 0 || o.threads > 256) throw invalidOption('threads', 'an integer 0..256', o.threads);
  if (o.modelLayout !== 'nchw' && o.modelLayout !== 'nhwc') throw invalidOption('modelLayout', 'nchw|nhwc', o.modelLayout);
  if (o.modelRange !== 1 && o.modelRange !== 255) throw invalidOption('modelRange', '1|255', o.modelRange);
  if (o.modelChannelOrder !== 'rgb' && o.modelChannelOrder !== 'bgr') {
    throw invalidOption('modelChannelOrder', 'rgb|bgr', o.modelChannelOrder);
  }
  if (typeof o.cacheDir !== 'string') throw invalidOption('cacheDir', 'a folder path', o.cacheDir);
  if (o.intensity !== 'range' && o.intensity !== 'minmax') {
    throw invalidOption('intensity', 'range|minmax', o.intensity);
  }
  return o;
}

/** Runs one upscaler on an interleaved image in its native value range; returns (w*s) x (h*s), unrounded. */
type PlaneUpscaler = (data: Float32Array, width: number, height: number) => Promise<Float32Array>;

/**
 * The x8 self-ensemble: average over the 8 dihedral transforms T of T^-1(f(T x)).
 * @param run the plain upscaler f
 */
export async function selfEnsemble(
  run: PlaneUpscaler,
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  scale: number,
): Promise<Float32Array> {
  const acc = new Float64Array(width * scale * height * scale * channels);
  for (let k = 0; k < DIHEDRAL_COUNT; k++) {
    const t = dihedral(data, width, height, channels, k);
    const y = await run(t.data, t.width, t.height);
    const back = dihedralInverse(y, t.width * scale, t.height * scale, channels, k).data;
    for (let i = 0; i < acc.length; i++) acc[i]! += back[i]!;
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! / DIHEDRAL_COUNT;
  return out;
}

/** The value range of an image's samples, for value mapping and clamping. */
interface ValueRange {
  lo: number;
  hi: number;
}

/**
 * The natural range of an image's samples: [0, 2^bits - 1], or for signed DICOM data (PixelRepresentation 1, e.g.
 * CT) the same width centred on 0, [-2^(bits-1), 2^(bits-1) - 1]: clamping those at 0 would erase every negative
 * sample. null for a float image without a data range (allowed only where no network needs one).
 */
function valueRangeOf(image: Image, needed: boolean): ValueRange | null {
  const max = image.dataRange ?? (image.isFloat ? null : 2 ** image.bitDepth - 1);
  if (max === null) {
    if (!needed) return null;
    throw new BlindspotError(
      'E_NO_DATA_RANGE',
      'float image has no natural value range; networks need one (convert to 8/16-bit)',
      image.source || undefined,
    );
  }
  if (!image.isFloat && image.meta['pixelRepresentation'] === 1) {
    const half = (max + 1) / 2;
    return { lo: -half, hi: half - 1 };
  }
  return { lo: 0, hi: max };
}

function checkChannels(image: Image): void {
  if (image.channels !== 1 && image.channels !== 3) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `upscaling needs a grey or RGB image, got ${image.channels} channels`,
      image.source || undefined,
    );
  }
}

/**
 * The plain (no-TTA) upscaler for `options` on images of `channels` channels, value range `range`, integer or not,
 * and the scale it upscales by (a network's own scale, which may exceed options.scale).
 */
async function planeUpscaler(
  options: UpscaleOptions,
  channels: number,
  range: ValueRange | null,
  integer: boolean,
  inputForRange?: Float32Array,
): Promise<{ run: PlaneUpscaler; scale: number; backend: string | null }> {
  const { model, scale } = options;
  if (!isNetworkModel(model)) {
    const method = model === 'lanczos3' ? 'lanczos3' : 'bicubic';
    // Integer images: round after each pass like MATLAB imresize on uint8/uint16 input.
    const integerMax = integer && range !== null ? range.hi : null;
    const integerMin = range?.lo ?? 0;
    const run: PlaneUpscaler = async (data, width, height) =>
      Float32Array.from(
        imresize(
          data,
          width,
          height,
          channels,
          { scale, width: width * scale, height: height * scale },
          {
            method,
            integerMax,
            integerMin,
          },
        ).data,
      );
    return { run, scale, backend: null };
  }
  const { loadNetwork } = await import('./network.ts');
  const net = await loadNetwork(options);
  if (net.scale < scale) {
    throw new BlindspotError('E_INVALID_OPTION', `${model} is a x${net.scale} model; scale ${scale} is more than it makes`);
  }
  // network input = (v - lo) * toModel; output back = y * fromModel + lo
  let lo = range!.lo;
  let hi = range!.hi;
  if (options.intensity === 'minmax' && inputForRange) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of inputForRange) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) hi = lo + 1;
  }
  const toModel = net.valueMax / (hi - lo);
  const fromModel = (hi - lo) / net.valueMax;
  const runNet = async (data: Float32Array, width: number, height: number): Promise<Float32Array> => {
    const n = width * height;
    const rgb = new Float32Array(n * 3);
    if (channels === 1) {
      for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (data[i]! - lo) * toModel;
    } else {
      for (let i = 0; i < 3 * n; i++) rgb[i] = (data[i]! - lo) * toModel;
    }
    const y = await net.predict(rgb, width, height);
    const m = y.length / 3;
    const out = new Float32Array(m * channels);
    if (channels === 1) {
      // grey out = the mean of the three output channels
      for (let i = 0; i < m; i++) out[i] = ((y[3 * i]! + y[3 * i + 1]! + y[3 * i + 2]!) / 3) * fromModel + lo;
    } else {
      for (let i = 0; i < 3 * m; i++) out[i] = y[i]! * fromModel + lo;
    }
    return out;
  };
  return {
    run: (data, width, height) =>
      runTiled(data, width, height, channels, net.scale, options.tile, options.tileOverlap, runNet),
    scale: net.scale,
    backend: net.backend,
  };
}

/** Round (integer images) and clamp to the source's value range. */
function quantize(data: Float32Array, range: ValueRange | null, integer: boolean): Float32Array {
  if (range === null) return data;
  const { lo, hi } = range;
  for (let i = 0; i < data.length; i++) {
    let v = data[i]!;
    if (integer) v = Math.round(v);
    data[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return data;
}

/**
 * Upscale an image by `options.scale` with the chosen model (plain or TTA). Grey images enter a network as three
 * equal channels and leave as the mean of its three output channels. Integer images come back rounded to the
 * source's bit depth; the result keeps `bitDepth`, `dataRange` and `format`.
 * @param image a grey or RGB image (8/16-bit or float with a data range)
 * @param options see `UpscaleOptions` (defaults: esrgan-slim, x2, no TTA, tile 256, overlap 16, wasm)
 * @returns the upscaled image, (width*scale) x (height*scale)
 * @throws BlindspotError E_INVALID_OPTION, E_UNSUPPORTED (not 1 or 3 channels), E_NO_DATA_RANGE, E_NOT_FOUND
 */
export async function upscaleImage(image: Image, options?: Partial<UpscaleOptions>): Promise<Image> {
  const o = resolveUpscaleOptions(options);
  checkChannels(image);
  const range = valueRangeOf(image, isNetworkModel(o.model));
  const integer = !image.isFloat;
  const input = image.data instanceof Float32Array ? image.data : Float32Array.from(image.data);
  // 'minmax' uses the whole image's range (never a tile's or a TTA copy's), so every part maps the same way
  const { run, scale: own, backend } = await planeUpscaler(o, image.channels, range, integer, input);
  const { width, height, channels } = image;
  let raw = o.tta
    ? await selfEnsemble(run, input, width, height, channels, own)
    : await run(input, width, height);
  const upscale: Record<string, unknown> = { model: o.model, scale: o.scale, tta: o.tta };
  if (backend) upscale['backend'] = backend;
  if (own !== o.scale) {
    // a x4 network for a x2 study: x4, then MATLAB bicubic (antialiased) down to the target, in float
    raw = Float32Array.from(
      imresize(raw, width * own, height * own, channels, { scale: o.scale / own, width: width * o.scale, height: height * o.scale }, { integerMax: null }).data,
    );
    upscale['networkScale'] = own;
    upscale['resample'] = `x${own} network output, then MATLAB imresize bicubic x${o.scale}/${own} (antialiased, float)`;
  }
  return {
    ...image,
    width: width * o.scale,
    height: height * o.scale,
    data: quantize(raw, range, integer),
    meta: { ...image.meta, upscale },
    warnings: [...image.warnings],
  };
}

/** The LR image a GT degrades to, and the model's reconstruction at GT size. */
export interface UpscaleFromGtResult {
  /** MATLAB bicubic downscale of the GT by 1/scale: ceil(W/scale) x ceil(H/scale), rounded for integer images. */
  lr: Image;
  /** The model's output cropped to the GT size. */
  output: Image;
}

/**
 * The study's degradation pipeline: GT -> MATLAB bicubic (antialiased) downscale by 1/scale -> model -> GT size.
 * When the GT size is not divisible by `scale`, the LR is ceil(W/scale) x ceil(H/scale) (imresize's size rule), the
 * model output (scale*ceil(W/scale) wide) covers the GT with the pixel grids aligned at the top-left corner, and
 * the extra right/bottom rows and columns (fewer than `scale`) are cropped off.
 * @param gt the ground-truth image (grey or RGB)
 * @param options see `UpscaleOptions`
 * @throws BlindspotError as `upscaleImage`
 */
export async function upscaleFromGt(
  gt: Image,
  options?: Partial<UpscaleOptions>,
): Promise<UpscaleFromGtResult> {
  const o = resolveUpscaleOptions(options);
  checkChannels(gt);
  const range = valueRangeOf(gt, isNetworkModel(o.model));
  const integerMax = !gt.isFloat && range !== null ? range.hi : null;
  const lw = Math.ceil(gt.width / o.scale);
  const lh = Math.ceil(gt.height / o.scale);
  const small = imresize(
    gt.data,
    gt.width,
    gt.height,
    gt.channels,
    { scale: 1 / o.scale, width: lw, height: lh },
    {
      integerMax,
      integerMin: range?.lo ?? 0,
    },
  );
  const lr: Image = {
    ...gt,
    width: lw,
    height: lh,
    data: Float32Array.from(small.data),
    meta: { ...gt.meta, degradation: { method: 'matlab-bicubic', scale: 1 / o.scale } },
    warnings: [...gt.warnings],
  };
  const up = await upscaleImage(lr, o);
  const data =
    up.width === gt.width && up.height === gt.height
      ? (up.data as Float32Array)
      : cropInterleaved(up.data as Float32Array, up.width, gt.channels, 0, 0, gt.width, gt.height);
  return { lr, output: { ...up, width: gt.width, height: gt.height, data, source: gt.source } };
}
