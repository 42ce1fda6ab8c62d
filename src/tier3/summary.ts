/**
 * Per-pair summaries of the block field (DESIGN §3b, §3c, Tier 2): block-SSIM mean/std/min and where the minimum
 * is, failing-axis counts, regimes (with the pair's own T90 unless configured) and failure layers, each over the
 * counted blocks and over the non-border ones, for each definition of Hidden Collapse (floored ROI, published).
 */
import type { BlockColumns } from './columns.ts';
import type { DiagnoseOptions } from './options.ts';
import {
  damageOf,
  type Floors,
  layerOf,
  LAYER_GRAY,
  LAYER_HIDDEN,
  LAYER_VISIBLE,
  pairThresholds,
  regimeOf,
  REGIME_MEMBRANE,
  REGIME_SILENT,
  type PairThresholds,
} from './regimes.ts';

export const AXIS_NAMES = [
  'A1 luminance',
  'A2 contrast',
  'A3 structure',
  'A4 edges',
  'A5 high-frequency',
  'A6 residual',
] as const;

/** Statistics of one group of blocks (all, or non-border). */
export interface BlockGroupSummary {
  blocks: number;
  /** ssim_blk: mean, population std (ddof 0), min, max, and the first block (row-major) holding the min. */
  ssimBlk: {
    mean: number;
    std: number;
    min: number;
    max: number;
    argmin: { row: number; col: number; ring: number } | null;
  };
  /** Blocks failing each axis A1..A6 (index 0 = A1). */
  failing: number[];
  /** Blocks failing at least one axis. */
  anyFailing: number;
  regimes: { silent: number; membrane: number; responsive: number };
  /** silent / blocks. */
  silentShare: number;
  layers: {
    visible: number;
    hidden: number;
    gray: number;
    intact: number;
    hiddenAc: number;
    hiddenDc: number;
  };
  /** Share of Hidden blocks that are Silent (the published headline figure, here per pair). NaN when no Hidden block. */
  hiddenSilentShare: number;
}

/** The counts of one definition of Hidden Collapse. */
export interface DefinitionSummary {
  /**
   * 'floored-roi': DESIGN §3c (ROI blocks, display units, damage floors, degenerate-T fallback) — the headline;
   * 'published': DESIGN §3b as published (every block, floor 0, data-range units).
   */
  definition: 'floored-roi' | 'published';
  thresholds: PairThresholds;
  /** Every counted block (the ROI's for floored-roi). */
  all: BlockGroupSummary;
  /** Counted blocks off the image edge. */
  nonBorder: BlockGroupSummary;
}

export interface BlockFieldSummary {
  floored: DefinitionSummary;
  published: DefinitionSummary;
}

function emptyGroup(): BlockGroupSummary {
  return {
    blocks: 0,
    ssimBlk: { mean: NaN, std: NaN, min: NaN, max: NaN, argmin: null },
    failing: [0, 0, 0, 0, 0, 0],
    anyFailing: 0,
    regimes: { silent: 0, membrane: 0, responsive: 0 },
    silentShare: NaN,
    layers: { visible: 0, hidden: 0, gray: 0, intact: 0, hiddenAc: 0, hiddenDc: 0 },
    hiddenSilentShare: NaN,
  };
}

/** How one definition counts: which blocks, which floors, which threshold fallback. */
export interface DefinitionSpec {
  definition: DefinitionSummary['definition'];
  /** Per block, 1 = counted; null = every block. */
  use: Uint8Array | null;
  floors: Floors;
  fallback: { threshold: number; minBlocks: number } | null;
}

/**
 * Summarise the block columns of one pair under one definition.
 * @param columns - columns filled by `diagnoseBlocks`.
 * @param blockCount - number of blocks.
 * @param options - resolved options (thresholds, hiddenR).
 * @param C2 - (K2 L)^2 of the pair's data range.
 * @param spec - counted blocks, floors and fallback of the definition.
 */
