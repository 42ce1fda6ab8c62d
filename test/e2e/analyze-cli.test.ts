/**
 * `blindspot analyze` and `blindspot sql` on a real (small) run: the report files appear, the whole folder still
 * verifies (analysis/ has its own manifest), and sql answers match counts computed from the run's own numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { parseModelFlag } from '../../src/dataset/options.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-analyze-e2e-'));
const out = join(root, 'RESULTS');
test.before(async () => {
  const ds = await buildDataset(join(root, 'data'));
  await runDataset({ gt: ds.gt, models: ds.modelFlags.map(parseModelFlag), out, partSize: 2 }, { inline: true });
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('analyze writes report.md/html, summary.json and plots; the results folder still verifies', async () => {
  const r = await runCli(['analyze', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as { thresholds: { model: string; path: string; nonborder_blocks: number; t10: number; t90: number }[] };
  assert.equal(printed.thresholds.length, 4);
  for (const t of printed.thresholds) {
    assert.equal(t.nonborder_blocks, 3 * 10 * 10); // 3 images, 12x12 grid minus the border ring
    assert.ok(t.t10 < t.t90 && t.t90 <= 1);
  }
  const md = readFileSync(join(out, 'analysis/report.md'), 'utf8');
  assert.match(md, /## Headline per model/);
  assert.match(md, /!\[Block SSIM distributions\]\(plots\/ssim_blk_hist.svg\)/);
  execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: join(out, 'analysis') });
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('sql runs queries against the views (table, --json, --csv) and reports SQL errors in one line', async () => {
  const json = await runCli(['sql', out, 'SELECT model, path, count(*) AS n, sum((layer = \'Visible\')::INT) AS visible FROM classified GROUP BY ALL ORDER BY ALL', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as { model: string; path: string; n: number; visible: number }[];
  assert.equal(rows.length, 4);
  for (const row of rows) {
    assert.equal(row.n, 3 * 144);
    // T10 is the 10% quantile of the 300 non-border blocks: about 30 of them (ties aside) plus border blocks below it.
    assert.ok(row.visible >= 29, `${row.model}/${row.path}: ${row.visible}`);
  }
  const csv = await runCli(['sql', out, 'SELECT model, count(*) AS n FROM persistence GROUP BY model ORDER BY model', '--csv']);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, 'model,n\nblur,432\njpeg,432\n');
  const table = await runCli(['sql', out, 'SELECT 1 AS one']);
  assert.equal(table.stdout, 'one\n---\n1\n(1 row)\n');
  const bad = await runCli(['sql', out, 'SELECT nope FROM classified']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^blindspot sql: SQL error: Binder Error: .*nope/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});
