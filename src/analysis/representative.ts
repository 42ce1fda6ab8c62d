/**
 * The heatmaps of one representative image per configuration for report.html: block SSIM (fixed 0-1 scale), the
 * dominant failing axis, the regime and the hidden damage, drawn by src/render/heatmap.ts in the palette's colours
 * over the GT. The representative image is the one whose whole-image SSIM is the median of its configuration (the
 * lower median for an even count; ties broken by image name), so the maps show a typical pair, not the best or
 * the worst. The maps come from the stored block rows and the `classified` view, so they use the configuration's
 * T10/T90 and the same layers as every count in the report. Images are re-read from run.json's folders, like the
 * crops; a configuration whose files are gone says "not available". Maps are at most MAX_SIDE pixels a side.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import sharp from 'sharp';
import { readImage } from '../image/read.ts';
import { renderCategoricalPng, renderHeatmapPng } from '../render/heatmap.ts';
import { AXIS_PLAIN_NAMES, AXIS_RGB, colormapLut, OKABE_ITO, REGIME_PLAIN_NAMES, REGIME_RGB, rgbHex, SSIM_SCALE, type RGB8 } from '../render/palette.ts';
import { grey } from './crops.ts';
import { queryRows, readRunJson } from './open.ts';

/** Largest side of an embedded map, pixels (with palette PNGs ~30 KB a map: ~1.2 MB of report.html for 8 configurations). */
export const MAX_SIDE = 192;
/** Top of the hidden-damage colour scale, display grey levels (diagnose's 4 x the visibility rule's 4 levels). */
const HIDDEN_MAX = 16;

const MAPS = [
  { key: 'ssim', title: 'Block SSIM', opacity: 0.55 },
  { key: 'axis', title: 'Dominant failing axis', opacity: 0.65 },
  { key: 'regime', title: 'Regime', opacity: 0.5 },
  { key: 'hidden', title: 'Hidden damage', opacity: 0.85 },
] as const;

export interface RepresentativeMaps {
  model: string;
  path: string;
  image: string;
  /** Whole-image SSIM of the pair and the configuration's image count. */
  ssim: number;
  images: number;
  /** The configuration's T90. */
  t90: number;
  /** One line per map with its counts (under the map). */
  notes: string[];
  /** PNGs in MAPS order; empty when the image files are not readable (then `missing` says why). */
  pngs: Buffer[];
  missing?: string;
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? NaN));
const sq = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * The representative pair of every configuration and its four maps.
 * @returns [] when the folder has no run.json (nothing to re-read images from).
 */
