/**
 * Per-block fields for pictures of one diagnosed pair (pure; the CLI renders them with src/render/heatmap.ts):
 * the regime, the dominant failing axis, and the hidden damage inside the blocks SSIM rates best.
 */
import type { DiagnoseResult } from './diagnose.ts';
import { ssimConstants } from './options.ts';
import { dominantFailingAxis, regimeLabels } from './regimes.ts';

export const AXIS_COLORS: readonly [number, number, number][] = [
  [31, 119, 180], // A1 luminance: blue
  [255, 127, 14], // A2 contrast: orange
  [214, 39, 40], // A3 structure: red
  [148, 103, 189], // A4 edges: purple
  [44, 160, 44], // A5 high frequency: green
  [140, 86, 75], // A6 residual: brown
];
export const REGIME_COLORS: readonly [number, number, number][] = [
  [230, 85, 13], // Silent: SSIM cannot see damage here
  [253, 208, 35], // Membrane
  [49, 130, 189], // Responsive
];

/** Regime per block (0 Silent, 1 Membrane, 2 Responsive) at the pair's hidden threshold T. */
export function regimeField(r: DiagnoseResult): Uint8Array {
  const { C2 } = ssimConstants(r.options, r.options.dataRange);
  return regimeLabels(r.columns, r.blockCount, r.summary.thresholds.hidden, C2);
}

/** Dominant failing axis per block: 0 none, 1..6 = A1..A6 (largest exceedance of its threshold). */
export function dominantAxisField(r: DiagnoseResult): Uint8Array {
  return dominantFailingAxis(r.columns, r.blockCount, r.options);
}

/**
 * Hidden damage per block: where ssim_blk >= T90 (SSIM's top decile for this pair), the larger of
 * R / hiddenR (AC) and |dmu| / hiddenDmu (DC, 8-bit grey levels); 1 or more = damage SSIM does not show.
 * NaN elsewhere (not in the top decile).
 */
export function hiddenDamageField(r: DiagnoseResult): Float64Array {
  const o = r.options;
  const T = r.summary.thresholds.hidden;
  const ssimBlk = r.columns.ssim_blk as Float64Array;
  const rAc = r.columns.r_ac as Float64Array;
  const a1 = r.columns.a1 as Float64Array;
  const out = new Float64Array(r.blockCount);
  for (let k = 0; k < r.blockCount; k++) {
    out[k] = ssimBlk[k]! >= T ? Math.max(rAc[k]! / o.hiddenR, Math.abs(a1[k]!) / o.hiddenDmu) : NaN;
  }
  return out;
}
