/**
 * `metricBattery(gt, test)`: the published engine's Tier-1 battery for one pair (docs/metrics.md), as one flat
 * record of numbers (null where a value is undefined, e.g. a ratio over a zero GT value, or LPIPS/CLIP without
 * weights). Pure: no I/O; LPIPS and CLIP are filled by perceptual.ts when the caller has weights.
 */
import { BlindspotError } from '../errors.ts';
import type { Image } from '../image/types.ts';
import { resolveDataRange } from '../ssim/dataRange.ts';
import { canny, ringing } from './canny.ts';
import { colorDifference } from './color.ts';
import {
  blockArtifact,
  entropy256,
  gradientPass,
  histogram256,
  histogramCorrelation,
  rmsContrast,
  sharpnessOpencv,
  textureComplexity,
} from './filters.ts';
import { highFrequencyRatio } from './frequency.ts';
import { toGray8, type Gray8 } from './gray8.ts';
import { localQuality } from './localQuality.ts';
import { resolveBatteryOptions, type BatteryOptions } from './options.ts';

/** The no-reference statistics of one image. */
export interface ImageStatistics {
  sharpness: number;
  contrast: number;
  entropy: number;
  noise: number;
  edge_density: number;
  artifact_block: number;
  artifact_ringing: number;
  artifact_total: number;
  high_freq_ratio: number;
  texture_complexity: number;
  /** The engine's 0-100 "total score" of image-quality items (docs/metrics.md). */
  total_score: number;
}

/** Column names of the battery record, in storage order. */
export const BATTERY_COLUMNS = [
  'sharpness', 'sharpness_gt', 'sharpness_diff_pct',
  'contrast', 'contrast_gt', 'contrast_diff_pct',
  'entropy', 'entropy_gt',
  'noise', 'noise_gt',
  'edge_density', 'edge_density_gt', 'edge_diff_pct',
  'artifact_block', 'artifact_block_gt', 'artifact_ringing', 'artifact_ringing_gt', 'artifact_total', 'artifact_total_gt',
  'high_freq_ratio', 'high_freq_ratio_gt',
  'texture_complexity', 'texture_complexity_gt',
  'delta_e', 'delta_e2000', 'histogram_corr',
  'local_quality_mean', 'local_quality_std', 'local_quality_min', 'local_quality_max',
  'local_quality_min_row', 'local_quality_min_col', 'local_quality_rows', 'local_quality_cols',
  'local_quality_blk_mean', 'local_quality_blk_std', 'local_quality_blk_min',
  'total_score', 'total_score_gt',
  'lpips', 'clip_similarity',
] as const;

export type BatteryColumn = (typeof BATTERY_COLUMNS)[number];

/** Unit (or scale) of each battery column, for printing and docs/metrics.md. */
export const BATTERY_UNITS: Readonly<Record<BatteryColumn, string>> = Object.freeze({
  sharpness: 'grey levels^2 (var of Laplacian)',
  sharpness_gt: 'grey levels^2 (var of Laplacian)',
  sharpness_diff_pct: '% vs GT',
  contrast: 'grey levels (RMS)',
  contrast_gt: 'grey levels (RMS)',
  contrast_diff_pct: '% vs GT',
  entropy: 'bits (0-8)',
  entropy_gt: 'bits (0-8)',
  noise: 'x100 mean |high-pass| of x/255',
  noise_gt: 'x100 mean |high-pass| of x/255',
  edge_density: '% of pixels',
  edge_density_gt: '% of pixels',
  edge_diff_pct: '% vs GT',
  artifact_block: 'grey levels (sum over 8-px grid lines)',
  artifact_block_gt: 'grey levels (sum over 8-px grid lines)',
  artifact_ringing: 'grey levels (sd near edges)',
  artifact_ringing_gt: 'grey levels (sd near edges)',
  artifact_total: 'grey levels (block + ringing)',
  artifact_total_gt: 'grey levels (block + ringing)',
  high_freq_ratio: 'share of |FFT| (0-1)',
  high_freq_ratio_gt: 'share of |FFT| (0-1)',
  texture_complexity: 'grey levels (mean Sobel, 1/4 scale)',
  texture_complexity_gt: 'grey levels (mean Sobel, 1/4 scale)',
  delta_e: 'CIE76 dE*ab (mean)',
  delta_e2000: 'CIEDE2000 dE00 (mean)',
  histogram_corr: 'Pearson r (-1..1)',
  local_quality_mean: 'SSIM (patch mean)',
  local_quality_std: 'SSIM (patch sd)',
  local_quality_min: 'SSIM (worst patch)',
  local_quality_max: 'SSIM (best patch)',
  local_quality_min_row: 'patch row',
  local_quality_min_col: 'patch column',
  local_quality_rows: 'patches',
  local_quality_cols: 'patches',
  local_quality_blk_mean: 'SSIM (block mean)',
  local_quality_blk_std: 'SSIM (block sd)',
  local_quality_blk_min: 'SSIM (worst block)',
  total_score: 'points (0-100)',
  total_score_gt: 'points (0-100)',
  lpips: 'LPIPS distance (0 = same)',
  clip_similarity: 'cosine (-1..1)',
});

