/**
 * Heatmap PNGs a person can read: a colour-mapped field (optionally a block grid upsampled to image size, blended
 * over the grey ground truth), a title bar naming what is shown, and a legend. Pure computation into a raw RGB
 * buffer; sharp only composes the text (SVG) and encodes the PNG. Same input -> same bytes.
 */
import sharp from 'sharp';
import { colormapLut, rgbHex, type ColormapName } from './palette.ts';

/** A grey plane drawn under the colours (e.g. the GT), normalised from [min, max] (default: its own range). */
export interface Underlay {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** Channels per pixel in `data` (the first is used). Default 1. */
  channels?: number;
  min?: number;
  max?: number;
}

interface CommonOptions {
  title?: string;
  subtitle?: string;
  /** Output raster size; a block grid is upsampled nearest-neighbour to it. Default: the grid size. */
  outWidth?: number;
  outHeight?: number;
  underlay?: Underlay;
  /** Colour opacity over the underlay, 0..1. Default 0.6 with an underlay, 1 without. */
  opacity?: number;
  /** Only the picture, no title bar or legend (for pages that draw one shared legend, e.g. report.html). */
  bare?: boolean;
}

export interface HeatmapOptions extends CommonOptions {
  colormap?: ColormapName;
  /** Value mapped to the first colour. Default: the finite minimum. */
  min?: number;
  /** Value mapped to the last colour. Default: the finite maximum. */
  max?: number;
  /** What the values are (legend heading). */
  legendLabel?: string;
  /** Colour for NaN cells; null (default) shows only the underlay (or white). */
  nanColor?: [number, number, number] | null;
}

export interface Category {
  name: string;
  color: [number, number, number];
}

export interface CategoricalOptions extends CommonOptions {
  categories: Category[];
  legendLabel?: string;
}

const TITLE_H = 52;
const LEGEND_W = 190;
const MIN_W = 420;

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** Grey underlay value (0..255) at output pixel (x, y), or white when there is none. */
function underlaySampler(u: Underlay | undefined, outW: number, outH: number): (x: number, y: number) => number {
  if (!u) return () => 255;
  const ch = u.channels ?? 1;
  let lo = u.min;
  let hi = u.max;
  if (lo === undefined || hi === undefined) {
    let a = Infinity;
    let b = -Infinity;
    for (let i = 0; i < u.width * u.height; i++) {
      const v = u.data[i * ch]!;
      if (v < a) a = v;
      if (v > b) b = v;
    }
    lo ??= a;
    hi ??= b;
  }
  const span = hi > lo ? hi - lo : Infinity;
  const lo2 = lo;
  return (x, y) => {
    const ux = Math.min(u.width - 1, Math.floor((x * u.width) / outW));
    const uy = Math.min(u.height - 1, Math.floor((y * u.height) / outH));
    return Math.max(0, Math.min(255, ((u.data[(uy * u.width + ux) * ch]! - lo2) * 255) / span));
  };
}

/** Fill an RGB raster of outW x outH from a grid, colouring each cell with `colorOf` (null = no colour). */
function rasterise(
  gridW: number,
  gridH: number,
  outW: number,
  outH: number,
  colorOf: (cell: number, rgb: Uint8Array) => boolean,
  underlay: Underlay | undefined,
  opacity: number,
): Buffer {
  const buf = Buffer.alloc(outW * outH * 3);
  const grey = underlaySampler(underlay, outW, outH);
  const rgb = new Uint8Array(3);
  for (let y = 0; y < outH; y++) {
    const gy = Math.min(gridH - 1, Math.floor((y * gridH) / outH));
    for (let x = 0; x < outW; x++) {
      const gx = Math.min(gridW - 1, Math.floor((x * gridW) / outW));
      const g = grey(x, y);
      const o = (y * outW + x) * 3;
      if (colorOf(gy * gridW + gx, rgb)) {
        buf[o] = Math.round(g * (1 - opacity) + rgb[0]! * opacity);
        buf[o + 1] = Math.round(g * (1 - opacity) + rgb[1]! * opacity);
        buf[o + 2] = Math.round(g * (1 - opacity) + rgb[2]! * opacity);
      } else {
        buf[o] = buf[o + 1] = buf[o + 2] = Math.round(g);
      }
    }
  }
  return buf;
}

