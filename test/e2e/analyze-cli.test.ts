/**
 * `blindspot analyze` and `blindspot sql` on a real (small) run: the report files appear, the whole folder still
 * verifies (analysis/ has its own manifest), and sql answers match counts computed from the run's own numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { parseModelFlag } from '../../src/dataset/options.ts';
import sharp from 'sharp';

const root = mkdtempSync(join(tmpdir(), 'bs-analyze-e2e-'));
const out = join(root, 'RESULTS');
let ds: Awaited<ReturnType<typeof buildDataset>>;
test.before(async () => {
  ds = await buildDataset(join(root, 'data'));
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

test('report.html: the heatmaps of each configuration\'s median-SSIM image, counts as sql gives them; "not available" when the files are gone', async () => {
  assert.equal((await runCli(['analyze', out])).code, 0);
  const q = async (sql: string) => JSON.parse((await runCli(['sql', out, sql, '--json'])).stdout) as Record<string, unknown>[];
  const images = await q('SELECT model, path, image, ssim FROM images ORDER BY model, path');
  const html = readFileSync(join(out, 'analysis/report.html'), 'utf8');
  const section = html.slice(html.indexOf('A representative image per configuration'));
  let contrasted = 0;
  for (const cfg of ['blur/notta', 'blur/tta', 'jpeg/notta', 'jpeg/tta']) {
    const [model, path] = cfg.split('/');
    // the lower median of the configuration's whole-image SSIM (3 images: the middle one), computed here
    const mine = images.filter((r) => r.model === model && r.path === path).sort((a, b) => Number(a.ssim) - Number(b.ssim) || String(a.image).localeCompare(String(b.image)));
    const rep = mine[Math.floor((mine.length - 1) / 2)]!;
    const start = section.indexOf(`<h3>${model} / ${path}: ${String(rep.image)}</h3>`);
    assert.ok(start >= 0, `${cfg}: representative ${String(rep.image)}`);
    const next = section.indexOf('<h3>', start + 4);
    const block = section.slice(start, next < 0 ? undefined : next);
    assert.match(block, new RegExp(`SSIM ${Number(rep.ssim).toFixed(4)}, the median of 3 images`));
    const pngs = [...block.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((m) => Buffer.from(m[1]!, 'base64'));
    assert.equal(pngs.length, 4, cfg);
    for (const png of pngs) {
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.width, meta.height], [96, 96], 'the GT size (under the 192 px cap)');
    }
    // the captions count what the views count for this image
    const w = `model = '${model}' AND path = '${path}' AND image = '${String(rep.image)}'`;
    const [c] = await q(`SELECT count(*) FILTER (WHERE fail_mask <> 0) AS failing, count(*) FILTER (WHERE in_roi AND layer = 'Hidden') AS hidden, count(*) AS n FROM classified WHERE ${w}`);
    const failing = Number(c!.failing);
    const hidden = Number(c!.hidden);
    assert.match(block, failing === 0 ? /no block fails an axis/ : new RegExp(`${failing} of ${Number(c!.n)} blocks fail`));
    assert.match(block, hidden === 0 ? /no Hidden Collapse block in this pair/ : new RegExp(`${hidden} Hidden Collapse blocks?`));
    // the fixed scale: a block's colour in the SSIM map is viridis(ssim_blk) over the GT, so a block of SSIM ~1 is
    // yellow-green (red channel high), one of SSIM < 0.5 is blue-purple (red channel low); checked on the extremes
    const [ext] = await q(`SELECT arg_min("row" * 1000 + col, ssim_blk) AS lo, arg_max("row" * 1000 + col, ssim_blk) AS hi, min(ssim_blk) AS min FROM classified WHERE ${w}`);
    const { data } = await sharp(pngs[0]!).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (code: number) => data[(((Math.floor(code / 1000) * 8 + 4) * 96 + (code % 1000) * 8 + 4) * 3)]!;
    if (Number(ext!.min) < 0.5) {
      assert.ok(at(Number(ext!.lo)) + 40 < at(Number(ext!.hi)), `${cfg}: red(low SSIM block) < red(high SSIM block)`);
      contrasted++;
    }
  }
  assert.ok(contrasted >= 1, 'some configuration (JPEG q15) has blocks of SSIM < 0.5');
  // the model folder gone: its configurations say so, the others keep their maps
  renameSync(ds.dirs.jpegNotta, `${ds.dirs.jpegNotta}.gone`);
  try {
    assert.equal((await runCli(['analyze', out])).code, 0);
    const after = readFileSync(join(out, 'analysis/report.html'), 'utf8');
    const tail = after.slice(after.indexOf('A representative image per configuration'));
    assert.match(tail, /jpeg \/ notta: [^<]+<\/h3><p class="maphead">[^<]+<\/p><p>not available: the image files named in run.json are gone/);
    assert.equal([...tail.matchAll(/<figure class="map">/g)].length, 3 * 4);
  } finally {
    renameSync(`${ds.dirs.jpegNotta}.gone`, ds.dirs.jpegNotta);
  }
});
