/**
 * Grey planes for DeepSSIM: the model sees every image as one square float plane of `size x size` samples,
 * z-scored per image (mean 0, sd 1), as the official DeepSSIM code does before its augmentations and SSIM target.
 * Pure functions over typed arrays; nothing here does I/O.
 */
import type { Image } from '../image/types.ts';

/** One grey image as a row-major float plane. */
export interface Plane {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Grey samples of an image: channel 0 for grey, ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, as PIL's
 * `convert('L')` used by the reference code) for RGB/RGBA. Alpha is ignored.
 */
export function greyPlaneOf(img: Image): Plane {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = data[i]!;
  } else if (channels === 2) {
    for (let i = 0; i < n; i++) out[i] = data[2 * i]!;
  } else {
    for (let i = 0, j = 0; i < n; i++, j += channels) out[i] = 0.299 * data[j]! + 0.587 * data[j + 1]! + 0.114 * data[j + 2]!;
  }
  return { width, height, data: out };
}

/**
 * Pad a plane to a square (centred, padded with its minimum: black background for MRI) so that resizing keeps
 * the aspect ratio. Square planes are returned as they are.
 */
export function padToSquare(p: Plane): Plane {
  if (p.width === p.height) return p;
  const side = Math.max(p.width, p.height);
  let min = Infinity;
  for (let i = 0; i < p.data.length; i++) if (p.data[i]! < min) min = p.data[i]!;
  const out = new Float32Array(side * side).fill(min);
  const ox = (side - p.width) >> 1;
  const oy = (side - p.height) >> 1;
  for (let y = 0; y < p.height; y++) out.set(p.data.subarray(y * p.width, (y + 1) * p.width), (oy + y) * side + ox);
  return { width: side, height: side, data: out };
}

/**
 * Separable triangle-filter resize (bilinear when enlarging; the filter widens with the scale when shrinking,
 * so it averages like an area filter instead of aliasing). Pixel centres are aligned (half-pixel convention).
 */
export function resizePlane(p: Plane, width: number, height: number): Plane {
  if (p.width === width && p.height === height) return { width, height, data: Float32Array.from(p.data) };
  const tmp = new Float32Array(width * p.height);
  resample1d(p.data, p.width, p.height, tmp, width, true);
  const out = new Float32Array(width * height);
  resample1d(tmp, width, p.height, out, height, false);
  return { width, height, data: out };
}

/** Resample along x (horizontal = true: rows of length srcLen -> dstLen) or along y (columns). */
function resample1d(src: Float32Array, w: number, h: number, dst: Float32Array, dstLen: number, horizontal: boolean): void {
  const srcLen = horizontal ? w : h;
  const lines = horizontal ? h : w;
  const scale = srcLen / dstLen;
  const support = Math.max(1, scale);
  // Precompute the taps once per output position (no allocation per pixel).
  const first = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const maxTaps = Math.ceil(2 * support) + 2;
  const weights = new Float64Array(dstLen * maxTaps);
  for (let o = 0; o < dstLen; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.ceil(centre - support));
    const hi = Math.min(srcLen - 1, Math.floor(centre + support));
    let sum = 0;
    let k = 0;
    for (let i = lo; i <= hi && k < maxTaps; i++, k++) {
      const wgt = Math.max(0, 1 - Math.abs(i - centre) / support);
      weights[o * maxTaps + k] = wgt;
      sum += wgt;
    }
    if (sum === 0) {
      // Degenerate edge case: take the nearest sample.
      weights[o * maxTaps] = 1;
      first[o] = Math.min(srcLen - 1, Math.max(0, Math.round(centre)));
      count[o] = 1;
      continue;
    }
    for (let j = 0; j < k; j++) weights[o * maxTaps + j]! /= sum;
    first[o] = lo;
    count[o] = k;
  }
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < dstLen; o++) {
      let acc = 0;
      const f = first[o]!;
      const c = count[o]!;
      for (let j = 0; j < c; j++) {
        const i = f + j;
        const v = horizontal ? src[line * w + i]! : src[i * w + line]!;
        acc += weights[o * maxTaps + j]! * v;
      }
      if (horizontal) dst[line * dstLen + o] = acc;
      else dst[o * w + line] = acc;
    }
  }
}

/** Mean and (population) standard deviation of a plane, accumulated in float64. */
export function meanStd(data: ArrayLike<number>): { mean: number; std: number } {
  const n = data.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += data[i]!;
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i]! - mean;
    v += d * d;
  }
  return { mean, std: Math.sqrt(v / n) };
}

/**
 * Z-score a plane in place: (x - mean) / sd, the reference code's `load_grayscale_image(normalise=True)`.
 * A constant plane (sd 0) becomes all zeros.
 */
export function zScoreInPlace(data: Float32Array): Float32Array {
  const { mean, std } = meanStd(data);
  const inv = std > 0 ? 1 / std : 0;
  for (let i = 0; i < data.length; i++) data[i] = (data[i]! - mean) * inv;
  return data;
}

/** Minimum and maximum of a plane. */
export function minMax(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * The model's view of an image: grey -> padded to a square -> resized to `size x size` -> z-scored.
 * @param img a decoded image (any bit depth; z-scoring removes the scale).
 * @param size the side of the square plane (default of the training options: 128).
 */
export function preparePlane(img: Image, size: number): Plane {
  const sq = padToSquare(greyPlaneOf(img));
  const p = resizePlane(sq, size, size);
  zScoreInPlace(p.data);
  return p;
}

/** 2x2 mean downsampling of a square plane, z-scored again. */
export function halvePlane(p: Float32Array, size: number): Float32Array {
  const h = size >> 1;
  const out = new Float32Array(h * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h; x++) {
      const i = 2 * y * size + 2 * x;
      out[y * h + x] = (p[i]! + p[i + 1]! + p[i + size]! + p[i + size + 1]!) / 4;
    }
  }
  return zScoreInPlace(out);
}

/** Halve a square plane until its side is `to` (a power-of-2 fraction of `from`). */
export function halveTo(p: Float32Array, from: number, to: number): Float32Array {
  let q = p;
  for (let s = from; s > to; s >>= 1) q = halvePlane(q, s);
  return q;
}

/** Square plane moved by (dx, dy) pixels, edges repeated (the copy a small registration error makes). */
export function shiftPlane(src: Float32Array, size: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(size - 1, Math.max(0, y - dy));
    for (let x = 0; x < size; x++) out[y * size + x] = src[sy * size + Math.min(size - 1, Math.max(0, x - dx))]!;
  }
  return out;
}
