/**
 * SSIM of volumes: `ssim` on every slice (per-slice results), their mean (the per-volume summary MRI/CT papers
 * report), PSNR over all voxels, and optionally 3-D SSIM: Wang's formula with the window extended to three
 * dimensions (the separable product of the mode's 1-D taps along x, y and the slice axis; mean over the valid
 * region, as the 2-D `wang`/`skimage` modes do).
 */
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import type { Image } from '../image/types.ts';
import { resolveDataRange } from '../ssim/dataRange.ts';
import { psnrFromMse } from '../ssim/psnr.ts';
import { ssim } from '../ssim/ssim.ts';
import {
  DEFAULT_SSIM_OPTIONS,
  resolveSsimOptions,
  type SsimMode,
  type SsimOptions,
} from '../ssim/options.ts';
import { gaussianTaps, uniformTaps } from '../ssim/window.ts';
import { volumeSlice, type Volume } from './read.ts';

/** Options of `volumeSsim`: those of `ssim` plus `ssim3d`. */
export interface VolumeSsimOptions extends SsimOptions {
  /** Also compute 3-D SSIM (modes wang and skimage; needs at least as many slices as the window). Default false. */
  ssim3d: boolean;
}

/** Defaults of `volumeSsim` (MS-SSIM per slice off: the per-volume summary is SSIM and PSNR). */
export const DEFAULT_VOLUME_SSIM_OPTIONS: Readonly<VolumeSsimOptions> = Object.freeze({
  ...DEFAULT_SSIM_OPTIONS,
  msssim: false,
  ssim3d: false,
});

/** Scores of one slice. */
export interface SliceSsim {
  slice: number;
  mssim: number;
  psnr: number;
  msssim: number | null;
}

/** What `volumeSsim` returns. */
export interface VolumeSsimResult {
  /** Mean over slices of the per-slice MSSIM. */
  mssim: number;
  /** PSNR over every voxel (pooled MSE). */
  psnr: number;
  /** 3-D SSIM, or null when not asked for. */
  ssim3d: number | null;
  slices: SliceSsim[];
  mode: SsimMode;
  dataRange: number;
  width: number;
  height: number;
  depth: number;
  warnings: string[];
  options: VolumeSsimOptions;
}

/**
 * Merge and check `volumeSsim` options.
 * @throws BlindspotError E_INVALID_OPTION.
 */
export function resolveVolumeSsimOptions(partial?: Partial<VolumeSsimOptions>): VolumeSsimOptions {
  const o = mergeOptions(DEFAULT_VOLUME_SSIM_OPTIONS, partial, 'volumeSsim');
  const { ssim3d, ...rest } = o;
  if (typeof ssim3d !== 'boolean') throw invalidOption('ssim3d', 'true|false (default false)', ssim3d);
  if (ssim3d && o.mode === 'matlab2009') throw invalidOption('mode with ssim3d', 'wang|skimage', o.mode);
  return { ...resolveSsimOptions(rest), ssim3d };
}

/**
 * SSIM of a test volume against its ground truth: per slice, mean over slices, PSNR, optional 3-D SSIM.
 * @param gt ground-truth volume
 * @param test test volume, same width, height and depth
 * @param options `ssim` options (mode, dataRange, K1, K2, shave...) plus ssim3d (default false)
 * @throws BlindspotError E_SIZE_MISMATCH, E_TOO_SMALL, E_NO_DATA_RANGE, E_NONFINITE, E_INVALID_OPTION.
 * @example
 * const r = volumeSsim(await readVolume('gt.nii.gz'), await readVolume('sr.nii.gz'), { ssim3d: true });
 */
export function volumeSsim(gt: Volume, test: Volume, options?: Partial<VolumeSsimOptions>): VolumeSsimResult {
  const o = resolveVolumeSsimOptions(options);
  if (gt.width !== test.width || gt.height !== test.height || gt.depth !== test.depth) {
    throw new BlindspotError(
      'E_SIZE_MISMATCH',
      `volume ${test.width}x${test.height}x${test.depth} does not match the ground truth ${gt.source} (${gt.width}x${gt.height}x${gt.depth})`,
      test.source,
    );
  }
  const { ssim3d, ...rest } = o;
  // One data range for the whole volume (and one remark about it), not one per slice.
  const whole = (v: Volume): Image => ({ ...volumeSlice(v, 0), height: v.height * v.depth, data: v.data });
  const range = resolveDataRange(whole(gt), whole(test), o.dataRange);
  const dataRange = range.dataRange;
  const ssimOptions = { ...rest, dataRange };
  const slices: SliceSsim[] = [];
  const warnings = new Set<string>([...gt.warnings, ...test.warnings, ...range.warnings]);
  let sumMssim = 0;
  let sumSq = 0;
  for (let k = 0; k < gt.depth; k++) {
    const r = ssim(volumeSlice(gt, k), volumeSlice(test, k), ssimOptions);
    for (const w of r.warnings) warnings.add(w);
    slices.push({ slice: k, mssim: r.mssim, psnr: r.psnr, msssim: r.msssim });
    sumMssim += r.mssim;
    // Pooled MSE from each slice's PSNR would lose identical slices (inf): recompute from the samples.
    sumSq += squaredError(volumeSlice(gt, k).data, volumeSlice(test, k).data);
  }
  return {
    mssim: sumMssim / gt.depth,
    psnr: psnrFromMse(sumSq / gt.data.length, dataRange),
    ssim3d: ssim3d ? ssim3D(gt, test, o, dataRange) : null,
    slices,
    mode: o.mode,
    dataRange,
    width: gt.width,
    height: gt.height,
    depth: gt.depth,
    warnings: [...warnings],
    options: o,
  };
}

