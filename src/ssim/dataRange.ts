/** The data range L of the SSIM constants (DESIGN §3). */
import { BlindspotError, invalidOption } from '../errors.ts';
import type { Image } from '../image/types.ts';

/** A resolved data range and the remarks it produced. */
export interface DataRangeResult {
  dataRange: number;
  warnings: string[];
}

function label(img: Image, fallback: string): string {
  return img.source !== '' ? img.source : fallback;
}

/** BitsStored of a DICOM image, when its decoder recorded it in `meta.bitsStored`. */
function bitsStored(img: Image): number | undefined {
  const v = img.meta['bitsStored'];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * Natural range of one image: DICOM 2^BitsStored-1 (after RescaleSlope when the decoder rescaled: its own
 * |slope|·(2^BitsStored-1)), 8-bit 255, 16-bit 65535, else the decoder's value.
 */
function naturalRange(img: Image): number | null {
  if (img.isFloat) return img.dataRange;
  if (img.format === 'dicom') {
    if (img.meta['rescaled'] === true && img.dataRange !== null) return img.dataRange;
    const bs = bitsStored(img);
    if (bs !== undefined) return 2 ** bs - 1;
  }
  if (img.bitDepth === 8) return 255;
  if (img.bitDepth === 16) return 65535;
  return img.dataRange;
}

/** Largest sample of an image (for the 16-bit warning). */
function maxSample(img: Image): number {
  let m = -Infinity;
  const d = img.data;
  for (let i = 0; i < d.length; i++) if (d[i]! > m) m = d[i]!;
  return m;
}

/**
 * Choose the data range L. An explicit value wins. Otherwise from the ground truth: 8-bit -> 255; DICOM ->
 * 2^BitsStored - 1 (from `meta.bitsStored`); other 16-bit -> 65535, with a warning when the samples of both
 * images fit in fewer bits (12-bit data scored at L = 65535 looks far better than it is: 0.9999 instead of 0.985
 * on the 12-bit MR pair); float input without a range is an error.
 * @param gt ground truth (its range is used)
 * @param test test image (a different natural range adds a warning)
 * @param explicit user-given L (> 0)
 * @throws BlindspotError E_NO_DATA_RANGE naming the file when the samples are float and no range is given;
 *   E_INVALID_OPTION for an explicit value outside [1e-75, 1e75] (the SSIM terms multiply (K1 L)^2 by (K2 L)^2: they must stay finite and non-zero).
 */
export function resolveDataRange(gt: Image, test: Image, explicit?: number): DataRangeResult {
  const warnings: string[] = [];
  if (explicit !== undefined) {
    // C1 * C2 = (K1 L)^2 (K2 L)^2 and L^2 (PSNR) must stay finite and non-zero: 1e308 gave SSIM NaN and "PSNR inf".
    if (!(Number.isFinite(explicit) && explicit >= 1e-75 && explicit <= 1e75))
      throw invalidOption('dataRange', 'a number in [1e-75, 1e75]', explicit);
    return { dataRange: explicit, warnings };
  }
  const lGt = naturalRange(gt);
  if (lGt === null) {
    throw new BlindspotError(
      'E_NO_DATA_RANGE',
      'float samples have no natural data range; pass --data-range L (option dataRange)',
      label(gt, 'ground truth'),
    );
  }
  // A float test image (e.g. an upscaler's float TIFF of signed CT data) is on the GT's scale: the GT sets L.
  const lTest = naturalRange(test) ?? lGt;
  if (lTest !== lGt) {
    warnings.push(
      `data range: the test image's natural range ${lTest} differs from the ground truth's; using ${lGt}`,
    );
  }
  const dicom = gt.format === 'dicom' && bitsStored(gt) !== undefined;
  if (!dicom && !gt.isFloat && gt.bitDepth === 16 && lGt === 65535) {
    const peak = Math.max(maxSample(gt), maxSample(test));
    const bits = Math.max(1, Math.ceil(Math.log2(peak + 1)));
    if (bits < 16) {
      warnings.push(
        `data range: L = 65535 (16-bit) but no sample exceeds ${peak} (${bits} bits); if the data are stored with ` +
          `fewer bits (e.g. 12-bit MR/CT) this inflates SSIM — pass --data-range 2^BitsStored-1 (4095 for 12-bit)`,
      );
    }
  }
  return { dataRange: lGt, warnings };
}
