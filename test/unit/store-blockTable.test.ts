import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { allocateBlockColumns, BLOCK_COLUMNS, columnsOfSet, storedColumnsOfSet, type BlockColumns } from '../../src/tier3/columns.ts';
import { formatFloat32, writeBlockTable } from '../../src/store/blockTable.ts';
import { BlindspotError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'bs-blocktable-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random columns (a small LCG, so the test does not depend on Math.random). */
function syntheticColumns(n: number, seed = 1): BlockColumns {
  const cols = allocateBlockColumns(n);
  let s = seed >>> 0;
  const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (const spec of BLOCK_COLUMNS) {
    const a = cols[spec.name]!;
    for (let i = 0; i < n; i++) {
      if (spec.storage === 'BOOLEAN') a[i] = rnd() < 0.5 ? 1 : 0;
      else if (spec.array === 'i32') a[i] = Math.floor(rnd() * 200);
      else a[i] = i % 97 === 3 && spec.name === 'rho' ? NaN : rnd() * 2 - 0.5;
    }
  }
  return cols;
}

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

test('parquet bytes are identical when the same columns are written twice', async () => {
  const cols = syntheticColumns(5000);
  await writeBlockTable(join(dir, 'a.parquet'), cols, 5000, { keys: { image: 'img1', model: 'm' } });
  await writeBlockTable(join(dir, 'b.parquet'), cols, 5000, { keys: { image: 'img1', model: 'm' } });
  assert.equal(sha(join(dir, 'a.parquet')), sha(join(dir, 'b.parquet')));
});

test('parquet round-trips every value at its storage precision (float32 = Math.fround), keys first', async () => {
  const n = 3000;
  const cols = syntheticColumns(n, 7);
  const file = join(dir, 'rt.parquet');
  await writeBlockTable(file, cols, n, { keys: { image: "o'brien", path: 'tta' }, columnSet: 'full' });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
  const names = reader.columnNames();
  assert.deepEqual(names, ['image', 'path', ...BLOCK_COLUMNS.map((s) => s.name)]);
  const rows = reader.getRows();
  assert.equal(rows.length, n);
  for (let i = 0; i < n; i += 37) {
    const r = rows[i]!;
    assert.equal(r[0], "o'brien");
    assert.equal(r[1], 'tta');
    BLOCK_COLUMNS.forEach((spec, k) => {
      const src = cols[spec.name]![i]!;
      const got = r[k + 2];
      if (spec.storage === 'FLOAT') {
        if (Number.isNaN(src)) assert.ok(Number.isNaN(got as number), spec.name);
        else assert.equal(got, Math.fround(src), spec.name);
      } else if (spec.storage === 'BOOLEAN') assert.equal(got, src === 1, spec.name);
      else assert.equal(got, src, spec.name);
    });
  }
  con.closeSync();
});

test('core column set writes exactly the core columns', async () => {
  const file = join(dir, 'core.parquet');
  await writeBlockTable(file, syntheticColumns(100), 100, { columnSet: 'core' });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${file}') LIMIT 1`);
  assert.deepEqual(r.columnNames(), columnsOfSet('core').map((s) => s.name));
  assert.ok(!r.columnNames().includes('sxy'));
  con.closeSync();
});

test('csv: header, keys first, float32 values in their shortest round-trip spelling, identical bytes twice', async () => {
  const n = 200;
  const cols = syntheticColumns(n, 3);
  cols['ssim_blk']![0] = 0.7;
  await writeBlockTable(join(dir, 'a.csv'), cols, n, { format: 'csv', keys: { image: 'x,y' } });
  await writeBlockTable(join(dir, 'b.csv'), cols, n, { format: 'csv', keys: { image: 'x,y' } });
  assert.equal(sha(join(dir, 'a.csv')), sha(join(dir, 'b.csv')));
  const lines = readFileSync(join(dir, 'a.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, n + 1);
  assert.equal(lines[0], ['image', ...BLOCK_COLUMNS.map((s) => s.name)].join(','));
  const header = lines[0]!.split(',');
  const first = lines[1]!.replace('"x,y"', 'XY').split(',');
  assert.equal(first[0], 'XY');
  assert.equal(first[header.indexOf('ssim_blk')], '0.7');
  for (let i = 1; i <= n; i += 13) {
    const f = lines[i]!.replace('"x,y"', 'XY').split(',');
    BLOCK_COLUMNS.forEach((spec, k) => {
      const src = cols[spec.name]![i - 1]!;
      const cell = f[k + 1]!;
      if (spec.storage === 'FLOAT') {
        if (Number.isNaN(src)) assert.equal(cell, 'NaN');
        else assert.equal(Math.fround(Number(cell)), Math.fround(src), spec.name);
      } else assert.equal(Number(cell), src, spec.name);
    });
  }
});

test('formatFloat32 is the shortest decimal that reads back as the same float32 (property)', () => {
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const v = Math.fround(x);
      const s = formatFloat32(v);
      assert.equal(Math.fround(Number(s)), v);
      if (v !== 0) {
        const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
        if (digits > 1) assert.notEqual(Math.fround(Number(v.toPrecision(digits - 1))), v);
      }
    }),
    { numRuns: 2000 },
  );
});

