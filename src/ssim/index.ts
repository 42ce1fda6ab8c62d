/** SSIM core (DESIGN §3): pure, synchronous functions on images and on typed-array planes. */
export { ssim, msssim, tier1Scalars } from './ssim.ts';
export type { SsimResult, SsimChannelResult, Tier1Scalars } from './ssim.ts';
export { DEFAULT_SSIM_OPTIONS, SSIM_MODES, resolveSsimOptions } from './options.ts';
export type { SsimOptions, SsimMode } from './options.ts';
export { resolveDataRange } from './dataRange.ts';
export type { DataRangeResult } from './dataRange.ts';
export { ssimMap } from './kernel.ts';
export type { SsimConstants, SsimMapResult, SsimMapOptions, SamplePlane } from './kernel.ts';
export { windowMoments, lcsMaps } from './moments.ts';
export type { WindowMoments, LcsMaps } from './moments.ts';
export { msssimPlanes, MSSSIM_WEIGHTS, MSSSIM_MIN_SIDE } from './msssim.ts';
export type { MsssimPlaneResult } from './msssim.ts';
export { boxDownsample, matlab2009Factor } from './downsample.ts';
export type { Plane } from './downsample.ts';
export { psnr, mse, psnrFromMse } from './psnr.ts';
export { gaussianTaps, uniformTaps } from './window.ts';
export { checkFinite, checkSameSize } from './validate.ts';
