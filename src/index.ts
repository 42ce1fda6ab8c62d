/**
 * blindspot — the public, typed library API. It mirrors the CLI: every command is a function here.
 * Heavy parts (TensorFlow.js, DuckDB, the viewer) are reached through their own modules and load lazily.
 */
export { BlindspotError, isBlindspotError } from './errors.ts';
export type { ErrorCode } from './errors.ts';

// image input
export * from './image/index.ts';

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
  SsimConstants,
  SsimMapResult,
  WindowMoments,
  LcsMaps,
  DataRangeResult,
} from './ssim/index.ts';
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
} from './upscale/index.ts';
export type {
  UpscaleModelName,
  UpscaleModelInfo,
  UpscaleOptions,
  UpscaleFromGtResult,
  UpscaleFolderOptions,
  UpscaleFolderProgress,
  UpscaleFolderResult,
  UpscaleFailure,
  ImresizeOptions,
  ResizeTarget,
} from './upscale/index.ts';
