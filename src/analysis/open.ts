/**
 * Open a RESULTS folder in DuckDB with the analysis views defined (used by `analyze` and `sql`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { BlindspotError } from '../errors.ts';
import { sqlString } from '../store/blockTable.ts';
import { DEFAULT_DIAGNOSE_OPTIONS, resolveDiagnoseOptions, type DiagnoseOptions, type ResolvedDiagnoseOptions } from '../tier3/options.ts';
import { resolveAnalyzeOptions, type AnalyzeOptions } from './options.ts';
import { buildViewsSql, splitStatements } from './views.ts';
import { absoluteViewSql, escapeGlob } from './confine.ts';
import { checkPartsListed } from '../store/manifest.ts';
import { parquetReadError } from '../store/duckdbErrors.ts';

export interface AnalysisHandle {
  connection: DuckDBConnection;
  options: AnalyzeOptions;
  hasFailMask: boolean;
  /** Absolute RESULTS folder. */
  dir: string;
  /** The SQL that defined the views. */
  viewsSql: string;
  close(): void;
}

/** The run.json (or the first run.shard-*.json) of a results folder, if any. */
export function readRunJson(dir: string): Record<string, unknown> | undefined {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => /^run(\.shard-\d+-of-\d+)?\.json$/.test(n)).sort() : [];
  if (names.length === 0) return undefined;
  const file = join(dir, names[0]!);
  let run: unknown;
  try {
    run = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BlindspotError('E_CORRUPT', `not valid JSON (${(e as Error).message.split('\n')[0]})`, file);
  }
  // Structure before use: a run.json of the wrong shape was analysed with defaults.
  const isObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(run)) throw new BlindspotError('E_CORRUPT', 'not a run file: expected a JSON object', file);
  const r = run as Record<string, unknown>;
  if (r.diagnose !== undefined && !isObject(r.diagnose)) throw new BlindspotError('E_CORRUPT', 'field "diagnose": expected an object', file);
  if (r.models !== undefined && !Array.isArray(r.models)) throw new BlindspotError('E_CORRUPT', 'field "models": expected an array', file);
  return r;
}

/** The run's resolved block-engine options (defaults where run.json is missing or silent). */
export function runDiagnoseOptions(run: Record<string, unknown> | undefined): ResolvedDiagnoseOptions {
  const d = { ...((run?.diagnose ?? {}) as Record<string, unknown>) };
  // run.json records the resolved object; keep only the option keys (dataRange is per image, from images/).
  const known = Object.keys(DEFAULT_DIAGNOSE_OPTIONS);
  for (const k of Object.keys(d)) if (!known.includes(k)) delete d[k];
  d.dataRange = null;
  try {
    return resolveDiagnoseOptions(d as Partial<DiagnoseOptions>);
  } catch (e) {
    if (e instanceof BlindspotError) throw new BlindspotError('E_CORRUPT', `run.json: diagnose options: ${e.message}`);
    throw e;
  }
}

/** Analysis defaults from the run's block options (hiddenR, hiddenDmu, K1, K2, the degenerate-T fallback). */
export function runDefaults(run: Record<string, unknown> | undefined): Partial<AnalyzeOptions> {
  const d = (run?.diagnose ?? {}) as Record<string, unknown>;
  const out: Partial<AnalyzeOptions> = {};
  if (typeof d.hiddenR === 'number') out.hiddenR = d.hiddenR;
  if (typeof d.hiddenDmu === 'number') out.hiddenDmu = d.hiddenDmu;
  if (typeof d.K2 === 'number') out.K2 = d.K2;
  if (typeof d.K1 === 'number') out.K1 = d.K1;
  if (typeof d.fallbackThreshold === 'number') out.fallbackThreshold = d.fallbackThreshold;
  if (typeof d.minRoiBlocks === 'number') out.minRoiBlocks = d.minRoiBlocks;
  return out;
}

/**
 * Open `dir` with the views of {@link buildViewsSql}.
 * @param dir A RESULTS folder (blocks/ and images/ partitions).
 * @param options Analysis options (defaults from the run's block options).
 * @param materializedThresholds Read T10/T90 from analysis/thresholds.parquet. Default: when that file exists.
 * @param threads DuckDB threads (default: DuckDB's, all cores).
 * @throws BlindspotError E_NOT_FOUND when `dir` has no block files.
 */
export async function openAnalysis(
  dir: string,
  options: Partial<AnalyzeOptions> = {},
  materializedThresholds?: boolean,
  threads?: number,
): Promise<AnalysisHandle> {
  const abs = resolve(dir);
  if (!existsSync(join(abs, 'blocks')) || !existsSync(join(abs, 'images'))) {
    throw new BlindspotError('E_NOT_FOUND', 'no blocks/ and images/ partitions (not a blindspot run folder?)', dir);
  }
  await checkPartsListed(abs); // read exactly the parts the manifests list, never through a link
  const o = resolveAnalyzeOptions(options, runDefaults(readRunJson(abs)));
  const instance = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
  const connection = await instance.connect();
  try {
    await connection.run(`SET file_search_path = ${sqlString(abs)}`);
    const cols = (await connection.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(escapeGlob(abs + sep) + 'blocks/*/*/*.parquet')}, hive_partitioning = true) LIMIT 0)`)).getRows().map((r) => String(r[0]));
    const hasFailMask = cols.includes('fail_mask');
    const imageColumns = (await connection.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(escapeGlob(abs + sep) + 'images/*/*/*.parquet')}, hive_partitioning = true) LIMIT 0)`)).getRows().map((r) => String(r[0]));
    const mat = materializedThresholds ?? existsSync(join(abs, 'analysis', 'thresholds.parquet'));
    const derive = runDiagnoseOptions(readRunJson(abs));
    const viewsSql = buildViewsSql(o, { storedColumns: cols, imageColumns, derive, hasFailMask, materializedThresholds: mat });
    for (const stmt of splitStatements(viewsSql)) await connection.run(absoluteViewSql(stmt, abs));
    return { connection, options: o, hasFailMask, dir: abs, viewsSql, close: () => connection.closeSync() };
  } catch (e) {
    connection.closeSync();
    if (e instanceof BlindspotError) throw e;
    const msg = (e as Error).message.split('\n')[0]!;
    if (/No files found/i.test(msg)) throw new BlindspotError('E_NOT_FOUND', 'no block Parquet files under blocks/', dir);
    throw parquetReadError(e, dir);
  }
}

/** Rows of a query as plain objects; BIGINT -> number, DECIMAL/others -> JS values. */
export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql);
  const names = reader.columnNames();
  return reader.getRows().map((row) => {
    const o: Record<string, unknown> = {};
    row.forEach((v, i) => {
      o[names[i]!] = typeof v === 'bigint' ? Number(v) : v;
    });
    return o;
  });
}
