/**
 * Per-block labels that depend on a pair- or configuration-level threshold (DESIGN §3b): the SSIM-sensitivity
 * regime (Silent / Membrane / Responsive), the failure layer (Visible / Hidden / Gray / Intact) and the dominant
 * failing axis. Raw block rows are facts; these labels are derived from them plus thresholds, so they live here
 * (and as DuckDB views in the dataset stage), not in the block table.
 */
import type { BlockColumns } from './columns.ts';
import type { DiagnoseOptions } from './options.ts';

export const REGIMES = ['Silent', 'Membrane', 'Responsive'] as const;
export type Regime = (typeof REGIMES)[number];
export const REGIME_SILENT = 0;
export const REGIME_MEMBRANE = 1;
export const REGIME_RESPONSIVE = 2;

export const LAYERS = ['Intact', 'Visible', 'Gray', 'Hidden'] as const;
export type Layer = (typeof LAYERS)[number];
export const LAYER_INTACT = 0;
export const LAYER_VISIBLE = 1;
export const LAYER_GRAY = 2;
export const LAYER_HIDDEN = 3;

/**
 * Quantile of `values` (need not be sorted; a sorted copy is made) by linear interpolation between order
 * statistics (Hyndman-Fan type 7: numpy's default, DuckDB `quantile_cont`). NaN for an empty set.
 */
export function quantile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return quantileSorted(sorted, p);
}

/** Type-7 quantile of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The hidden (T90) and visible (T10) thresholds of one definition. */
export interface PairThresholds {
  hidden: number;
  visible: number;
  /**
   * 'option' when given explicitly, 'pair' when taken from this pair's non-border (ROI) ssim_blk quantiles,
   * 'fallback' when that quantile was degenerate (1, or too few blocks) and the fixed fallback T was used.
   */
  hiddenSource: 'option' | 'pair' | 'fallback';
  visibleSource: 'option' | 'pair';
  /** Non-border blocks the quantiles were taken over (all blocks when none is non-border). */
  blocks: number;
  /** Why the fallback was used ('' otherwise). */
  note: string;
}

/**
 * Thresholds T90/T10 for one pair: quantiles 0.9 and 0.1 of ssim_blk over non-border blocks that `use` marks (all
 * blocks when `use` is null; all counted blocks when none is non-border), unless `options` fixes them. With a
 * `fallback`, a degenerate T90 (>= 1, or fewer than `minBlocks` blocks behind it) is replaced by its fixed T and
 * `note` says why (DESIGN §3c).
 */
export function pairThresholds(
  columns: BlockColumns,
  blockCount: number,
  options: Pick<DiagnoseOptions, 'hiddenThreshold' | 'visibleThreshold'>,
  use: Uint8Array | null = null,
  fallback: { threshold: number; minBlocks: number } | null = null,
): PairThresholds {
  const ssimBlk = columns.ssim_blk as Float64Array;
  const border = columns.is_border as Uint8Array;
  let inner = 0;
  let counted = 0;
  for (let k = 0; k < blockCount; k++) {
    if (use && !use[k]) continue;
    counted++;
    if (!border[k]) inner++;
  }
  const vals = new Float64Array(inner > 0 ? inner : counted);
  let j = 0;
  for (let k = 0; k < blockCount; k++) if ((!use || use[k]) && (inner === 0 || !border[k])) vals[j++] = ssimBlk[k]!;
  vals.sort();
  let hidden = options.hiddenThreshold ?? quantileSorted(vals, 0.9);
  let hiddenSource: PairThresholds['hiddenSource'] = options.hiddenThreshold === null ? 'pair' : 'option';
  let note = '';
  if (fallback && hiddenSource === 'pair') {
    if (vals.length < fallback.minBlocks) note = `only ${vals.length} ROI blocks (< ${fallback.minBlocks}) define T90`;
    else if (!(hidden < 1)) note = 'T90 = 1 (identical blocks fill the top decile)';
    if (note !== '') {
      note += `: fixed T = ${fallback.threshold} used instead`;
      hidden = fallback.threshold;
      hiddenSource = 'fallback';
    }
  }
  return {
    hidden,
    visible: options.visibleThreshold ?? quantileSorted(vals, 0.1),
    hiddenSource,
    visibleSource: options.visibleThreshold === null ? 'pair' : 'option',
    blocks: vals.length,
    note,
  };
}

