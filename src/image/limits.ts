/**
 * Size caps of image input, checked from headers before anything is allocated (a 261-byte PNG header can claim
 * 16383x16383 pixels, a 3 MB .nii.gz can inflate to 9 GB, `/dev/zero` never ends). One cap, in pixels, raised with
 * the CLI's `--max-pixels N` or the environment variable `BLINDSPOT_MAX_PIXELS` (worker threads inherit it); file
 * and decompressed sizes are capped at 16 bytes per allowed pixel. Every decoder calls `checkPixelCount`.
 */
import { constants } from 'node:buffer';
import { BlindspotError } from '../errors.ts';

/** Default pixel cap per decoded image: 8192 x 8192 = 67,108,864 (4x a 1024^2 x 16 slide stack). */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

/** Bytes of file (or decompressed gzip) allowed per pixel of the cap. */
const BYTES_PER_PIXEL = 16;

/** Environment variable that sets the pixel cap (what `--max-pixels` sets). */
export const MAX_PIXELS_ENV = 'BLINDSPOT_MAX_PIXELS';

/**
 * The pixel cap in force: `BLINDSPOT_MAX_PIXELS` when set to a positive integer, else {@link DEFAULT_MAX_PIXELS}.
 * @throws BlindspotError E_INVALID_OPTION for a set but malformed value.
 */
export function maxPixels(): number {
  const v = process.env[MAX_PIXELS_ENV];
  if (v === undefined || v === '') return DEFAULT_MAX_PIXELS;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new BlindspotError('E_INVALID_OPTION', `invalid --max-pixels / ${MAX_PIXELS_ENV}: expected a positive integer (default ${DEFAULT_MAX_PIXELS}), got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Largest image file, or decompressed gzip stream, read: 16 bytes per allowed pixel (1 GiB by default), at most
 * Node's largest Buffer (4 GiB), so a raised cap still ends in E_TOO_LARGE, never in "corrupt".
 */
export function maxInputBytes(): number {
  return Math.min(maxPixels() * BYTES_PER_PIXEL, constants.MAX_LENGTH);
}

const RAISE = `raise it with --max-pixels N or ${MAX_PIXELS_ENV}`;

/**
 * Refuse an image whose header claims more pixels than the cap, or non-positive/non-integer dimensions, before
 * the decoder allocates its samples.
 * @param width,height dimensions from the header
 * @param frames frames (or slices) the decoder will hold at once (default 1)
 * @param file the file, named in the message
 * @throws BlindspotError E_CORRUPT for dimensions < 1, E_TOO_LARGE over the cap.
 */
export function checkPixelCount(width: number, height: number, file: string, frames = 1): void {
  if (!(Number.isInteger(width) && width >= 1 && Number.isInteger(height) && height >= 1 && Number.isInteger(frames) && frames >= 1)) {
    throw new BlindspotError('E_CORRUPT', `header gives impossible dimensions ${width}x${height}${frames !== 1 ? `x${frames}` : ''}`, file);
  }
  const pixels = width * height * frames;
  const cap = maxPixels();
  if (pixels > cap) {
    const dims = frames !== 1 ? `${width}x${height}x${frames}` : `${width}x${height}`;
    throw new BlindspotError('E_TOO_LARGE', `image of ${dims} = ${pixels} pixels is over the limit of ${cap} pixels (${RAISE})`, file);
  }
}

/**
 * Refuse a file or decompressed stream over {@link maxInputBytes}.
 * @throws BlindspotError E_TOO_LARGE naming what is too large.
 */
export function checkByteCount(bytes: number, what: string, file: string): void {
  const cap = maxInputBytes();
  if (bytes > cap) throw new BlindspotError('E_TOO_LARGE', `${what} of ${bytes} bytes is over the limit of ${cap} bytes (16 per allowed pixel; ${RAISE})`, file);
}

/** The message for a stream that stopped at the cap (gunzip's maxOutputLength). */
export function tooLargeDecompressed(file: string): BlindspotError {
  const cap = maxInputBytes();
  return new BlindspotError('E_TOO_LARGE', `gzip data inflates to more than ${cap} bytes, the limit (16 per allowed pixel; ${RAISE})`, file);
}
