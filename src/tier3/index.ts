/** The block engine (DESIGN §3b): Tier 1-3 diagnostics of an image pair. Pure; no I/O. */
export { diagnose } from './diagnose.ts';
export type { DiagnoseBuffers, DiagnoseResult, DiagnoseSummary, Tier1Summary } from './diagnose.ts';
export { diagnoseBlocks, blockGrid, createDiagnoseScratch, blockKernelFor, BLOCK_KERNEL_ENV } from './blocks.ts';
export type { BlockGrid, DiagnoseScratch, BlockKernelBackend } from './blocks.ts';
export { DEFAULT_DIAGNOSE_OPTIONS, PUBLISHED_DEFINITION, resolveDiagnoseOptions, ssimConstants, recordableDiagnoseOptions } from './options.ts';
export type { DiagnoseOptions, DiagnoseColor, ResolvedDiagnoseOptions } from './options.ts';
export { BLOCK_COLUMNS, allocateBlockColumns, columnsOfSet, storedColumnsOfSet } from './columns.ts';
export type { BlockColumns, BlockColumnSpec, ColumnSet, ColumnArray, ColumnStorage } from './columns.ts';
export { summarizeDefinition, AXIS_NAMES } from './summary.ts';
export type { BlockFieldSummary, BlockGroupSummary, DefinitionSummary, DefinitionSpec } from './summary.ts';
export { autoRoiMask, blockRoi, userRoiMask, fullRoiMask, DEFAULT_AUTO_ROI_OPTIONS } from './roi.ts';
export type { AutoRoiOptions, RoiMask } from './roi.ts';
export { voiWindow, displayWindowOf, immerkaerNoiseSd, damageFloors, seMax, dmuMax, gtReference, blindSpotFields, summarizeBlindSpot } from './reference.ts';
export type { DisplayWindow, DamageFloors, GtReference, BlindSpotSummary } from './reference.ts';
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
