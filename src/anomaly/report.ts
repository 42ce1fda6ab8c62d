/**
 * Anomaly Score outputs: per-image CSV, a (C, V) scatter plot (SVG, rasterised to PNG with sharp), an HTML AS-i
 * ranking with thumbnails of the most and least natural images, and result.json. The text builders are pure and
 * deterministic (no timestamps; numbers in JavaScript's shortest round-trip form); `writeAnomalyReport` does I/O.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { BlindspotError } from '../errors.ts';
import { cssColor, SERIES_RGB } from '../render/palette.ts';
import { readImage } from '../image/read.ts';
import { toExtractorInput } from './preprocess.ts';
import type { AsResult } from './asStat.ts';
import type { ExtractorInfo, ImageScore, ItemError, SetScores } from './score.ts';

/** A labelled set for the outputs ('real', 'generated' or 'images'). */
export interface LabelledSet {
  label: string;
  scores: SetScores;
}

const num = (v: number): string =>
  Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with columns set,file,complexity,vulnerability,as_i (one row per scored image, input order). */
export function scoresCsv(sets: readonly LabelledSet[]): string {
  const lines = ['set,file,complexity,vulnerability,as_i'];
  for (const s of sets) {
    for (const i of s.scores.images) {
      lines.push(
        [csvField(s.label), csvField(i.name), num(i.complexity), num(i.vulnerability), num(i.asi)].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" axis ticks covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12 * span; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

const PALETTE: readonly string[] = SERIES_RGB.map((c) => cssColor(c));

/**
 * Scatter plot of complexity (x) against vulnerability (y) for each set, as a standalone SVG.
 * @param sets the sets to draw (colours in order: blue, red, green, purple).
 * @param title heading; @param subtitle second line (e.g. AS, p, extractor).
 */
export function scatterSvg(sets: readonly LabelledSet[], title: string, subtitle = ''): string {
  const W = 720;
  const H = 540;
  const m = { left: 80, right: 30, top: 70, bottom: 60 };
  const pts = sets.flatMap((s) =>
    s.scores.images.filter((i) => Number.isFinite(i.complexity) && Number.isFinite(i.vulnerability)),
  );
  let x0 = Math.min(...pts.map((p) => p.complexity));
  let x1 = Math.max(...pts.map((p) => p.complexity));
  let y0 = Math.min(...pts.map((p) => p.vulnerability));
  let y1 = Math.max(...pts.map((p) => p.vulnerability));
  if (pts.length === 0) [x0, x1, y0, y1] = [0, 1, 0, 1];
  const padX = (x1 - x0 || Math.abs(x0) || 1) * 0.06;
  const padY = (y1 - y0 || Math.abs(y0) || 1) * 0.06;
  x0 -= padX;
  x1 += padX;
  y0 -= padY;
  y1 += padY;
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0)) * (W - m.left - m.right);
  const sy = (v: number) => H - m.bottom - ((v - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const f = (v: number) => v.toFixed(2);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="28" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${m.left}" y="50" font-size="12" fill="#444">${escapeXml(subtitle)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`,
  ];
  for (const t of ticks(x0, x1)) {
    parts.push(
      `<line x1="${f(sx(t))}" y1="${H - m.bottom}" x2="${f(sx(t))}" y2="${H - m.bottom + 5}" stroke="#333"/>`,
    );
    parts.push(
      `<text x="${f(sx(t))}" y="${H - m.bottom + 19}" font-size="11" text-anchor="middle">${t}</text>`,
    );
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.left - 5}" y1="${f(sy(t))}" x2="${m.left}" y2="${f(sy(t))}" stroke="#333"/>`);
    parts.push(`<text x="${m.left - 8}" y="${f(sy(t) + 4)}" font-size="11" text-anchor="end">${t}</text>`);
  }
  parts.push(
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 16}" font-size="13" text-anchor="middle">complexity C (mean angle, rad)</text>`,
  );
  parts.push(
    `<text x="20" y="${(m.top + H - m.bottom) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 20 ${(m.top + H - m.bottom) / 2})">vulnerability V (feature L2 under PGD)</text>`,
  );
  sets.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    for (const p of s.scores.images) {
      if (!Number.isFinite(p.complexity) || !Number.isFinite(p.vulnerability)) continue;
      parts.push(
        `<circle cx="${f(sx(p.complexity))}" cy="${f(sy(p.vulnerability))}" r="4" fill="${color}" fill-opacity="0.65"><title>${escapeXml(p.name)}</title></circle>`,
      );
    }
    const ly = m.top + 16 + 18 * k;
    parts.push(`<circle cx="${W - m.right - 150}" cy="${ly - 4}" r="5" fill="${color}"/>`);
    parts.push(
      `<text x="${W - m.right - 140}" y="${ly}" font-size="12">${escapeXml(`${s.label} (n=${s.scores.images.length})`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** A ranked image with an optional data-URI thumbnail. */
export interface RankedImage extends ImageScore {
  set: string;
  thumbnail?: string;
}

/**
 * HTML page ranking images by AS-i (ascending: most natural first), with thumbnails for the `k` most and `k`
 * least natural ones and the full table below.
 */
export function rankingHtml(
  ranked: readonly RankedImage[],
  facts: Record<string, string>,
  k: number,
): string {
  const esc = escapeXml;
  const card = (r: RankedImage, rank: number) =>
    `<figure><img src="${r.thumbnail ?? ''}" alt="${esc(r.name)}" width="128" height="128"><figcaption>#${rank} ${esc(r.name)}<br>${esc(r.set)} · AS-i ${r.asi.toPrecision(4)}</figcaption></figure>`;
  const most = ranked.slice(0, k).map((r, i) => card(r, i + 1));
  const least = ranked
    .slice(Math.max(k, ranked.length - k))
    .map((r, i) => card(r, Math.max(k, ranked.length - k) + i + 1))
    .reverse();
  const rows = ranked.map(
    (r, i) =>
      `<tr><td>${i + 1}</td><td>${esc(r.set)}</td><td>${esc(r.name)}</td><td>${num(r.complexity)}</td><td>${num(r.vulnerability)}</td><td>${num(r.asi)}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Anomaly Score: AS-i ranking</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:6px;text-align:center;font-size:12px;width:140px}
img{image-rendering:auto;border:1px solid #ccc}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:nth-child(2),td:nth-child(3){text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}</style></head>
<body><h1>AS-i ranking (V / C, lower = more natural)</h1>
<dl>${Object.entries(facts)
    .map(([a, b]) => `<dt>${esc(a)}</dt><dd>${esc(b)}</dd>`)
    .join('')}</dl>
<h2>Most natural (lowest AS-i)</h2><div>${most.join('')}</div>
<h2>Least natural (highest AS-i)</h2><div>${least.join('')}</div>
<h2>All images</h2><table><thead><tr><th>rank</th><th>set</th><th>file</th><th>C</th><th>V</th><th>AS-i</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></body></html>
`;
}

/** 128x128 PNG thumbnail as a data URI (grey or RGB, scaled by the image's data range). */
export async function thumbnailDataUri(file: string): Promise<string> {
  const img = await readImage(file);
  const rgb = await toExtractorInput(img, 128, 3);
  const u8 = Uint8Array.from(rgb, (v) => Math.round(v * 255));
  const png = await sharp(u8, { raw: { width: 128, height: 128, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Everything `writeAnomalyReport` records. */
export interface ReportInput {
  sets: LabelledSet[];
  extractor: ExtractorInfo;
  seed: number;
  officialCompat: boolean;
  /** AS and p (plus the small-sample fields of `AsResult`) when there are two sets. */
  as?: { as: number; p: number } & Partial<Omit<AsResult, 'as' | 'p'>>;
  /** Extra JSON fields (settings, passes). */
  extra?: Record<string, unknown>;
  /** Thumbnails for this many most and least natural images. Default 8. */
  thumbnails?: number;
}

/**
 * Write scores.csv, scatter.svg, scatter.png, ranking.html and result.json into `outDir`.
 * @throws BlindspotError E_UNREADABLE when the folder cannot be written.
 * @returns the paths written.
 */
export async function writeAnomalyReport(outDir: string, r: ReportInput): Promise<string[]> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new BlindspotError(
      'E_UNREADABLE',
      `cannot create output folder (${(e as NodeJS.ErrnoException).code})`,
      outDir,
    );
  }
  const errors: (ItemError & { set: string })[] = r.sets.flatMap((s) =>
    s.scores.errors.map((e) => ({ set: s.label, ...e })),
  );
  const ex = r.extractor;
  const subtitle =
    (r.as ? `AS = ${r.as.as.toFixed(4)} (p = ${r.as.p.toPrecision(3)}) · ` : '') +
    `${ex.name} sha256 ${ex.sha256.slice(0, 12)} · seed ${r.seed}${r.officialCompat ? ' · official-compat PGD' : ''}`;
  const svg = scatterSvg(r.sets, 'Anomaly Score: complexity vs vulnerability', subtitle);
  const png = await sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
  const ranked: RankedImage[] = r.sets
    .flatMap((s) => s.scores.images.map((i) => ({ ...i, set: s.label })))
    .sort((a, b) => a.asi - b.asi || a.name.localeCompare(b.name));
  const k = r.thumbnails ?? 8;
  for (const [i, img] of ranked.entries()) {
    if (i < k || i >= ranked.length - k) {
      try {
        img.thumbnail = await thumbnailDataUri(img.file);
      } catch {
        // A file that scored but cannot be thumbnailed keeps its row.
      }
    }
  }
  const facts: Record<string, string> = {
    extractor: `${ex.name} (${ex.featureSize}-d, ${ex.inputSize}², ${ex.source})`,
    'weights sha256': ex.sha256,
    seed: String(r.seed),
    'PGD update': r.officialCompat ? 'official repository (descent)' : 'ascent (paper)',
    images: r.sets.map((s) => `${s.label}: ${s.scores.images.length}`).join(', '),
  };
  if (r.as) {
    facts['AS (2-D KS D)'] =
      `${r.as.as} (p = ${r.as.p}` +
      (r.as.pPermutation !== undefined ? `; permutation p = ${r.as.pPermutation})` : ')');
    if (r.as.warning) facts['warning'] = r.as.warning;
  }
  const result = {
    ...(r.as ? { ...r.as } : {}),
    counts: Object.fromEntries(r.sets.map((s) => [s.label, s.scores.images.length])),
    extractor: ex,
    seed: r.seed,
    officialCompat: r.officialCompat,
    ...(r.extra ?? {}),
    errors,
  };
  const files: [string, string | Buffer][] = [
    ['scores.csv', scoresCsv(r.sets)],
    ['scatter.svg', svg],
    ['scatter.png', png],
    ['ranking.html', rankingHtml(ranked, facts, k)],
    ['result.json', JSON.stringify(result, null, 2) + '\n'],
  ];
  const written: string[] = [];
  for (const [name, body] of files) {
    const path = join(outDir, name);
    try {
      await writeFile(path, body);
    } catch (e) {
      throw new BlindspotError('E_UNREADABLE', `cannot write (${(e as NodeJS.ErrnoException).code})`, path);
    }
    written.push(path);
  }
  return written;
}
