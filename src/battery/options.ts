/** Options of the metric battery (one object, frozen defaults, unknown keys rejected). */
import { invalidOption, mergeOptions } from '../errors.ts';

export interface BatteryOptions {
  /** Data range L of the inputs (maps them to the 8-bit view, see gray8.ts); null = from the GT as `ssim` does. */
  dataRange: number | null;
  /** Patch size of the engine's local quality (its P6 / LFV figures use 64). Default 64. */
  localPatch: number;
  /** A second local quality at the run's block size (default 8); 0 skips it (`run` has it as blk_*). */
  blockSize: number;
  /** Sharpness kernel: 'kornia' (default; the engine's path with PyTorch) or 'opencv' (its CPU fallback). */
  sharpnessKernel: 'kornia' | 'opencv';
  /** Edge density: 'sobel' (default; Kornia Sobel > 0.1) or 'canny' (the CPU fallback, Canny 100/200 share). */
  edgeDetector: 'sobel' | 'canny';
}

export const DEFAULT_BATTERY_OPTIONS: Readonly<BatteryOptions> = Object.freeze({
  dataRange: null,
  localPatch: 64,
  blockSize: 8,
  sharpnessKernel: 'kornia',
  edgeDetector: 'sobel',
});

/**
 * Merge and check battery options.
 * @throws BlindspotError E_INVALID_OPTION for an unknown key or a value outside its range.
 */
export function resolveBatteryOptions(partial?: Partial<BatteryOptions>): BatteryOptions {
  const o = mergeOptions(DEFAULT_BATTERY_OPTIONS, partial, 'battery');
  if (o.dataRange !== null && !(typeof o.dataRange === 'number' && Number.isFinite(o.dataRange) && o.dataRange > 0)) {
    throw invalidOption('dataRange', 'a number > 0 or null (default null: from the GT)', o.dataRange);
  }
  if (!Number.isInteger(o.localPatch) || o.localPatch < 7) throw invalidOption('localPatch', 'an integer >= 7 (default 64)', o.localPatch);
  if (!Number.isInteger(o.blockSize) || (o.blockSize !== 0 && o.blockSize < 7)) {
    throw invalidOption('blockSize', '0 or an integer >= 7 (default 8)', o.blockSize);
  }
  if (o.sharpnessKernel !== 'kornia' && o.sharpnessKernel !== 'opencv') {
    throw invalidOption('sharpnessKernel', 'kornia|opencv (default kornia)', o.sharpnessKernel);
  }
  if (o.edgeDetector !== 'sobel' && o.edgeDetector !== 'canny') {
    throw invalidOption('edgeDetector', 'sobel|canny (default sobel)', o.edgeDetector);
  }
  return o;
}
