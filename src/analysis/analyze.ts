/**
 * `analyze(dir)`: materialise T10/T90, define the views, and write RESULTS/analysis/ (views.sql, params.json,
 * thresholds.parquet, summary.json, report.md, report.html, plots/*.svg, MANIFEST.sha256). Every figure comes
 * from counts, exact quantiles or count ratios, so the files are byte-identical across runs and thread counts.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeAtomically } from '../store/atomic.ts';
import { PARQUET_COPY_OPTIONS, sqlString } from '../store/blockTable.ts';
import { writeManifest } from '../store/manifest.ts';
import type { AnalyzeOptions } from './options.ts';
import { openAnalysis, queryRows } from './open.ts';
import { AXES, LAYER_ORDER, splitStatements } from './views.ts';
import { barPlotSvg, heatmapSvg, linePlotSvg } from './plots.ts';
import { patternReport, type PatternReport } from './patternReport.ts';
import { AXIS_PLAIN_NAMES } from '../render/palette.ts';
import { cropsHtml, worstBlockCrops } from './crops.ts';
import { REPRESENTATIVE_CSS, representativeHtml, representativeMaps } from './representative.ts';
import { conclusionMarkdown, FIGURE_CAPTIONS, GLOSSARY_MD, tier1Markdown, transitionCaption } from './reportText.ts';

export interface AnalysisSummary {
  params: AnalyzeOptions;
  thresholds: Record<string, unknown>[];
  layers: Record<string, unknown>[];
  layersPublished: Record<string, unknown>[];
  regimes: Record<string, unknown>[];
  attractors: Record<string, unknown>[];
  axisShares: Record<string, unknown>[];
  headline: Record<string, unknown>[];
  layerTransitions: Record<string, unknown>[];
  axisTransitions: Record<string, unknown>[];
  histograms: { lo: number; hi: number; bins: number; configurations: { model: string; path: string; counts: number[] }[] };
  /** The published engine's 26-pattern screen, battery means and LFV statistics (patternReport.ts, docs/metrics.md). */
  patterns: PatternReport['summary'];
}

export interface AnalyzeResult {
  summary: AnalysisSummary;
  /** Files written, relative to RESULTS/analysis. */
  files: string[];
}

/** JSON with NaN/Infinity as null and keys in insertion order (stable). */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n';
}

const pct = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '–');
const fix = (v: unknown, d = 4): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');

function mdTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

function transitionMatrix(rows: Record<string, unknown>[], model: string): number[][] {
  return LAYER_ORDER.map((from) =>
    LAYER_ORDER.map((to) => Number(rows.find((r) => r.model === model && r.layer_notta === from && r.layer_tta === to)?.blocks ?? 0)),
  );
}

/**
 * Analyse a RESULTS folder and write RESULTS/analysis/.
 * @param dir RESULTS folder written by `runDataset` (or the union of shards).
 * @param options Analysis parameters (defaults: DESIGN §3b and the run's block options).
 * @returns the summary (also in summary.json) and the files written.
 * @throws BlindspotError E_NOT_FOUND for a folder without block files; E_INVALID_OPTION for bad options.
 */
