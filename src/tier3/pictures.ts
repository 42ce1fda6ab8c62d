/**
 * The heatmaps of `blindspot diagnose`, as PNG buffers (no file I/O): block SSIM, dominant failing axis, regime,
 * hidden damage, the blind-spot magnitude se_max and the region of interest, each the size of the image, over the
 * GT at reduced opacity, titled with the file names and with a legend. Rendering is src/render/heatmap.ts.
 */
import { renderCategoricalPng, renderHeatmapPng } from '../render/heatmap.ts';
import type { DiagnoseResult } from './diagnose.ts';
import { AXIS_PLAIN_NAMES, AXIS_RGB, NEUTRAL, OKABE_ITO, REGIME_RGB, SSIM_SCALE, type RGB8 } from '../render/palette.ts';
import { dominantAxisField, hiddenDamageField, regimeField, seMaxField } from './maps.ts';
import { ROI_LABEL } from './roi.ts';
import { REGIMES } from './regimes.ts';

/** How the block-SSIM picture is scaled: 'fixed' (default) is SSIM_SCALE, 0 to 1, so two pictures compare. */
export type SsimScale = 'fixed' | 'auto';

/**
 * Render the diagnose heatmaps.
 * @param r - a `diagnose` result.
 * @param names - the GT and test file names for the titles.
 * @param scale - 'fixed' (0 to 1, default) or 'auto' (the image's own block-SSIM range) for ssim_blk.png.
 * @returns [file name, PNG] pairs in a fixed order.
 */
export async function renderDiagnosePngs(
  r: DiagnoseResult,
  names: { gt: string; test: string },
  scale: SsimScale = 'fixed',
): Promise<[string, Buffer][]> {
  const s = r.summary;
  const B = r.options.blockSize;
  const common = {
    outWidth: r.width,
    outHeight: r.height,
    underlay: { data: r.planes.gt, width: r.width, height: r.height },
    subtitle: `test ${names.test} against GT ${names.gt} (GT underneath)`,
  };
  const a = s.floored.all;
  const th = s.floored.thresholds;
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
  const out: [string, Buffer][] = [];

  out.push([
    'ssim_blk.png',
    await renderHeatmapPng(r.columns.ssim_blk as Float64Array, r.gridCols, r.gridRows, {
      ...common,
      title: `Block SSIM (${B}x${B}): mean ${fmt(a.ssimBlk.mean)}, min ${fmt(a.ssimBlk.min)}`,
      colormap: 'viridis',
      ...(scale === 'fixed' ? SSIM_SCALE : {}),
      legendLabel: scale === 'fixed' ? 'block SSIM (0 to 1)' : 'block SSIM (auto scale)',
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
        ...AXIS_PLAIN_NAMES.map((n, i) => ({ name: `${n}: ${a.failing[i]}`, color: AXIS_RGB[i]! as [number, number, number] })),
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
      title: `SSIM regime at T = ${fmt(th.hidden)}: Silent = SSIM blind`,
      categories: REGIMES.map((n, i) => ({ name: `${n} (${regCounts[i]})`, color: REGIME_RGB[i]! as [number, number, number] })),
      legendLabel: 'regime (blocks)',
      opacity: 0.5,
    }),
  ]);

  const hidden = hiddenDamageField(r);
  const errMax = 4 * (r.options.visibleAc ?? 4);
  // the title counts the blocks the picture colours (the field holds exactly the counted Hidden blocks)
  let coloured = 0;
  for (let k = 0; k < hidden.length; k++) if (Number.isFinite(hidden[k]!)) coloured++;
  out.push([
    'hidden_damage.png',
    await renderHeatmapPng(hidden, r.gridCols, r.gridRows, {
      ...common,
      title: `Hidden Collapse: ${coloured === 0 ? 'none in this pair' : `${coloured} block${coloured === 1 ? '' : 's'}`} (ROI, SSIM >= ${fmt(th.hidden)}, above the floors)`,
      colormap: 'magma',
      min: 0,
      max: errMax,
      legendLabel: 'hidden error (display levels)',
      opacity: 0.85,
    }),
  ]);

  out.push(...(await renderReferencePngs(r, common)));
  return out;
}

/**
 * The pictures that need only the GT: the blind-spot map (se_max at the floored T, display grey levels, on a fixed
 * 0-16 scale so two maps compare) and the region of interest.
 */
export async function renderReferencePngs(
  r: DiagnoseResult,
  common: { outWidth: number; outHeight: number; underlay: { data: ArrayLike<number>; width: number; height: number }; subtitle: string },
): Promise<[string, Buffer][]> {
  const s = r.summary;
  const b = s.blindSpot;
  const out: [string, Buffer][] = [];
  out.push([
    'se_max.png',
    await renderHeatmapPng(seMaxField(r), r.gridCols, r.gridRows, {
      ...common,
      title: `Where SSIM >= ${b.T.toFixed(4)} is blind: the texture error it cannot see (median ${b.seMax.median.toFixed(1)} display levels)`,
      colormap: 'viridis',
      min: 0,
      max: 16,
      legendLabel: 'se_max (display grey levels)',
      opacity: 0.7,
    }),
  ]);
  const ref = r.reference;
  const labels = new Int8Array(r.blockCount);
  const B = r.options.blockSize;
  const stride = r.options.stride;
  for (let k = 0; k < r.blockCount; k++) {
    if (ref.inRoi[k]) {
      labels[k] = -1;
      continue;
    }
    // outside: label when a label pixel lies in the block, else background/collimator
    const br = Math.floor(k / r.gridCols);
    const bc = k % r.gridCols;
    let lab = false;
    for (let y = br * stride; y < br * stride + B && !lab; y++) {
      for (let x = bc * stride; x < bc * stride + B; x++) if (ref.roi.pixels[y * r.width + x] === ROI_LABEL) lab = true;
    }
    labels[k] = lab ? 1 : 0;
  }
  out.push([
    'roi.png',
    await renderCategoricalPng(labels, r.gridCols, r.gridRows, {
      ...common,
      title: `Region of interest (${ref.roi.source}): ${ref.roiBlocks} of ${r.blockCount} blocks inside`,
      categories: [
        { name: 'outside: background', color: rgb(NEUTRAL) },
        { name: 'outside: label/marker', color: rgb(OKABE_ITO.vermillion) },
      ],
      legendLabel: 'blocks left out',
      opacity: 0.6,
    }),
  ]);
  return out;
}

const rgb = (c: RGB8): [number, number, number] => [c[0], c[1], c[2]];
