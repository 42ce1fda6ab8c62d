/**
 * Small, dependency-free SVG plots for the analysis report (self-contained, deterministic text).
 */
import { colormapRgb, cssColor, SERIES_RGB } from '../render/palette.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (v: number): string => (Math.round(v * 100) / 100).toString();

const pctLabel = (v: number): string => (v === 0 ? '0%' : `${Number((100 * v).toPrecision(2))}%`);

/** A category label on two lines when it has a plain name after its code ("A5 high frequency"). */
function catLabel(c: string, x: string, y: number): string {
  const sp = c.indexOf(' ');
  if (sp < 0) return `<text x="${x}" y="${y}" text-anchor="middle">${esc(c)}</text>`;
  return `<text x="${x}" y="${y}" text-anchor="middle">${esc(c.slice(0, sp))}<tspan x="${x}" dy="13" font-size="10">${esc(c.slice(sp + 1))}</tspan></text>`;
}

/** Series colours: the project palette's (Okabe-Ito, colour-blind safe). */
export const PALETTE: readonly string[] = SERIES_RGB.map((c) => cssColor(c));

/** Sequential fill for heatmaps, t in [0, 1]: d3's Blues (white to dark blue). */
function ramp(t: number): string {
  return cssColor(colormapRgb('blues', t));
}

export interface Series {
  label: string;
  /** y values, one per x. */
  values: number[];
}

/**
 * Line plot of several series over shared x values (e.g. ssim_blk histograms per configuration).
 */