export function summarizeDefinition(
  columns: BlockColumns,
  blockCount: number,
  options: DiagnoseOptions,
  C2: number,
  spec: DefinitionSpec,
): DefinitionSummary {
  const thresholds = pairThresholds(columns, blockCount, options, spec.use, spec.fallback);
  const all = emptyGroup();
  const inner = emptyGroup();
  const ssimBlk = columns.ssim_blk as Float64Array;
  const border = columns.is_border as Uint8Array;
  const row = columns.row as Int32Array;
  const col = columns.col as Int32Array;
  const ring = columns.ring as Int32Array;
  const sx = columns.sx as Float64Array;
  const se = columns.se as Float64Array;
  const dmu = columns.dmu as Float64Array;
  const kappa = columns.kappa as Float64Array;
  const rAc = columns.r_ac as Float64Array;
  const mask = columns.fail_mask as Int32Array;
  const use = spec.use;
  const sums = [
    { g: all, s: 0, max: -Infinity, minK: -1, hiddenSilent: 0 },
    { g: inner, s: 0, max: -Infinity, minK: -1, hiddenSilent: 0 },
  ];
  for (let k = 0; k < blockCount; k++) {
    if (use && !use[k]) continue;
    const v = ssimBlk[k]!;
    const regime = regimeOf(sx[k]!, kappa[k]!, thresholds.hidden, C2);
    const dmg = damageOf(se[k]!, rAc[k]!, dmu[k]!, spec.floors, options.hiddenR);
    const layer = layerOf(v, dmg.ac || dmg.dc, thresholds.visible, thresholds.hidden);
    const m = mask[k]!;
    for (let gi = 0; gi < 2; gi++) {
      if (gi === 1 && border[k]) continue;
      const acc = sums[gi]!;
      const g = acc.g;
      g.blocks++;
      acc.s += v;
      if (acc.minK < 0 || v < ssimBlk[acc.minK]!) acc.minK = k;
      if (v > acc.max) acc.max = v;
      for (let a = 0; a < 6; a++) if (m & (1 << a)) g.failing[a]!++;
      if (m) g.anyFailing++;
      if (regime === REGIME_SILENT) g.regimes.silent++;
      else if (regime === REGIME_MEMBRANE) g.regimes.membrane++;
      else g.regimes.responsive++;
      if (layer === LAYER_VISIBLE) g.layers.visible++;
      else if (layer === LAYER_HIDDEN) {
        g.layers.hidden++;
        if (dmg.ac) g.layers.hiddenAc++;
        if (dmg.dc) g.layers.hiddenDc++;
        if (regime === REGIME_SILENT) acc.hiddenSilent++;
      } else if (layer === LAYER_GRAY) g.layers.gray++;
      else g.layers.intact++;
    }
  }
  for (const acc of sums) {
    const g = acc.g;
    if (g.blocks === 0) continue;
    const mean = acc.s / g.blocks;
    // second pass for the std (stable; blocks are few)
    let ss = 0;
    for (let k = 0; k < blockCount; k++) {
      if ((use && !use[k]) || (acc.g === inner && border[k])) continue;
      const d = ssimBlk[k]! - mean;
      ss += d * d;
    }
    g.ssimBlk.mean = mean;
    g.ssimBlk.std = Math.sqrt(ss / g.blocks);
    g.ssimBlk.min = ssimBlk[acc.minK]!;
    g.ssimBlk.max = acc.max;
    g.ssimBlk.argmin = { row: row[acc.minK]!, col: col[acc.minK]!, ring: ring[acc.minK]! };
    g.silentShare = g.regimes.silent / g.blocks;
    g.hiddenSilentShare = g.layers.hidden > 0 ? acc.hiddenSilent / g.layers.hidden : NaN;
  }
  return { definition: spec.definition, thresholds, all, nonBorder: inner };
}
