/**
 * Public API of dataset runs, the store and the analysis. DuckDB is heavy, so the functions that need it are lazy
 * wrappers here (importing this module does not load DuckDB); the light parts are re-exported directly.
 */
import type { RunHooks, RunSummary } from './run.ts';
import type { RunOptions } from './options.ts';
import type { AnalyzeOptions } from '../analysis/options.ts';
import type { AnalyzeResult } from '../analysis/analyze.ts';
import type { BlockTableOptions } from '../store/blockTable.ts';
import type { BlockColumns } from '../tier3/columns.ts';

export type { RunOptions, ModelFolder, ProcessingPath } from './options.ts';
export { DEFAULT_RUN_OPTIONS, resolveRunOptions, readRunFile, parseShard, parseModelFlag } from './options.ts';
export type { RunSummary, RunProgress, RunHooks } from './run.ts';
export { matchGtStem, pairOutputs, listImageFiles, imageStem, IMAGE_EXTENSIONS, STEM_SEPARATORS } from './discover.ts';
export type { ImageRow, PairError } from './pair.ts';
export { verify, verifyPassed, writeManifest, sha256File, parseManifest, MANIFEST_NAME } from '../store/manifest.ts';
export type { VerifyReport } from '../store/manifest.ts';
export type { AnalyzeOptions } from '../analysis/options.ts';
export { DEFAULT_ANALYZE_OPTIONS, resolveAnalyzeOptions } from '../analysis/options.ts';
export type { AnalyzeResult, AnalysisSummary } from '../analysis/analyze.ts';
export type { BlockTableOptions, BlockTableFormat } from '../store/blockTable.ts';
// The SQL of the `blocks` view (stored columns + derived ones) for users who open the Parquet in their own DuckDB.
export { blocksViewSelect } from '../store/blockView.ts';
export type { DerivedColumnParams } from '../store/blockView.ts';

/**
 * Run the block diagnostics over a dataset into a RESULTS folder (blindspot run). See `runDataset` in
 * dataset/run.ts and docs/dataset-runs.md.
 * @param options gt, models, out (required); columns, csv, workers, shard, partSize, diagnose.
 * @param hooks onProgress callback.
 * @throws BlindspotError for bad options or folders; bad pairs are logged in errors.jsonl instead.
 */
export async function runDataset(options: Partial<RunOptions>, hooks?: RunHooks): Promise<RunSummary> {
  return (await import('./run.ts')).runDataset(options, hooks);
}

/**
 * Analyse a RESULTS folder into RESULTS/analysis (blindspot analyze). See analysis/analyze.ts.
 * @throws BlindspotError E_NOT_FOUND for a folder without block files.
 */
export async function analyzeResults(dir: string, options?: Partial<AnalyzeOptions>): Promise<AnalyzeResult> {
  return (await import('../analysis/analyze.ts')).analyze(dir, options);
}

/**
 * Write one block table file (Parquet zstd or CSV), deterministic bytes. See store/blockTable.ts.
 * @throws BlindspotError E_INVALID_OPTION for bad options or missing columns.
 */
export async function writeBlockTable(file: string, columns: BlockColumns, blockCount: number, options?: Partial<BlockTableOptions>): Promise<void> {
  return (await import('../store/blockTable.ts')).writeBlockTable(file, columns, blockCount, options);
}

/**
 * Run one SQL query against the analysis views of a RESULTS folder (blindspot sql); rows as plain objects.
 * @throws BlindspotError E_NOT_FOUND for a folder without block files; DuckDB errors as thrown by DuckDB.
 */
export async function queryResults(dir: string, sql: string, options?: Partial<AnalyzeOptions>): Promise<Record<string, unknown>[]> {
  const { openAnalysis, queryRows } = await import('../analysis/open.ts');
  const h = await openAnalysis(dir, options);
  try {
    return await queryRows(h.connection, sql);
  } finally {
    h.close();
  }
}
