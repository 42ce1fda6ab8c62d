// `blindspot ssim GTDIR TESTDIR`: pairing by the dataset rule, per-image rows equal to the single-pair command,
// the Student-t interval against the published t table, CSV/JSON/Parquet out, failures as rows with exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { runCli } from '../helpers/cli.ts';
import { meanInterval, studentTTwoSided, tQuantile } from '../../src/stats/interval.ts';

test('t quantiles equal the published table (Abramowitz & Stegun 26.10) and A(t|1) is 2 atan(t)/pi', () => {
  const table: [number, number, number][] = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 4, 2.776],
    [0.975, 9, 2.262],
    [0.975, 29, 2.045],
    [0.975, 120, 1.98],
    [0.995, 5, 4.032],
    [0.95, 15, 1.753],
    [0.975, 5000, 1.9604],
  ];
  for (const [p, nu, want] of table) assert.ok(Math.abs(tQuantile(p, nu) - want) < 6e-4, `t(${p}, ${nu}) = ${tQuantile(p, nu)}`);
  assert.ok(Math.abs(studentTTwoSided(1.5, 1) - (2 * Math.atan(1.5)) / Math.PI) < 1e-15);
  const m = meanInterval([1, 2, 3, NaN, 6]);
  assert.equal(m.n, 4);
  assert.equal(m.mean, 3);
  assert.ok(Math.abs(m.hi - (3 + (3.182446 * Math.sqrt(14 / 3)) / 2)) < 1e-5);
});

test('ssim GTDIR TESTDIR: paired rows, mean and t interval, CSV / JSON / Parquet, failures', { timeout: 180_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'blindspot-ssim-folder-'));
  const ds = await buildDataset(join(root, 'ds'));
  // a GT without a test file and a test file without a GT
  copyFileSync(join(ds.gt, 'nih_00000001_000.png'), join(ds.gt, 'zz_extra.png'));
  copyFileSync(join(ds.dirs.blurNotta, 'nih_00000001_000_x2.png'), join(ds.dirs.blurNotta, 'unrelated.png'));
  const csv = join(root, 'rows.csv');
  const r = await runCli(['ssim', ds.gt, ds.dirs.blurNotta, '--out', csv, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    summary: { pairs: number; missingTest: string[]; unmatchedTest: string[]; ssim: { n: number; mean: number; lo: number; hi: number } };
    rows: { stem: string; gt: string; test: string; ssim: number; psnr: number }[];
  };
  assert.equal(j.summary.pairs, 3);
  assert.deepEqual(j.summary.missingTest, ['zz_extra.png']);
  assert.deepEqual(j.summary.unmatchedTest, ['unrelated.png']);
  // every row equals the single-pair command
  for (const row of j.rows) {
    const one = JSON.parse((await runCli(['ssim', join(ds.gt, row.gt), join(ds.dirs.blurNotta, row.test), '--json'])).stdout) as { mssim: number; psnr: number };
    assert.equal(row.ssim, one.mssim);
    assert.equal(row.psnr, one.psnr);
  }
  // the interval by hand: 3 images -> t(0.975, 2) = 4.303 (published table)
  const v = j.rows.map((x) => x.ssim);
  const mean = v.reduce((a, b) => a + b, 0) / 3;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
  assert.ok(Math.abs(j.summary.ssim.mean - mean) < 1e-15);
  assert.ok(Math.abs(j.summary.ssim.hi - (mean + (4.3027 * sd) / Math.sqrt(3))) < 1e-5);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'stem,gt,test,ssim,msssim,psnr,psnr_identical,width,height,error');
  assert.equal(lines.length, 4);

  // Parquet: typed columns; an identical pair has PSNR null and psnr_identical true; human output names the CI
  const same = join(root, 'same');
  const pq = join(root, 'rows.parquet');
  await sharp(join(ds.gt, 'nih_00000001_000.png')).toFile(join(root, 'x.png'));
  copyFileSync(join(root, 'x.png'), join(ds.dirs.blurTta, 'zz_extra-tta.png'));
  const h = await runCli(['ssim', ds.gt, ds.dirs.blurTta, '--out', pq]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /4 pairs/);
  assert.match(h.stdout, /SSIM +mean 0\.\d+ +95% CI \[0\.\d+, [01]\.\d+\]/);
  assert.match(h.stdout, /1 identical pair\(s\) have PSNR inf/);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const c = await (await DuckDBInstance.create()).connect();
  const types = (await c.runAndReadAll(`DESCRIBE SELECT * FROM '${pq}'`)).getRows().map((x) => `${x[0]}:${x[1]}`);
  assert.deepEqual(types, ['stem:VARCHAR', 'gt:VARCHAR', 'test:VARCHAR', 'ssim:DOUBLE', 'msssim:DOUBLE', 'psnr:DOUBLE', 'psnr_identical:BOOLEAN', 'width:INTEGER', 'height:INTEGER', 'error:VARCHAR']);
  const ident = (await c.runAndReadAll(`SELECT ssim, psnr, psnr_identical FROM '${pq}' WHERE stem = 'zz_extra'`)).getRows();
  assert.deepEqual(ident, [[1, null, true]]);
  c.closeSync();

  // a size mismatch is a row with an error, exit 1; a bad --out extension is a usage error
  await sharp(join(ds.gt, 'nih_00000003_000.png')).resize(64, 64).toFile(join(ds.dirs.jpegTta, 'nih_00000003_000_LR_bicubic_x0.50.png'));
  const bad = await runCli(['ssim', ds.gt, ds.dirs.jpegTta, '--json']);
  assert.equal(bad.code, 1, bad.stderr);
  const jb = JSON.parse(bad.stdout) as { rows: { stem: string; error: string | null }[] };
  assert.match(jb.rows.find((x) => x.stem === 'nih_00000003_000')!.error!, /size 64x64 does not match/);
  const usage = await runCli(['ssim', ds.gt, ds.dirs.blurNotta, '--out', join(same, 'rows.txt')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--out must end in \.csv, \.json or \.parquet/);
});

test('CLI edges: a negative number is a flag value with the range named; `help ssim` is `ssim --help`', async () => {
  const neg = await runCli(['ssim', 'a.png', 'b.png', '--data-range', '-5']);
  assert.equal(neg.code, 2);
  assert.equal(neg.stderr.trim(), 'blindspot ssim: invalid --data-range: expected a number > 0, got "-5"');
  const help = await runCli(['help', 'ssim']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: blindspot ssim GT TEST/);
});

test('ssim GTDIR TESTDIR --battery: the rows carry the metric battery, equal to `blindspot metrics` on the pair', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'blindspot-ssim-battery-'));
  const ds = await buildDataset(join(root, 'ds'));
  const r = await runCli(['ssim', ds.gt, ds.dirs.blurNotta, '--battery', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { summary: { battery: Record<string, { n: number; mean: number }> }; rows: Record<string, number | string | null>[] };
  const row = j.rows.find((x) => x.stem === 'nih_00000001_000')!;
  const one = JSON.parse((await runCli(['metrics', join(ds.gt, String(row.gt)), join(ds.dirs.blurNotta, String(row.test)), '--json'])).stdout) as Record<string, number>;
  for (const k of ['sharpness', 'noise', 'edge_density', 'delta_e2000']) assert.equal(row[k], one[k], k);
  assert.equal(j.summary.battery['sharpness']!.n, 3);
  const only = await runCli(['ssim', join(ds.gt, String(row.gt)), join(ds.dirs.blurNotta, String(row.test)), '--battery']);
  assert.equal(only.code, 2);
  assert.match(only.stderr, /--battery belong to the folder form/);
});