test('missing or short columns are rejected with a one-line message', async () => {
  const cols = syntheticColumns(10);
  delete cols['kappa'];
  await assert.rejects(writeBlockTable(join(dir, 'x.parquet'), cols, 10), (e: unknown) => {
    assert.ok(e instanceof BlindspotError);
    assert.equal(e.message, 'block columns: missing column "kappa"');
    return true;
  });
  await assert.rejects(writeBlockTable(join(dir, 'x.parquet'), syntheticColumns(10), 11), /column "row" has 10 values, expected at least 11/);
  await assert.rejects(writeBlockTable(join(dir, 'x.parquet'), syntheticColumns(10), 10, { format: 'xls' as 'csv' }), /invalid format: expected parquet\|csv, got "xls"/);
});

test('staging files round-trip storage arrays exactly and assemble into the same Parquet as a direct write', async () => {
  const { writeStaging, readStaging } = await import('../../src/store/staging.ts');
  const { assembleBlockPartFromStaging } = await import('../../src/store/parts.ts');
  const { toStorageArray } = await import('../../src/store/blockTable.ts');
  const n = 777;
  const cols = syntheticColumns(n, 11);
  const f = join(dir, 'pair.bin');
  await writeStaging(f, cols, n, 'full');
  const back = await readStaging(f, 'full');
  assert.equal(back.blockCount, n);
  const stored = storedColumnsOfSet('full');
  assert.equal(back.arrays.length, stored.length);
  stored.forEach((spec, k) => assert.deepEqual(back.arrays[k], toStorageArray(spec, cols[spec.name]!, n), spec.name));
  await assembleBlockPartFromStaging([{ file: f, image: 'img1' }], 'full', join(dir, 'staged.parquet'));
  const { BlockTableBuilder } = await import('../../src/store/blockTable.ts');
  const direct = await BlockTableBuilder.create(stored, ['image']);
  await direct.append(cols, n, ['img1']);
  await direct.writeParquet(join(dir, 'direct.parquet'));
  direct.close();
  assert.equal(sha(join(dir, 'staged.parquet')), sha(join(dir, 'direct.parquet')));
  await assert.rejects(readStaging(f, 'core'), (e: unknown) => e instanceof BlindspotError && e.code === 'E_CORRUPT' && e.message === `${f}: not a staging file of this column set`);
});

test('every derived column has a SQL derivation that reads only stored columns of its own set', async () => {
  const { derivedColumnNames, blocksViewSelect } = await import('../../src/store/blockView.ts');
  const { resolveDiagnoseOptions } = await import('../../src/tier3/options.ts');
  const p = resolveDiagnoseOptions({});
  const derived = BLOCK_COLUMNS.filter((s) => s.derived).map((s) => s.name);
  assert.deepEqual([...derivedColumnNames(p)].sort(), [...derived].sort());
  // The view over a set's stored columns yields every column of that set (a derived column never needs a column
  // the set does not store).
  for (const set of ['core', 'full'] as const) {
    const stored = new Set(['model', 'path', 'image', ...storedColumnsOfSet(set).map((s) => s.name)]);
    const sql = blocksViewSelect(stored, p, 'raw', 'imgs');
    for (const spec of columnsOfSet(set)) assert.ok(sql.includes(`"${spec.name}"`), `${set}: ${spec.name} missing from the view`);
  }
});
