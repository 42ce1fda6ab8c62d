/**
 * What the ground truth alone says about a pair (DESIGN §3c), before any model output is looked at: the display
 * window that sets the unit of every axis threshold and floor, the GT's own noise level, the damage floors in data
 * units, and the blind-spot magnitude (the largest errors SSIM would still score at or above a threshold T).
 * Pure functions over typed arrays.
 */
import type { Image } from '../image/types.ts';
import type { BlockGrid } from './blocks.ts';
import { quantileSorted } from './regimes.ts';
import { autoRoiMask, blockRoi, fullRoiMask, ROI_INSIDE, userRoiMask, type AutoRoiOptions, type RoiMask } from './roi.ts';

/** Where a display window came from. */
export type DisplaySource = 'voi' | 'roi-p0.5-p99.5' | 'data-range' | 'option';

/** A display window in the data's own units; `width / 255` data units make one display grey level. */
export interface DisplayWindow {
  lo: number;
  hi: number;
  width: number;
  source: DisplaySource;
}

const num = (v: unknown): number | undefined => {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
};

/**
 * The DICOM VOI window (first WindowCenter/WindowWidth) in the image's sample units: the window is stated after
 * the modality rescale, so unless the decoder already rescaled, it is mapped back through RescaleSlope/Intercept
 * (MR2_UNCI: WW 2000 with slope 3.774 is 530 stored units). Undefined when absent or not positive.
 */
export function voiWindow(meta: Record<string, unknown>): DisplayWindow | undefined {
  const c = num(meta['windowCenter']);
  const w = num(meta['windowWidth']);
  if (c === undefined || w === undefined || !(w > 0)) return undefined;
  const rescaled = meta['rescaled'] === true;
  const slope = rescaled ? 1 : (num(meta['rescaleSlope']) ?? 1);
  const intercept = rescaled ? 0 : (num(meta['rescaleIntercept']) ?? 0);
  if (slope === 0) return undefined;
  const center = (c - intercept) / slope;
  const width = w / Math.abs(slope);
  return { lo: center - width / 2, hi: center + width / 2, width, source: 'voi' };
}

/**
 * Type-7 quantiles of the samples inside the ROI (all samples when none is inside). Planes over 2^18 samples are
 * read on a fixed sub-grid (every 2nd sample of every 2nd row; deterministic): a display window needs the tails to
 * a fraction of a grey level, not a sort of every pixel (1024²: ~100 ms saved per GT).
 */
export function roiQuantiles(plane: ArrayLike<number>, mask: RoiMask | null, ps: readonly number[], width = 0): number[] {
  const n = plane.length;
  const w = width > 0 ? width : n;
  const step = width > 0 && n > 1 << 18 ? 2 : 1;
  const rows = Math.ceil(n / w);
  const px = mask?.pixels;
  // two passes over the sub-grid: count, then fill a typed array (no per-sample allocation)
  const visit = (fn: (v: number) => void, onlyInside: boolean): void => {
    for (let y = 0; y < rows; y += step) {
      const row = y * w;
      for (let x = 0; x < w && row + x < n; x += step) if (!onlyInside || px![row + x] === ROI_INSIDE) fn(plane[row + x]!);
    }
  };
  let m = 0;
  if (px) visit(() => m++, true);
  const useMask = px !== undefined && m > 0;
  if (!useMask) visit(() => m++, false);
  const vals = new Float64Array(m);
  let j = 0;
  visit((v) => (vals[j++] = v), useMask);
  const sorted = vals.subarray(0, j).sort();
  return ps.map((p) => quantileSorted(sorted, p));
}

/**
 * The display window of a GT: an explicit width wins; 'data-range' is [0, L] (the published convention, every
 * threshold on the SSIM data range); 'auto' is the DICOM VOI window when present, else the GT's robust range
 * p0.5..p99.5 over the ROI. A window narrower than one data unit (a flat GT) falls back to the data range.
 */
