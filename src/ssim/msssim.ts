/**
 * Multi-scale SSIM, as Wang's msssim.m: five scales, weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333; at each
 * scale the 11x11 Gaussian (sigma 1.5) SSIM over the valid region; between scales a 2x2 average with symmetric
 * borders and MATLAB's kernel centre, keeping every second sample (`imfilter(ones(2)/4, 'symmetric', 'same')`,
 * `(1:2:end)`). MS-SSIM = Π_{j<5} mcs_j^w_j · mssim_5^w_5, where mcs_j is the mean contrast-structure term.
 * A negative mcs raised to a fractional weight is NaN here (MATLAB would return a complex number).
 * Reference: Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multiscale structural similarity for image quality
 * assessment", Asilomar 2003, doi:10.1109/ACSSC.2003.1292216.
 */
import { boxDownsample } from './downsample.ts';
import { ssimMap, type SsimConstants } from './kernel.ts';
import { gaussianTaps } from './window.ts';

/** The five scale weights of Wang et al. 2003. */
export const MSSSIM_WEIGHTS: readonly number[] = Object.freeze([0.0448, 0.2856, 0.3001, 0.2363, 0.1333]);

/** msssim.m refuses images whose smallest side, halved four times, is below the 11-pixel window: min side 176. */
export const MSSSIM_MIN_SIDE = 11 * 2 ** (MSSSIM_WEIGHTS.length - 1);

/** Per-scale values of MS-SSIM. */
export interface MsssimPlaneResult {
  msssim: number;
  /** Mean SSIM per scale. */
  mssim: number[];
  /** Mean contrast-structure term per scale. */
  mcs: number[];
}

/**
 * MS-SSIM of two planes (callers check the size against `MSSSIM_MIN_SIDE`).
 * @param k constants C1, C2 (covNorm is 1 as in msssim.m)
 * @param firstScale the full-size Wang SSIM mean and cs mean when the caller already has them (saves a pass)
 */
export function msssimPlanes(
  x: Float64Array | Float32Array,
  y: Float64Array | Float32Array,
  width: number,
  height: number,
  k: Pick<SsimConstants, 'C1' | 'C2'>,
  firstScale?: { mssim: number; meanCs: number },
): MsssimPlaneResult {
  const taps = gaussianTaps(11, 1.5);
  const consts: SsimConstants = { C1: k.C1, C2: k.C2, covNorm: 1 };
  const mssim: number[] = [];
  const mcs: number[] = [];
  let a: Float64Array | Float32Array = x;
  let b: Float64Array | Float32Array = y;
  let w = width;
  let h = height;
  const levels = MSSSIM_WEIGHTS.length;
  // Only the means are kept: every scale's map goes into one scratch buffer (no fresh 8 MB map per call).
  let scratch: Float64Array | undefined;
  for (let level = 0; level < levels; level++) {
    const need = (w - taps.length + 1) * (h - taps.length + 1);
    if (!(level === 0 && firstScale) && (scratch === undefined || scratch.length < need))
      scratch = new Float64Array(need);
    const r =
      level === 0 && firstScale
        ? firstScale
        : ssimMap(a, b, w, h, taps, consts, { withCs: true, out: scratch });
    mssim.push(r.mssim);
    mcs.push(r.meanCs);
    if (level < levels - 1) {
      const da = boxDownsample(a, w, h, 2);
      const db = boxDownsample(b, w, h, 2);
      a = da.data;
      b = db.data;
      w = da.width;
      h = da.height;
    }
  }
  let value = mssim[levels - 1]! ** MSSSIM_WEIGHTS[levels - 1]!;
  for (let level = 0; level < levels - 1; level++) value *= mcs[level]! ** MSSSIM_WEIGHTS[level]!;
  return { msssim: value, mssim, mcs };
}
