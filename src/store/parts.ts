/**
 * Part files of a dataset run: block parts assembled by DuckDB from per-pair staging files, and the per-image table
 * (images.parquet and its partitions). Single-threaded DuckDB with insertion order preserved: the bytes depend only
 * on the inputs and their order.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { BlockTableBuilder, PARQUET_COPY_OPTIONS, sqlIdent, sqlString, storeInstance } from './blockTable.ts';
import { readStaging } from './staging.ts';
import { storedColumnsOfSet, type ColumnSet } from '../tier3/columns.ts';
import { writeAtomically } from './atomic.ts';
import { RUN_BATTERY_COLUMNS } from '../battery/run.ts';

/** Column types of the per-image table (images.parquet); model/path are left out of the Hive part files. */
export const IMAGE_COLUMNS: readonly { name: string; type: 'VARCHAR' | 'INTEGER' | 'DOUBLE' }[] = Object.freeze([
  { name: 'image', type: 'VARCHAR' },
  { name: 'model', type: 'VARCHAR' },
  { name: 'path', type: 'VARCHAR' },
  { name: 'gt_file', type: 'VARCHAR' },
  { name: 'test_file', type: 'VARCHAR' },
  { name: 'width', type: 'INTEGER' },
  { name: 'height', type: 'INTEGER' },
  { name: 'data_range', type: 'DOUBLE' },
  { name: 'blocks', type: 'INTEGER' },
  { name: 'ssim', type: 'DOUBLE' },
  { name: 'msssim', type: 'DOUBLE' },
  { name: 'psnr', type: 'DOUBLE' },
  { name: 'blk_mean', type: 'DOUBLE' },
  { name: 'blk_std', type: 'DOUBLE' },
  { name: 'blk_min', type: 'DOUBLE' },
  { name: 'blk_min_row', type: 'INTEGER' },
  { name: 'blk_min_col', type: 'INTEGER' },
  { name: 'blk_min_ring', type: 'INTEGER' },
  { name: 'blk_mean_nb', type: 'DOUBLE' },
  { name: 'blk_std_nb', type: 'DOUBLE' },
  { name: 'blk_min_nb', type: 'DOUBLE' },
  { name: 'blk_p10_nb', type: 'DOUBLE' },
  { name: 'blk_p90_nb', type: 'DOUBLE' },
  // DESIGN §3c: the display scale, floors and region of interest the GT set for the pair (src/dataset/pair.ts)
  { name: 'display_lo', type: 'DOUBLE' },
  { name: 'display_hi', type: 'DOUBLE' },
  { name: 'display_width', type: 'DOUBLE' },
  { name: 'display_source', type: 'VARCHAR' },
  { name: 'noise_sd', type: 'DOUBLE' },
  { name: 'floor_ac', type: 'DOUBLE' },
  { name: 'visible_ac', type: 'DOUBLE' },
  { name: 'floor_dc', type: 'DOUBLE' },
  { name: 'roi_source', type: 'VARCHAR' },
  { name: 'mask_file', type: 'VARCHAR' },
  { name: 'roi_blocks', type: 'INTEGER' },
  { name: 'occupied_lo', type: 'DOUBLE' },
  { name: 'occupied_hi', type: 'DOUBLE' },
  { name: 'occupied_share', type: 'DOUBLE' },
  { name: 't90_pair', type: 'DOUBLE' },
  { name: 't90_pair_source', type: 'VARCHAR' },
  { name: 'se_max_median', type: 'DOUBLE' },
  { name: 'warnings', type: 'VARCHAR' },
  // The published engine's metric battery (issue 20, docs/metrics.md); NULL when the run has it off.
  ...RUN_BATTERY_COLUMNS,
]);

async function withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await (await storeInstance()).connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
  }
}

/**
 * Build one block part from per-pair staging files (staging.ts), in the given order: one Parquet encoding,
 * single-threaded DuckDB, written atomically. Holds one part's rows in memory.
 * @param entries Staging file and image key of each pair, in image order.
 * @param columnSet The column set the staging files were written with.
 * @param outFile Part file path.
 */
export async function assembleBlockPartFromStaging(entries: readonly { file: string; image: string }[], columnSet: ColumnSet, outFile: string): Promise<void> {
  const builder = await BlockTableBuilder.create(storedColumnsOfSet(columnSet), ['image']);
  try {
    for (const e of entries) {
      const { arrays, blockCount } = await readStaging(e.file, columnSet);
      await builder.appendStorage(arrays, blockCount, [e.image]);
    }
    await builder.writeParquet(outFile);
  } finally {
    builder.close();
  }
}

function sqlLiteral(v: unknown, type: 'VARCHAR' | 'INTEGER' | 'DOUBLE'): string {
  if (v === null || v === undefined) return `NULL::${type}`;
  if (type === 'VARCHAR') return sqlString(String(v));
  const n = Number(v);
  if (!Number.isFinite(n)) return `NULL::${type}`;
  // Shortest round-trip spelling; DOUBLE literals are parsed exactly by DuckDB.
  return type === 'INTEGER' ? `${Math.trunc(n)}::INTEGER` : `${String(n)}::DOUBLE`;
}

/**
 * Write per-image rows (objects with the IMAGE_COLUMNS fields) as one Parquet file, atomically, in the given order.
 * @param rows Image rows.
 * @param outFile Path.
 * @param omit Columns to leave out (e.g. ['model', 'path'] in Hive part files).
 */
export async function writeImageRows(rows: readonly Record<string, unknown>[], outFile: string, omit: readonly string[] = []): Promise<void> {
  const cols = IMAGE_COLUMNS.filter((c) => !omit.includes(c.name));
  const table = `images_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  await withConnection(async (c) => {
    await c.run(`CREATE TEMP TABLE ${table} (${cols.map((col) => `${sqlIdent(col.name)} ${col.type}`).join(', ')})`);
    const BATCH = 500;
    for (let i = 0; i < rows.length; i += BATCH) {
      const values = rows
        .slice(i, i + BATCH)
        .map((r) => `(${cols.map((col) => sqlLiteral(r[col.name], col.type)).join(', ')})`)
        .join(', ');
      await c.run(`INSERT INTO ${table} VALUES ${values}`);
    }
    await writeAtomically(outFile, async (tmp) => {
      await c.run(`COPY ${table} TO ${sqlString(tmp)} (${PARQUET_COPY_OPTIONS})`);
    });
    await c.run(`DROP TABLE ${table}`);
  });
}