export async function analyze(dir: string, options: Partial<AnalyzeOptions> = {}): Promise<AnalyzeResult> {
  // First pass: compute and materialise the thresholds (the expensive exact quantiles) once.
  const first = await openAnalysis(dir, options, false);
  const outDir = join(first.dir, 'analysis');
  await mkdir(join(outDir, 'plots'), { recursive: true });
  try {
    // Exact quantiles on every core; the few result rows are then written by one thread (deterministic bytes).
    await first.connection.run('CREATE TEMP TABLE thresholds_once AS SELECT * FROM thresholds_computed ORDER BY model, path');
    await first.connection.run('SET threads = 1');
    await writeAtomically(join(outDir, 'thresholds.parquet'), async (tmp) => {
      await first.connection.run(`COPY (SELECT * FROM thresholds_once ORDER BY model, path) TO ${sqlString(tmp)} (${PARQUET_COPY_OPTIONS})`);
    });
  } finally {
    first.close();
  }
  const h = await openAnalysis(dir, options, true);
  const c = h.connection;
  const files: string[] = [];
  const write = async (rel: string, text: string): Promise<void> => {
    await writeFileAtomic(join(outDir, rel), text);
    files.push(rel);
  };
  try {
    // Every count comes from two aggregates (views.ts): compute each once and keep it as a table for this session.
    for (const cube of ['block_cube', 'pair_cube', 'blind_cube']) {
      await c.run(`CREATE TEMP TABLE ${cube}_once AS SELECT * FROM ${cube}`);
      await c.run(`CREATE OR REPLACE VIEW ${cube} AS SELECT * FROM ${cube}_once`);
    }
    const p = h.options;
    const thresholds = await queryRows(c, 'SELECT * FROM thresholds ORDER BY model, path');
    const layers = await queryRows(c, 'SELECT * FROM layer_counts ORDER BY model, path, layer');
    const layersPublished = await queryRows(c, 'SELECT * FROM layer_counts_published ORDER BY model, path, layer');
    const regimes = await queryRows(c, 'SELECT * FROM regime_counts ORDER BY model, path, layer, regime');
    const attractors = await queryRows(c, 'SELECT * FROM attractor_counts ORDER BY model, path, layer, attractor, axis NULLS FIRST');
    const axisShares = h.hasFailMask ? await queryRows(c, 'SELECT * FROM axis_shares ORDER BY model, path, layer, axis') : [];
    const headline = await queryRows(c, 'SELECT * FROM headline ORDER BY model, path');
    const tier1 = await queryRows(c, 'SELECT model, path, ssim, msssim, psnr FROM images ORDER BY model, path, image');
    const layerTransitions = await queryRows(c, 'SELECT * FROM layer_transitions ORDER BY model, layer_notta, layer_tta');
    const axisTransitions = h.hasFailMask ? await queryRows(c, 'SELECT * FROM axis_transitions ORDER BY model, axis, fails_notta, fails_tta') : [];
    const [range] = await queryRows(c, 'SELECT min(ssim_blk)::DOUBLE AS lo FROM blocks');
    const lo = Math.max(-1, Math.floor(Number(range?.lo ?? 0) * 20) / 20);
    const hi = 1;
    const bins = p.histogramBins;
    const histRows = await queryRows(
      c,
      `SELECT model, path, least(${bins - 1}, greatest(0, floor((ssim_blk::DOUBLE - ${lo}) / ${(hi - lo) / bins})))::INTEGER AS bin, count(*) AS n
       FROM blocks GROUP BY ALL ORDER BY ALL`,
    );
    const configurations = thresholds.map((t) => {
      const counts = new Array<number>(bins).fill(0);
      for (const r of histRows) if (r.model === t.model && r.path === t.path) counts[Number(r.bin)] = Number(r.n);
      return { model: String(t.model), path: String(t.path), counts };
    });
    const screen = await patternReport(c);
    const summary: AnalysisSummary = {
      params: p,
      thresholds,
      layers,
      layersPublished,
      regimes,
      attractors,
      axisShares,
      headline,
      layerTransitions,
      axisTransitions,
      histograms: { lo, hi, bins, configurations },
      patterns: screen.summary,
    };

    // Plots.
    const xs = Array.from({ length: bins }, (_, i) => lo + ((i + 0.5) * (hi - lo)) / bins);
    const histSvg = linePlotSvg(
      'ssim_blk distribution per configuration',
      xs,
      configurations.map((cfg) => {
        const total = cfg.counts.reduce((a, b) => a + b, 0) || 1;
        return { label: `${cfg.model} / ${cfg.path}`, values: cfg.counts.map((n) => n / total) };
      }),
      'ssim_blk',
      'share of blocks',
      { logY: true },
    );
    const plots: Plot[] = [{ name: 'ssim_blk_hist.svg', title: 'Block SSIM distributions', caption: FIGURE_CAPTIONS['ssim_blk_hist.svg']!, svg: histSvg }];
    if (h.hasFailMask) {
      for (const layer of ['Visible', 'Hidden'] as const) {
        plots.push({
          name: `axis_shares_${layer.toLowerCase()}.svg`,
          title: `Failing axes inside ${layer} Collapse`,
          caption: FIGURE_CAPTIONS[`axis_shares_${layer.toLowerCase()}.svg`]!,
          svg: barPlotSvg(
            `Share of ${layer} Collapse blocks failing each axis`,
            [...AXIS_PLAIN_NAMES],
            thresholds.map((t) => ({
              label: `${t.model} / ${t.path}`,
              values: AXES.map((a) => Number(axisShares.find((r) => r.model === t.model && r.path === t.path && r.layer === layer && r.axis === a)?.fail_share ?? 0)),
            })),
            'share of blocks',
          ),
        });
      }
    }
    const models = [...new Set(layerTransitions.map((r) => String(r.model)))];
    for (const m of models) {
      plots.push({ name: `transitions_${m}.svg`, title: `Layer transitions notta -> tta: ${m}`, caption: transitionCaption(m), svg: heatmapSvg(`${m}: layer notta -> tta`, LAYER_ORDER, transitionMatrix(layerTransitions, m)) });
    }
    for (const pl of plots) await write(`plots/${pl.name}`, pl.svg);

    // report.md
    const md: string[] = [];
    md.push('# blindspot analysis\n');
    md.push('## What this run shows\n');
    md.push(conclusionMarkdown(headline, layers, layersPublished));
    md.push('\n## Image quality per model (Tier 1: whole-image scores)\n');
    md.push('Mean over the images of each configuration with a Student-t 95% confidence interval in brackets (PSNR of identical pairs, infinite, left out; MS-SSIM needs 176 px a side).\n');
    md.push(tier1Markdown(tier1));
    md.push('\n## Definitions used\n');
    md.push(
      `Two definitions (docs/method.md explains every term). **Headline**: region-of-interest blocks only (air, collimator and burned-in labels left out; images.parquet \`roi_source\`); T10/T90 = quantiles ${p.visibleQuantile}/${p.hiddenQuantile} of their non-border ssim_blk per configuration (T90 = ${p.fallbackThreshold} when the quantile is 1 or rests on fewer than ${p.minRoiBlocks} blocks); damage AC = se above the pair's floor (max(2 display grey levels, 1.5x the GT's noise sd)) and (R >= ${p.hiddenR} or se >= 4 display levels), DC = |dmu| >= ${p.hiddenDmu} display grey levels (one display level = the GT's display window / 255: DICOM VOI window, else its p0.5..p99.5). **Published**: every block, T90 over every non-border block, AC = R >= ${p.hiddenR}, DC = |dmu| >= ${p.hiddenDmu} grey levels of L/255, no floor. Silent when (sx/L)^2 < K2^2 (1-T90)/T90 with K2 = ${p.K2}; Membrane when kappa < ${p.kappaMembrane}. se_max = the texture error SSIM >= T90 cannot see, in display grey levels. Views: views.sql; query them with \`blindspot sql RESULTS "..."\`.\n`,
    );
    md.push('## Thresholds per configuration\n');
    md.push(
      mdTable(
        ['model', 'path', 'non-border blocks', 'of them in ROI', 'T10', 'T90', 'T90 from', 'T90 published'],
        thresholds.map((t) => [String(t.model), String(t.path), String(t.nonborder_blocks), String(t.roi_blocks), fix(t.t10, 6), fix(t.t90, 6), String(t.t90_source), fix(t.t90_published, 6)]),
      ),
    );
    md.push('\n## Headline per model: region of interest, damage above the floors\n');
    md.push(
      mdTable(
        ['model', 'path', 'Hidden', 'AC (texture)', 'DC (brightness)', 'Hidden: no axis fails', 'one axis', 'several axes', 'Visible', 'border share of Visible', 'Hidden Persistent', 'Silent share of Hidden Persistent', 'se_max median (display levels)', 'ROI blocks blind at the floor'],
        headline.map((r) => [
          String(r.model),
          String(r.path),
          String(r.hidden_blocks),
          String(r.hidden_ac_blocks),
          String(r.hidden_dc_blocks),
          pct(r.hidden_none_share),
          pct(r.hidden_single_share),
          pct(r.hidden_multi_share),
          String(r.visible_blocks),
          pct(r.visible_border_share),
          String(r.hidden_persistent_blocks),
          pct(r.hidden_persistent_silent_share),
          fix(r.se_max_median, 1),
          pct(r.blind_at_floor_share),
        ]),
      ),
    );
    md.push('\n## Headline per model: the published definition (every block, no floor; the published study reports a 95.30% Silent share for SwinIR)\n');
    md.push(
      mdTable(
        ['model', 'path', 'Hidden', 'Hidden: no axis fails', 'one axis', 'several axes', 'Visible', 'border share of Visible', 'Hidden Persistent', 'Silent share of Hidden Persistent'],
        headline.map((r) => [
          String(r.model),
          String(r.path),
          String(r.hidden_blocks_published),
          pct(r.hidden_none_share_published),
          pct(r.hidden_single_share_published),
          pct(r.hidden_multi_share_published),
          String(r.visible_blocks_published),
          pct(r.visible_border_share_published),
          String(r.hidden_persistent_blocks_published),
          pct(r.hidden_persistent_silent_share_published),
        ]),
      ),
    );
    md.push('\n## Layers (region of interest)\n');
    md.push(mdTable(['model', 'path', 'layer', 'blocks', 'share'], layers.map((r) => [String(r.model), String(r.path), String(r.layer), String(r.blocks), pct(r.share)])));
    md.push('\n## Layers (published definition, every block)\n');
    md.push(mdTable(['model', 'path', 'layer', 'blocks', 'share'], layersPublished.map((r) => [String(r.model), String(r.path), String(r.layer), String(r.blocks), pct(r.share)])));
    md.push('\n## Regimes inside each layer\n');
    md.push(mdTable(['model', 'path', 'layer', 'regime', 'blocks', 'share of layer'], regimes.map((r) => [String(r.model), String(r.path), String(r.layer), String(r.regime), String(r.blocks), pct(r.share_of_layer)])));
    md.push('\n## Attractors of failing blocks\n');
    md.push(
      mdTable(
        ['model', 'path', 'layer', 'attractor', 'axis', 'blocks', 'share of layer'],
        attractors.map((r) => [String(r.model), String(r.path), String(r.layer), String(r.attractor), r.axis == null ? '' : String(r.axis), String(r.blocks), pct(r.share_of_layer)]),
      ),
    );
    md.push('\n## Layer transitions notta -> tta\n');
    for (const m of models) {
      const mat = transitionMatrix(layerTransitions, m);
      md.push(`\n### ${m}\n`);
      md.push(mdTable(['notta \\ tta', ...LAYER_ORDER], LAYER_ORDER.map((from, i) => [from, ...mat[i]!.map(String)])));
    }
    if (axisTransitions.length > 0) {
      md.push('\n## Axis dynamics (blocks failing the axis: notta -> tta)\n');
      const get = (m: string, a: string, fn: boolean, ft: boolean): number =>
        Number(axisTransitions.find((r) => r.model === m && r.axis === a && r.fails_notta === fn && r.fails_tta === ft)?.blocks ?? 0);
      md.push(
        mdTable(
          ['model', 'axis', 'fail -> fail', 'fail -> pass (repaired)', 'pass -> fail (caused)', 'pass -> pass'],
          models.flatMap((m) => AXES.map((a) => [m, a, String(get(m, a, true, true)), String(get(m, a, true, false)), String(get(m, a, false, true)), String(get(m, a, false, false))])),
        ),
      );
    }
    md.push('\n## Glossary\n');
    md.push(GLOSSARY_MD);
    md.push(screen.markdown);
    md.push('\n## Plots\n');
    for (const pl of plots) md.push(`![${pl.title}](plots/${pl.name})\n\n*${pl.caption}*\n`);
    const reportMd = md.join('\n');
    await write('report.md', reportMd);

    // report.html: the same tables, plots inline.
    const crops = await worstBlockCrops(c, h.dir);
    const reps = await representativeMaps(c, h.dir, h.hasFailMask);
    const html = renderHtml(reportMd, plots, cropsHtml(crops), representativeHtml(reps));
    await write('report.html', html);
    await write('summary.json', stableJson(summary));
    await write('params.json', stableJson(p));
    await write('views.sql', splitStatements(h.viewsSql).join(';\n\n') + ';\n');
    files.push('thresholds.parquet');
    await rm(join(outDir, 'MANIFEST.sha256'), { force: true });
    await writeManifest(outDir, files);
    return { summary, files: [...files].sort() };
  } finally {
    h.close();
  }
}

