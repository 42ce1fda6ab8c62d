/**
 * A read-only DuckDB session confined to one RESULTS folder, for `blindspot sql` (docs/dataset-runs.md#sql):
 * file access only under RESULTS (and a private spill folder), no network, no extension installs, settings locked,
 * and only single SELECT statements (COPY, ATTACH, INSTALL, SET, CREATE... are refused before they run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { StatementType, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { BlindspotError } from '../errors.ts';
import { sqlString } from '../store/blockTable.ts';

/** Escape DuckDB glob characters in a literal path (`*`, `?`, `[` become one-character classes). */
export function escapeGlob(path: string): string {
  return path.replace(/[*?[]/g, (c) => `[${c}]`);
}

/**
 * The analysis views' file patterns are relative to RESULTS (so views.sql stays portable); for a session, make them
 * absolute, with the folder's own glob characters escaped (a `*` in the folder name read sibling folders) and no
 * need for file_search_path (comma-separated: a comma in the folder name broke it).
 */
export function absoluteViewSql(stmt: string, dir: string): string {
  return stmt.replace(/read_parquet\('((?:images|blocks|analysis)\/[^']*)'/g, (_m, rel: string) => `read_parquet(${sqlString(escapeGlob(dir + sep) + rel)}`);
}

export interface ConfinedSession {
  /** Run one SELECT; anything else is refused with E_USAGE before it runs. */
  query(sql: string): Promise<DuckDBResultReader>;
  /** Remove the private spill folder. */
  dispose(): void;
}

/**
 * Lock `connection` (whose analysis views `viewsSql` were defined over `dir`) down to reading `dir`.
 * DuckDB settings used: allowed_directories, enable_external_access = false, autoinstall_known_extensions = false,
 * lock_configuration = true (none can be changed back by a query).
 * @param connection An open connection with the analysis views (openAnalysis; their file paths are absolute).
 * @param dir Absolute RESULTS folder.
 */
export async function confineToResults(connection: DuckDBConnection, dir: string): Promise<ConfinedSession> {
  const spill = mkdtempSync(join(tmpdir(), 'blindspot-sql-'));
  const allowed = [...new Set([dir + sep, escapeGlob(dir) + sep, spill + sep])];
  await connection.run(`SET file_search_path = ''`);
  await connection.run(`SET temp_directory = ${sqlString(spill)}`);
  await connection.run('SET autoinstall_known_extensions = false');
  await connection.run(`SET allowed_directories = [${allowed.map(sqlString).join(', ')}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
  return {
    async query(sql: string) {
      let statements;
      try {
        statements = await connection.extractStatements(sql);
      } catch (e) {
        throw new BlindspotError('E_USAGE', `SQL error: ${(e as Error).message.split('\n')[0]}`);
      }
      if (statements.count !== 1) {
        throw new BlindspotError('E_USAGE', `one SELECT statement expected, got ${statements.count} statements (run with --unconfined for full DuckDB)`);
      }
      let prepared;
      try {
        prepared = await statements.prepare(0);
      } catch (e) {
        throw new BlindspotError('E_USAGE', `SQL error: ${(e as Error).message.split('\n')[0]}`);
      }
      if (prepared.statementType !== StatementType.SELECT) {
        throw new BlindspotError('E_USAGE', `only SELECT queries are allowed, got ${StatementType[prepared.statementType]} (run with --unconfined for full DuckDB: writes, ATTACH, any file)`);
      }
      try {
        return await prepared.runAndReadAll();
      } catch (e) {
        throw new BlindspotError('E_USAGE', `SQL error: ${(e as Error).message.split('\n')[0]}`);
      }
    },
    dispose() {
      rmSync(spill, { recursive: true, force: true });
    },
  };
}