function squaredError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!;
    s += d * d;
  }
  return s;
}

/** Five moment planes (x, y, x², y², xy) of one slice, filtered along x then y over the valid region. */
function filteredSlice(
  gt: Float32Array,
  test: Float32Array,
  w: number,
  h: number,
  taps: Float64Array,
  tmp: Float64Array[],
  out: Float64Array[],
): void {
  const n = taps.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  // Horizontal pass: h rows x ow columns.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let a = 0;
      let b = 0;
      let aa = 0;
      let bb = 0;
      let ab = 0;
      for (let t = 0, i = y * w + x; t < n; t++, i++) {
        const wt = taps[t]!;
        const g = gt[i]!;
        const v = test[i]!;
        a += wt * g;
        b += wt * v;
        aa += wt * g * g;
        bb += wt * v * v;
        ab += wt * g * v;
      }
      const o = y * ow + x;
      tmp[0]![o] = a;
      tmp[1]![o] = b;
      tmp[2]![o] = aa;
      tmp[3]![o] = bb;
      tmp[4]![o] = ab;
    }
  }
  // Vertical pass: oh x ow.
  for (let q = 0; q < 5; q++) {
    const src = tmp[q]!;
    const dst = out[q]!;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let s = 0;
        for (let t = 0; t < n; t++) s += taps[t]! * src[(y + t) * ow + x]!;
        dst[y * ow + x] = s;
      }
    }
  }
}

/**
 * 3-D SSIM: mean over the valid region of Wang's SSIM with an n x n x n window (product of the mode's 1-D taps).
 * Slices are filtered in-plane once and kept in a ring of n, so memory stays at 5n planes.
 */
function ssim3D(gt: Volume, test: Volume, o: VolumeSsimOptions, L: number): number {
  const n = o.mode === 'skimage' ? 7 : 11;
  const taps = o.mode === 'skimage' ? uniformTaps(n) : gaussianTaps(11, 1.5);
  const covNorm = o.mode === 'skimage' ? n ** 3 / (n ** 3 - 1) : 1;
  const { width: w, height: h, depth: d } = gt;
  if (w < n || h < n || d < n) {
    throw new BlindspotError(
      'E_TOO_SMALL',
      `volume is ${w}x${h}x${d}, smaller than the ${n}x${n}x${n} window of 3-D SSIM (mode ${o.mode})`,
      gt.source,
    );
  }
  const C1 = (o.K1 * L) ** 2;
  const C2 = (o.K2 * L) ** 2;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const plane = ow * oh;
  const tmp = Array.from({ length: 5 }, () => new Float64Array(h * ow));
  const ring = Array.from({ length: n }, () => Array.from({ length: 5 }, () => new Float64Array(plane)));
  const acc = Array.from({ length: 5 }, () => new Float64Array(plane));
  const size = w * h;
  let total = 0;
  for (let k = 0; k < d; k++) {
    const g = gt.data.subarray(k * size, (k + 1) * size);
    const t = test.data.subarray(k * size, (k + 1) * size);
    filteredSlice(g, t, w, h, taps, tmp, ring[k % n]!);
    if (k < n - 1) continue;
    // Slices k-n+1..k are in the ring; ring[(k - n + 1 + j) % n] has weight taps[j].
    for (let q = 0; q < 5; q++) acc[q]!.fill(0);
    for (let j = 0; j < n; j++) {
      const r = ring[(k - n + 1 + j) % n]!;
      const wt = taps[j]!;
      for (let q = 0; q < 5; q++) {
        const a = acc[q]!;
        const src = r[q]!;
        for (let i = 0; i < plane; i++) a[i] += wt * src[i]!;
      }
    }
    const [mx, my, mxx, myy, mxy] = acc as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    for (let i = 0; i < plane; i++) {
      const ux = mx[i]!;
      const uy = my[i]!;
      const vx = covNorm * (mxx[i]! - ux * ux);
      const vy = covNorm * (myy[i]! - uy * uy);
      const cxy = covNorm * (mxy[i]! - ux * uy);
      total += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    }
  }
  const value = total / (plane * (d - n + 1));
  if (!Number.isFinite(value)) {
    throw new BlindspotError(
      'E_NONFINITE',
      '3-D SSIM is not finite: the volumes hold NaN or infinite samples',
      gt.source,
    );
  }
  return value;
}
