/**
 * The one options object of the block engine (DESIGN §3b): block geometry, SSIM constants, data range, and every
 * gate and fail threshold of the six damage axes. Every output records the resolved object.
 *
 * Grey-level units: gates and thresholds that DESIGN states in grey levels (dmu 8, sd gates 1, RMSE 8, the 0.5
 * grey-level rho gate, R's 1/12 floor, the A4/A5 gates) are given here **on an 8-bit scale** and the kernel applies
 * them to values multiplied by 255/L. That is the same as scaling each threshold by L/255: for 16-bit data
 * (L = 65535) the A1 threshold of 8 means a mean shift of 8 * 257 = 2056 raw units, i.e. the same fraction of the
 * range. The raw axis columns a1, a2 (its +1), a4/a5 energies and a6 are reported on that 8-bit scale too; the
 * moment columns (mx, my, sx, sy, sxy, dmu, se) stay in the data's own units.
 */
import { invalidOption, mergeOptions } from '../errors.ts';

export type DiagnoseColor = 'luma' | 'ycbcr-y';

export interface DiagnoseOptions {
  /** Block side B in pixels (>= 7 so that one 7x7 skimage window fits). Default 8. */
  blockSize: number;
  /** Step between block origins in pixels; null = blockSize (non-overlapping). Default null. */
  stride: number | null;
  /** SSIM constants: C1 = (K1 L)^2, C2 = (K2 L)^2, C3 = C2/2. Defaults 0.01, 0.03. */
  K1: number;
  K2: number;
  /** Data range L; null = the images' natural range (8-bit 255, 16-bit 65535, DICOM 2^BitsStored - 1). */
  dataRange: number | null;
  /** Colour policy for RGB input (DESIGN §3): MATLAB rgb2gray luma or the Y of rgb2ycbcr. Default 'luma'. */
  color: DiagnoseColor;
  /** rho = sxy/(sx sy) is NaN when sx or sy is below this (8-bit grey levels). Default 0.5. */
  rhoGate: number;
  /** R = se^2 / max(sx^2, rFloorVariance): the floor is one grey level's rounding-noise variance. Default 1/12. */
  rFloorVariance: number;
  /** A1 fails when |dmu| >= this (8-bit grey levels). Always gated. Default 8. */
  a1Fail: number;
  /** A2 is gated by max(sx, sy) >= a2Gate (grey levels); fails when |log2((sy+1)/(sx+1))| >= a2Fail. Defaults 1, 1. */
  a2Gate: number;
  a2Fail: number;
  /**
   * A3 is gated by sx >= a3Gate and sy >= a3Gate; fails when rho <= a3FailRho (a3 = 1 - rho >= 1 - a3FailRho).
   * Defaults 4, 0.5. DESIGN's gate of 1 grey level let sensor noise decide: a GT shifted by one pixel failed A3 in
   * 24% of chest X-ray blocks (noise decorrelates); at 4 it is 0.4% (examples/tier3-gate-controls.ts).
   */
  a3Gate: number;
  a3FailRho: number;
  /**
   * A4 is gated by the GT's RMS Sobel gradient (Sobel / 8, grey levels per pixel) >= a4Gate; fails when
   * 1 - cosine >= a4FailCosine or |log2 gradient-energy ratio| >= a4FailLog2Energy. Defaults 3, 0.5, 1 (the gate
   * was set on the GT-vs-shifted-GT control: 9.6% of blocks failed at 1.5, 1.0% at 3).
   */
  a4Gate: number;
  a4FailCosine: number;
  a4FailLog2Energy: number;
  /**
   * A5 is gated by max RMS 4-neighbour Laplacian (grey levels) >= a5Gate; fails when |log2 energy ratio| >= a5Fail.
   * Defaults 8, 1. The Laplacian of noise of sd s has RMS 4.5 s, so a lower gate lets JPEG-level noise changes fail:
   * GT vs JPEG q95 failed A5 in 9.4% of chest X-ray blocks at a gate of 3, 0.2% at 8.
   */
  a5Gate: number;
  a5Fail: number;
  /** A6 fails when RMSE >= this (8-bit grey levels; 8 = block PSNR 30 dB). Always gated. Default 8. */
  a6Fail: number;
  /**
   * Regularisers of the A4 and A5 log2 energy ratios, log2((Ey + e)/(Ex + e)) (8-bit grey levels squared), so a
   * flat block never gives an infinite ratio. Defaults: a quarter of each gate's energy (a4Gate^2/4, a5Gate^2/4).
   */
  a4EnergyFloor: number;
  a5EnergyFloor: number;
  /** Hidden threshold T (Silent regime, Hidden Collapse); null = the pair's own p90 of non-border ssim_blk. */
  hiddenThreshold: number | null;
  /** Visible threshold T10 (Visible Collapse); null = the pair's own p10 of non-border ssim_blk. */
  visibleThreshold: number | null;
  /** Hidden damage, AC: R >= this. Default 1 (block SNR <= 0 dB). */
  hiddenR: number;
  /** Hidden damage, DC: |dmu| >= this (8-bit grey levels). Default 8. */
  hiddenDmu: number;
}

