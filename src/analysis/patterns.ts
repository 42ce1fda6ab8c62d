/**
 * The published engine's hallucination screen (`analyze_results.py` `suggest_hallucination_logic`, the version
 * that writes results_with_26pattern_detection.csv; definitions in HALLUCINATION_DETECTION_PATTERNS.md) as DuckDB
 * views over the `images` view of a run, plus its LFV (local fidelity variance) statistics. docs/metrics.md
 * lists every rule.
 *
 * Thresholds are quantiles over the whole run (all models and paths together, as the engine computes them over
 * its CSV), `quantile_cont` = pandas' linear interpolation; NULL values are left out of a quantile, as pandas does.
 * `thresholds: 'fixed'` uses the engine's documented example thresholds where it gives them (P1a and the single
 * rules) and run percentiles where it gives none (P2-P9).
 *
 * A rule whose inputs are NULL for an image (LPIPS without weights, MS-SSIM on a small image, a threshold over no
 * values) is "not computed" for it (`detected` NULL), never a silent "not detected".
 */
import { invalidOption, mergeOptions } from '../errors.ts';

export interface PatternOptions {
  /** 'percentile' (default: per-run quantiles, as the engine) or 'fixed' (the engine's example thresholds). */
  thresholds: 'percentile' | 'fixed';
  /**
   * Local quality the rules and LFV read: 'patch' (default: local_quality_* over 64x64 patches, the engine's
   * P6/LFV size) or 'block' (blk_mean/blk_std/blk_min over the run's blocks, the engine's 8x8 `local_ssim`).
   */
  localQuality: 'patch' | 'block';
  /** Block size of the run, for the block grid of 'block' LFV (default 8). */
  blockSize: number;
  /** LFV boundary zone: the outer share of rows/columns (default 0.25, the engine's). */
  borderFraction: number;
}

export const DEFAULT_PATTERN_OPTIONS: Readonly<PatternOptions> = Object.freeze({
  thresholds: 'percentile',
  localQuality: 'patch',
  blockSize: 8,
  borderFraction: 0.25,
});

/**
 * Merge and check pattern options.
 * @throws BlindspotError E_INVALID_OPTION for an unknown key or a value outside its range.
 */
export function resolvePatternOptions(partial?: Partial<PatternOptions>): PatternOptions {
  const o = mergeOptions(DEFAULT_PATTERN_OPTIONS, partial, 'pattern');
  if (o.thresholds !== 'percentile' && o.thresholds !== 'fixed') throw invalidOption('thresholds', 'percentile|fixed (default percentile)', o.thresholds);
  if (o.localQuality !== 'patch' && o.localQuality !== 'block') throw invalidOption('localQuality', 'patch|block (default patch)', o.localQuality);
  if (!Number.isInteger(o.blockSize) || o.blockSize < 1) throw invalidOption('blockSize', 'an integer >= 1 (default 8)', o.blockSize);
  if (!(o.borderFraction > 0 && o.borderFraction < 0.5)) throw invalidOption('borderFraction', 'a number in (0, 0.5) (default 0.25)', o.borderFraction);
  return o;
}

/** One rule of the screen. */
export interface PatternRule {
  /** P1..P9, or S:<column>(low|high). */
  id: string;
  name: string;
  /** Input columns (of `pattern_input`): NULL in any -> not computed. */
  inputs: readonly string[];
  /** SQL condition over `i` (pattern_input) and `t` (pattern_thresholds). */
  when: string;
}

/** A single-metric rule: 'low' flags values under the 10th percentile, 'high' over the 90th. */
interface Single {
  column: string;
  label: string;
  side: 'low' | 'high';
  /** The engine's documented example threshold (HALLUCINATION_DETECTION_PATTERNS.md), for 'fixed'. */
  fixed: number;
  quantile: number;
}