export function displayWindowOf(
  gt: Pick<Image, 'meta'>,
  plane: ArrayLike<number>,
  mask: RoiMask | null,
  mode: 'auto' | 'data-range' | number,
  dataRange: number,
  robust?: [number, number],
): DisplayWindow {
  if (typeof mode === 'number') return { lo: 0, hi: mode, width: mode, source: 'option' };
  const full: DisplayWindow = { lo: 0, hi: dataRange, width: dataRange, source: 'data-range' };
  if (mode === 'data-range') return full;
  const voi = voiWindow(gt.meta);
  if (voi) return voi;
  const [lo, hi] = robust ?? (roiQuantiles(plane, mask, [0.005, 0.995]) as [number, number]);
  return hi - lo >= 1 ? { lo, hi, width: hi - lo, source: 'roi-p0.5-p99.5' } : full;
}

/**
 * Noise standard deviation of a GT by Immerkaer's method: the image convolved with the difference of two
 * Laplacians N = [1 -2 1; -2 4 -2; 1 -2 1] (which cancels locally linear structure), sigma = sqrt(pi/2) mean|I*N| / 6,
 * over the pixels whose 3x3 neighbourhood lies inside the ROI (all interior pixels without a mask).
 * @see J. Immerkaer, Fast noise variance estimation, Computer Vision and Image Understanding 64(2):300-302, 1996,
 *   doi:10.1006/cviu.1996.0060.
 * @returns sigma in data units (0 for images smaller than 3x3 or with no usable pixel).
 */
export function immerkaerNoiseSd(plane: ArrayLike<number>, width: number, height: number, mask: RoiMask | null): number {
  let sum = 0;
  let count = 0;
  const px = mask?.pixels;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (px) {
        let ok = true;
        for (let dy = -width; dy <= width && ok; dy += width) {
          if (px[i + dy - 1] !== ROI_INSIDE || px[i + dy] !== ROI_INSIDE || px[i + dy + 1] !== ROI_INSIDE) ok = false;
        }
        if (!ok) continue;
      }
      const a = plane[i - width - 1]! + plane[i - width + 1]! + plane[i + width - 1]! + plane[i + width + 1]!;
      const b = plane[i - width]! + plane[i - 1]! + plane[i + 1]! + plane[i + width]!;
      sum += Math.abs(a - 2 * b + 4 * plane[i]!);
      count++;
    }
  }
  return count > 0 ? (Math.sqrt(Math.PI / 2) * sum) / (6 * count) : 0;
}

/** The damage floors of one GT, in data units. */
export interface DamageFloors {
  /** AC damage needs se >= this: max(floorAc display levels, floorNoiseFactor x the GT's noise sd). */
  floorAc: number;
  /** se >= this is damage even where the GT has texture (R < 1); Infinity when off. */
  visibleAc: number;
  /** DC damage: |dmu| >= this (hiddenDmu display levels). */
  floorDc: number;
}

/**
 * Floors in data units from display-level parameters.
 * @param unit - data units per display grey level (display width / 255).
 */
export function damageFloors(
  unit: number,
  noiseSd: number,
  o: { floorAc: number; floorNoiseFactor: number; visibleAc: number | null; hiddenDmu: number },
): DamageFloors {
  return {
    floorAc: Math.max(o.floorAc * unit, o.floorNoiseFactor * noiseSd),
    visibleAc: o.visibleAc === null ? Infinity : o.visibleAc * unit,
    floorDc: o.hiddenDmu * unit,
  };
}

/**
 * Blind-spot magnitude, texture: the largest error se, uncorrelated with the GT block and with no mean error, that
 * keeps the block's AC factor 1 - se^2/(sx^2 + sy^2 + C2) at or above T. With sy^2 = sx^2 + se^2 this is
 * se_max = sqrt((1 - T)/T (2 sx^2 + C2)); a flat block gives DESIGN §3c's sqrt((1 - T)/T C2). Data units.
 */
export function seMax(sx: number, T: number, C2: number): number {
  if (!(T > 0)) return Infinity;
  if (T >= 1) return 0;
  return Math.sqrt(((1 - T) / T) * (2 * sx * sx + C2));
}

/**
 * Blind-spot magnitude, brightness: the largest mean shift d (either sign) that keeps the luminance factor
 * 1 - d^2/(mx^2 + (mx + d)^2 + C1) at or above T: the smaller root of T d^2 - 2(1-T) mx d - (1-T)(2 mx^2 + C1),
 * |d| = (sqrt((1-T)^2 mx^2 + T (1-T)(2 mx^2 + C1)) - (1-T) |mx|) / T. Data units (mx measured from zero, as SSIM's
 * luminance term does).
 */
