/**
 * Colour policies (DESIGN §3): how an RGB image becomes the grey plane(s) SSIM is computed on, and the border
 * shave SR papers apply. Pure functions over `Image`; the output planes are Float64Array.
 */
import { BlindspotError } from '../errors.ts';
import type { Image } from './types.ts';

/** How colour images are compared. Grey images pass through unchanged under every policy. */
export type ColorPolicy = 'luma' | 'ycbcr-y' | 'per-channel';

/** The allowed colour policies, in help order. */
export const COLOR_POLICIES: readonly ColorPolicy[] = ['luma', 'ycbcr-y', 'per-channel'];

/**
 * MATLAB `rgb2gray` weights: the first row of the inverse of the NTSC YIQ matrix, as MATLAB computes them
 * (not the rounded 0.2989/0.5870/0.1140).
 */
export const RGB2GRAY_WEIGHTS: readonly [number, number, number] = [
  0.298936021293775, 0.587043074451121, 0.114020904255103,
];

/** BT.601 studio-swing luma coefficients of MATLAB `rgb2ycbcr` (per 255 of input range). */
export const YCBCR_Y_WEIGHTS: readonly [number, number, number] = [65.481, 128.553, 24.966];

/** Round half away from zero, as MATLAB does when it converts doubles to integer classes. */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** Grey planes of an image under a colour policy, each `width * height` samples. */
export interface GreyPlanes {
  width: number;
  height: number;
  /** One plane for grey / luma / ycbcr-y; one per colour channel (alpha dropped) for per-channel. */
  planes: Float64Array[];
}

/** True when the samples are integers of a known bit depth, so MATLAB would round its result. */
function isIntegerImage(img: Image): boolean {
  return !img.isFloat && (img.bitDepth === 8 || img.bitDepth === 16);
}

/**
 * Turn an image into the grey plane(s) SSIM works on.
 *
 * - Grey (1 channel, or grey + alpha): the grey samples, copied to a Float64Array, under every policy.
 * - `luma`: MATLAB `rgb2gray`, `0.298936021293775 R + 0.587043074451121 G + 0.114020904255103 B`. For 8- and
 *   16-bit integer input MATLAB returns the same integer class, so the value is rounded half away from zero
 *   (and clamped to the type's range); float input is not rounded.
 * - `ycbcr-y`: the Y of MATLAB `rgb2ycbcr`: for 8-bit `round(16 + (65.481 R + 128.553 G + 24.966 B) / 255)`;
 *   for 16-bit the same scaled by 257 (offset 16·257), rounded; for float input in [0, 1] (MATLAB's double
 *   convention) `(16 + 65.481 R + 128.553 G + 24.966 B) / 255`, not rounded.
 * - `per-channel`: the R, G, B planes (alpha dropped).
 *
 * @param img decoded image (channels 1-4, interleaved)
 * @param color colour policy (default in `ssim`: `luma`)
 * @throws BlindspotError E_UNSUPPORTED for a channel count other than 1-4.
 */
export function toGreyPlanes(img: Image, color: ColorPolicy): GreyPlanes {
  const { width, height, channels, data } = img;
  const n = width * height;
  if (channels < 1 || channels > 4) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `${channels} channels per pixel are not supported (1-4)`,
      img.source,
    );
  }
  if (channels <= 2) {
    const grey = new Float64Array(n);
    for (let i = 0, j = 0; i < n; i++, j += channels) grey[i] = data[j]!;
    return { width, height, planes: [grey] };
  }
  if (color === 'per-channel') {
    const planes = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    const [r, g, b] = planes as [Float64Array, Float64Array, Float64Array];
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      r[i] = data[j]!;
      g[i] = data[j + 1]!;
      b[i] = data[j + 2]!;
    }
    return { width, height, planes };
  }
  const round = isIntegerImage(img);
  const maxValue = img.bitDepth === 16 ? 65535 : 255;
  const out = new Float64Array(n);
  if (color === 'luma') {
    const [wr, wg, wb] = RGB2GRAY_WEIGHTS;
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      const v = wr * data[j]! + wg * data[j + 1]! + wb * data[j + 2]!;
      out[i] = round ? Math.min(maxValue, Math.max(0, roundHalfAway(v))) : v;
    }
  } else {
    const [wr, wg, wb] = YCBCR_Y_WEIGHTS;
    // Offset 16 on the 8-bit scale; 16·257 on the 16-bit scale; 16/255 for doubles in [0, 1].
    const offset = round ? (img.bitDepth === 16 ? 16 * 257 : 16) : 16 / 255;
    for (let i = 0, j = 0; i < n; i++, j += channels) {
      const v = offset + (wr * data[j]! + wg * data[j + 1]! + wb * data[j + 2]!) / 255;
      out[i] = round ? Math.min(maxValue, Math.max(0, roundHalfAway(v))) : v;
    }
  }
  return { width, height, planes: [out] };
}

/**
 * Remove `n` pixels from every border (SR papers shave the scale factor before scoring).
 * @param img image to crop; returned unchanged when `n` is 0
 * @param n pixels to remove on each side, integer >= 0
 * @throws BlindspotError E_INVALID_OPTION for a negative or fractional `n`; E_TOO_SMALL when nothing would remain.
 */
export function shave(img: Image, n: number): Image {
  if (!Number.isInteger(n) || n < 0) {
    throw new BlindspotError('E_INVALID_OPTION', `invalid shave: expected an integer >= 0, got ${n}`);
  }
  if (n === 0) return img;
  const width = img.width - 2 * n;
  const height = img.height - 2 * n;
  if (width < 1 || height < 1) {
    throw new BlindspotError(
      'E_TOO_SMALL',
      `image is ${img.width}x${img.height}: shaving ${n} pixels from each border leaves nothing`,
      img.source,
    );
  }
  const ch = img.channels;
  const data = new (img.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(
    width * height * ch,
  );
  for (let r = 0; r < height; r++) {
    const src = ((r + n) * img.width + n) * ch;
    data.set(img.data.subarray(src, src + width * ch), r * width * ch);
  }
  return { ...img, width, height, data, meta: { ...img.meta, shave: n } };
}