const SINGLES: readonly Single[] = [
  { column: 'ssim', label: 'Low SSIM', side: 'low', fixed: 0.75, quantile: 0.1 },
  { column: 'ms_ssim', label: 'Low MS-SSIM', side: 'low', fixed: 0.72, quantile: 0.1 },
  { column: 'psnr', label: 'Low PSNR', side: 'low', fixed: 28, quantile: 0.1 },
  { column: 'sharpness', label: 'Low Sharpness', side: 'low', fixed: 120, quantile: 0.1 },
  { column: 'contrast', label: 'Low Contrast', side: 'low', fixed: 45, quantile: 0.1 },
  { column: 'entropy', label: 'Low Entropy', side: 'low', fixed: 6.2, quantile: 0.1 },
  { column: 'edge_density', label: 'Low EdgeDensity', side: 'low', fixed: 8, quantile: 0.1 },
  { column: 'high_freq_ratio', label: 'Low HighFreq', side: 'low', fixed: 0.25, quantile: 0.1 },
  { column: 'texture_complexity', label: 'Low Texture', side: 'low', fixed: 18, quantile: 0.1 },
  { column: 'local_quality_mean', label: 'Low LocalQuality', side: 'low', fixed: 0.82, quantile: 0.1 },
  { column: 'histogram_corr', label: 'Low HistCorr', side: 'low', fixed: 0.85, quantile: 0.1 },
  { column: 'lpips', label: 'High LPIPS', side: 'high', fixed: 0.35, quantile: 0.9 },
  { column: 'noise', label: 'High Noise', side: 'high', fixed: 0.08, quantile: 0.9 },
  { column: 'artifact_total', label: 'High Artifacts', side: 'high', fixed: 7.5, quantile: 0.9 },
  { column: 'delta_e', label: 'High DeltaE', side: 'high', fixed: 12, quantile: 0.9 },
  // The engine gives no example value for this one; 'fixed' keeps its percentile.
  { column: 'local_quality_std', label: 'High LocalQualityStd', side: 'high', fixed: NaN, quantile: 0.9 },
];

/** Quantiles the rules need: [name, column, q]. */
const QUANTILES: readonly [string, string, number][] = [
  ['ssim_p75', 'ssim', 0.75],
  ['psnr_p25', 'psnr', 0.25],
  ['sharpness_p75', 'sharpness', 0.75],
  ['noise_p75', 'noise', 0.75],
  ['edge_density_p90', 'edge_density', 0.9],
  ['local_quality_mean_p25', 'local_quality_mean', 0.25],
  ['artifact_total_p90', 'artifact_total', 0.9],
  ['lpips_p75', 'lpips', 0.75],
  ['local_quality_std_p75', 'local_quality_std', 0.75],
  ['entropy_p25', 'entropy', 0.25],
  ['high_freq_ratio_p75', 'high_freq_ratio', 0.75],
  ['contrast_p90', 'contrast', 0.9],
  ['histogram_corr_p25', 'histogram_corr', 0.25],
  ['ms_ssim_p25', 'ms_ssim', 0.25],
  ['ssim_p25', 'ssim', 0.25],
  ['local_quality_min_p25', 'local_quality_min', 0.25],
];

/** Battery columns the views and the report read, with their types (kept in step with battery/run.ts RUN_BATTERY_COLUMNS). */
export const BATTERY_INPUTS: readonly [string, 'DOUBLE' | 'INTEGER'][] = [
  ['sharpness', 'DOUBLE'], ['noise', 'DOUBLE'], ['edge_density', 'DOUBLE'], ['artifact_total', 'DOUBLE'], ['lpips', 'DOUBLE'],
  ['entropy', 'DOUBLE'], ['high_freq_ratio', 'DOUBLE'], ['contrast', 'DOUBLE'], ['histogram_corr', 'DOUBLE'],
  ['texture_complexity', 'DOUBLE'], ['delta_e', 'DOUBLE'], ['delta_e2000', 'DOUBLE'], ['clip_similarity', 'DOUBLE'],
  ['total_score', 'DOUBLE'], ['local_quality_mean', 'DOUBLE'],
  ['local_quality_std', 'DOUBLE'], ['local_quality_min', 'DOUBLE'], ['local_quality_min_row', 'INTEGER'],
  ['local_quality_min_col', 'INTEGER'], ['local_quality_rows', 'INTEGER'], ['local_quality_cols', 'INTEGER'],
];

function num(v: number): string {
  return `${String(v)}::DOUBLE`;
}

function singleThreshold(s: Single, o: PatternOptions): string {
  return o.thresholds === 'fixed' && Number.isFinite(s.fixed) ? num(s.fixed) : `t.${s.column}_${s.side === 'low' ? 'p10' : 'p90'}`;
}

