/** Input checks shared by `ssim` and `msssim`: one-line errors naming the file. */
import { BlindspotError } from '../errors.ts';
import type { Image } from '../image/types.ts';

/** The image's file name for messages, or a role when it was built in memory. */
export function imageLabel(img: Image, role: 'ground truth' | 'test image'): string {
  return img.source !== '' ? img.source : role;
}

/**
 * GT and test must have the same width and height.
 * @throws BlindspotError E_SIZE_MISMATCH naming both files.
 */
export function checkSameSize(gt: Image, test: Image): void {
  if (gt.width !== test.width || gt.height !== test.height) {
    throw new BlindspotError(
      'E_SIZE_MISMATCH',
      `size ${test.width}x${test.height} does not match the ground truth ${imageLabel(gt, 'ground truth')} ` +
        `(${gt.width}x${gt.height})`,
      imageLabel(test, 'test image'),
    );
  }
}

/**
 * Whether an image can hold NaN/Infinity: float and in-memory images can; integer decoders (8/16-bit) cannot,
 * so their scan is skipped.
 */
export function mayHoldNonFinite(img: Image): boolean {
  return img.isFloat || img.format === 'raw' || !(img.bitDepth === 8 || img.bitDepth === 16);
}

/**
 * Every sample must be finite.
 * @throws BlindspotError E_NONFINITE naming the file and the first bad sample.
 */
export function checkFinite(img: Image, role: 'ground truth' | 'test image'): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    // v - v is 0 for finite v and NaN for NaN/±Infinity: one comparison per sample.
    if (v - v !== 0) {
      const pixel = Math.floor(i / img.channels);
      const x = pixel % img.width;
      const y = Math.floor(pixel / img.width);
      const ch = img.channels > 1 ? ` channel ${i % img.channels}` : '';
      throw new BlindspotError('E_NONFINITE', `sample at x=${x}, y=${y}${ch} is ${v}`, imageLabel(img, role));
    }
  }
}