/**
 * Regime of one block. Silent: erasing all GT texture would still score above T, i.e. sx^2 < C2 (1 - T)/T
 * (every block is Silent when T <= 0); Membrane: not Silent and kappa < 0.5; Responsive otherwise.
 */
export function regimeOf(sx: number, kappa: number, T: number, C2: number): number {
  const silent = T <= 0 || sx * sx < (C2 * (1 - T)) / T;
  if (silent) return REGIME_SILENT;
  return kappa < 0.5 ? REGIME_MEMBRANE : REGIME_RESPONSIVE;
}

/** Damage floors in data units (src/tier3/reference.ts `damageFloors`; all 0 / Infinity for the published one). */
export interface Floors {
  floorAc: number;
  visibleAc: number;
  floorDc: number;
}

/**
 * Hidden-type damage of one block (DESIGN §3c): AC when se >= floorAc and (R >= hiddenR or se >= visibleAc); DC
 * when |dmu| >= floorDc. With floorAc 0, visibleAc Infinity and floorDc = 8 L/255 this is the published test.
 */
export function damageOf(se: number, rAc: number, dmu: number, f: Floors, hiddenR: number): { ac: boolean; dc: boolean } {
  return { ac: se >= f.floorAc && (rAc >= hiddenR || se >= f.visibleAc), dc: Math.abs(dmu) >= f.floorDc };
}

/**
 * Failure layer of one block: Visible when ssim_blk < T10; Hidden when ssim_blk >= T90 and damaged (AC or DC);
 * Gray when in between and damaged; Intact otherwise.
 */
export function layerOf(ssimBlk: number, damaged: boolean, T10: number, T90: number): number {
  if (ssimBlk < T10) return LAYER_VISIBLE;
  if (!damaged) return LAYER_INTACT;
  return ssimBlk >= T90 ? LAYER_HIDDEN : LAYER_GRAY;
}

/**
 * Exceedance of each axis, |raw| / threshold before clipping (A4: the larger of its two criteria), for ranking
 * the failing axes of one block. Written into `out` (length 6).
 */
export function axisExceedance(
  columns: BlockColumns,
  k: number,
  o: DiagnoseOptions,
  out: Float64Array,
): Float64Array {
  const f = (name: string) => (columns[name] as Float64Array)[k]!;
  out[0] = Math.abs(f('a1')) / o.a1Fail;
  out[1] = Math.abs(f('a2')) / o.a2Fail;
  out[2] = f('a3') / (1 - o.a3FailRho);
  out[3] = Math.max(f('a4') / o.a4FailCosine, Math.abs(f('a4_log2_energy')) / o.a4FailLog2Energy);
  out[4] = Math.abs(f('a5')) / o.a5Fail;
  out[5] = f('a6') / o.a6Fail;
  return out;
}

/**
 * Dominant failing axis of each block: 0 when no axis fails, else 1..6 for the failing axis with the largest
 * exceedance (ties: the lower axis).
 */
export function dominantFailingAxis(
  columns: BlockColumns,
  blockCount: number,
  o: DiagnoseOptions,
): Uint8Array {
  const mask = columns.fail_mask as Int32Array;
  const out = new Uint8Array(blockCount);
  const ex = new Float64Array(6);
  for (let k = 0; k < blockCount; k++) {
    const m = mask[k]!;
    if (m === 0) continue;
    axisExceedance(columns, k, o, ex);
    let best = 0;
    let bestV = -Infinity;
    for (let a = 0; a < 6; a++) {
      if (m & (1 << a) && ex[a]! > bestV) {
        bestV = ex[a]!;
        best = a + 1;
      }
    }
    out[k] = best;
  }
  return out;
}

/** Regime of every block for threshold T. */
export function regimeLabels(columns: BlockColumns, blockCount: number, T: number, C2: number): Uint8Array {
  const sx = columns.sx as Float64Array;
  const kappa = columns.kappa as Float64Array;
  const out = new Uint8Array(blockCount);
  for (let k = 0; k < blockCount; k++) out[k] = regimeOf(sx[k]!, kappa[k]!, T, C2);
  return out;
}