/** The 25 rules (9 combined, 16 single) in the engine's order. */
export function patternRules(options?: Partial<PatternOptions>): PatternRule[] {
  const o = resolvePatternOptions(options);
  const p1 =
    o.thresholds === 'fixed'
      ? `i.ssim > 0.97 AND i.psnr < 25`
      : `(i.ssim > 0.97 AND i.psnr < 25) OR (i.ssim >= t.ssim_p75 AND i.psnr <= t.psnr_p25)`;
  const rules: PatternRule[] = [
    { id: 'P1', name: 'SSIM high x PSNR low', inputs: ['ssim', 'psnr'], when: p1 },
    { id: 'P2', name: 'Sharpness high x Noise high', inputs: ['sharpness', 'noise'], when: 'i.sharpness > t.sharpness_p75 AND i.noise > t.noise_p75' },
    { id: 'P3', name: 'Edge density high x Local quality low', inputs: ['edge_density', 'local_quality_mean'], when: 'i.edge_density > t.edge_density_p90 AND i.local_quality_mean < t.local_quality_mean_p25' },
    { id: 'P4', name: 'Artifacts high', inputs: ['artifact_total'], when: 'i.artifact_total > t.artifact_total_p90' },
    { id: 'P5', name: 'LPIPS high x SSIM high', inputs: ['lpips', 'ssim'], when: 'i.lpips > t.lpips_p75 AND i.ssim > t.ssim_p75' },
    { id: 'P6', name: 'Local quality variance high (LFV)', inputs: ['local_quality_std'], when: 'i.local_quality_std > t.local_quality_std_p75' },
    { id: 'P7', name: 'Entropy low x High-frequency high', inputs: ['entropy', 'high_freq_ratio'], when: 'i.entropy < t.entropy_p25 AND i.high_freq_ratio > t.high_freq_ratio_p75' },
    { id: 'P8', name: 'Contrast high x Histogram correlation low', inputs: ['contrast', 'histogram_corr'], when: 'i.contrast > t.contrast_p90 AND i.histogram_corr < t.histogram_corr_p25' },
    { id: 'P9', name: 'MS-SSIM low x SSIM low', inputs: ['ms_ssim', 'ssim'], when: 'i.ms_ssim < t.ms_ssim_p25 AND i.ssim < t.ssim_p25' },
  ];
  for (const s of SINGLES) {
    rules.push({
      id: `S:${s.label.replaceAll(' ', '')}`,
      name: s.label,
      inputs: [s.column],
      when: `i.${s.column} ${s.side === 'low' ? '<' : '>'} ${singleThreshold(s, o)}`,
    });
  }
  return rules;
}

/**
 * SQL of the pattern views, in dependency order (one statement per `;\n`), over a view or table `images` with the
 * run's image rows (battery columns, ssim, msssim, psnr, blk_*; battery columns may be missing). Views:
 *   images_battery       images with every battery column (NULL where the run has none)
 *   pattern_input        one row per (model, path, image) with the columns the rules read
 *   pattern_thresholds   the run's quantiles (one row)
 *   pattern_flags        one row per image and rule: detected TRUE/FALSE, NULL = not computed
 *   pattern_detections   per image: detection_count, detected_patterns, not_computed, confidence
 *   pattern_summary      per rule: images detected / not detected / not computed
 *   lfv_texture          Pearson r of texture_complexity vs local_quality_min, n, t statistic
 *   lfv_spatial          per LFV case (local_quality_min < its p25): worst patch, normalised distance, boundary
 *   lfv_spatial_summary  BBI, boundary share and chi-square against the zone's area share
 */