export function linePlotSvg(title: string, xs: number[], series: Series[], xLabel: string, yLabel: string, opts: { logY?: boolean } = {}): string {
  const W = 800;
  const H = 360;
  const m = { l: 60, r: 250, t: 36, b: 46 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xmin = Math.min(...xs);
  const xmax = Math.max(...xs);
  const all = series.flatMap((s) => s.values);
  const ymax = Math.max(1e-12, ...all);
  const X = (x: number): number => m.l + ((x - xmin) / (xmax - xmin || 1)) * pw;
  if (opts.logY) return logLinePlot(title, xs, series, xLabel, yLabel, { W, H, m, pw, ph, X });
  const Y = (y: number): number => m.t + ph - (y / ymax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  for (let i = 0; i <= 4; i++) {
    const x = xmin + ((xmax - xmin) * i) / 4;
    const y = (ymax * i) / 4;
    out.push(`<text x="${f(X(x))}" y="${m.t + ph + 16}" text-anchor="middle">${f(x)}</text>`);
    out.push(`<text x="${m.l - 6}" y="${f(Y(y) + 4)}" text-anchor="end">${y < 0.01 ? y.toExponential(1) : f(y)}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const pts = s.values.map((v, i) => `${f(X(xs[i]!))},${f(Y(v))}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts}"/>`);
    out.push(`<rect x="${W - m.r + 14}" y="${m.t + k * 18}" width="12" height="12" fill="${color}"/><text x="${W - m.r + 30}" y="${m.t + k * 18 + 10}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The line plot with a log10 y axis (decade ticks); zero values break the line (no point drawn). */
function logLinePlot(
  title: string,
  xs: number[],
  series: Series[],
  xLabel: string,
  yLabel: string,
  g: { W: number; H: number; m: { l: number; r: number; t: number; b: number }; pw: number; ph: number; X: (x: number) => number },
): string {
  const { W, H, m, pw, ph, X } = g;
  const pos = series.flatMap((s) => s.values).filter((v) => v > 0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  if (pos.length === 0) {
    out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph / 2}" text-anchor="middle" font-size="14" fill="#666">none in this run</text></svg>`);
    return out.join('\n') + '\n';
  }
  const d0 = Math.floor(Math.log10(Math.min(...pos)));
  const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(Math.max(...pos))));
  const Y = (y: number): number => m.t + ph - ((Math.log10(y) - d0) / (d1 - d0)) * ph;
  for (let d = d0; d <= d1; d++) {
    const y = f(Y(10 ** d));
    out.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#eee"/><text x="${m.l - 6}" y="${f(Y(10 ** d) + 4)}" text-anchor="end">${d >= -3 && d <= 3 ? String(Number((10 ** d).toPrecision(1))) : `1e${d}`}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const x = xs[0]! + ((xs[xs.length - 1]! - xs[0]!) * i) / 4;
    out.push(`<text x="${f(X(x))}" y="${m.t + ph + 16}" text-anchor="middle">${f(x)}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${esc(yLabel)} (log scale)</text>`);
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    // split into runs of positive values
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${run.join(' ')}"/>`);
      else if (run.length === 1) {
        const [px, py] = run[0]!.split(',');
        out.push(`<circle cx="${px}" cy="${py}" r="2" fill="${color}"/>`);
      }
      run = [];
    };
    s.values.forEach((v, i) => (v > 0 ? run.push(`${f(X(xs[i]!))},${f(Y(v))}`) : flush()));
    flush();
    out.push(`<rect x="${W - m.r + 14}" y="${m.t + k * 18}" width="12" height="12" fill="${color}"/><text x="${W - m.r + 30}" y="${m.t + k * 18 + 10}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Grouped bar chart: one group per category (e.g. axis), one bar per series (e.g. configuration).
 */
export function barPlotSvg(title: string, categories: string[], series: Series[], yLabel: string): string {
  const W = 800;
  const H = 340;
  const m = { l: 60, r: 250, t: 36, b: 48 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const ymax = Math.max(1e-12, ...series.flatMap((s) => s.values));
  const gw = pw / Math.max(1, categories.length);
  const bw = (gw * 0.8) / Math.max(1, series.length);
  const Y = (y: number): number => m.t + ph - (y / ymax) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  if (!(Math.max(0, ...series.flatMap((s) => s.values)) > 0)) {
    // nothing to draw: say so instead of an empty axis with 0, 0, 0 ticks
    out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph / 2}" text-anchor="middle" font-size="14" fill="#666">none in this run</text>`);
    categories.forEach((c, i) => out.push(catLabel(c, f(m.l + gw * i + gw / 2), m.t + ph + 16)));
    out.push('</svg>');
    return out.join('\n') + '\n';
  }
  const pctTick = ymax <= 1;
  for (let i = 0; i <= 4; i++) out.push(`<text x="${m.l - 6}" y="${f(Y((ymax * i) / 4) + 4)}" text-anchor="end">${pctTick ? pctLabel((ymax * i) / 4) : f((ymax * i) / 4)}</text>`);
  out.push(`<text x="14" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.t + ph / 2})">${esc(yLabel)}</text>`);
  categories.forEach((c, i) => {
    out.push(catLabel(c, f(m.l + gw * i + gw / 2), m.t + ph + 16));
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      out.push(`<rect x="${f(m.l + gw * i + gw * 0.1 + bw * k)}" y="${f(Y(v))}" width="${f(bw)}" height="${f(m.t + ph - Y(v))}" fill="${PALETTE[k % PALETTE.length]}"/>`);
    });
  });
  series.forEach((s, k) => {
    out.push(`<rect x="${W - m.r + 14}" y="${m.t + k * 18}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/><text x="${W - m.r + 30}" y="${m.t + k * 18 + 10}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Heatmap of a transition matrix: rows = from (notta), columns = to (tta); colour = share of the row, text = count.
 */
export function heatmapSvg(title: string, labels: readonly string[], counts: number[][]): string {
  const cell = 78;
  const m = { l: 90, t: 56, r: 20, b: 20 };
  const n = labels.length;
  const W = m.l + n * cell + m.r;
  const H = m.t + n * cell + m.b + 20;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<text x="${m.l + (n * cell) / 2}" y="${m.t - 24}" text-anchor="middle">tta</text><text x="16" y="${m.t + (n * cell) / 2}" transform="rotate(-90 16 ${m.t + (n * cell) / 2})" text-anchor="middle">notta</text>`);
  labels.forEach((l, j) => out.push(`<text x="${m.l + j * cell + cell / 2}" y="${m.t - 6}" text-anchor="middle">${esc(l)}</text>`));
  for (let i = 0; i < n; i++) {
    const rowSum = counts[i]!.reduce((a, b) => a + b, 0);
    out.push(`<text x="${m.l - 6}" y="${m.t + i * cell + cell / 2 + 4}" text-anchor="end">${esc(labels[i]!)}</text>`);
    for (let j = 0; j < n; j++) {
      const c = counts[i]![j]!;
      const share = rowSum > 0 ? c / rowSum : 0;
      out.push(`<rect x="${m.l + j * cell}" y="${m.t + i * cell}" width="${cell}" height="${cell}" fill="${ramp(share)}" stroke="#999"/>`);
      out.push(
        `<text x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2}" text-anchor="middle" fill="${share > 0.5 ? 'white' : 'black'}">${c}</text>` +
          `<text x="${m.l + j * cell + cell / 2}" y="${m.t + i * cell + cell / 2 + 15}" text-anchor="middle" font-size="10" fill="${share > 0.5 ? 'white' : '#333'}">${(100 * share).toFixed(1)}%</text>`,
      );
    }
  }
  out.push(`<text x="${m.l}" y="${H - 8}" font-size="10">cells: block count and share of the notta row</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
