/** Volumes: DICOM series, multi-frame DICOM, NIfTI-1/2 stacks, and their SSIM (per slice, per volume, 3-D). */
export {
  readVolume,
  volumeSlice,
  stackImages,
  resolveReadVolumeOptions,
  DEFAULT_READ_VOLUME_OPTIONS,
} from './read.ts';
export type { Volume, VolumeSliceInfo, ReadVolumeOptions } from './read.ts';
export { volumeSsim, resolveVolumeSsimOptions, DEFAULT_VOLUME_SSIM_OPTIONS } from './ssim.ts';
export type { VolumeSsimOptions, VolumeSsimResult, SliceSsim } from './ssim.ts';
