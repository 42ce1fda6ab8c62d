/**
 * The 26-pattern screen (src/analysis/patterns.ts) on hand-made image tables with known metric values, against a
 * second, plain implementation of the engine's rules (analyze_results.py `suggest_hallucination_logic`) written
 * here; LFV statistics; p-values against scipy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { buildPatternViewsSql, chiSquare1PValue, correlationPValue, patternRules } from '../../src/analysis/patterns.ts';
import { splitStatements } from '../../src/analysis/views.ts';

type Row = Record<string, number | string | null>;
const NUMERIC = [
  'ssim', 'msssim', 'psnr', 'sharpness', 'noise', 'edge_density', 'artifact_total', 'lpips', 'entropy', 'high_freq_ratio',
  'contrast', 'histogram_corr', 'texture_complexity', 'delta_e', 'total_score', 'local_quality_mean', 'local_quality_std',
  'local_quality_min', 'local_quality_min_row', 'local_quality_min_col', 'local_quality_rows', 'local_quality_cols',
  'blk_mean', 'blk_std', 'blk_min', 'blk_min_row', 'blk_min_col', 'width', 'height',
];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** N images with spread metric values; lpips null everywhere (no weights), msssim null on image 3. */
function table(n: number, seed: number): Row[] {
  const r = lcg(seed);
  const rows: Row[] = [];
  for (let k = 0; k < n; k++) {
    rows.push({
      model: k % 2 ? 'a' : 'b', path: 'notta', image: `img${String(k).padStart(2, '0')}`,
      ssim: 0.9 + 0.09 * r(), msssim: k === 3 ? null : 0.95 + 0.05 * r(), psnr: 22 + 15 * r(),
      sharpness: 5 * r(), noise: 1 + 5 * r(), edge_density: 3 * r(), artifact_total: 200 + 300 * r(), lpips: null,
      entropy: 6 + 2 * r(), high_freq_ratio: 0.1 + 0.3 * r(), contrast: 40 + 40 * r(), histogram_corr: 0.8 + 0.2 * r(),
      texture_complexity: 3 + 6 * r(), delta_e: 2 * r(), total_score: 50 + 20 * r(),
      local_quality_mean: 0.8 + 0.2 * r(), local_quality_std: 0.2 * r(), local_quality_min: 0.3 + 0.6 * r(),
      local_quality_min_row: Math.floor(16 * r()), local_quality_min_col: Math.floor(16 * r()), local_quality_rows: 16,
      local_quality_cols: 16, blk_mean: 0.9, blk_std: 0.05, blk_min: 0.2 + 0.7 * r(), blk_min_row: Math.floor(128 * r()),
      blk_min_col: Math.floor(128 * r()), width: 1024, height: 1024,
    });
  }
  return rows;
}

async function connect(rows: Row[], options: Parameters<typeof buildPatternViewsSql>[0] = {}): Promise<DuckDBConnection> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const lit = (v: number | string | null): string => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : `${v}::DOUBLE`);
  const cols = ['model', 'path', 'image', ...NUMERIC];
  await c.run(`CREATE TABLE images AS SELECT * FROM (VALUES ${rows.map((r) => `(${cols.map((k) => lit(r[k] ?? null)).join(', ')})`).join(', ')}) AS v(${cols.join(', ')})`);
  for (const stmt of splitStatements(buildPatternViewsSql(options))) await c.run(stmt);
  return c;
}

