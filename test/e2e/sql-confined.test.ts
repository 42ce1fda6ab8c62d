/**
 * `blindspot sql` is read-only and confined to RESULTS (issue 15, item 5), on a real results folder whose name
 * holds a comma and a `*` next to a sibling the `*` would match (the comma broke file_search_path, the `*` made
 * the views read the sibling too): files outside RESULTS, COPY (also into RESULTS), ATTACH, INSTALL, SET and
 * several statements are refused with one line and exit 2; `--unconfined` gives full DuckDB back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { parseModelFlag } from '../../src/dataset/options.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { openAnalysis } from '../../src/analysis/open.ts';
import { confineToResults, escapeGlob } from '../../src/analysis/confine.ts';
import { BlindspotError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-sql-'));
const results = join(root, 'res,a*b');
const outside = join(root, 'outside.csv');
test.before(async () => {
  const ds = await buildDataset(join(root, 'data'));
  await runDataset({ gt: ds.gt, models: ds.modelFlags.map(parseModelFlag), out: results, partSize: 2 }, { inline: true });
  cpSync(results, join(root, 'res,aXb'), { recursive: true }); // what an unescaped 'res,a*b' glob also matches
  writeFileSync(outside, 'secret\n42\n');
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('the views read exactly this folder (comma and * in its name); SELECTs inside RESULTS work', async () => {
  const h = await openAnalysis(results);
  const s = await confineToResults(h.connection, h.dir);
  try {
    const n = async (sql: string) => Number((await s.query(sql)).getRows()[0]![0]);
    assert.equal(await n('SELECT count(*) FROM images'), 12);
    assert.equal(await n('SELECT count(*) FROM blocks_stored'), 12 * 144);
    assert.equal(await n(`SELECT count(*) FROM read_parquet('${escapeGlob(results)}/images.parquet')`), 12);
    assert.equal(await n('SELECT count(*) FROM (DESCRIBE blocks)') > 30, true);
  } finally {
    h.close();
    s.dispose();
  }
});

test('files outside RESULTS, writes, ATTACH, INSTALL, SET and several statements are refused before they run', async () => {
  const h = await openAnalysis(results);
  const s = await confineToResults(h.connection, h.dir);
  const runJson = readFileSync(join(results, 'run.json'), 'utf8');
  const refused = async (sql: string, message: RegExp) =>
    assert.rejects(s.query(sql), (e: unknown) => e instanceof BlindspotError && e.code === 'E_USAGE' && message.test(e.message) && !e.message.includes('\n'));
  try {
    await refused(`SELECT * FROM read_csv('${outside}')`, /^SQL error: Permission Error: Cannot access file ".*outside\.csv" - file system operations are disabled by configuration$/);
    await refused(`SELECT * FROM read_text('${results}/../outside.csv')`, /Permission Error/);
    await refused(`SELECT * FROM read_text('/etc/passwd')`, /Permission Error/);
    await refused(`SELECT * FROM glob('/*')`, /Permission Error/);
    await refused(`COPY (SELECT 1 AS x) TO '${join(results, 'run.json')}' (FORMAT json)`, /^only SELECT queries are allowed, got COPY \(run with --unconfined/);
    await refused(`ATTACH '${join(root, 'x.duckdb')}'`, /^(only SELECT queries are allowed, got ATTACH|SQL error: Permission Error)/);
    await refused('INSTALL httpfs', /^(only SELECT queries are allowed, got (LOAD|INSTALL)|SQL error: Permission Error)/);
    await refused('SET enable_external_access = true', /^(only SELECT queries are allowed, got (SET|VARIABLE_SET)|SQL error: .*locked)/);
    await refused('CREATE TABLE t AS SELECT 1', /^only SELECT queries are allowed, got CREATE/);
    await refused('SELECT 1; SELECT 2', /^one SELECT statement expected, got 2 statements/);
    await refused(`SELECT * FROM query('COPY (SELECT 1) TO ''${join(results, 'x.csv')}''')`, /SQL error/);
    assert.equal(readFileSync(join(results, 'run.json'), 'utf8'), runJson);
  } finally {
    h.close();
    s.dispose();
  }
});

test('the CLI: one line and exit 2 for a refused query; --unconfined runs full DuckDB', async () => {
  const r = await runCli(['sql', results, `SELECT * FROM read_csv('${outside}')`]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `blindspot sql: SQL error: Permission Error: Cannot access file "${outside}" - file system operations are disabled by configuration\n`);
  const u = await runCli(['sql', results, `SELECT count(*) AS n FROM read_csv('${outside}')`, '--unconfined', '--json']);
  assert.equal(u.code, 0, u.stderr);
  assert.deepEqual(JSON.parse(u.stdout), [{ n: 1 }]);
});
