/** The block engine (DESIGN §3b): Tier 1-3 diagnostics of an image pair. Pure; no I/O. */
export { diagnose } from './diagnose.ts';
export type { DiagnoseBuffers, DiagnoseResult, DiagnoseSummary, Tier1Summary } from './diagnose.ts';
export { diagnoseBlocks, blockGrid, createDiagnoseScratch } from './blocks.ts';
export type { BlockGrid, DiagnoseScratch } from './blocks.ts';
export { DEFAULT_DIAGNOSE_OPTIONS, resolveDiagnoseOptions, ssimConstants } from './options.ts';
export type { DiagnoseOptions, DiagnoseColor, ResolvedDiagnoseOptions } from './options.ts';
export { BLOCK_COLUMNS, allocateBlockColumns, columnsOfSet, storedColumnsOfSet } from './columns.ts';
export type { BlockColumns, BlockColumnSpec, ColumnSet, ColumnArray, ColumnStorage } from './columns.ts';
export { summarizeBlocks, AXIS_NAMES } from './summary.ts';
export type { BlockFieldSummary, BlockGroupSummary } from './summary.ts';
export {
  REGIMES,
  LAYERS,
  quantile,
  quantileSorted,
  pairThresholds,
  regimeOf,
  regimeLabels,
  layerOf,
  damageOf,
  axisExceedance,
  dominantFailingAxis,
} from './regimes.ts';
export type { Regime, Layer, PairThresholds } from './regimes.ts';