export const DEFAULT_DIAGNOSE_OPTIONS: Readonly<DiagnoseOptions> = Object.freeze({
  blockSize: 8,
  stride: null,
  K1: 0.01,
  K2: 0.03,
  dataRange: null,
  color: 'luma',
  rhoGate: 0.5,
  rFloorVariance: 1 / 12,
  a1Fail: 8,
  a2Gate: 1,
  a2Fail: 1,
  a3Gate: 4,
  a3FailRho: 0.5,
  a4Gate: 3,
  a4FailCosine: 0.5,
  a4FailLog2Energy: 1,
  a5Gate: 8,
  a5Fail: 1,
  a6Fail: 8,
  a4EnergyFloor: 3 ** 2 / 4,
  a5EnergyFloor: 8 ** 2 / 4,
  hiddenThreshold: null,
  visibleThreshold: null,
  hiddenR: 1,
  hiddenDmu: 8,
} satisfies DiagnoseOptions);

/** Options after resolution: stride is a number. (dataRange may still be null until images are seen.) */
export type ResolvedDiagnoseOptions = DiagnoseOptions & { stride: number };

const positive = [
  'K1',
  'K2',
  'a1Fail',
  'a2Fail',
  'a3Gate',
  'a4FailCosine',
  'a4FailLog2Energy',
  'a5Fail',
  'a6Fail',
  'hiddenR',
  'hiddenDmu',
] as const;
const nonNegative = [
  'rhoGate',
  'rFloorVariance',
  'a2Gate',
  'a4Gate',
  'a5Gate',
  'a4EnergyFloor',
  'a5EnergyFloor',
] as const;

/**
 * Merge `partial` over `DEFAULT_DIAGNOSE_OPTIONS` and check every value.
 * @param partial - any subset of `DiagnoseOptions`; unknown keys are rejected.
 * @returns the resolved options (stride filled in).
 * @throws BlindspotError E_INVALID_OPTION naming the option, what is allowed, and the value given.
 * @example resolveDiagnoseOptions({ blockSize: 16 }) // stride 16, every DESIGN default kept
 */
export function resolveDiagnoseOptions(partial?: Partial<DiagnoseOptions>): ResolvedDiagnoseOptions {
  const o = mergeOptions(DEFAULT_DIAGNOSE_OPTIONS, partial, 'diagnose');
  if (!Number.isInteger(o.blockSize) || o.blockSize < 7 || o.blockSize > 4096) {
    throw invalidOption('blockSize', 'an integer from 7 to 4096 (default 8)', o.blockSize);
  }
  const stride = o.stride ?? o.blockSize;
  if (!Number.isInteger(stride) || stride < 1)
    throw invalidOption('stride', 'an integer >= 1 or null (default: blockSize)', o.stride);
  if (o.dataRange !== null && !(Number.isFinite(o.dataRange) && o.dataRange > 0)) {
    throw invalidOption(
      'dataRange',
      "a positive number or null (default: the images' natural range)",
      o.dataRange,
    );
  }
  if (o.color !== 'luma' && o.color !== 'ycbcr-y')
    throw invalidOption('color', 'luma|ycbcr-y (default luma)', o.color);
  for (const k of positive) {
    if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] > 0)) {
      throw invalidOption(k, `a positive number (default ${DEFAULT_DIAGNOSE_OPTIONS[k]})`, o[k]);
    }
  }
  for (const k of nonNegative) {
    if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] >= 0)) {
      throw invalidOption(k, `a number >= 0 (default ${DEFAULT_DIAGNOSE_OPTIONS[k]})`, o[k]);
    }
  }
  if (!(o.a3FailRho > -1 && o.a3FailRho < 1))
    throw invalidOption('a3FailRho', 'a number in (-1, 1) (default 0.5)', o.a3FailRho);
  for (const k of ['hiddenThreshold', 'visibleThreshold'] as const) {
    const v = o[k];
    if (v !== null && !(Number.isFinite(v) && v > -1 && v <= 1))
      throw invalidOption(k, "a number in (-1, 1] or null (default: the pair's own quantile)", v);
  }
  return { ...o, stride };
}

/** SSIM constants for data range L. */
export function ssimConstants(
  o: Pick<DiagnoseOptions, 'K1' | 'K2'>,
  L: number,
): { C1: number; C2: number; C3: number } {
  const C1 = (o.K1 * L) ** 2;
  const C2 = (o.K2 * L) ** 2;
  return { C1, C2, C3: C2 / 2 };
}