export function buildPatternViewsSql(options?: Partial<PatternOptions>): string {
  const o = resolvePatternOptions(options);
  const lq =
    o.localQuality === 'patch'
      ? `local_quality_mean, local_quality_std, local_quality_min, local_quality_min_row AS lq_min_row,
  local_quality_min_col AS lq_min_col, local_quality_rows AS lq_rows, local_quality_cols AS lq_cols`
      : `blk_mean AS local_quality_mean, blk_std AS local_quality_std, blk_min AS local_quality_min,
  blk_min_row AS lq_min_row, blk_min_col AS lq_min_col,
  CAST(ceil(height / ${num(o.blockSize)}) AS INTEGER) AS lq_rows, CAST(ceil(width / ${num(o.blockSize)}) AS INTEGER) AS lq_cols`;
  const s: string[] = [];
  s.push(`-- The published engine's 26-pattern hallucination screen (docs/metrics.md); thresholds: ${o.thresholds}.
CREATE OR REPLACE VIEW pattern_params AS SELECT '${o.thresholds}' AS thresholds, '${o.localQuality}' AS local_quality,
  ${o.blockSize} AS block_size, ${num(o.borderFraction)} AS border_fraction`);
  // Runs made before the battery (or with --no-battery) lack its columns or hold NULLs: union by name with an empty
  // row set that has them all, so every rule reads NULL there and reports "not computed".
  const battery = BATTERY_INPUTS.map(([c, t]) => `NULL::${t} AS ${c}`).join(', ');
  s.push(`CREATE OR REPLACE VIEW images_battery AS
SELECT * FROM images UNION ALL BY NAME SELECT ${battery} WHERE false`);
  s.push(`CREATE OR REPLACE VIEW pattern_input AS
SELECT model, path, image, ssim::DOUBLE AS ssim, msssim::DOUBLE AS ms_ssim, psnr::DOUBLE AS psnr, sharpness, noise,
  edge_density, artifact_total, lpips, entropy, high_freq_ratio, contrast, histogram_corr, texture_complexity, delta_e,
  total_score,
  ${lq}
FROM images_battery`);
  const qs = [
    ...QUANTILES.map(([name, col, q]) => `quantile_cont(${col}, ${num(q)}) AS ${name}`),
    ...SINGLES.map((x) => `quantile_cont(${x.column}, ${num(x.quantile)}) AS ${x.column}_${x.side === 'low' ? 'p10' : 'p90'}`),
  ];
  s.push(`CREATE OR REPLACE VIEW pattern_thresholds AS SELECT count(*) AS images,\n  ${qs.join(',\n  ')}\nFROM pattern_input`);
  const rules = patternRules(o);
  const parts = rules.map((r, k) => {
    const missing = r.inputs.map((c) => `i.${c} IS NULL`).join(' OR ');
    // A threshold over no values is NULL too: the comparison is then NULL, i.e. not computed.
    return `SELECT i.model, i.path, i.image, ${k + 1} AS ord, '${r.id}' AS pattern, '${r.name}' AS name,
  CASE WHEN ${missing} THEN NULL ELSE (${r.when}) END AS detected
FROM pattern_input i, pattern_thresholds t`;
  });
  s.push(`CREATE OR REPLACE VIEW pattern_flags AS\n${parts.join('\nUNION ALL\n')}`);
  s.push(`CREATE OR REPLACE VIEW pattern_detections AS
SELECT model, path, image,
  count(*) FILTER (WHERE detected) AS detection_count,
  coalesce(string_agg(pattern, ', ' ORDER BY ord) FILTER (WHERE detected), '') AS detected_patterns,
  coalesce(string_agg(pattern, ', ' ORDER BY ord) FILTER (WHERE detected IS NULL), '') AS not_computed,
  CASE WHEN count(*) FILTER (WHERE detected) >= 5 THEN 'High'
       WHEN count(*) FILTER (WHERE detected) >= 3 THEN 'Medium'
       WHEN count(*) FILTER (WHERE detected) >= 1 THEN 'Low'
       ELSE 'Normal' END AS confidence
FROM pattern_flags GROUP BY model, path, image`);
  s.push(`CREATE OR REPLACE VIEW pattern_summary AS
SELECT ord, pattern, name,
  count(*) FILTER (WHERE detected) AS detected,
  count(*) FILTER (WHERE NOT detected) AS not_detected,
  count(*) FILTER (WHERE detected IS NULL) AS not_computed,
  100.0 * count(*) FILTER (WHERE detected) / count(*) AS detected_pct
FROM pattern_flags GROUP BY ord, pattern, name ORDER BY ord`);
  s.push(`CREATE OR REPLACE VIEW lfv_texture AS
SELECT count(*) AS n, corr(texture_complexity, local_quality_min) AS r,
  corr(texture_complexity, local_quality_min) * sqrt((count(*) - 2) / (1 - corr(texture_complexity, local_quality_min) ^ 2)) AS t
FROM pattern_input WHERE texture_complexity IS NOT NULL AND local_quality_min IS NOT NULL`);
  const f = num(o.borderFraction);
  s.push(`CREATE OR REPLACE VIEW lfv_spatial AS
SELECT i.model, i.path, i.image, i.local_quality_min AS min_ssim_value, i.lq_min_row AS min_row, i.lq_min_col AS min_col,
  i.lq_rows AS total_rows, i.lq_cols AS total_cols,
  least(i.lq_min_row, i.lq_rows - 1 - i.lq_min_row, i.lq_min_col, i.lq_cols - 1 - i.lq_min_col) AS distance_to_boundary,
  least(i.lq_min_row, i.lq_rows - 1 - i.lq_min_row, i.lq_min_col, i.lq_cols - 1 - i.lq_min_col)
    / (least(i.lq_rows, i.lq_cols) / 2.0) AS normalized_distance,
  (i.lq_min_row < i.lq_rows * ${f} OR i.lq_min_row > i.lq_rows * (1 - ${f})
    OR i.lq_min_col < i.lq_cols * ${f} OR i.lq_min_col > i.lq_cols * (1 - ${f})) AS is_boundary,
  (i.lq_min_row < i.lq_rows * 0.1 OR i.lq_min_row > i.lq_rows * 0.9
    OR i.lq_min_col < i.lq_cols * 0.1 OR i.lq_min_col > i.lq_cols * 0.9) AS within_10pct
FROM pattern_input i, pattern_thresholds t
WHERE i.local_quality_min < t.local_quality_min_p25 AND i.lq_min_row IS NOT NULL AND i.lq_min_row >= 0`);
  // Zone area share for a border fraction f: 1 - (1 - 2f)^2 (0.75 at the engine's 0.25; 0.36 at 0.1).
  const zone = 1 - (1 - 2 * o.borderFraction) ** 2;
  s.push(`CREATE OR REPLACE VIEW lfv_spatial_summary AS
SELECT (SELECT local_quality_min_p25 FROM pattern_thresholds) AS lfv_threshold_25th,
  count(*) AS lfv_cases,
  100.0 * count(*) / (SELECT count(local_quality_min) FROM pattern_input) AS lfv_cases_pct,
  1 - avg(normalized_distance) AS boundary_bias_index,
  count(*) FILTER (WHERE is_boundary) AS boundary_count,
  ${num(zone)} AS expected_boundary_share,
  count(*) FILTER (WHERE is_boundary) / count(*) AS boundary_share,
  (count(*) FILTER (WHERE is_boundary) - count(*) * ${num(zone)}) ^ 2 / (count(*) * ${num(zone)})
    + (count(*) FILTER (WHERE NOT is_boundary) - count(*) * ${num(1 - zone)}) ^ 2 / (count(*) * ${num(1 - zone)}) AS chi2,
  count(*) FILTER (WHERE within_10pct) / count(*) AS within_10pct_share,
  0.36::DOUBLE AS expected_within_10pct_share
FROM lfv_spatial`);
  return s.join(';\n') + ';\n';
}

