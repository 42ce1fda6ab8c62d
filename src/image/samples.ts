/** Small sample-level helpers shared by the decoders: finiteness check, grey collapse. No I/O. */
import { BlindspotError } from '../errors.ts';

/**
 * Throw E_NONFINITE when any sample is NaN or ±Infinity (SSIM would silently turn them into NaN).
 * @param data interleaved samples
 * @param width image width (to report the first bad pixel's position)
 * @param channels samples per pixel
 * @param file the file named in the message
 * @throws BlindspotError E_NONFINITE: `<file>: <k> samples are NaN or infinite (first at x=<x>, y=<y>)`
 */
export function assertFinite(
  data: Float32Array | Float64Array,
  width: number,
  channels: number,
  file: string,
): void {
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is NaN for NaN and ±Infinity, 0 otherwise: one comparison per sample.
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) {
    const pixel = Math.floor(first / channels);
    throw new BlindspotError(
      'E_NONFINITE',
      `${count} sample${count === 1 ? ' is' : 's are'} NaN or infinite (first at x=${pixel % width}, y=${Math.floor(pixel / width)})`,
      file,
    );
  }
}

/** True when every pixel of an interleaved 3- or 4-channel image has R == G == B. */
export function isGreyRgb(data: ArrayLike<number>, pixels: number, channels: number): boolean {
  for (let i = 0, j = 0; i < pixels; i++, j += channels) {
    const r = data[j]!;
    if (data[j + 1] !== r || data[j + 2] !== r) return false;
  }
  return true;
}

/** The first channel of an interleaved image as a plane (used when R == G == B everywhere). */
export function firstChannel(data: ArrayLike<number>, pixels: number, channels: number): Float32Array {
  const out = new Float32Array(pixels);
  for (let i = 0, j = 0; i < pixels; i++, j += channels) out[i] = data[j]!;
  return out;
}

/** data[i] = scale * data[i] + offset, in place (rescale slopes, MONOCHROME1 inversion). */
export function affineInPlace(data: Float32Array, scale: number, offset: number): void {
  for (let i = 0; i < data.length; i++) data[i] = scale * data[i]! + offset;
}
