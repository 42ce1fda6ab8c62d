/** Encode an integer-valued `Image` as PNG at its bit depth (8 or 16), grey or RGB, deterministically. */
import sharp from 'sharp';
import { BlindspotError } from '../errors.ts';
import type { Image } from '../image/types.ts';

/**
 * PNG bytes of `image`: 16-bit when `image.bitDepth > 8`, else 8-bit; samples are rounded and clamped.
 * Same samples -> same bytes (fixed zlib settings, no timestamps or metadata).
 * @throws BlindspotError E_UNSUPPORTED for channel counts other than 1 or 3, and for float images (PNG holds
 *   integers; writing float samples would silently quantise them).
 */
export async function encodePng(image: Image): Promise<Buffer> {
  const { width, height, channels } = image;
  if (channels !== 1 && channels !== 3) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `cannot write ${channels}-channel PNG`,
      image.source || undefined,
    );
  }
  if (image.isFloat) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      'float samples cannot be written as PNG without loss (convert the GT to 8/16-bit)',
      image.source || undefined,
    );
  }
  const sixteen = image.bitDepth > 8;
  const max = sixteen ? 65535 : 255;
  const n = width * height * channels;
  const samples = sixteen ? new Uint16Array(n) : new Uint8Array(n);
  const src = image.data;
  for (let i = 0; i < n; i++) {
    const v = Math.round(src[i]!);
    samples[i] = v < 0 ? 0 : v > max ? max : v;
  }
  const raw = { width, height, channels: channels as 1 | 3 };
  let pipeline = sharp(samples, { raw });
  if (sixteen) pipeline = pipeline.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  else if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  return pipeline.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }).toBuffer();
}
