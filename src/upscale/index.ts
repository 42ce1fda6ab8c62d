/**
 * Upscalers: real ESRGAN networks (TensorFlow.js, loaded lazily) and classical MATLAB-style resamplers, plain or
 * with the x8 dihedral self-ensemble, and the GT -> bicubic 1/scale -> model -> GT-size degradation pipeline.
 * This module is light: TensorFlow.js loads only when a network model is first used.
 */
export { UPSCALE_MODEL_NAMES, UPSCALE_MODELS, isUpscaleModelName } from './models.ts';
export type { UpscaleModelName, UpscaleModelInfo } from './models.ts';
export {
  DEFAULT_UPSCALE_OPTIONS,
  resolveUpscaleOptions,
  upscaleImage,
  upscaleFromGt,
  selfEnsemble,
} from './upscale.ts';
export type { UpscaleOptions, UpscaleFromGtResult } from './upscale.ts';
export {
  DEFAULT_UPSCALE_FOLDER_OPTIONS,
  resolveUpscaleFolderOptions,
  upscaleFolder,
  upscaleOutputName,
  UPSCALE_ERRORS_FILE,
  UPSCALE_RECORD_FILE,
} from './folder.ts';
export type {
  UpscaleFolderOptions,
  UpscaleFolderProgress,
  UpscaleFolderResult,
  UpscaleFailure,
} from './folder.ts';
export { imresize, imresizeBicubic, resizeTable, cubicKernel, lanczos3Kernel } from './imresize.ts';
export type { ImresizeOptions, ResizeTarget, ResizeEdge, ResizeMethod, ResizeTable } from './imresize.ts';
export { dihedral, dihedralInverse, inverseDihedralIndex, DIHEDRAL_COUNT } from './dihedral.ts';
export { runTiled } from './tile.ts';
export { encodePng } from './png.ts';
export {
  DEFAULT_PIPELINE_OPTIONS,
  DEMO_PIPELINE_OPTIONS,
  demoGtDir,
  resolvePipelineOptions,
  runPipeline,
  pipelineOutputDir,
} from './pipeline.ts';
export type {
  PipelineOptions,
  PipelinePath,
  PipelineProgress,
  PipelineResult,
  PipelineUpscaleStep,
} from './pipeline.ts';