async function all(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** pandas' quantile (linear) over the non-null values. */
function quantile(rows: Row[], col: string, q: number): number | null {
  const v = rows.map((r) => r[col]).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  return v[lo]! + (h - lo) * (v[Math.min(lo + 1, v.length - 1)]! - v[lo]!);
}

/** The engine's rules written out plainly: detected ids per image, 'not computed' when an input is null. */
function reference(rows: Row[]): Map<string, { detected: string[]; notComputed: string[] }> {
  const Q = (c: string, q: number): number | null => quantile(rows, c === 'ms_ssim' ? 'msssim' : c, q);
  const get = (r: Row, c: string): number | null => (r[c === 'ms_ssim' ? 'msssim' : c] as number | null) ?? null;
  const rules: [string, string[], (r: Row) => boolean][] = [
    ['P1', ['ssim', 'psnr'], (r) => (get(r, 'ssim')! > 0.97 && get(r, 'psnr')! < 25) || (get(r, 'ssim')! >= Q('ssim', 0.75)! && get(r, 'psnr')! <= Q('psnr', 0.25)!)],
    ['P2', ['sharpness', 'noise'], (r) => get(r, 'sharpness')! > Q('sharpness', 0.75)! && get(r, 'noise')! > Q('noise', 0.75)!],
    ['P3', ['edge_density', 'local_quality_mean'], (r) => get(r, 'edge_density')! > Q('edge_density', 0.9)! && get(r, 'local_quality_mean')! < Q('local_quality_mean', 0.25)!],
    ['P4', ['artifact_total'], (r) => get(r, 'artifact_total')! > Q('artifact_total', 0.9)!],
    ['P5', ['lpips', 'ssim'], (r) => get(r, 'lpips')! > Q('lpips', 0.75)! && get(r, 'ssim')! > Q('ssim', 0.75)!],
    ['P6', ['local_quality_std'], (r) => get(r, 'local_quality_std')! > Q('local_quality_std', 0.75)!],
    ['P7', ['entropy', 'high_freq_ratio'], (r) => get(r, 'entropy')! < Q('entropy', 0.25)! && get(r, 'high_freq_ratio')! > Q('high_freq_ratio', 0.75)!],
    ['P8', ['contrast', 'histogram_corr'], (r) => get(r, 'contrast')! > Q('contrast', 0.9)! && get(r, 'histogram_corr')! < Q('histogram_corr', 0.25)!],
    ['P9', ['ms_ssim', 'ssim'], (r) => get(r, 'ms_ssim')! < Q('ms_ssim', 0.25)! && get(r, 'ssim')! < Q('ssim', 0.25)!],
  ];
  const low = ['ssim', 'ms_ssim', 'psnr', 'sharpness', 'contrast', 'entropy', 'edge_density', 'high_freq_ratio', 'texture_complexity', 'local_quality_mean', 'histogram_corr'];
  const high = ['lpips', 'noise', 'artifact_total', 'delta_e', 'local_quality_std'];
  for (const c of low) rules.push([`low:${c}`, [c], (r) => get(r, c)! < Q(c, 0.1)!]);
  for (const c of high) rules.push([`high:${c}`, [c], (r) => get(r, c)! > Q(c, 0.9)!]);
  const out = new Map<string, { detected: string[]; notComputed: string[] }>();
  for (const r of rows) {
    const d: string[] = [];
    const nc: string[] = [];
    rules.forEach(([, inputs, f], k) => {
      if (inputs.some((c) => get(r, c) === null || Q(c, 0.5) === null)) nc.push(String(k));
      else if (f(r)) d.push(String(k));
    });
    out.set(`${r.model}/${r.image}`, { detected: d, notComputed: nc });
  }
  return out;
}

test('25 rules in the engine order: P1-P9, 11 low-is-bad singles, 5 high-is-bad singles', () => {
  const rules = patternRules();
  assert.equal(rules.length, 25);
  assert.deepEqual(rules.slice(0, 9).map((r) => r.id), ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9']);
  assert.equal(rules[9]!.id, 'S:LowSSIM');
  assert.equal(rules[24]!.id, 'S:HighLocalQualityStd');
});

for (const seed of [1, 7, 42]) {
  test(`per-run percentile screen equals a plain implementation of the engine's rules (40 images, seed ${seed})`, async () => {
    const rows = table(40, seed);
    const c = await connect(rows);
    const got = await all(c, `SELECT f.model, f.image, list(f.ord - 1 ORDER BY f.ord) FILTER (WHERE f.detected) AS d,
      list(f.ord - 1 ORDER BY f.ord) FILTER (WHERE f.detected IS NULL) AS nc FROM pattern_flags f GROUP BY ALL`);
    const ref = reference(rows);
    assert.equal(got.length, 40);
    for (const g of got) {
      const e = ref.get(`${g.model}/${g.image}`)!;
      assert.deepEqual(((g.d as number[] | null) ?? []).map(String), e.detected, `${g.image} detected`);
      assert.deepEqual(((g.nc as number[] | null) ?? []).map(String), e.notComputed, `${g.image} not computed`);
    }
    const det = await all(c, 'SELECT * FROM pattern_detections ORDER BY model, image');
    for (const d of det) {
      const n = Number(d.detection_count);
      assert.equal(d.confidence, n >= 5 ? 'High' : n >= 3 ? 'Medium' : n >= 1 ? 'Low' : 'Normal');
      const nc = String(d.not_computed).split(', ');
      assert.ok(nc.includes('P5') && nc.includes('S:HighLPIPS'), 'no LPIPS weights: P5 and High LPIPS are not computed');
      assert.equal(nc.includes('P9'), d.image === 'img03', 'MS-SSIM null on img03 only');
    }
  });
}

test('hand-made: SSIM 0.98 with PSNR 24 fires P1 by the fixed rule; LPIPS present makes P5 computable', async () => {
  const rows = table(8, 3);
  rows[0] = { ...rows[0]!, ssim: 0.98, psnr: 24 };
  rows.forEach((r, k) => (r.lpips = 0.1 + k / 100));
  const c = await connect(rows, { thresholds: 'fixed' });
  const p1 = await all(c, `SELECT image, detected FROM pattern_flags WHERE pattern = 'P1' ORDER BY image`);
  assert.equal(p1[0]!.detected, true);
  assert.equal(p1.filter((r) => r.detected).length, 1, 'fixed mode: only the fixed P1 rule');
  const p5 = await all(c, `SELECT count(*) FILTER (WHERE detected IS NULL) AS nc FROM pattern_flags WHERE pattern = 'P5'`);
  assert.equal(Number(p5[0]!.nc), 0);
  // Fixed single thresholds: every test sharpness here is under the engine's example 120 -> all flagged.
  const sh = await all(c, `SELECT count(*) FILTER (WHERE detected) AS n FROM pattern_flags WHERE pattern = 'S:LowSharpness'`);
  assert.equal(Number(sh[0]!.n), 8);
});

test('LFV: texture correlation, the worst-patch positions, BBI and the boundary chi-square', async () => {
  const rows = table(40, 11);
  const c = await connect(rows);
  const [tex] = await all(c, 'SELECT * FROM lfv_texture');
  const x = rows.map((r) => r.texture_complexity as number);
  const y = rows.map((r) => r.local_quality_min as number);
  const mx = x.reduce((a, b) => a + b) / 40;
  const my = y.reduce((a, b) => a + b) / 40;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < 40; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  assert.ok(Math.abs((tex!.r as number) - sxy / Math.sqrt(sxx * syy)) < 1e-12);
  const p25 = quantile(rows, 'local_quality_min', 0.25)!;
  const cases = rows.filter((r) => (r.local_quality_min as number) < p25);
  const nd = cases.map((r) => Math.min(r.local_quality_min_row as number, 15 - (r.local_quality_min_row as number), r.local_quality_min_col as number, 15 - (r.local_quality_min_col as number)) / 8);
  const boundary = cases.filter((r) => [r.local_quality_min_row, r.local_quality_min_col].some((v) => (v as number) < 4 || (v as number) > 12)).length;
  const [s] = await all(c, 'SELECT * FROM lfv_spatial_summary');
  assert.equal(Number(s!.lfv_cases), cases.length);
  assert.ok(Math.abs((s!.boundary_bias_index as number) - (1 - nd.reduce((a, b) => a + b) / nd.length)) < 1e-12);
  assert.equal(Number(s!.boundary_count), boundary);
  const n = cases.length;
  const chi2 = (boundary - 0.75 * n) ** 2 / (0.75 * n) + (n - boundary - 0.25 * n) ** 2 / (0.25 * n);
  assert.ok(Math.abs((s!.chi2 as number) - chi2) < 1e-12);
  // Block-size source: the blk_* columns and a 128x128 grid.
  const cb = await connect(rows, { localQuality: 'block' });
  const [sb] = await all(cb, 'SELECT max(total_rows) AS r, count(*) AS n FROM lfv_spatial');
  assert.equal(Number(sb!.r), 128);
  assert.equal(Number(sb!.n), rows.filter((r) => (r.blk_min as number) < quantile(rows, 'blk_min', 0.25)!).length);
});

test('p-values match scipy: linregress/t (r, n) and chisquare with 2 cells (1e-9 relative)', () => {
  const rel = (a: number, e: number): void => assert.ok(Math.abs(a - e) <= 1e-9 * Math.abs(e), `${a} vs ${e}`);
  rel(correlationPValue(0.3, 20), 0.1987577173445536);
  rel(correlationPValue(-0.5, 10), 0.14111328125000003);
  rel(correlationPValue(0.05, 500), 0.2644504863480259);
  rel(correlationPValue(-0.743, 100), 8.731092764529688e-19);
  rel(chiSquare1PValue(0.5), 0.47950012218695337);
  rel(chiSquare1PValue(3.84), 0.05004352124870519);
  rel(chiSquare1PValue(45.2), 1.7790508647947292e-11);
  assert.equal(chiSquare1PValue(0), 1);
});

test('a run without battery columns: every battery rule is "not computed", SSIM/PSNR rules still run', async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE TABLE images AS SELECT 'm' AS model, 'notta' AS path, 'img' || i AS image, 0.9 + i / 100 AS ssim,
    0.95 + i / 1000 AS msssim, 20.0 + i AS psnr, 0.9 AS blk_mean, 0.05 AS blk_std, 0.5 AS blk_min, 1 AS blk_min_row,
    2 AS blk_min_col, 64 AS width, 64 AS height FROM range(10) t(i)`);
  for (const stmt of splitStatements(buildPatternViewsSql())) await c.run(stmt);
  const s = await all(c, 'SELECT pattern, detected, not_computed FROM pattern_summary ORDER BY ord');
  const byId = new Map(s.map((r) => [r.pattern as string, r]));
  assert.equal(Number(byId.get('P1')!.not_computed), 0);
  assert.equal(Number(byId.get('S:LowSSIM')!.not_computed), 0);
  assert.equal(Number(byId.get('S:LowSSIM')!.detected), 1, 'p10 of 10 distinct values: one image below');
  for (const id of ['P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'S:LowSharpness', 'S:HighDeltaE']) assert.equal(Number(byId.get(id)!.not_computed), 10, id);
  const [sp] = await all(c, 'SELECT lfv_cases FROM lfv_spatial_summary');
  assert.equal(Number(sp!.lfv_cases), 0);
});

test('the columns the views read are the ones a run stores, with the same types', async () => {
  const { BATTERY_INPUTS } = await import('../../src/analysis/patterns.ts');
  const { RUN_BATTERY_COLUMNS } = await import('../../src/battery/run.ts');
  const stored = new Map(RUN_BATTERY_COLUMNS.map((c) => [c.name as string, c.type]));
  for (const [name, type] of BATTERY_INPUTS) assert.equal(stored.get(name), type, name);
});

test('report section: confidence counts, rule table, LFV p-values from the views', async () => {
  const { patternReport } = await import('../../src/analysis/patternReport.ts');
  const rows = table(40, 5);
  const c = await connect(rows);
  const r = await patternReport(c);
  assert.equal(r.summary.patterns.length, 25);
  const total = r.summary.confidence.reduce((a, x) => a + Number(x.images), 0);
  assert.equal(total, 40);
  const t = r.summary.lfvTexture as { r: number; n: number; p_value: number };
  assert.ok(Math.abs(t.p_value - correlationPValue(t.r, 40)) < 1e-15);
  assert.match(r.markdown, /## Hallucination screen/);
  assert.match(r.markdown, /\| P5 \| LPIPS high x SSIM high \| 0 \| 0 \| 40 \|/);
});