export async function representativeMaps(c: DuckDBConnection, dir: string, hasFailMask: boolean): Promise<RepresentativeMaps[]> {
  const run = readRunJson(dir) as { gt?: string; models?: { name: string; path: string; dir: string }[] } | undefined;
  if (!run?.gt || !Array.isArray(run.models)) return [];
  const reps = await queryRows(
    c,
    `SELECT model, path, image, gt_file, test_file, ssim, n, width, height, display_lo, display_hi FROM (
       SELECT *, row_number() OVER (PARTITION BY model, path ORDER BY ssim, image) AS k, count(*) OVER (PARTITION BY model, path) AS n
       FROM images WHERE ssim IS NOT NULL AND NOT isnan(ssim))
     WHERE k = (n + 1) // 2 ORDER BY model, path`,
  );
  const out: RepresentativeMaps[] = [];
  for (const r of reps) {
    const model = String(r.model);
    const path = String(r.path);
    const image = String(r.image);
    const blocks = await queryRows(
      c,
      `SELECT "row" AS r, col AS c, ssim_blk, layer, regime, in_roi, t90, se, dmu, damage_ac, damage_dc, display_width
         ${hasFailMask ? ', fail_mask, sev1, sev2, sev3, sev4, sev5, sev6' : ''}
       FROM classified WHERE model = ${sq(model)} AND path = ${sq(path)} AND image = ${sq(image)}`,
    );
    const t90 = num(blocks[0]?.t90);
    const base: RepresentativeMaps = { model, path, image, ssim: num(r.ssim), images: num(r.n), t90, notes: [], pngs: [] };
    const m = run.models.find((x) => x.name === model && x.path === path);
    const gtFile = join(run.gt, String(r.gt_file));
    if (!m || !existsSync(gtFile) || !existsSync(join(m.dir, String(r.test_file)))) {
      out.push({ ...base, missing: 'not available: the image files named in run.json are gone' });
      continue;
    }
    try {
      const gt = await readImage(gtFile);
      out.push({ ...base, ...(await renderMaps(blocks, gt.width, gt.height, grey(gt), num(r.display_lo), num(r.display_hi), hasFailMask)) });
    } catch (e) {
      out.push({ ...base, missing: `not available: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  return out;
}

/** The four maps of one pair from its block rows (one row per block of the grid). */
async function renderMaps(
  blocks: Record<string, unknown>[],
  width: number,
  height: number,
  gt: Float64Array,
  lo: number,
  hi: number,
  hasFailMask: boolean,
): Promise<{ notes: string[]; pngs: Buffer[] }> {
  let cols = 0;
  let rows = 0;
  for (const b of blocks) {
    cols = Math.max(cols, num(b.c) + 1);
    rows = Math.max(rows, num(b.r) + 1);
  }
  const n = cols * rows;
  const ssim = new Float64Array(n).fill(NaN);
  const axis = new Int8Array(n).fill(-1);
  const regime = new Int8Array(n).fill(-1);
  const hidden = new Float64Array(n).fill(NaN);
  const axisCounts = [0, 0, 0, 0, 0, 0];
  const regimeCounts = [0, 0, 0];
  let failing = 0;
  let hiddenCount = 0;
  const hiddenAt: [number, number][] = [];
  for (const b of blocks) {
    const k = num(b.r) * cols + num(b.c);
    ssim[k] = num(b.ssim_blk);
    const g = REGIME_PLAIN_NAMES.indexOf(String(b.regime) as (typeof REGIME_PLAIN_NAMES)[number]);
    regime[k] = g;
    if (g >= 0) regimeCounts[g]!++;
    const mask = hasFailMask ? num(b.fail_mask) : 0;
    if (mask !== 0) {
      // dominant = the failing axis with the largest severity (exceedance of its threshold); ties: the lower axis
      let best = -1;
      for (let a = 0; a < 6; a++) if (mask & (1 << a) && (best < 0 || num(b[`sev${a + 1}`]) > num(b[`sev${best + 1}`]))) best = a;
      axis[k] = best;
      axisCounts[best]!++;
      failing++;
    }
    if (b.in_roi === true && b.layer === 'Hidden') {
      const unit = num(b.display_width) / 255;
      hidden[k] = Math.max(b.damage_ac === true ? num(b.se) / unit : 0, b.damage_dc === true ? Math.abs(num(b.dmu)) / unit : 0);
      hiddenCount++;
      hiddenAt.push([num(b.r), num(b.c)]);
    }
  }
  const s = Math.min(1, MAX_SIDE / Math.max(width, height));
  const outWidth = Math.max(1, Math.round(width * s));
  const outHeight = Math.max(1, Math.round(height * s));
  const common = {
    bare: true,
    outWidth,
    outHeight,
    underlay: { data: boxDownsample(gt, width, height, outWidth, outHeight), width: outWidth, height: outHeight, ...(hi > lo ? { min: lo, max: hi } : {}) },
  };
  const meanSsim = blocks.length > 0 ? blocks.reduce((a, b) => a + num(b.ssim_blk), 0) / blocks.length : NaN;
  const rendered = [
    await renderHeatmapPng(ssim, cols, rows, { ...common, colormap: 'viridis', ...SSIM_SCALE, opacity: MAPS[0].opacity }),
    await renderCategoricalPng(axis, cols, rows, { ...common, categories: AXIS_RGB.map((color, i) => ({ name: AXIS_PLAIN_NAMES[i]!, color: [...color] as [number, number, number] })), opacity: MAPS[1].opacity }),
    await renderCategoricalPng(regime, cols, rows, { ...common, categories: REGIME_RGB.map((color, i) => ({ name: REGIME_PLAIN_NAMES[i]!, color: [...color] as [number, number, number] })), opacity: MAPS[2].opacity }),
    await renderHeatmapPng(hidden, cols, rows, { ...common, colormap: 'magma', min: 0, max: HIDDEN_MAX, opacity: MAPS[3].opacity }),
  ];
  // a Hidden block is 3 px wide at this size: ring each one so a reader finds them
  rendered[3] = await ringBlocks(rendered[3]!, hiddenAt, outWidth / cols, outHeight / rows);
  // 8-bit palette PNGs (libimagequant, no dither: deterministic, the few map colours stay exact): ~40% smaller
  const pngs = await Promise.all(rendered.map((p) => sharp(p).png({ palette: true, dither: 0, compressionLevel: 9 }).toBuffer()));
  const listed = (names: readonly string[], counts: number[]): string => names.map((x, i) => (counts[i]! > 0 ? `${x} ${counts[i]}` : '')).filter(Boolean).join(', ');
  const notes = [
    `mean block SSIM ${meanSsim.toFixed(4)}`,
    hasFailMask ? (failing === 0 ? 'no block fails an axis' : `${failing} of ${blocks.length} blocks fail: ${listed(AXIS_PLAIN_NAMES, axisCounts)}`) : 'not available: this run stored no fail_mask',
    listed(REGIME_PLAIN_NAMES, regimeCounts),
    hiddenCount === 0 ? 'no Hidden Collapse block in this pair' : `${hiddenCount} Hidden Collapse block${hiddenCount === 1 ? '' : 's'} (ROI), each ringed`,
  ];
  return { notes, pngs };
}

/**
 * Area-average a grey plane down to outW x outH (each output pixel the mean of the input pixels it covers): the
 * GT under the maps without the aliasing of nearest-neighbour sampling, and a smaller PNG (less pixel noise).
 */
export function boxDownsample(src: Float64Array, w: number, h: number, outW: number, outH: number): Float64Array {
  if (outW === w && outH === h) return src;
  const out = new Float64Array(outW * outH);
  for (let oy = 0; oy < outH; oy++) {
    const y0 = Math.floor((oy * h) / outH);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * h) / outH));
    for (let ox = 0; ox < outW; ox++) {
      const x0 = Math.floor((ox * w) / outW);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * w) / outW));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += src[y * w + x]!;
      out[oy * outW + ox] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** Sky-blue rings around the given blocks (cell size cw x ch pixels), drawn over a map. */
async function ringBlocks(png: Buffer, at: readonly [number, number][], cw: number, ch: number): Promise<Buffer> {
  if (at.length === 0) return png;
  const { width, height } = await sharp(png).metadata();
  const r = Math.max(5, 1.6 * Math.max(cw, ch));
  const [R, G, B] = OKABE_ITO.skyBlue;
  const circles = at
    .map(([row, col]) => `<circle cx="${((col + 0.5) * cw).toFixed(1)}" cy="${((row + 0.5) * ch).toFixed(1)}" r="${r.toFixed(1)}" fill="none" stroke="rgb(${R},${G},${B})" stroke-width="1.5"/>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${circles}</svg>`;
  return sharp(png).composite([{ input: Buffer.from(svg), left: 0, top: 0 }]).png().toBuffer();
}

/** A swatch blended as the map draws it (colour at `opacity` over mid grey), so legend and map match. */
const swatch = (c: RGB8, opacity: number): string => {
  const v = (x: number) => Math.round(128 * (1 - opacity) + x * opacity);
  return rgbHex(v(c[0]), v(c[1]), v(c[2]));
};

/** A horizontal colour bar (CSS gradient) of a colour map as drawn at `opacity`. */
function gradient(name: 'viridis' | 'magma', opacity: number): string {
  const lut = colormapLut(name);
  const stops = Array.from({ length: 9 }, (_, k) => {
    const i = Math.round((k / 8) * 255);
    return swatch([lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!], opacity);
  });
  return `<span class="bar" style="background:linear-gradient(to right,${stops.join(',')})"></span>`;
}

/** The shared legend of the four map kinds (one line each). */
function legendHtml(): string {
  const sw = (c: RGB8, op: number, name: string) => `<span class="sw" style="background:${swatch(c, op)}"></span>${name}`;
  return (
    '<ul class="maplegend">' +
    `<li><b>${MAPS[0].title}</b> (viridis, fixed scale so maps compare; a good reconstruction is uniformly yellow, darker = lower SSIM): 0 ${gradient('viridis', MAPS[0].opacity)} 1</li>` +
    `<li><b>${MAPS[1].title}</b> (uncoloured: no axis fails): ${AXIS_RGB.map((c, i) => sw(c, MAPS[1].opacity, AXIS_PLAIN_NAMES[i]!)).join(' ')}</li>` +
    `<li><b>${MAPS[2].title}</b> at the configuration's T90: ${REGIME_RGB.map((c, i) => sw(c, MAPS[2].opacity, REGIME_PLAIN_NAMES[i]!)).join(' ')} (Silent = SSIM cannot see texture loss there)</li>` +
    `<li><b>${MAPS[3].title}</b>: the error SSIM rates as good in each Hidden Collapse block (ROI), display grey levels (magma): 0 ${gradient('magma', MAPS[3].opacity)} ${HIDDEN_MAX} or more, each ringed in sky blue; uncoloured: not Hidden</li>` +
    '</ul>'
  );
}

/** HTML of the maps: one row per configuration, PNGs as data URIs (report.html stays one file). */
export function representativeHtml(reps: readonly RepresentativeMaps[]): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (reps.length === 0) return '<p>Not available: the results folder has no run.json naming the image folders.</p>';
  const rows = reps.map((r) => {
    const head = `<h3>${esc(r.model)} / ${esc(r.path)}: ${esc(r.image)}</h3><p class="maphead">SSIM ${r.ssim.toFixed(4)}, the median of ${r.images} image${r.images === 1 ? '' : 's'}; T90 = ${r.t90.toFixed(4)}.</p>`;
    if (r.pngs.length === 0) return `${head}<p>${esc(r.missing ?? 'not available')}</p>`;
    const figs = r.pngs.map(
      (png, i) =>
        `<figure class="map"><img alt="${esc(`${MAPS[i]!.title}, ${r.model} / ${r.path}, ${r.image}`)}" src="data:image/png;base64,${png.toString('base64')}"><figcaption><b>${MAPS[i]!.title}</b>: ${esc(r.notes[i] ?? '')}</figcaption></figure>`,
    );
    return `${head}<div class="maps">${figs.join('')}</div>`;
  });
  return (
    `<p>For each configuration, the image whose whole-image SSIM is the median of that configuration (the lower one for an even count): a typical pair, not the best or the worst. Maps over the GT (display window), at most ${MAX_SIDE} px a side, one cell per block, from the same block table and thresholds as every count above.</p>\n` +
    legendHtml() +
    '\n' +
    rows.join('\n')
  );
}

/** CSS the maps need (added to report.html's style sheet). */
export const REPRESENTATIVE_CSS =
  '.maps{display:flex;flex-wrap:wrap;gap:10px}figure.map{margin:0 0 1em;padding:0;border:none;width:260px}figure.map img{image-rendering:pixelated;border:1px solid #ccc;max-width:100%}' +
  'figure.map figcaption{font-size:.8em}.maphead{margin:.2em 0 .5em}.maplegend{list-style:none;padding:0;font-size:.9em}.sw{display:inline-block;width:12px;height:12px;border:1px solid #222;margin:0 3px 0 8px;vertical-align:middle}' +
  '.bar{display:inline-block;width:140px;height:12px;border:1px solid #222;vertical-align:middle}';