function formatTick(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

async function compose(
  raster: Buffer,
  outW: number,
  outH: number,
  opts: CommonOptions,
  legendSvg: (x0: number, y0: number, h: number) => string,
): Promise<Buffer> {
  if (opts.bare) return sharp(raster, { raw: { width: outW, height: outH, channels: 3 } }).png({ compressionLevel: 9 }).toBuffer();
  const totalW = Math.max(MIN_W, outW + LEGEND_W);
  const totalH = TITLE_H + Math.max(outH, 200);
  const title = escapeXml(opts.title ?? '');
  const subtitle = escapeXml(opts.subtitle ?? '');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}">` +
    `<style>text{font-family:DejaVu Sans,Arial,Helvetica,sans-serif;fill:#222}</style>` +
    `<text x="8" y="21" font-size="16" font-weight="bold">${title}</text>` +
    `<text x="8" y="42" font-size="12">${subtitle}</text>` +
    legendSvg(outW + 14, TITLE_H + 8, Math.min(outH, 400) - 16) +
    `</svg>`;
  return sharp({ create: { width: totalW, height: totalH, channels: 3, background: '#ffffff' } })
    .composite([
      { input: raster, raw: { width: outW, height: outH, channels: 3 }, left: 0, top: TITLE_H },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/**
 * Render a scalar field (e.g. an SSIM map, or a block grid) as a colour-mapped PNG with a title and a colour bar.
 * @param values row-major, gridWidth x gridHeight; NaN cells are left uncoloured.
 * @example await writeFile('map.png', await renderHeatmapPng(res.map, res.mapWidth, res.mapHeight, { title: 'SSIM map' }))
 */
export async function renderHeatmapPng(
  values: ArrayLike<number>,
  gridWidth: number,
  gridHeight: number,
  options: HeatmapOptions = {},
): Promise<Buffer> {
  const outW = options.outWidth ?? gridWidth;
  const outH = options.outHeight ?? gridHeight;
  let lo = options.min;
  let hi = options.max;
  if (lo === undefined || hi === undefined) {
    let a = Infinity;
    let b = -Infinity;
    for (let i = 0; i < gridWidth * gridHeight; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        if (v < a) a = v;
        if (v > b) b = v;
      }
    }
    if (a > b) [a, b] = [0, 1];
    lo ??= a;
    hi ??= b;
  }
  const lut = colormapLut(options.colormap ?? 'viridis');
  const span = hi > lo ? hi - lo : 1;
  const lo2 = lo;
  const nan = options.nanColor ?? null;
  const opacity = options.opacity ?? (options.underlay ? 0.6 : 1);
  const raster = rasterise(
    gridWidth,
    gridHeight,
    outW,
    outH,
    (cell, rgb) => {
      const v = values[cell]!;
      if (!Number.isFinite(v)) {
        if (!nan) return false;
        rgb[0] = nan[0];
        rgb[1] = nan[1];
        rgb[2] = nan[2];
        return true;
      }
      const i = Math.max(0, Math.min(255, Math.round(((v - lo2) / span) * 255)));
      rgb[0] = lut[i * 3]!;
      rgb[1] = lut[i * 3 + 1]!;
      rgb[2] = lut[i * 3 + 2]!;
      return true;
    },
    options.underlay,
    opacity,
  );
  const label = escapeXml(options.legendLabel ?? 'value');
  const hiV = hi;
  // colour bar as drawn: blended at the map's opacity over a mid-grey image (white without an underlay)
  const under = options.underlay ? 128 : 255;
  return compose(raster, outW, outH, options, (x0, y0, h) => {
    const barH = Math.max(100, h - 30);
    const stops = Array.from({ length: 17 }, (_, k) => {
      const i = Math.round((k / 16) * 255);
      const c = (ch: number) => Math.round(under * (1 - opacity) + lut[i * 3 + ch]! * opacity);
      return `<stop offset="${(k / 16).toFixed(4)}" stop-color="${rgbHex(c(0), c(1), c(2))}"/>`;
    }).join('');
    const ticks = [0, 0.25, 0.5, 0.75, 1]
      .map((f) => {
        const y = y0 + 20 + barH * (1 - f);
        return (
          `<line x1="${x0 + 22}" y1="${y}" x2="${x0 + 27}" y2="${y}" stroke="#222"/>` +
          `<text x="${x0 + 30}" y="${y + 4}" font-size="11">${escapeXml(formatTick(lo2 + f * (hiV - lo2)))}</text>`
        );
      })
      .join('');
    return (
      `<text x="${x0}" y="${y0 + 8}" font-size="12" font-weight="bold">${label}</text>` +
      `<defs><linearGradient id="cb" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>` +
      `<rect x="${x0}" y="${y0 + 20}" width="22" height="${barH}" fill="url(#cb)" stroke="#222"/>` +
      ticks
    );
  });
}

/**
 * Render a label grid (e.g. regime or dominant axis per block) with a swatch legend.
 * @param labels integer category index per cell (index into `categories`); out-of-range or negative = uncoloured.
 */
export async function renderCategoricalPng(
  labels: ArrayLike<number>,
  gridWidth: number,
  gridHeight: number,
  options: CategoricalOptions,
): Promise<Buffer> {
  const outW = options.outWidth ?? gridWidth;
  const outH = options.outHeight ?? gridHeight;
  const cats = options.categories;
  const opacity = options.opacity ?? (options.underlay ? 0.6 : 1);
  const raster = rasterise(
    gridWidth,
    gridHeight,
    outW,
    outH,
    (cell, rgb) => {
      const k = labels[cell]!;
      const c = cats[k];
      if (!c) return false;
      rgb[0] = c.color[0];
      rgb[1] = c.color[1];
      rgb[2] = c.color[2];
      return true;
    },
    options.underlay,
    opacity,
  );
  const label = escapeXml(options.legendLabel ?? '');
  // The swatch shows the colour as drawn: blended at the same opacity over a mid-grey image, so it matches the map.
  const under = options.underlay ? 128 : 255;
  const shown = (v: number) => Math.round(under * (1 - opacity) + v * opacity);
  return compose(raster, outW, outH, options, (x0, y0) => {
    let s = label ? `<text x="${x0}" y="${y0 + 8}" font-size="12" font-weight="bold">${label}</text>` : '';
    cats.forEach((c, i) => {
      const y = y0 + 20 + i * 22;
      s +=
        `<rect x="${x0}" y="${y}" width="16" height="16" fill="${rgbHex(shown(c.color[0]), shown(c.color[1]), shown(c.color[2]))}" stroke="#222"/>` +
        `<text x="${x0 + 22}" y="${y + 13}" font-size="12">${escapeXml(c.name)}</text>`;
    });
    return s;
  });
}