export function dmuMax(mx: number, T: number, C1: number): number {
  if (!(T > 0)) return Infinity;
  if (T >= 1) return 0;
  const a = 1 - T;
  return (Math.sqrt(a * a * mx * mx + T * a * (2 * mx * mx + C1)) - a * Math.abs(mx)) / T;
}

/** Everything the GT alone decides for a pair (cached per GT by `diagnose`'s buffers). */
export interface GtReference {
  roi: RoiMask;
  /** Per block: 1 inside the ROI. */
  inRoi: Uint8Array;
  roiBlocks: number;
  display: DisplayWindow;
  /** Data units per display grey level (display.width / 255). */
  unit: number;
  /** The GT's noise sd (Immerkaer), data units. */
  noiseSd: number;
  floors: DamageFloors;
  /** The GT's robust range p0.5..p99.5 over the ROI and its share of the data range L. */
  occupied: { lo: number; hi: number; share: number };
  warnings: string[];
}

/** The options `gtReference` reads (a subset of the resolved diagnose options). */
export interface ReferenceOptions {
  roi: 'auto' | 'all' | Image;
  autoRoi: Partial<AutoRoiOptions>;
  displayWidth: 'auto' | 'data-range' | number;
  floorAc: number;
  floorNoiseFactor: number;
  visibleAc: number | null;
  hiddenDmu: number;
}

/**
 * The GT reference of a pair: ROI mask and block membership, display window, noise, floors, occupancy warning.
 * @param gt - the GT image (its `meta` gives the VOI window; its `source` names it in messages).
 * @param plane - the GT's grey plane (what the block engine compares).
 * @param L - the SSIM data range.
 * @throws BlindspotError E_SIZE_MISMATCH when a mask image's size differs from the GT's.
 */
export function gtReference(gt: Image, plane: ArrayLike<number>, grid: BlockGrid, o: ReferenceOptions, L: number, out?: Uint8Array): GtReference {
  const { width, height } = gt;
  const roi =
    o.roi === 'all'
      ? fullRoiMask(width, height)
      : o.roi === 'auto'
        ? autoRoiMask(plane, width, height, { ...o.autoRoi, airBelow: o.autoRoi.airBelow ?? ctAirBelow(gt.meta) })
        : userRoiMask(o.roi.data, o.roi.width, o.roi.height, o.roi.channels, width, height, o.roi.source || 'mask');
  // `out` may be a longer reused column: the block view of it is what callers index
  const inRoi = blockRoi(roi, grid, out ? out.subarray(0, grid.blockCount) : undefined);
  let roiBlocks = 0;
  for (let k = 0; k < grid.blockCount; k++) roiBlocks += inRoi[k]!;
  const maskOrNull = roi.source === 'all' ? null : roi;
  const [lo, hi] = roiQuantiles(plane, maskOrNull, [0.005, 0.995], width) as [number, number];
  const display = displayWindowOf(gt, plane, maskOrNull, o.displayWidth, L, [lo, hi]);
  const unit = display.width / 255;
  const noiseSd = immerkaerNoiseSd(plane, width, height, maskOrNull);
  const share = (hi - lo) / L;
  const warnings: string[] = [];
  if (gt.bitDepth > 8 && !gt.isFloat && share < 0.25) {
    const T = 0.99;
    const C2 = (0.03 * L) ** 2;
    warnings.push(
      `data range: the GT occupies ${fmt(lo)}..${fmt(hi)}, ${(100 * share).toFixed(1)}% of L = ${L}; SSIM's constants follow L, ` +
        `so SSIM >= ${T} cannot see texture errors up to ${fmt(seMax(0, T, C2))} units in flat regions ` +
        `(${(100 * seMax(0, T, C2) / Math.max(hi - lo, 1)).toFixed(1)}% of the occupied range); pass --data-range if the data use fewer bits`,
    );
  }
  if (roiBlocks === 0 && roi.source !== 'all') warnings.push('region of interest: no block is inside it; every block is outside the headline');
  return { roi, inRoi, roiBlocks, display, unit, noiseSd, floors: damageFloors(unit, noiseSd, o), occupied: { lo, hi, share }, warnings };
}

