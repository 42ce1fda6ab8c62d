/**
 * The metric battery inside `blindspot run` (issue 20): images.parquet holds every battery column, equal to
 * `metricBattery` on the same files; the 26-pattern views answer through `blindspot sql`; `analyze` writes the
 * screen's report section; `--no-battery` leaves the columns NULL and the battery rules "not computed".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { buildDataset, type BuiltDataset } from '../fixtures/dataset/buildDataset.ts';
import { readImage } from '../../src/image/read.ts';
import { metricBattery } from '../../src/battery/battery.ts';
import { RUN_BATTERY_COLUMNS } from '../../src/battery/run.ts';


const root = mkdtempSync(join(tmpdir(), 'bs-battery-e2e-'));
let ds: BuiltDataset;
test.before(async () => {
  ds = await buildDataset(join(root, 'data'));
});
test.after(() => rmSync(root, { recursive: true, force: true }));

async function sqlJson(out: string, q: string): Promise<Record<string, unknown>[]> {
  const r = await runCli(['sql', out, q, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

test('run stores the battery per pair, equal to metricBattery on the same files; pattern views and report follow', async () => {
  const out = join(root, 'R1');
  const r = await runCli(['run', '--gt', ds.gt, ...ds.modelFlags.flatMap((m) => ['--model', m]), '--out', out, '--workers', '2', '--battery']);
  assert.equal(r.code, 0, r.stderr);
  const rows = await sqlJson(out, `SELECT * FROM images ORDER BY model, path, image`);
  assert.equal(rows.length, 12);
  const row = rows.find((x) => x.model === 'jpeg' && x.path === 'notta')!;
  const gt = await readImage(join(ds.gt, String(row.gt_file)));
  const test_ = await readImage(join(ds.dirs.jpegNotta, String(row.test_file)));
  const expected = metricBattery(gt, test_) as Record<string, number | null>;
  for (const c of RUN_BATTERY_COLUMNS) {
    if (c.name === 'lpips' || c.name === 'clip_similarity') assert.equal(row[c.name], null, c.name);
    else {
      // Stored as DOUBLE through a SQL literal and read back: equal to the last bit or two.
      const a = row[c.name] as number;
      const e = expected[c.name]!;
      assert.ok(Math.abs(a - e) <= 1e-14 * Math.max(1, Math.abs(e)), `${c.name}: ${a} vs ${e}`);
    }
  }
  const flags = await sqlJson(out, `SELECT pattern, count(*) FILTER (WHERE detected IS NULL) AS nc, count(*) AS n FROM pattern_flags GROUP BY pattern`);
  const nc = new Map(flags.map((f) => [f.pattern, Number(f.nc)]));
  assert.equal(nc.get('P5'), 12, 'no LPIPS weights');
  assert.equal(nc.get('P9'), 12, '96x96 images: no MS-SSIM');
  assert.equal(nc.get('P2'), 0);
  const det = await sqlJson(out, `SELECT confidence, count(*) AS n FROM pattern_detections GROUP BY ALL`);
  assert.equal(det.reduce((a, d) => a + Number(d.n), 0), 12);
  const a = await runCli(['analyze', out]);
  assert.equal(a.code, 0, a.stderr);
  const md = readFileSync(join(out, 'analysis/report.md'), 'utf8');
  assert.match(md, /## Hallucination screen/);
  assert.match(md, /Texture dependency: r\(texture_complexity, local_quality_min\) = -?\d/);
  const fixed = await runCli(['analyze', out, '--pattern-thresholds', 'fixed']);
  assert.equal(fixed.code, 0, fixed.stderr);
  const pj = (JSON.parse(readFileSync(join(out, 'analysis/summary.json'), 'utf8')) as { patterns: { params: { thresholds: string }; patterns: { pattern: string; detected: number }[] } }).patterns;
  assert.equal(pj.params.thresholds, 'fixed');
  // The engine's example threshold (sharpness < 120) flags every one of these 96x96 outputs.
  assert.equal(pj.patterns.find((p) => p.pattern === 'S:LowSharpness')!.detected, 12);
});

test('--no-battery: the columns are NULL and the battery rules are not computed', async () => {
  const out = join(root, 'R2');
  const r = await runCli(['run', '--gt', ds.gt, '--model', ds.modelFlags[0]!, '--out', out, '--workers', '1', '--no-battery']);
  assert.equal(r.code, 0, r.stderr);
  const [row] = await sqlJson(out, 'SELECT count(sharpness) AS s, count(ssim) AS q FROM images');
  assert.equal(Number(row!.s), 0);
  assert.equal(Number(row!.q), 3);
  const [p] = await sqlJson(out, `SELECT count(*) FILTER (WHERE detected IS NULL) AS nc FROM pattern_flags WHERE pattern = 'P4'`);
  assert.equal(Number(p!.nc), 3);
});
