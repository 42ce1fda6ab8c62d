/**
 * DuckDB errors that mean "a Parquet file of the results folder is damaged" turned into one E_CORRUPT line naming
 * the file (they used to reach the CLI as a stack trace with DuckDB's multi-line SQL excerpt).
 */
import { BlindspotError } from '../errors.ts';

const PARQUET_DAMAGE = /too small to be a Parquet file|No magic bytes found|Corrupt|corrupt|Invalid Input Error:.*[Pp]arquet|Invalid Error:.*[Pp]arquet|IO Error:.*\.parquet/;

/**
 * `e` as a BlindspotError E_CORRUPT when it is DuckDB failing to read a Parquet file, else `e` unchanged.
 * @param e What DuckDB threw.
 * @param dir The results folder (named when the message names no file).
 */
export function parquetReadError(e: unknown, dir: string): unknown {
  if (e instanceof BlindspotError || !(e instanceof Error)) return e;
  const first = e.message.split('\n')[0]!;
  if (!PARQUET_DAMAGE.test(first)) return e;
  const file = /[Ff]ile ['"]([^'"]+)['"]/.exec(first)?.[1];
  return new BlindspotError('E_CORRUPT', `not a readable Parquet file (${first.replace(/^[A-Za-z ]+Error: /, '')}); run blindspot verify`, file ?? dir);
}
