/**
 * blindspot — the public, typed library API. It mirrors the CLI: every command is a function here.
 * Heavy parts (TensorFlow.js, DuckDB, the viewer) are reached through their own modules and load lazily.
 */
export { BlindspotError, isBlindspotError } from './errors.ts';
export type { ErrorCode } from './errors.ts';

// image input
export * from './image/index.ts';
// volumes: DICOM series, multi-frame DICOM, NIfTI stacks; per-slice, per-volume and 3-D SSIM
export * from './volume/index.ts';

// SSIM core (DESIGN §3): ssim, msssim, psnr and the pure plane kernels
export {
  ssim,
  msssim,
  psnr,
  mse,
  resolveSsimOptions,
  DEFAULT_SSIM_OPTIONS,
  SSIM_MODES,
  resolveDataRange,
  ssimMap,
  windowMoments,
  lcsMaps,
  msssimPlanes,
  tier1Scalars,
  MSSSIM_WEIGHTS,
  boxDownsample,
  gaussianTaps,
  uniformTaps,
} from './ssim/index.ts';
export type {
  SsimOptions,
  SsimMode,
  SsimResult,
  SsimChannelResult,
  Tier1Scalars,
  SsimConstants,
  SsimMapResult,
  WindowMoments,
  LcsMaps,
  DataRangeResult,
} from './ssim/index.ts';
// Two folders, pyiqa-style: every pair by file stem, mean with a Student-t interval (docs/ssim.md)
export { ssimFolders, folderRowsCsv, writeFolderRowsParquet, FOLDER_COLUMNS } from './ssim/folder.ts';
export type { FolderSsimRow, FolderSsimSummary, FolderSsimResult } from './ssim/folder.ts';
export { meanInterval, tQuantile } from './stats/interval.ts';
export type { MeanInterval } from './stats/interval.ts';
export { toGreyPlanes, shave, COLOR_POLICIES, RGB2GRAY_WEIGHTS, YCBCR_Y_WEIGHTS } from './image/color.ts';
export type { ColorPolicy, GreyPlanes } from './image/color.ts';

// upscalers (issue 4): ESRGAN networks (TensorFlow.js loads lazily, on first network use), MATLAB bicubic/Lanczos-3,
// x8 dihedral TTA, tiling, and the GT -> bicubic 1/scale -> model -> GT-size pipeline
export {
  UPSCALE_MODEL_NAMES,
  UPSCALE_MODELS,
  DEFAULT_UPSCALE_OPTIONS,
  resolveUpscaleOptions,
  upscaleImage,
  upscaleFromGt,
  DEFAULT_UPSCALE_FOLDER_OPTIONS,
  resolveUpscaleFolderOptions,
  upscaleFolder,
  upscaleOutputName,
  imresize,
  imresizeBicubic,
  runPipeline,
  resolvePipelineOptions,
  DEFAULT_PIPELINE_OPTIONS,
  DEMO_PIPELINE_OPTIONS,
  demoGtDir,
  // issue 14: Real-ESRGAN / your own models on ONNX Runtime (onnxruntime-node loads on first use)
  realEsrganDir,
  modelLabel,
  loadNcnn,
  ncnnToOnnx,
  writeOnnxModel,
  cachedNcnnOnnx,
  defaultCacheDir,
} from './upscale/index.ts';
export type {
  UpscaleModelName,
  UpscaleModelInfo,
  UpscaleBackend,
  ByoModelSpec,
  OnnxGraph,
  UpscaleOptions,
  UpscaleFromGtResult,
  UpscaleFolderOptions,
  UpscaleFolderProgress,
  UpscaleFolderResult,
  UpscaleFailure,
  ImresizeOptions,
  ResizeTarget,
  PipelineOptions,
  PipelinePath,
  PipelineProgress,
  PipelineResult,
} from './upscale/index.ts';

// Anomaly Score (ks2d and stats are pure; the TF.js parts load on first call)
export { ks2d, ks2dPermutation } from './anomaly/ks2d.ts';
export type { Ks2dResult, Ks2dPermutationResult } from './anomaly/ks2d.ts';
export { asFromPoints } from './anomaly/asStat.ts';
export type { AsResult } from './anomaly/asStat.ts';
export { parseSafetensors } from './anomaly/safetensors.ts';
export { frechetDistance, spearman } from './anomaly/stats.ts';
export { anomalyScore, anomalyScoreI, createAnomalySession } from './anomaly/lazy.ts';
export { DEFAULT_ANOMALY_OPTIONS, resolveAnomalyOptions } from './anomaly/options.ts';
export type { AnomalyOptions } from './anomaly/options.ts';
export type { AnomalyProgress, AnomalyScoreIResult, AnomalyScoreResult, AnomalySession, ExtractorInfo, ImageScore, SetScores } from './anomaly/score.ts';

