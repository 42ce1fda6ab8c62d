/**
 * The four heatmaps of `blindspot diagnose`, as PNG buffers (no file I/O): block SSIM, dominant failing axis,
 * regime, and hidden damage, each the size of the image, over the GT at reduced opacity, titled with the file
 * names and with a legend. Rendering is src/render/heatmap.ts.
 */
import { renderCategoricalPng, renderHeatmapPng } from '../render/heatmap.ts';
import type { DiagnoseResult } from './diagnose.ts';
import { AXIS_COLORS, dominantAxisField, hiddenDamageField, REGIME_COLORS, regimeField } from './maps.ts';
import { REGIMES } from './regimes.ts';

/** Legend names short enough for the legend column (the full names are in AXIS_NAMES). */
const AXIS_SHORT = ['A1 mean', 'A2 contrast', 'A3 structure', 'A4 edges', 'A5 detail', 'A6 RMSE'];

/**
 * Render the diagnose heatmaps.
 * @param r - a `diagnose` result.
 * @param names - the GT and test file names for the titles.
 * @returns [file name, PNG] pairs in a fixed order.
 */
export async function renderDiagnosePngs(
  r: DiagnoseResult,
  names: { gt: string; test: string },
): Promise<[string, Buffer][]> {
  const s = r.summary;
  const B = r.options.blockSize;
  const common = {
    outWidth: r.width,
    outHeight: r.height,
    underlay: { data: r.planes.gt, width: r.width, height: r.height },
    subtitle: `${names.test} vs ${names.gt} (GT underneath)`,
  };
  const a = s.all;
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
  const out: [string, Buffer][] = [];

  out.push([
    'ssim_blk.png',
    await renderHeatmapPng(r.columns.ssim_blk as Float64Array, r.gridCols, r.gridRows, {
      ...common,
      title: `Block SSIM (${B}x${B}): mean ${fmt(a.ssimBlk.mean)}, min ${fmt(a.ssimBlk.min)}`,
      colormap: 'viridis',
      max: 1,
      legendLabel: 'block SSIM',
      opacity: 0.55,
    }),
  ]);

  // dominant failing axis: failing blocks coloured by axis; blocks with no failing axis show the GT
  const dom = dominantAxisField(r);
  const domLabels = new Int8Array(r.blockCount);
  for (let k = 0; k < r.blockCount; k++) domLabels[k] = dom[k]! - 1;
  out.push([
    'dominant_axis.png',
    await renderCategoricalPng(domLabels, r.gridCols, r.gridRows, {
      ...common,
      title: `Dominant failing axis: ${a.anyFailing} of ${a.blocks} blocks fail`,
      categories: [
        ...AXIS_SHORT.map((n, i) => ({ name: `${n} ${a.failing[i]}`, color: AXIS_COLORS[i]! })),
        { name: 'none (GT shown)', color: [255, 255, 255] as [number, number, number] },
      ],
      legendLabel: 'axis, blocks failing',
      opacity: 0.65,
    }),
  ]);

  const reg = regimeField(r);
  const regCounts = [a.regimes.silent, a.regimes.membrane, a.regimes.responsive];
  out.push([
    'regime.png',
    await renderCategoricalPng(reg, r.gridCols, r.gridRows, {
      ...common,
      title: `SSIM regime at T = ${fmt(s.thresholds.hidden)}: Silent = SSIM blind`,
      categories: REGIMES.map((n, i) => ({ name: `${n} (${regCounts[i]})`, color: REGIME_COLORS[i]! })),
      legendLabel: 'regime (blocks)',
      opacity: 0.5,
    }),
  ]);

  // only blocks at half the damage criterion or more are coloured, so the GT stays visible elsewhere
  const shownDamage = hiddenDamageField(r).map((v) => (v >= 0.5 ? v : NaN));
  out.push([
    'hidden_damage.png',
    await renderHeatmapPng(shownDamage, r.gridCols, r.gridRows, {
      ...common,
      title: `Hidden damage where block SSIM >= ${fmt(s.thresholds.hidden)}: ${a.layers.hidden} blocks`,
      colormap: 'magma',
      min: 0,
      max: 2,
      legendLabel: 'max(R, |dmu|/8)',
      opacity: 0.85,
    }),
  ]);
  return out;
}
