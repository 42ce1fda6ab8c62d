/**
 * SSIM over two folders, pyiqa-style: every test file is paired with its GT by the dataset pairing rule
 * (src/dataset/discover.ts: the longest GT stem equal to the test stem or followed in it by _ - . or a space), each
 * pair scored with `ssim` (SSIM, MS-SSIM, PSNR), and the set summarised by the mean with a Student-t 95% interval.
 * Per-pair failures (unreadable file, size mismatch, two test files for one GT) are rows with an error, not a throw.
 */
import { basename, join } from 'node:path';
import { listGtImages, listImageFiles, pairOutputs } from '../dataset/discover.ts';
import { BlindspotError } from '../errors.ts';
import { readImage, type ReadImageOptions } from '../image/read.ts';
import { BATTERY_COLUMNS, metricBattery, type BatteryRecord } from '../battery/battery.ts';
import { meanInterval, type MeanInterval } from '../stats/interval.ts';
import { ssim } from './ssim.ts';
import type { SsimOptions } from './options.ts';

export interface FolderSsimRow {
  /** GT stem (the pairing key). */
  stem: string;
  gt: string;
  /** Test file name, or '' when the GT has no test file. */
  test: string;
  /** null when not computed (error; MS-SSIM also below 176 px a side). */
  ssim: number | null;
  msssim: number | null;
  /** dB; Infinity for identical images (JSON/CSV write null / "inf"). */
  psnr: number | null;
  width: number | null;
  height: number | null;
  /** One-line reason when the pair failed, else null. */
  error: string | null;
  /** The Tier-1 metric battery (docs/metrics.md) when asked for (`battery: true`), else null. */
  battery: BatteryRecord | null;
}

export interface FolderSsimSummary {
  pairs: number;
  scored: number;
  failed: number;
  /** Test files that match no GT, and GT files with no test file. */
  unmatchedTest: string[];
  missingTest: string[];
  ssim: MeanInterval;
  msssim: MeanInterval;
  /** Over finite PSNRs; identical pairs (inf) are counted in psnrInfinite and left out. */
  psnr: MeanInterval;
  psnrInfinite: number;
  /** How the interval is computed. */
  interval: 'student-t';
  /** Mean and interval of every battery column (only with `battery: true`). */
  battery?: Record<string, MeanInterval>;
}

export interface FolderSsimResult {
  rows: FolderSsimRow[];
  summary: FolderSsimSummary;
}

/**
 * Score every GT/test pair of two folders.
 * @param gtDir - folder of ground-truth images (one per stem).
 * @param testDir - folder of test images (e.g. one model's outputs; suffixes such as _x4 or -sr are allowed).
 * @param options - SSIM options (mode, dataRange, color, shave), and `battery: true` for the Tier-1 metric battery
 *   of every pair (docs/metrics.md; default options) in the rows and the summary.
 * @param readOptions - image-reading options (frame, slice, rescale, ...).
 * @param onPair - called after each pair (for progress).
 * @throws BlindspotError E_EMPTY / E_UNREADABLE when a folder is empty or unreadable; E_EMPTY when nothing pairs.
 */