// DeepSSIM memorization detection (issue 7). The module graph is light: TensorFlow.js loads inside
// trainMemorizationModel / scanMemorization / runMemorizationBenchmark only.
export {
  trainMemorizationModel,
  scanMemorization,
  writeScanOutputs,
  trainDeepSsim,
  resolveTrainOptions,
  DEFAULT_TRAIN_OPTIONS,
  resolveScanOptions,
  DEFAULT_SCAN_OPTIONS,
  readModelCard,
  loadDeepSsimModel,
  ssimTarget,
  classificationReport,
  labelFor as memorizationLabel,
  DEFAULT_LABEL_THRESHOLDS,
  MEMORIZATION_LABELS,
} from './memorization/index.ts';
export type {
  TrainOptions as MemorizationTrainOptions,
  TrainProgress as MemorizationTrainProgress,
  ScanOptions as MemorizationScanOptions,
  ScanResult as MemorizationScanResult,
  ScanMatch as MemorizationScanMatch,
  ModelCard as MemorizationModelCard,
  MemorizationLabel,
  ClassReport,
} from './memorization/index.ts';
export { runMemorizationBenchmark, benchmarkMarkdown as memorizationBenchmarkMarkdown, resolveBenchmarkOptions as resolveMemorizationBenchmarkOptions, DEFAULT_BENCHMARK_OPTIONS as DEFAULT_MEMORIZATION_BENCHMARK_OPTIONS } from './memorization/benchmark.ts';
export type { BenchmarkOptions as MemorizationBenchmarkOptions, BenchmarkResult as MemorizationBenchmarkResult } from './memorization/benchmark.ts';
export { SHIPPED_MODEL_DIR as SHIPPED_DEEPSSIM_MODEL_DIR } from './memorization/store.ts';

export { blindSpotMap } from './tier3/blindSpotMap.ts';
export type { BlindSpotMapOptions } from './tier3/blindSpotMap.ts';
// Block engine (DESIGN §3b, §3c): Tier 1-3 diagnostics of one pair, region of interest, display scale, floors; pure, no I/O
export {
  diagnose,
  diagnoseBlocks,
  blockGrid,
  createDiagnoseScratch,
  blockKernelFor,
  BLOCK_KERNEL_ENV,
  DEFAULT_DIAGNOSE_OPTIONS,
  resolveDiagnoseOptions,
  BLOCK_COLUMNS,
  allocateBlockColumns,
  columnsOfSet,
  storedColumnsOfSet,
  summarizeDefinition,
  PUBLISHED_DEFINITION,
  autoRoiMask,
  userRoiMask,
  blockRoi,
  DEFAULT_AUTO_ROI_OPTIONS,
  voiWindow,
  displayWindowOf,
  immerkaerNoiseSd,
  damageFloors,
  seMax,
  dmuMax,
  gtReference,
  blindSpotFields,
  summarizeBlindSpot,
  AXIS_NAMES,
  REGIMES,
  LAYERS,
  regimeOf,
  regimeLabels,
  layerOf,
  damageOf,
  pairThresholds,
  dominantFailingAxis,
} from './tier3/index.ts';
export type {
  DiagnoseOptions,
  ResolvedDiagnoseOptions,
  DiagnoseResult,
  DiagnoseBuffers,
  DiagnoseSummary,
  Tier1Summary,
  BlockGrid,
  DiagnoseScratch,
  BlockKernelBackend,
  BlockColumns,
  BlockColumnSpec,
  BlockFieldSummary,
  BlockGroupSummary,
  DefinitionSummary,
  AutoRoiOptions,
  RoiMask,
  DisplayWindow,
  DamageFloors,
  GtReference,
  BlindSpotSummary,
  PairThresholds,
  Regime,
  Layer,
} from './tier3/index.ts';

// viewer (issue 5): fastify + DuckDB load only when startViewer is called
export type { ViewerOptions } from './viewer/options.ts';
export type { ViewerHandle } from './viewer/server.ts';
/**
 * Start the local viewer over a RESULTS folder (lazy wrapper of src/viewer/server.ts; see docs/viewer.md).
 * @param resultsDir folder written by `blindspot run`
 * @param options port (default 0 = free), host (default 127.0.0.1), maxCells (100000), sampleSize (24)
 * @throws BlindspotError E_NOT_FOUND when the folder holds no block table
 */
export async function startViewer(
  resultsDir: string,
  options?: Partial<import('./viewer/options.ts').ViewerOptions>,
): Promise<import('./viewer/server.ts').ViewerHandle> {
  const { startViewer: start } = await import('./viewer/server.ts');
  return start(resultsDir, options);
}

// dataset runs, store, analysis (DuckDB is loaded lazily, on first call)
export * from './dataset/index.ts';

// the published engine's metric battery and 26-pattern screen (issue 20; docs/metrics.md)
export * from './battery/index.ts';
export {
  DEFAULT_PATTERN_OPTIONS,
  buildPatternViewsSql,
  chiSquare1PValue,
  correlationPValue,
  patternRules,
  resolvePatternOptions,
  type PatternOptions,
  type PatternRule,
} from './analysis/patterns.ts';
