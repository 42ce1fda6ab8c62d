/**
 * The one options object of the block engine (DESIGN §3b, §3c): block geometry, SSIM constants, data range, the
 * display scale, region of interest and damage floors, and every gate and fail threshold of the six damage axes.
 * Every output records the resolved object.
 *
 * Units (DESIGN §3c): SSIM keeps the conventional data range L (C1 = (K1 L)^2, C2 = (K2 L)^2). Every gate,
 * threshold and floor stated in grey levels (dmu 8, sd gates, RMSE 8, the rho gate, the A4/A5 gates, the floors)
 * is in **display grey levels**: one level is W/255 data units, W the display window width (DICOM VOI window,
 * else the GT's robust p0.5..p99.5 range over the ROI; 'data-range' gives W = L, the published convention, which
 * for 8-bit data is the plain 8-bit scale). The raw axis columns a1, a2 (its +1), a4/a5 energies and a6 are in
 * display levels too; the moment columns (mx, my, sx, sy, sxy, dmu, se) stay in the data's own units.
 */
import type { Image } from '../image/types.ts';
import { invalidOption, mergeOptions } from '../errors.ts';
import { resolveAutoRoiOptions, type AutoRoiOptions } from './roi.ts';

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
  /**
   * Display window width W in data units: 'auto' (DICOM VOI WindowWidth when present, else the GT's p0.5..p99.5
   * over the ROI), 'data-range' (W = L: the published convention), or a number. Default 'auto'.
   */
  displayWidth: 'auto' | 'data-range' | number;
  /**
   * Region of interest: 'auto' (a mask from the GT alone: src/tier3/roi.ts), 'all' (every block: the published
   * convention) or a mask image of the GT's size (non-zero = inside). Thresholds and headline shares use ROI blocks.
   * Default 'auto'.
   */
  roi: 'auto' | 'all' | Image;
  /** Parameters of the automatic ROI (src/tier3/roi.ts). Default {} (its defaults). */
  autoRoi: Partial<AutoRoiOptions>;
  /** AC damage floor: se >= max(floorAc display levels, floorNoiseFactor x the GT's noise sd). Default 2. */
  floorAc: number;
  /** Multiple of the GT's noise sd (Immerkaer 1996) below which a texture error is not damage. Default 1.5. */
  floorNoiseFactor: number;
  /** AC damage also where the GT has texture (R < 1) once se >= visibleAc display levels; null = off. Default 4. */
  visibleAc: number | null;
  /** Hidden threshold used when T90 is degenerate (1, or fewer than minRoiBlocks ROI blocks). Default 0.99. */
  fallbackThreshold: number;
  /** Fewer non-border ROI blocks than this make the pair's own T90 unreliable: fallbackThreshold is used. Default 1000. */
  minRoiBlocks: number;
  /** rho = sxy/(sx sy) is NaN when sx or sy is below this (display grey levels). Default 0.5. */
  rhoGate: number;
  /**
   * R = se^2 / max(sx^2, rFloorVariance), in squared data units: the default is the variance of rounding to
   * integers, so a flat integer block does not divide by zero. Default 1/12.
   */
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
   * A5 is gated by max RMS 4-neighbour Laplacian (display grey levels) >= a5Gate; fails when |log2 energy ratio| >=
   * a5Fail. Defaults 10, 1. The Laplacian of noise of sd s has RMS 4.5 s, so a lower gate lets JPEG-level noise
   * changes fail: GT vs JPEG q95 failed A5 in 9.4% of chest X-ray blocks at a gate of 3 and 0.12% at 8 on the
   * 8-bit scale; in display units (X-ray windows ~205 wide, so levels are finer) 1.80% at 8, 0.23% at 10 (25 NIH
   * X-rays, examples/tier3-gate-controls.ts).
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
  /** Hidden damage, AC: R >= this (and se above the floor). Default 1 (block SNR <= 0 dB). */
  hiddenR: number;
  /** Hidden damage, DC: |dmu| >= this (display grey levels). Default 8. */
  hiddenDmu: number;
}

