/** Options of `ssim` and `msssim`: one typed object, frozen defaults, one resolver (STYLE §4). */
import { invalidOption, mergeOptions } from '../errors.ts';
import { COLOR_POLICIES, type ColorPolicy } from '../image/color.ts';

/** SSIM conventions (DESIGN §3). */
export type SsimMode = 'wang' | 'matlab2009' | 'skimage';

/** The allowed modes, default first. */
export const SSIM_MODES: readonly SsimMode[] = ['wang', 'matlab2009', 'skimage'];

/** Options of `ssim` (and, where they apply, `msssim`). */
export interface SsimOptions {
  /**
   * `wang` (default): 11x11 Gaussian (sigma 1.5), population covariance, mean over the valid region — Wang's
   * ssim_index.m. `matlab2009`: Wang's ssim.m, which first box-downsamples by round(min(H,W)/256).
   * `skimage`: scikit-image defaults, 7x7 uniform window, sample covariance, map cropped by 3.
   */
  mode: SsimMode;
  /** Data range L; undefined: from the images (8-bit 255, DICOM 2^BitsStored-1, other 16-bit 65535). */
  dataRange: number | undefined;
  /** Colour policy for RGB input. Default `luma` (MATLAB rgb2gray). */
  color: ColorPolicy;
  /** Pixels removed from every border before scoring. Default 0. */
  shave: number;
  /** Luminance constant K1. Default 0.01. */
  K1: number;
  /** Contrast constant K2. Default 0.03. */
  K2: number;
  /** Also return the l, c, s component maps. Default false. */
  maps: boolean;
  /** Also compute MS-SSIM when the image is large enough (min side >= 176). Default true. */
  msssim: boolean;
}

/** Defaults of `SsimOptions`. */
export const DEFAULT_SSIM_OPTIONS: Readonly<SsimOptions> = Object.freeze({
  mode: 'wang',
  dataRange: undefined,
  color: 'luma',
  shave: 0,
  K1: 0.01,
  K2: 0.03,
  maps: false,
  msssim: true,
});

/**
 * Merge `partial` over the defaults and check every value.
 * @throws BlindspotError E_INVALID_OPTION naming the option, what is allowed and what was given.
 */
export function resolveSsimOptions(partial?: Partial<SsimOptions>): SsimOptions {
  const o = mergeOptions(DEFAULT_SSIM_OPTIONS, partial, 'ssim');
  if (!SSIM_MODES.includes(o.mode))
    throw invalidOption('mode', `${SSIM_MODES.join('|')} (default wang)`, o.mode);
  if (!COLOR_POLICIES.includes(o.color)) {
    throw invalidOption('color', `${COLOR_POLICIES.join('|')} (default luma)`, o.color);
  }
  if (
    o.dataRange !== undefined &&
    !(typeof o.dataRange === 'number' && Number.isFinite(o.dataRange) && o.dataRange > 0)
  ) {
    throw invalidOption('dataRange', 'a finite number > 0', o.dataRange);
  }
  if (!Number.isInteger(o.shave) || o.shave < 0)
    throw invalidOption('shave', 'an integer >= 0 (default 0)', o.shave);
  for (const key of ['K1', 'K2'] as const) {
    const v = o[key];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw invalidOption(key, `a finite number > 0 (default ${DEFAULT_SSIM_OPTIONS[key]})`, v);
    }
  }
  if (typeof o.maps !== 'boolean') throw invalidOption('maps', 'true|false (default false)', o.maps);
  if (typeof o.msssim !== 'boolean') throw invalidOption('msssim', 'true|false (default true)', o.msssim);
  return o;
}