/** One pair's battery: every column, null where undefined. */
export type BatteryRecord = Record<BatteryColumn, number | null>;

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** The engine's `difference_pct`: (test / gt - 1) * 100; null when the GT value is 0. */
function diffPct(test: number, gt: number): number | null {
  return gt > 0 ? orNull((test / gt - 1) * 100) : null;
}

/** The engine's total score (mean of seven capped 0-100 sub-scores). */
export function totalScore(s: Omit<ImageStatistics, 'total_score'>): number {
  const parts = [
    Math.min(s.sharpness / 5, 100),
    Math.min(s.contrast, 100),
    Math.min((s.entropy / 8) * 100, 100),
    Math.max(0, 100 - s.noise / 2),
    Math.max(0, 100 - s.artifact_total / 50),
    Math.min(s.edge_density * 2, 100),
    Math.min(s.texture_complexity * 10, 100),
  ];
  return parts.reduce((a, b) => a + b, 0) / 7;
}

/**
 * The no-reference statistics of one 8-bit image.
 * @param hist its 256-bin histogram (shared with the pair's histogram correlation)
 */
export function imageStatistics(g: Gray8, hist: Float64Array, o: BatteryOptions): ImageStatistics {
  const { gray, width, height } = g;
  // Full-image intermediates in thread scratch: none of them outlives this call.
  const grad = gradientPass(gray, width, height, true);
  const edges = canny(gray, width, height, 100, 200, grad, true);
  const edgeDensity =
    o.edgeDetector === 'canny' ? (edges.reduce((a, b) => a + b, 0) / (width * height)) * 100 : grad.edgeDensity;
  const block = blockArtifact(gray, width, height);
  const ring = ringing(gray, width, height, edges, true);
  const s = {
    sharpness: o.sharpnessKernel === 'opencv' ? sharpnessOpencv(gray, width, height) : grad.sharpness,
    contrast: rmsContrast(hist),
    entropy: entropy256(hist),
    noise: grad.noise,
    edge_density: edgeDensity,
    artifact_block: block,
    artifact_ringing: ring,
    artifact_total: block + ring,
    high_freq_ratio: highFrequencyRatio(gray, width, height),
    texture_complexity: textureComplexity(gray, width, height),
  };
  return { ...s, total_score: totalScore(s) };
}

/**
 * The battery of one pair (GT, test). Both images are reduced to their 8-bit view first (gray8.ts).
 * @param gt ground truth; @param test model output (same size and channel count)
 * @param options see {@link BatteryOptions}
 * @throws BlindspotError E_SIZE_MISMATCH, E_TOO_SMALL (under 8 x 8), E_NO_DATA_RANGE (float input without one)
 * @example const r = metricBattery(gt, sr); r.sharpness; r.delta_e2000; r.local_quality_min
 */
export function metricBattery(gt: Image, test: Image, options?: Partial<BatteryOptions>): BatteryRecord {
  const o = resolveBatteryOptions(options);
  if (gt.width !== test.width || gt.height !== test.height) {
    throw new BlindspotError(
      'E_SIZE_MISMATCH',
      `test is ${test.width}x${test.height}, GT is ${gt.width}x${gt.height}`,
      test.source || undefined,
    );
  }
  if (gt.width < 8 || gt.height < 8) {
    throw new BlindspotError('E_TOO_SMALL', `the battery needs at least 8x8 pixels, got ${gt.width}x${gt.height}`, gt.source || undefined);
  }
  const L = batteryDataRange(gt, test, o);
  // A run scores every model and path against the same GT object: its 8-bit view and statistics are kept.
  const key = `${L}|${o.sharpnessKernel}|${o.edgeDetector}`;
  let side = gtCache.get(gt);
  if (side?.key !== key) {
    const g = toGray8(gt, L);
    const hist = histogram256(g.gray);
    side = { key, g, hist, stats: imageStatistics(g, hist, o) };
    gtCache.set(gt, side);
  }
  return batteryOfGray8(side.g, toGray8(test, L), o, side);
}

