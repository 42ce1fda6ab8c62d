/**
 * Images for the browser: any decoded Image (8/16-bit, float, DICOM, NIfTI slice) as an 8-bit PNG. 8-bit integer
 * images pass through unchanged; deeper or float images are windowed linearly from [lo, hi] to [0, 255] — the
 * viewer uses the GT's own min..max for both GT and output, so a brightness change of the output stays visible.
 */
import sharp from 'sharp';
import type { Image } from '../image/types.ts';

export interface DisplayWindow {
  lo: number;
  hi: number;
}

/** [0, 255] for 8-bit integer images, else the min..max of the colour samples (alpha ignored). */
export function displayWindow(img: Image): DisplayWindow {
  if (img.bitDepth <= 8 && !img.isFloat) return { lo: 0, hi: 255 };
  const ch = img.channels;
  const colour = ch === 4 ? 3 : ch === 2 ? 1 : ch;
  let lo = Infinity;
  let hi = -Infinity;
  const d = img.data;
  for (let i = 0; i < d.length; i += ch) {
    for (let c = 0; c < colour; c++) {
      const v = d[i + c]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(hi > lo)) return { lo: Number.isFinite(lo) ? lo : 0, hi: Number.isFinite(lo) ? lo + 1 : 1 };
  return { lo, hi };
}

/**
 * Samples -> 8-bit grey or RGB bytes: round(255 (v - lo) / (hi - lo)), clamped; alpha dropped.
 * @returns bytes and their channel count (1 or 3)
 */
export function toDisplayBytes(img: Image, win: DisplayWindow): { bytes: Uint8Array; channels: 1 | 3 } {
  const ch = img.channels;
  const outCh: 1 | 3 = ch >= 3 ? 3 : 1;
  const n = img.width * img.height;
  const bytes = new Uint8Array(n * outCh);
  const scale = 255 / (win.hi - win.lo);
  const d = img.data;
  for (let p = 0, i = 0, o = 0; p < n; p++, i += ch) {
    for (let c = 0; c < outCh; c++, o++) {
      const v = Math.round((d[i + c]! - win.lo) * scale);
      bytes[o] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { bytes, channels: outCh };
}

/** Encode with toDisplayBytes as a PNG (deterministic: fixed compression settings). */
export async function toDisplayPng(img: Image, win: DisplayWindow): Promise<Buffer> {
  const { bytes, channels } = toDisplayBytes(img, win);
  const pipeline = sharp(bytes, { raw: { width: img.width, height: img.height, channels } });
  return (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png({ compressionLevel: 6 }).toBuffer();
}