/** CT air: -500 HU in the image's stored units (null unless a CT with a known rescale, or already rescaled). */
function ctAirBelow(meta: Record<string, unknown>): number | null {
  if (meta['modality'] !== 'CT') return null;
  if (meta['rescaled'] === true) return -500;
  const slope = num(meta['rescaleSlope']);
  const intercept = num(meta['rescaleIntercept']);
  return slope !== undefined && slope !== 0 && intercept !== undefined ? (-500 - intercept) / slope : null;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** se_max and dmu_max of every block at threshold T, in display grey levels. */
export function blindSpotFields(
  sx: ArrayLike<number>,
  mx: ArrayLike<number>,
  blockCount: number,
  T: number,
  C1: number,
  C2: number,
  unit: number,
): { seMax: Float64Array; dmuMax: Float64Array } {
  const seOut = new Float64Array(blockCount);
  const dmuOut = new Float64Array(blockCount);
  for (let k = 0; k < blockCount; k++) {
    seOut[k] = seMax(sx[k]!, T, C2) / unit;
    dmuOut[k] = dmuMax(mx[k]!, T, C1) / unit;
  }
  return { seMax: seOut, dmuMax: dmuOut };
}

/** How blind SSIM >= T is over the ROI blocks of one GT (display grey levels). */
export interface BlindSpotSummary {
  T: number;
  /** ROI blocks summarised. */
  blocks: number;
  seMax: { p10: number; median: number; p90: number };
  dmuMax: { p10: number; median: number; p90: number };
  /** Share of ROI blocks where SSIM >= T can hide a texture error at the AC floor / at the visibility level. */
  blindAtFloor: number;
  blindAtVisible: number;
  /** The floors it was measured against (display levels). */
  floorAc: number;
  visibleAc: number | null;
  /** One line for people: "SSIM >= T cannot see texture errors up to X display grey levels in Y% of ROI blocks". */
  sentence: string;
}

/**
 * Summary of the blind-spot fields over the ROI.
 * @param floorAcDisplay - the AC floor in display levels; @param visibleAc - the visibility level (null = off).
 */
export function summarizeBlindSpot(
  fields: { seMax: Float64Array; dmuMax: Float64Array },
  inRoi: Uint8Array,
  T: number,
  floorAcDisplay: number,
  visibleAc: number | null,
): BlindSpotSummary {
  const se: number[] = [];
  const dm: number[] = [];
  let atFloor = 0;
  let atVisible = 0;
  for (let k = 0; k < inRoi.length; k++) {
    if (!inRoi[k]) continue;
    const v = fields.seMax[k]!;
    se.push(v);
    dm.push(fields.dmuMax[k]!);
    if (v >= floorAcDisplay) atFloor++;
    if (visibleAc !== null && v >= visibleAc) atVisible++;
  }
  const n = se.length;
  const q = (a: number[]): { p10: number; median: number; p90: number } => {
    const s = Float64Array.from(a).sort();
    return { p10: quantileSorted(s, 0.1), median: quantileSorted(s, 0.5), p90: quantileSorted(s, 0.9) };
  };
  const seQ = q(se);
  const share = (c: number): number => (n > 0 ? c / n : NaN);
  const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
  const sentence =
    n === 0
      ? `no ROI block to measure SSIM's blind spot on`
      : `SSIM >= ${T.toFixed(4)} cannot see texture errors up to ${seQ.median.toFixed(1)} display grey levels in half of the ROI blocks ` +
        `(${seQ.p10.toFixed(1)}-${seQ.p90.toFixed(1)} for 80% of them); errors at the ${floorAcDisplay.toFixed(1)}-level floor are invisible to it in ${pct(share(atFloor))}` +
        (visibleAc !== null ? `, errors of ${visibleAc} levels in ${pct(share(atVisible))}` : '') +
        ` of ${n} ROI blocks`;
  return {
    T,
    blocks: n,
    seMax: seQ,
    dmuMax: q(dm),
    blindAtFloor: share(atFloor),
    blindAtVisible: visibleAc === null ? NaN : share(atVisible),
    floorAc: floorAcDisplay,
    visibleAc,
    sentence,
  };
}
