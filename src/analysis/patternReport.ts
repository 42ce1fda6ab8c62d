/**
 * The report section of the 26-pattern screen and the battery (docs/metrics.md): reads the pattern views
 * (patterns.ts) on an open analysis connection and returns Markdown plus a JSON summary. p-values are computed
 * here (DuckDB has no t or chi-square distribution). Numbers come from counts and exact quantiles, so the output
 * is deterministic.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './open.ts';
import { chiSquare1PValue, correlationPValue } from './patterns.ts';

export interface PatternReport {
  markdown: string;
  summary: {
    params: Record<string, unknown>;
    confidence: Record<string, unknown>[];
    patterns: Record<string, unknown>[];
    battery: Record<string, unknown>[];
    lfvTexture: Record<string, unknown>;
    lfvSpatial: Record<string, unknown>;
  };
}


const fix = (v: unknown, d = 4): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const sci = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toPrecision(3) : '–');

function mdTable(header: string[], body: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

/** Battery columns averaged per configuration in the report. */
const MEANS = ['sharpness', 'noise', 'edge_density', 'artifact_total', 'high_freq_ratio', 'texture_complexity', 'delta_e', 'delta_e2000', 'histogram_corr', 'local_quality_mean', 'local_quality_min', 'lpips', 'clip_similarity'];

/**
 * Query the pattern views and format the report section.
 * @param c a connection on which buildPatternViewsSql's views are defined
 */
export async function patternReport(c: DuckDBConnection): Promise<PatternReport> {
  const [params] = await queryRows(c, 'SELECT * FROM pattern_params');
  const confidence = await queryRows(
    c,
    `SELECT model, path, count(*) AS images,
       count(*) FILTER (WHERE confidence = 'High') AS high, count(*) FILTER (WHERE confidence = 'Medium') AS medium,
       count(*) FILTER (WHERE confidence = 'Low') AS low, count(*) FILTER (WHERE confidence = 'Normal') AS normal
     FROM pattern_detections GROUP BY model, path ORDER BY model, path`,
  );
  const patterns = await queryRows(c, 'SELECT pattern, name, detected, not_detected, not_computed, detected_pct FROM pattern_summary ORDER BY ord');
  const battery = await queryRows(
    c,
    `SELECT model, path, count(*) AS images, ${MEANS.map((m) => `avg(${m}) AS ${m}`).join(', ')}
     FROM images_battery GROUP BY model, path ORDER BY model, path`,
  );
  const [tex] = await queryRows(c, 'SELECT * FROM lfv_texture');
  const [sp] = await queryRows(c, 'SELECT * FROM lfv_spatial_summary');
  const lfvTexture: Record<string, unknown> = { ...tex, p_value: correlationPValue(Number(tex?.r), Number(tex?.n)) };
  const lfvSpatial: Record<string, unknown> = { ...sp, p_value: chiSquare1PValue(Number(sp?.chi2)) };

  const md: string[] = [];
  md.push('\n## Hallucination screen (the published engine\'s 26 patterns)\n');
  md.push(
    `Thresholds: ${String(params?.thresholds)} (quantiles over the whole run); local quality: ${String(params?.local_quality)}. ` +
      'Confidence by the number of rules that fire: High >= 5, Medium 3-4, Low 1-2. A rule whose input is missing (LPIPS without weights, MS-SSIM on small images, a run without the battery) is not computed. Views: pattern_flags, pattern_detections, pattern_summary (docs/metrics.md).\n',
  );
  md.push(mdTable(['model', 'path', 'images', 'High', 'Medium', 'Low', 'Normal'], confidence.map((r) => [String(r.model), String(r.path), String(r.images), String(r.high), String(r.medium), String(r.low), String(r.normal)])));
  md.push('\n### Rules\n');
  md.push(
    mdTable(
      ['rule', 'name', 'detected', 'not detected', 'not computed', 'detected %'],
      patterns.map((r) => [String(r.pattern), String(r.name), String(r.detected), String(r.not_detected), String(r.not_computed), fix(r.detected_pct, 2)]),
    ),
  );
  md.push('\n### Battery means per configuration\n');
  md.push(mdTable(['model', 'path', 'images', ...MEANS], battery.map((r) => [String(r.model), String(r.path), String(r.images), ...MEANS.map((m) => fix(r[m]))])));
  md.push('\n### LFV (local fidelity variance)\n');
  md.push(
    `Texture dependency: r(texture_complexity, local_quality_min) = ${fix(lfvTexture.r)} over ${String(lfvTexture.n ?? 0)} images, p = ${sci(lfvTexture.p_value)} (two-sided t test).\n`,
  );
  md.push(
    `Spatial dependency: ${String(sp?.lfv_cases ?? 0)} LFV cases (local_quality_min < p25 = ${fix(sp?.lfv_threshold_25th)}); Boundary Bias Index ${fix(sp?.boundary_bias_index)}; ` +
      `worst patch in the outer ${fix(Number(params?.border_fraction) * 100, 0)}% zone: ${fix(Number(sp?.boundary_share) * 100, 1)}% (area share ${fix(Number(sp?.expected_boundary_share) * 100, 1)}%), ` +
      `chi-square ${fix(sp?.chi2, 3)}, p = ${sci(lfvSpatial.p_value)}; within 10% of the border: ${fix(Number(sp?.within_10pct_share) * 100, 1)}% (area share 36.0%).\n`,
  );
  return { markdown: md.join('\n'), summary: { params: params ?? {}, confidence, patterns, battery, lfvTexture, lfvSpatial } };
}
