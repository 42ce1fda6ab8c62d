/** Tables tab: the headline table and the notta -> tta transition matrices (layers and each axis). */
import { AXIS_LABELS, LAYER_NAMES } from '../egg.ts';
import type { Row } from './api.ts';

export interface Analysis {
  headline: Row[];
  transitions: { model: string; layers: number[][]; axes: number[][][] }[];
  analyze: unknown;
  notice: string | null;
  reportHtml: string | null;
}

const pct = (v: unknown): string =>
  typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '–';
const fix = (v: unknown, d = 4): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');

function matrix(m: number[][], rows: readonly string[], cols: readonly string[], caption: string): string {
  const rowSums = m.map((r) => r.reduce((a, b) => a + b, 0));
  const head = `<tr><th>notta \\ tta</th>${cols.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  const body = m
    .map((r, i) => {
      const cells = r
        .map((v) => {
          const share = rowSums[i]! > 0 ? v / rowSums[i]! : 0;
          return `<td style="background:rgba(177,92,255,${(0.85 * share).toFixed(3)})" title="${pct(share)} of row">${v}</td>`;
        })
        .join('');
      return `<tr><td>${rows[i]}</td>${cells}</tr>`;
    })
    .join('');
  return `<table class="matrix"><caption>${caption}</caption>${head}${body}</table>`;
}

/** Any array of flat objects as a table (for analysis/summary.json sections, whose columns we do not fix). */
function genericTable(rows: Row[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!).filter((k) =>
    rows.every((r) => r[k] === null || typeof r[k] !== 'object'),
  );
  // shares as percentages (a raw 1 or 0.575 reads as a count), column names in words
  const cell = (v: unknown, k: string) =>
    typeof v === 'number'
      ? k.endsWith('_share')
        ? pct(v)
        : Number.isInteger(v)
          ? String(v)
          : v.toFixed(4)
      : v === null || v === undefined
        ? '–'
        : String(v).replace(/[&<>]/g, '');
  const title = (k: string) => k.replace(/_/g, ' ').replace(/^t(10|90)\b/, 'T$1').replace(/\bnonborder\b/, 'non-border');
  return `<table><tr>${keys.map((k) => `<th>${title(k)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${keys.map((k) => `<td>${cell(r[k], k)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function tablesHtml(a: Analysis): string {
  const head = [
    'model',
    'path',
    'blocks',
    'T10',
    'T90',
    'Visible',
    'Gray',
    'Hidden',
    'Intact',
    'Silent',
    'Hidden Persistent',
    'Silent share of Hidden Persistent',
    'Hidden: None',
    'Single',
    'Multi',
    'Hidden, published definition',
    'Silent share of Hidden Persistent, published',
  ];
  const rows = a.headline
    .map(
      (r) =>
        `<tr><td>${r.model}</td><td>${r.path}</td><td>${r.blocks}</td><td>${fix(r.t10)}</td><td>${fix(r.t90)}</td><td>${pct(r.visible)}</td><td>${pct(r.gray)}</td><td>${pct(r.hidden)}</td><td>${pct(r.intact)}</td><td>${pct(r.silent)}</td><td>${r.hidden_persistent}</td><td><b>${pct(r.silent_share_of_hidden_persistent)}</b></td><td>${pct(r.hidden_attractor_none)}</td><td>${pct(r.hidden_attractor_single)}</td><td>${pct(r.hidden_attractor_multi)}</td><td>${pct(r.hidden_published)}</td><td>${pct(r.silent_share_of_hidden_persistent_published)}</td></tr>`,
    )
    .join('');
  const trans = a.transitions
    .map(
      (t) =>
        `<h2>${t.model}: notta → tta (region-of-interest blocks, as in report.html)</h2><div class="matrices">${matrix(t.layers, LAYER_NAMES, LAYER_NAMES, 'failure layer')}${t.axes
          .map((m, k) => matrix(m, ['pass', 'fail'], ['pass', 'fail'], AXIS_LABELS[k]!))
          .join('')}</div>`,
    )
    .join('');
  const notice = a.notice ? `<p class="notice">${a.notice}</p>` : '';
  const report = a.reportHtml
    ? `<p><a href="${a.reportHtml}" target="_blank" style="color:#b15cff">open analysis/report.html</a></p>`
    : '';
  const analyze = a.analyze as Record<string, unknown> | null;
  const fromAnalyze =
    analyze && Array.isArray(analyze.headline) && analyze.headline.length > 0
      ? `<h2>Headline from <code>blindspot analyze</code> (analysis/summary.json)</h2><div class="scroll">${genericTable(analyze.headline as Row[])}</div>`
      : '';
  return `${notice}${report}${fromAnalyze}<h2>Headline (per configuration, computed by the viewer): region-of-interest blocks with damage above the floors (docs/method.md); the last two columns use the published definition (all blocks, no floor)</h2><table id="headline"><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>${rows}</table>${
    trans || '<p class="notice">no model has both notta and tta: no transition matrices</p>'
  }`;
}
