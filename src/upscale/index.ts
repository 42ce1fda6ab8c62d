/**
 * Upscalers: real ESRGAN networks (TensorFlow.js, loaded lazily) and classical MATLAB-style resamplers, plain or
 * with the x8 dihedral self-ensemble, and the GT -> bicubic 1/scale -> model -> GT-size degradation pipeline.
 * This module is light: TensorFlow.js loads only when a network model is first used.
 */
export {
  UPSCALE_MODEL_NAMES,
  UPSCALE_MODELS,
  isUpscaleModelName,
  byoModel,
  modelLabel,
  realEsrganDir,
  REALESRGAN_DIR_ENV,
} from './models.ts';
export type { UpscaleModelName, UpscaleModelInfo, ByoModelSpec } from './models.ts';
export { loadNcnn, parseNcnnParam, findNcnnFiles, NCNN_LAYER_TYPES } from './ncnn.ts';
export type { NcnnNet, NcnnLayer } from './ncnn.ts';
export { ncnnToOnnx } from './ncnnToOnnx.ts';
export { writeOnnxModel } from './onnxWriter.ts';
export type { OnnxGraph, OnnxNode, OnnxTensor, OnnxAttribute, OnnxValueInfo } from './onnxWriter.ts';
export { cachedNcnnOnnx, defaultCacheDir, loadOnnxNetwork, CACHE_DIR_ENV } from './onnxBackend.ts';
export type { SrNetwork, OnnxInputConvention, CachedOnnx } from './onnxBackend.ts';
export {
  DEFAULT_UPSCALE_OPTIONS,
  resolveUpscaleOptions,
  upscaleImage,
  upscaleFromGt,
  selfEnsemble,
  isNetworkModel,
} from './upscale.ts';
export type { UpscaleOptions, UpscaleFromGtResult, UpscaleBackend } from './upscale.ts';
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
  DEMO_REAL_ESRGAN,
  demoModels,
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