/** Two-sided p-value of Pearson's r over n pairs (t test with n - 2 degrees of freedom, as scipy linregress). */
export function correlationPValue(r: number, n: number): number {
  if (!(n > 2) || !Number.isFinite(r)) return NaN;
  if (Math.abs(r) >= 1) return 0;
  const df = n - 2;
  const t = r * Math.sqrt(df / (1 - r * r));
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/** Upper tail of chi-square with 1 degree of freedom: erfc(sqrt(x/2)) (scipy.stats.chisquare with 2 cells). */
export function chiSquare1PValue(x: number): number {
  if (!(x >= 0)) return NaN;
  return erfc(Math.sqrt(x / 2));
}

function erfc(x: number): number {
  // erfc(x) = Q(1/2, x^2) for x >= 0, the regularized upper incomplete gamma (continued fraction / series).
  return x < 0 ? 2 - erfc(-x) : upperGammaQ(0.5, x * x);
}

function lnGamma(z: number): number {
  // Lanczos (g = 7, n = 9), ~1e-15 relative.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = c[0]!;
  for (let i = 1; i < 9; i++) x += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

function upperGammaQ(a: number, x: number): number {
  if (x === 0) return 1;
  const lead = Math.exp(-x + a * Math.log(x) - lnGamma(a));
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * lead;
  }
  // Lentz's continued fraction.
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return lead * h;
}

/** Regularized incomplete beta I_x(a, b) (continued fraction, Numerical Recipes' betacf form). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lbt) * betaCf(x, a, b)) / a;
  return 1 - (Math.exp(lbt) * betaCf(1 - x, b, a)) / b;
}

function betaCf(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}
