/** `blindspot diagnose` end to end on the NIH chest X-ray pair: files, PNG sizes, JSON, determinism, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../../src/image/read.ts';
import { ssim } from '../../src/ssim/index.ts';
import { columnsOfSet } from '../../src/tier3/columns.ts';
import { fixture, runCli } from '../helpers/cli.ts';

const GT = fixture('cxr/nih_00000001_000.png');
const SR = fixture('cxr/nih_00000001_000_box4_bicubic4.png');
const PNGS = ['dominant_axis.png', 'hidden_damage.png', 'regime.png', 'roi.png', 'se_max.png', 'ssim_blk.png'];

test('diagnose writes blocks.parquet, summary.json and six image-size heatmaps; --json equals summary.json; Tier-1 SSIM equals ssim()', async () => {
  const out = await mkdtemp(join(tmpdir(), 'bs-diag-'));
  const r = await runCli(['diagnose', GT, SR, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const files = (await readdir(out)).sort();
  assert.deepEqual(files, ['blocks.parquet', ...PNGS, 'summary.json'].sort());
  for (const f of PNGS) {
    const m = await sharp(join(out, f)).metadata();
    assert.equal(m.format, 'png');
    // the 512x512 map plus a title bar and a legend
    assert.ok(
      m.width! >= 512 && m.width! <= 512 + 400 && m.height! >= 512 && m.height! <= 512 + 200,
      `${f}: ${m.width}x${m.height}`,
    );
  }
  const printed = JSON.parse(r.stdout);
  const written = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(printed, written);
  assert.equal(written.summary.blockCount, 4096);
  assert.equal(written.options.blockSize, 8);
  assert.equal(written.options.dataRange, 255);
  assert.equal(written.gt, GT);
  assert.equal(written.summary.tier1.ssim, ssim(await readImage(GT), await readImage(SR)).mssim);
  const parquet = await readFile(join(out, 'blocks.parquet'));
  assert.equal(parquet.subarray(0, 4).toString(), 'PAR1');
});

test('diagnose --csv --columns core --block 16: one row per block, core header, byte-identical on a second run', async () => {
  const a = await mkdtemp(join(tmpdir(), 'bs-diag-'));
  const b = await mkdtemp(join(tmpdir(), 'bs-diag-'));
  for (const out of [a, b]) {
    const r = await runCli([
      'diagnose',
      GT,
      SR,
      '--out',
      out,
      '--csv',
      '--columns',
      'core',
      '--block',
      '16',
      '--no-png',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1024 blocks \(32x32 of 16px, stride 16\)/);
  }
  const csv = await readFile(join(a, 'blocks.csv'), 'utf8');
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines.length, 1 + 32 * 32);
  assert.equal(
    lines[0],
    columnsOfSet('core')
      .map((c) => c.name)
      .join(','),
  );
  assert.ok(
    (await readFile(join(a, 'blocks.csv'))).equals(await readFile(join(b, 'blocks.csv'))),
    'blocks.csv differs between runs',
  );
  assert.ok(
    (await readFile(join(a, 'summary.json'))).equals(await readFile(join(b, 'summary.json'))),
    'summary.json differs between runs',
  );
});

test('diagnose: a missing file is one line naming it (exit 2); --help exits 0', async () => {
  const r = await runCli(['diagnose', GT, 'no/such.png', '--out', join(tmpdir(), 'bs-never')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'blindspot diagnose: no/such.png: no such file');
  const h = await runCli(['diagnose', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: blindspot diagnose GT TEST/);
  const bad = await runCli(['diagnose', GT, SR, '--block', '6']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'blindspot diagnose: invalid --block: expected an integer >= 7, got "6"');
});

test('diagnose into the same folder twice: the table of the other format goes; --json names the folder on stderr', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'bs-diag-reuse-')), 'd');
  const gt = fixture('dataset/nih_00000001_000.png');
  const first = await runCli(['diagnose', gt, gt, '--out', out, '--csv', '--no-png']);
  assert.equal(first.code, 0, first.stderr);
  assert.ok((await readdir(out)).includes('blocks.csv'));
  const second = await runCli(['diagnose', gt, gt, '--out', out, '--no-png', '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual((await readdir(out)).sort(), ['blocks.parquet', 'summary.json']);
  assert.match(second.stderr, /blindspot diagnose: wrote 2 files to \/.+\/d\n/);
});
