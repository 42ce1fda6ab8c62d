/**
 * Per-block fields for pictures of one diagnosed pair (pure; the CLI renders them with src/render/heatmap.ts):
 * the regime, the dominant failing axis, the hidden damage inside the blocks SSIM rates best, and the blind-spot
 * magnitude se_max.
 */
import type { DiagnoseResult } from './diagnose.ts';
import { ssimConstants } from './options.ts';
import { blindSpotFields } from './reference.ts';
import { damageOf, dominantFailingAxis, regimeLabels } from './regimes.ts';

/** Regime per block (0 Silent, 1 Membrane, 2 Responsive) at the floored definition's hidden threshold T. */
export function regimeField(r: DiagnoseResult): Uint8Array {
  const { C2 } = ssimConstants(r.options, r.options.dataRange);
  return regimeLabels(r.columns, r.blockCount, r.summary.floored.thresholds.hidden, C2);
}

/** Dominant failing axis per block: 0 none, 1..6 = A1..A6 (largest exceedance of its threshold). */
export function dominantAxisField(r: DiagnoseResult): Uint8Array {
  return dominantFailingAxis(r.columns, r.blockCount, r.options);
}

/**
 * Hidden damage per block (floored ROI definition, DESIGN §3c): for Hidden blocks (ROI, ssim_blk >= T, damage above
 * the floors) the size of the error SSIM does not show, in display grey levels: the larger of se (when AC damage)
 * and |dmu| (when DC damage). NaN for every other block, so the picture colours exactly the blocks it counts.
 */
export function hiddenDamageField(r: DiagnoseResult): Float64Array {
  const T = r.summary.floored.thresholds.hidden;
  const T10 = r.summary.floored.thresholds.visible;
  const { inRoi, floors, unit, roi } = r.reference;
  const c = r.columns;
  const ssimBlk = c.ssim_blk as Float64Array;
  const se = c.se as Float64Array;
  const dmu = c.dmu as Float64Array;
  const rAc = c.r_ac as Float64Array;
  const out = new Float64Array(r.blockCount).fill(NaN);
  for (let k = 0; k < r.blockCount; k++) {
    if ((roi.source !== 'all' && !inRoi[k]) || !(ssimBlk[k]! >= T) || ssimBlk[k]! < T10) continue;
    const d = damageOf(se[k]!, rAc[k]!, dmu[k]!, floors, r.options.hiddenR);
    if (d.ac || d.dc) out[k] = Math.max(d.ac ? se[k]! / unit : 0, d.dc ? Math.abs(dmu[k]!) / unit : 0);
  }
  return out;
}

/** se_max per block at the floored T, in display grey levels (the blind-spot map; NaN outside the ROI). */
export function seMaxField(r: DiagnoseResult): Float64Array {
  const { C1, C2 } = ssimConstants(r.options, r.options.dataRange);
  const f = blindSpotFields(r.columns.sx!, r.columns.mx!, r.blockCount, r.summary.floored.thresholds.hidden, C1, C2, r.reference.unit);
  const { inRoi, roi } = r.reference;
  if (roi.source !== 'all') for (let k = 0; k < r.blockCount; k++) if (!inRoi[k]) f.seMax[k] = NaN;
  return f.seMax;
}