interface Plot {
  name: string;
  /** Short title (the markdown image's alt text). */
  title: string;
  /** What is drawn and what to read from it (under the figure). */
  caption: string;
  svg: string;
}

/** Sections of report.md shown collapsed in report.html (long tables a reader opens on demand). */
const COLLAPSED = ['Thresholds per configuration', 'Layers', 'Regimes', 'Attractors', 'Layer transitions', 'Axis dynamics', 'Glossary', 'Hallucination'];

/**
 * Minimal Markdown (headings, tables, lists, paragraphs) to HTML. The figures, with captions under them, come
 * right after the Tier-1 table (before "Definitions used"); long table sections are collapsible.
 */
function renderHtml(md: string, plots: Plot[], crops: string, maps: string): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inline = (s: string): string => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  const out: string[] = [];
  const lines = md.split('\n');
  let open = false;
  const figures = (): void => {
    out.push('<h2>Figures</h2>');
    plots.forEach((p, k) => out.push(`<figure>${p.svg}<figcaption><b>Figure ${k + 1}. ${esc(p.title)}.</b> ${esc(p.caption)}</figcaption></figure>`));
    out.push('<h2>The worst blocks, as images</h2>', crops);
    out.push('<h2>A representative image per configuration: its heatmaps</h2>', maps);
  };
  let figuresDone = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.startsWith('|')) {
        rows.push(lines[i]!.slice(1, -1).split(' | ').map((x) => x.trim()));
        i++;
      }
      i--;
      const [head, , ...body] = rows;
      out.push(`<div class="wide"><table><thead><tr>${head!.map((x) => `<th>${esc(x)}</th>`).join('')}</tr></thead><tbody>`);
      for (const r of body) out.push(`<tr>${r.map((x) => `<td>${inline(x)}</td>`).join('')}</tr>`);
      out.push('</tbody></table></div>');
    } else if (line.startsWith('- ')) {
      out.push('<ul>');
      while (i < lines.length && lines[i]!.startsWith('- ')) out.push(`<li>${inline(lines[i++]!.slice(2))}</li>`);
      i--;
      out.push('</ul>');
    } else if (line.startsWith('### ')) out.push(`<h3>${esc(line.slice(4))}</h3>`);
    else if (line.startsWith('## ')) {
      const title = line.slice(3);
      if (open) out.push('</details>');
      open = false;
      if (title === 'Plots') break;
      if (title === 'Definitions used' && !figuresDone) {
        figures();
        figuresDone = true;
      }
      if (COLLAPSED.some((c) => title.startsWith(c))) {
        out.push(`<details><summary><h2>${esc(title)}</h2></summary>`);
        open = true;
      } else out.push(`<h2>${esc(title)}</h2>`);
    } else if (line.startsWith('# ')) out.push(`<h1>${esc(line.slice(2))}</h1>`);
    else if (line.trim() !== '') out.push(`<p>${inline(line)}</p>`);
  }
  if (open) out.push('</details>');
  if (!figuresDone) figures();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>blindspot analysis</title>
<style>body{font-family:sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
.wide{overflow-x:auto;margin:.5em 0 1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3;vertical-align:bottom}td:first-child,th:first-child{text-align:left}
figure{margin:1.2em 0 2.2em;padding:.6em;border:1px solid #ddd;display:inline-block;max-width:100%}figure svg{max-width:100%;height:auto}
figcaption{max-width:720px;font-size:.9em;color:#444;margin-top:.4em}
figure.crop{display:block;border:none;padding:0}figure.crop img{image-rendering:pixelated;border:1px solid #ccc}details{margin:.4em 0}summary{cursor:pointer}summary h2{display:inline;font-size:1.2em}li{margin:.35em 0}${REPRESENTATIVE_CSS}</style></head>
<body>
${out.join('\n')}
</body></html>
`;
}
