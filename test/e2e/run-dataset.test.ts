/**
 * `blindspot run` end to end on a small real dataset (three NIH chest X-rays, two models x two paths of real
 * degradations made with sharp): layout, row counts against the image grid, manifest vs coreutils sha256sum,
 * verify's three failure kinds, determinism across worker counts, resume after SIGKILL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli } from '../helpers/cli.ts';
import { buildDataset, GT_NAMES, type BuiltDataset } from '../fixtures/dataset/buildDataset.ts';
import { columnsOfSet, storedColumnsOfSet } from '../../src/tier3/columns.ts';
import { openAnalysis, queryRows } from '../../src/analysis/open.ts';
import { readImage } from '../../src/image/read.ts';
import { diagnose } from '../../src/tier3/diagnose.ts';
import { damageOf } from '../../src/tier3/regimes.ts';
import { wasmSimdAvailable } from '../../src/tier3/wasm/blockKernel.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-run-e2e-'));
let ds: BuiltDataset;
test.before(async () => {
  ds = await buildDataset(join(root, 'data'));
});
test.after(() => rmSync(root, { recursive: true, force: true }));

const runArgs = (out: string, extra: string[] = []): string[] => [
  'run',
  '--gt',
  ds.gt,
  ...ds.modelFlags.flatMap((m) => ['--model', m]),
  '--out',
  out,
  '--part-size',
  '2',
  ...extra,
];

async function query(sql: string): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    return (await con.runAndReadAll(sql)).getRows();
  } finally {
    con.closeSync();
  }
}

let manifestA = '';
const IMAGES = GT_NAMES.map((n) => n.replace(/\.png$/, ''));
const GRID = 12; // 96 px / 8 px blocks

test('run writes Hive partitions with one row per block of every pair, and a manifest sha256sum -c accepts', async () => {
  const out = join(root, 'A');
  const r = await runCli(runArgs(out, ['--workers', '2']));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /12\/12 pairs ok, 0 failed; 1728 block rows/);
  // Layout: 4 configurations x parts of 2 images (3 images -> parts 0 and 1).
  for (const model of ['blur', 'jpeg']) {
    for (const path of ['notta', 'tta']) {
      assert.deepEqual(readdirSync(join(out, 'blocks', `model=${model}`, `path=${path}`)), ['part-00000.parquet', 'part-00001.parquet']);
    }
  }
  const glob = join(out, 'blocks/*/*/*.parquet');
  const counts = await query(
    `SELECT model, path, image, count(*), min("row"), max("row"), min(col), max(col), count(DISTINCT ("row", col))
     FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
  );
  assert.equal(counts.length, 12);
  assert.deepEqual([...new Set(counts.map((c) => c[2]))], IMAGES);
  for (const c of counts) assert.deepEqual(c.slice(3), [BigInt(GRID * GRID), 0, GRID - 1, 0, GRID - 1, BigInt(GRID * GRID)]);
  // Column order: image first, then the stored (non-derived) columns of the full set.
  const cols = await query(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${join(out, 'blocks/model=blur/path=notta/part-00000.parquet')}', hive_partitioning = false))`);
  assert.deepEqual(cols.map((c) => c[0]), ['image', ...storedColumnsOfSet('full').map((s) => s.name)]);
  // images.parquet: one row per pair, ssim in (0, 1), block mean recomputable from the block rows.
  const img = await query(
    `SELECT i.model, i.path, i.image, i.ssim, i.blocks, abs(i.blk_mean - b.m) FROM read_parquet('${join(out, 'images.parquet')}') i
     JOIN (SELECT model, path, image, avg(ssim_blk::DOUBLE) m FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY ALL) b
     USING (model, path, image) ORDER BY ALL`,
  );
  assert.equal(img.length, 12);
  for (const row of img) {
    assert.ok((row[3] as number) > 0.3 && (row[3] as number) < 1, `ssim ${row[3]}`);
    assert.equal(row[4], GRID * GRID);
    assert.ok((row[5] as number) < 1e-9);
  }
  assert.equal(readFileSync(join(out, 'errors.jsonl'), 'utf8'), '');
  // The manifest is exactly what coreutils computes, for exactly the files present.
  const listed = readFileSync(join(out, 'MANIFEST.sha256'), 'utf8');
  manifestA = listed;
  const files = listed.trimEnd().split('\n').map((l) => l.slice(66));
  assert.equal(files.length, 16 + 3); // 8 block parts + 8 image parts, errors/images/run
  assert.match(r.stdout, new RegExp(`; ${files.length} files in MANIFEST\\.sha256`), 'the summary counts the files the manifest lists');
  assert.equal(execFileSync('sha256sum', files, { cwd: out, encoding: 'utf8' }), listed);
  execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: out });
  assert.equal(existsSync(join(out, '.staging')), false);

  // verify: clean, then a flipped byte, a deleted file and an extra file.
  const ok = await runCli(['verify', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^OK: 19 file\(s\) match/m);
  const part = join(out, 'blocks/model=jpeg/path=tta/part-00001.parquet');
  const bytes = readFileSync(part);
  bytes[bytes.length >> 1] ^= 0x40;
  writeFileSync(part, bytes);
  unlinkSync(join(out, 'images/model=blur/path=notta/part-00000.parquet'));
  writeFileSync(join(out, 'blocks/model=blur/notes.txt'), 'stray');
  const bad = await runCli(['verify', out, '--json']);
  assert.equal(bad.code, 1);
  const report = JSON.parse(bad.stdout) as { changed: string[]; missing: string[]; extra: string[]; ok: number };
  assert.deepEqual(report.changed, ['blocks/model=jpeg/path=tta/part-00001.parquet']);
  assert.deepEqual(report.missing, ['images/model=blur/path=notta/part-00000.parquet']);
  assert.deepEqual(report.extra, ['blocks/model=blur/notes.txt']);
  assert.equal(report.ok, 17);
});

test('the blocks view gives every full-set column; derived ones equal the block engine run directly on the pair', async () => {
  const out = join(root, 'V');
  const r = await runCli(runArgs(out, ['--workers', '1']));
  assert.equal(r.code, 0, r.stderr);
  const image = IMAGES[1]!;
  const h = await openAnalysis(out);
  let rows: Record<string, unknown>[];
  try {
    const names = (await queryRows(h.connection, 'SELECT column_name FROM (DESCRIBE blocks)')).map((x) => x.column_name);
    assert.deepEqual(names, [
      'model',
      'path',
      'image',
      ...columnsOfSet('full').map((s) => s.name),
      'data_range',
      'display_width',
      'floor_ac',
      'visible_ac',
      'floor_dc',
      'damage_ac',
      'damage_dc',
      'damage_ac_published',
      'damage_dc_published',
    ]);
    rows = await queryRows(h.connection, `SELECT * FROM blocks WHERE model = 'jpeg' AND path = 'notta' AND image = '${image}' ORDER BY "row", col`);
  } finally {
    h.close();
  }
  // The reference: the kernel's float64 values for the same pair (what a single-pair file stores).
  const testFile = readdirSync(ds.dirs.jpegNotta).find((f) => f.startsWith(image))!;
  const ref = diagnose(await readImage(join(ds.gt, `${image}.png`)), await readImage(join(ds.dirs.jpegNotta, testFile)));
  assert.equal(rows.length, ref.blockCount);
  let checked = 0;
  for (const spec of columnsOfSet('full')) {
    const col = ref.columns[spec.name]!;
    for (let k = 0; k < ref.blockCount; k++) {
      const want = col[k]!;
      const v = rows[k]![spec.name];
      const got = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
      if (Number.isNaN(want)) {
        assert.ok(Number.isNaN(got), `${spec.name}[${k}]: want NaN, got ${got}`);
        continue;
      }
      // float32 storage: relative 1e-6; sxy/rho/a3/s come from se, so their error scales with sx^2 + sy^2.
      const sxsy = Number(ref.columns['sx']![k]) ** 2 + Number(ref.columns['sy']![k]) ** 2;
      const tol = spec.storage === 'FLOAT' ? 2e-6 * Math.abs(want) + 1e-6 + (['sxy', 'rho', 'a3', 's', 'ssim'].includes(spec.name) ? 1e-6 * (1 + sxsy) : 0) : 0;
      assert.ok(Math.abs(got - want) <= tol, `${spec.name}[${k}]: view ${got} vs kernel ${want}`);
      checked++;
    }
  }
  assert.equal(checked > 40 * ref.blockCount, true);
  // DESIGN §3c: the view's damage flags are the kernel's floored and published tests on the same block.
  const f = ref.reference.floors;
  let flips = 0;
  let damaged = 0;
  for (let k = 0; k < ref.blockCount; k++) {
    const c = ref.columns;
    const fl = damageOf(c.se![k]!, c.r_ac![k]!, c.dmu![k]!, f, 1);
    const pub = damageOf(c.se![k]!, c.r_ac![k]!, c.dmu![k]!, { floorAc: 0, visibleAc: Infinity, floorDc: (8 * ref.options.dataRange) / 255 }, 1);
    const row = rows[k]!;
    if (row.damage_ac !== fl.ac || row.damage_dc !== fl.dc || row.damage_ac_published !== pub.ac || row.damage_dc_published !== pub.dc) flips++;
    if (fl.ac || fl.dc) damaged++;
  }
  assert.ok(flips <= 1, `${flips} blocks where the view's damage differs from the kernel's (float32 ties only)`);
  assert.ok(damaged > 0, 'the JPEG pair has damage above the floor somewhere');
});

test('1 worker and 2 workers give byte-identical manifests (and files)', async () => {
  const one = join(root, 'W1');
  // The 2-worker manifest is the first test's (saved before verify's damage).
  const r1 = await runCli(runArgs(one, ['--workers', '1', '--json']));
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(JSON.parse(r1.stdout).ok, 12);
  assert.ok(manifestA !== '', 'first test did not run');
  assert.equal(readFileSync(join(one, 'MANIFEST.sha256'), 'utf8'), manifestA);
});

test('the JavaScript block kernel (BLINDSPOT_BLOCK_KERNEL=js) writes the same bytes as the WebAssembly one', { skip: !wasmSimdAvailable }, async () => {
  // Both forced (the workers inherit the variable), each compared with the first test's default run.
  assert.ok(manifestA !== '', 'first test did not run');
  for (const kernel of ['js', 'wasm']) {
    const out = join(root, `kernel-${kernel}`);
    const r = await runCli(runArgs(out, ['--workers', '2']), { env: { BLINDSPOT_BLOCK_KERNEL: kernel } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'MANIFEST.sha256'), 'utf8'), manifestA, `${kernel} kernel`);
  }
});

test('a run killed with SIGKILL mid-way and started again ends with the uninterrupted manifest', async () => {
  const reference = join(root, 'W1'); // from the previous test (same options, partSize 2)
  if (!existsSync(join(reference, 'MANIFEST.sha256'))) {
    const r = await runCli(runArgs(reference, ['--workers', '1']));
    assert.equal(r.code, 0, r.stderr);
  }
  const out = join(root, 'K');
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...runArgs(out, ['--workers', '1'])], { stdio: 'ignore' });
  // Kill as soon as the first part is committed (its done marker exists) — pairs of other parts are in flight.
  const doneDir = join(out, '.staging/done');
  const killedEarly = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => {
      const committed = ['blur', 'jpeg'].some((m) =>
        ['notta', 'tta'].some((p) => existsSync(join(doneDir, `model=${m}`, `path=${p}`)) && readdirSync(join(doneDir, `model=${m}`, `path=${p}`)).some((f) => f.endsWith('.json'))),
      );
      if (committed) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(true);
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      resolve(false);
    });
  });
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
  assert.ok(killedEarly, 'the run finished before it could be killed');
  assert.equal(existsSync(join(out, 'MANIFEST.sha256')), false);
  const again = await runCli(runArgs(out, ['--workers', '2']));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\(\d+ resumed\)/);
  assert.equal(readFileSync(join(out, 'MANIFEST.sha256'), 'utf8'), readFileSync(join(reference, 'MANIFEST.sha256'), 'utf8'));
  // Same command once more: nothing to do.
  const third = await runCli(runArgs(out, ['--workers', '2']));
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /already complete/);
  assert.equal(existsSync(join(out, '.staging')), false); // no lock folder left behind by the no-op run
});
