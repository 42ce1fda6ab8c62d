/**
 * The 8-bit view the battery is computed on. The published engine reads every file with OpenCV as 8-bit BGR and
 * converts it with `COLOR_BGR2GRAY`; its thresholds (Canny 100/200, Sobel > 0.1, the score scales) are in 8-bit
 * grey levels. So every battery metric runs on an 8-bit image: integer samples of range L keep their top 8 bits,
 * `q = floor(x * 256 / (L + 1))` (8-bit data unchanged; 16-bit: x >> 8, as OpenCV; 12-bit DICOM with L = 4095:
 * x >> 4); float samples are scaled, `q = round(x * 255 / L)`; both clamped to 0..255.
 */
import type { Image } from '../image/types.ts';
import { narrowToBytesWasm } from './wasm/gray8Kernel.ts';

/** 8-bit planes of one image. */
export interface Gray8 {
  width: number;
  height: number;
  /** OpenCV 4 BGR2GRAY of the 8-bit RGB (15-bit fixed point, (9798 R + 19235 G + 3735 B + 16384) >> 15), or the grey plane. */
  gray: Uint8Array;
  /**
   * Interleaved 8-bit RGB when the source has colour (3 or 4 channels, alpha dropped), else null — also null when
   * every pixel has R = G = B (a grey image stored as RGB): its Lab, colour differences and SSIM are then the grey
   * plane's, which the grey paths compute without the per-pixel colour work.
   */
  rgb: Uint8Array | null;
}

function quantizer(img: Image, dataRange: number): (v: number) => number {
  if (img.isFloat) {
    const s = 255 / dataRange;
    return (v) => {
      const q = Math.round(v * s);
      return q < 0 ? 0 : q > 255 ? 255 : q;
    };
  }
  const s = 256 / (dataRange + 1);
  return (v) => {
    const q = Math.floor(v * s);
    return q < 0 ? 0 : q > 255 ? 255 : q;
  };
}

/**
 * The 8-bit view of an image.
 * @param img decoded image (1-4 channels)
 * @param dataRange its data range L (> 0)
 */
export function toGray8(img: Image, dataRange: number): Gray8 {
  const { width, height, channels, data } = img;
  const n = width * height;
  const q = quantizer(img, dataRange);
  const gray = new Uint8Array(n);
  if (channels === 1 && !img.isFloat && dataRange === 255) {
    // 8-bit grey, the common case: the samples as they are (clamped, truncated): WebAssembly SIMD for float32
    // samples (wasm/gray8Kernel.ts, the same bytes), else this loop.
    if (data instanceof Float32Array && narrowToBytesWasm(data, gray)) return { width, height, gray, rgb: null };
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      gray[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    return { width, height, gray, rgb: null };
  }
  if (channels < 3) {
    for (let i = 0; i < n; i++) gray[i] = q(data[i * channels]!);
    return { width, height, gray, rgb: null };
  }
  const rgb = new Uint8Array(n * 3);
  let grey = true;
  for (let i = 0; i < n; i++) {
    const r = q(data[i * channels]!);
    const g = q(data[i * channels + 1]!);
    const b = q(data[i * channels + 2]!);
    rgb[i * 3] = r;
    rgb[i * 3 + 1] = g;
    rgb[i * 3 + 2] = b;
    if (r !== g || g !== b) grey = false;
    // With r = g = b this is r exactly (9798 + 19235 + 3735 = 2^15).
    gray[i] = (r * 9798 + g * 19235 + b * 3735 + 16384) >> 15;
  }
  return { width, height, gray, rgb: grey ? null : rgb };
}