export async function ssimFolders(
  gtDir: string,
  testDir: string,
  options: Partial<SsimOptions> & { battery?: boolean } = {},
  readOptions: Partial<ReadImageOptions> = {},
  onPair?: (done: number, total: number) => void,
): Promise<FolderSsimResult> {
  const { battery = false, ...ssimOptions } = options;
  const gts = await listGtImages(gtDir);
  const tests = await listImageFiles(testDir);
  const pairing = pairOutputs(new Set(gts.map((g) => g.stem)), tests);
  const missing: string[] = [];
  const rows: FolderSsimRow[] = [];
  const todo = gts.filter((g) => pairing.outputs.has(g.stem));
  if (todo.length === 0) {
    throw new BlindspotError('E_EMPTY', `no test file pairs with a GT of ${gtDir} (pairing rule: docs/ssim.md)`, testDir);
  }
  for (const g of gts) if (!pairing.outputs.has(g.stem)) missing.push(g.name);
  for (const g of todo) {
    const names = pairing.outputs.get(g.stem)!;
    const row: FolderSsimRow = { stem: g.stem, gt: g.name, test: names.join(' '), ssim: null, msssim: null, psnr: null, width: null, height: null, error: null, battery: null };
    if (names.length > 1) {
      row.error = `${names.length} test files pair with this GT: ${names.join(', ')}`;
    } else {
      try {
        const [a, b] = await Promise.all([readImage(join(gtDir, g.name), readOptions), readImage(join(testDir, names[0]!), readOptions)]);
        const r = ssim(a, b, ssimOptions);
        Object.assign(row, { ssim: r.mssim, msssim: r.msssim, psnr: r.psnr, width: r.width, height: r.height });
        if (battery) row.battery = metricBattery(a, b);
      } catch (e) {
        if (!(e instanceof BlindspotError)) throw e;
        row.error = e.message.replace(/\n.*/s, '');
      }
    }
    rows.push(row);
    onPair?.(rows.length, todo.length);
  }
  const col = (k: 'ssim' | 'msssim' | 'psnr') => rows.map((r) => (r[k] === null ? NaN : r[k]!));
  const psnr = col('psnr');
  return {
    rows,
    summary: {
      pairs: rows.length,
      scored: rows.filter((r) => r.error === null).length,
      failed: rows.filter((r) => r.error !== null).length,
      unmatchedTest: pairing.unmatched,
      missingTest: missing,
      ssim: meanInterval(col('ssim')),
      msssim: meanInterval(col('msssim')),
      psnr: meanInterval(psnr),
      psnrInfinite: psnr.filter((v) => v === Infinity).length,
      interval: 'student-t',
      ...(battery
        ? { battery: Object.fromEntries(BATTERY_COLUMNS.map((k) => [k, meanInterval(rows.map((r) => r.battery?.[k] ?? NaN))])) }
        : {}),
    },
  };
}

/** The row as a flat record for CSV/JSON/Parquet (Infinity PSNR -> null; `psnr_identical` says why). */
export function folderRowRecord(r: FolderSsimRow): Record<string, string | number | boolean | null> {
  return {
    stem: r.stem,
    gt: r.gt,
    test: r.test,
    ssim: r.ssim,
    msssim: r.msssim,
    psnr: r.psnr !== null && Number.isFinite(r.psnr) ? r.psnr : null,
    psnr_identical: r.psnr === Infinity,
    width: r.width,
    height: r.height,
    error: r.error,
    ...(r.battery ?? {}),
  };
}

/** The columns of the rows: FOLDER_COLUMNS, then the battery's when any row has it. */
function columnsOf(rows: readonly FolderSsimRow[]): string[] {
  return [...FOLDER_COLUMNS, ...(rows.some((r) => r.battery) ? BATTERY_COLUMNS : [])];
}

export const FOLDER_COLUMNS = ['stem', 'gt', 'test', 'ssim', 'msssim', 'psnr', 'psnr_identical', 'width', 'height', 'error'] as const;
const SQL_TYPES: Record<(typeof FOLDER_COLUMNS)[number], string> = {
  stem: 'VARCHAR',
  gt: 'VARCHAR',
  test: 'VARCHAR',
  ssim: 'DOUBLE',
  msssim: 'DOUBLE',
  psnr: 'DOUBLE',
  psnr_identical: 'BOOLEAN',
  width: 'INTEGER',
  height: 'INTEGER',
  error: 'VARCHAR',
};

/** CSV text of the rows (RFC 4180 quoting; empty cell = null). */
export function folderRowsCsv(rows: readonly FolderSsimRow[]): string {
  const cell = (v: unknown): string => {
    const s = v === null ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const cols = columnsOf(rows);
  return [cols.join(','), ...rows.map((r) => cols.map((k) => cell(folderRowRecord(r)[k] ?? null)).join(','))].join('\n') + '\n';
}

/** Write the rows as a Parquet file (DuckDB, zstd), typed as FOLDER_COLUMNS. */
export async function writeFolderRowsParquet(rows: readonly FolderSsimRow[], file: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const lit = (v: unknown): string =>
      v === null ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : typeof v === 'boolean' ? String(v) : Number(v).toPrecision(17);
    const cols = columnsOf(rows);
    const type = (k: string): string => (k in SQL_TYPES ? SQL_TYPES[k as keyof typeof SQL_TYPES] : 'DOUBLE');
    await c.run(`CREATE TABLE t (${cols.map((k) => `"${k}" ${type(k)}`).join(', ')})`);
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500).map((r) => `(${cols.map((k) => lit(folderRowRecord(r)[k] ?? null)).join(', ')})`);
      await c.run(`INSERT INTO t VALUES ${chunk.join(', ')}`);
    }
    await c.run(`COPY t TO '${file.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
  } catch (e) {
    throw new BlindspotError('E_UNREADABLE', `cannot write Parquet (${(e as Error).message.split('\n')[0]})`, basename(file));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