/** The data range the battery maps both images with (explicit, else the GT's, as `ssim`). */
export function batteryDataRange(gt: Image, test: Image, o: BatteryOptions): number {
  return o.dataRange ?? resolveDataRange(gt, test).dataRange;
}

/** The GT side of a pair, reused while the same Image object is scored again. */
interface GtSide {
  key: string;
  g: Gray8;
  hist: Float64Array;
  stats: ImageStatistics;
}

const gtCache = new WeakMap<Image, GtSide>();

/**
 * The battery from the 8-bit views (for callers that already have them).
 * @param gtSide the GT's histogram and statistics when already computed with the same options
 */
export function batteryOfGray8(g: Gray8, t: Gray8, o: BatteryOptions, gtSide?: { hist: Float64Array; stats: ImageStatistics }): BatteryRecord {
  const hg = gtSide?.hist ?? histogram256(g.gray);
  const ht = histogram256(t.gray);
  const sg = gtSide?.stats ?? imageStatistics(g, hg, o);
  const st = imageStatistics(t, ht, o);
  const color = colorDifference(g.gray, t.gray, g.rgb, t.rgb);
  const useRgb = g.rgb !== null && t.rgb !== null;
  const a = useRgb ? g.rgb! : g.gray;
  const b = useRgb ? t.rgb! : t.gray;
  const ch = useRgb ? 3 : 1;
  const lq = localQuality(a, b, ch, g.width, g.height, o.localPatch);
  const blk = o.blockSize > 0 ? localQuality(a, b, ch, g.width, g.height, o.blockSize) : null;
  return {
    sharpness: orNull(st.sharpness),
    sharpness_gt: orNull(sg.sharpness),
    sharpness_diff_pct: diffPct(st.sharpness, sg.sharpness),
    contrast: orNull(st.contrast),
    contrast_gt: orNull(sg.contrast),
    contrast_diff_pct: diffPct(st.contrast, sg.contrast),
    entropy: orNull(st.entropy),
    entropy_gt: orNull(sg.entropy),
    noise: orNull(st.noise),
    noise_gt: orNull(sg.noise),
    edge_density: orNull(st.edge_density),
    edge_density_gt: orNull(sg.edge_density),
    edge_diff_pct: diffPct(st.edge_density, sg.edge_density),
    artifact_block: orNull(st.artifact_block),
    artifact_block_gt: orNull(sg.artifact_block),
    artifact_ringing: orNull(st.artifact_ringing),
    artifact_ringing_gt: orNull(sg.artifact_ringing),
    artifact_total: orNull(st.artifact_total),
    artifact_total_gt: orNull(sg.artifact_total),
    high_freq_ratio: orNull(st.high_freq_ratio),
    high_freq_ratio_gt: orNull(sg.high_freq_ratio),
    texture_complexity: orNull(st.texture_complexity),
    texture_complexity_gt: orNull(sg.texture_complexity),
    delta_e: orNull(color.deltaE76),
    delta_e2000: orNull(color.deltaE2000),
    histogram_corr: orNull(histogramCorrelation(hg, ht)),
    local_quality_mean: orNull(lq.mean),
    local_quality_std: orNull(lq.std),
    local_quality_min: orNull(lq.min),
    local_quality_max: orNull(lq.max),
    local_quality_min_row: lq.minRow >= 0 ? lq.minRow : null,
    local_quality_min_col: lq.minCol >= 0 ? lq.minCol : null,
    local_quality_rows: lq.gridRows,
    local_quality_cols: lq.gridCols,
    local_quality_blk_mean: blk ? orNull(blk.mean) : null,
    local_quality_blk_std: blk ? orNull(blk.std) : null,
    local_quality_blk_min: blk ? orNull(blk.min) : null,
    total_score: orNull(st.total_score),
    total_score_gt: orNull(sg.total_score),
    lpips: null,
    clip_similarity: null,
  };
}