export const DEFAULT_DIAGNOSE_OPTIONS: Readonly<DiagnoseOptions> = Object.freeze({
  blockSize: 8,
  stride: null,
  K1: 0.01,
  K2: 0.03,
  dataRange: null,
  color: 'luma',
  displayWidth: 'auto',
  roi: 'auto',
  autoRoi: Object.freeze({}),
  floorAc: 2,
  floorNoiseFactor: 1.5,
  visibleAc: 4,
  fallbackThreshold: 0.99,
  minRoiBlocks: 1000,
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
  a5Gate: 10,
  a5Fail: 1,
  a6Fail: 8,
  a4EnergyFloor: 3 ** 2 / 4,
  a5EnergyFloor: 10 ** 2 / 4,
  hiddenThreshold: null,
  visibleThreshold: null,
  hiddenR: 1,
  hiddenDmu: 8,
} satisfies DiagnoseOptions);

/** Options after resolution: stride is a number. (dataRange may still be null until images are seen.) */
export type ResolvedDiagnoseOptions = DiagnoseOptions & { stride: number; autoRoi: AutoRoiOptions };

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
  'floorAc',
  'floorNoiseFactor',
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
  const dw = o.displayWidth;
  if (!(dw === 'auto' || dw === 'data-range' || (typeof dw === 'number' && Number.isFinite(dw) && dw > 0))) {
    throw invalidOption('displayWidth', "'auto', 'data-range' or a positive number (default 'auto')", dw);
  }
  if (!(o.roi === 'auto' || o.roi === 'all' || isMaskImage(o.roi))) {
    throw invalidOption('roi', "'auto', 'all' or a mask image (default 'auto')", typeof o.roi === 'object' ? 'an object that is not an image' : o.roi);
  }
  const autoRoi = resolveAutoRoiOptions(o.autoRoi);
  if (o.visibleAc !== null && !(typeof o.visibleAc === 'number' && Number.isFinite(o.visibleAc) && o.visibleAc > 0)) {
    throw invalidOption('visibleAc', 'a positive number or null (default 4)', o.visibleAc);
  }
  if (!(typeof o.fallbackThreshold === 'number' && o.fallbackThreshold > 0 && o.fallbackThreshold < 1)) {
    throw invalidOption('fallbackThreshold', 'a number in (0, 1) (default 0.99)', o.fallbackThreshold);
  }
  if (!Number.isInteger(o.minRoiBlocks) || o.minRoiBlocks < 1) throw invalidOption('minRoiBlocks', 'an integer >= 1 (default 1000)', o.minRoiBlocks);
  for (const k of ['hiddenThreshold', 'visibleThreshold'] as const) {
    const v = o[k];
    if (v !== null && !(Number.isFinite(v) && v > -1 && v <= 1))
      throw invalidOption(k, "a number in (-1, 1] or null (default: the pair's own quantile)", v);
  }
  return { ...o, stride, autoRoi };
}

function isMaskImage(v: unknown): v is Image {
  const m = v as Partial<Image> | null;
  return m !== null && typeof m === 'object' && typeof m.width === 'number' && typeof m.height === 'number' && m.data !== undefined;
}

/**
 * The options as they are recorded in result files: a mask image becomes 'mask' (its file is recorded separately),
 * everything else is kept.
 */
export function recordableDiagnoseOptions<T extends Pick<DiagnoseOptions, 'roi'>>(o: T): Omit<T, 'roi'> & { roi: 'auto' | 'all' | 'mask' } {
  return { ...o, roi: typeof o.roi === 'string' ? o.roi : 'mask' };
}

/**
 * The options that reproduce the published, floor-less definition (DESIGN §3b before §3c): every block, thresholds
 * on the data range, no floors, no visibility rule. `--published` on the command line.
 */
export const PUBLISHED_DEFINITION: Readonly<Partial<DiagnoseOptions>> = Object.freeze({
  displayWidth: 'data-range',
  roi: 'all',
  floorAc: 0,
  floorNoiseFactor: 0,
  visibleAc: null,
});

/** SSIM constants for data range L. */
export function ssimConstants(
  o: Pick<DiagnoseOptions, 'K1' | 'K2'>,
  L: number,
): { C1: number; C2: number; C3: number } {
  const C1 = (o.K1 * L) ** 2;
  const C2 = (o.K2 * L) ** 2;
  return { C1, C2, C3: C2 / 2 };
}
