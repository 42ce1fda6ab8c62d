/**
 * Command-line flags for `readImage` options, shared by every command that reads images (ssim, diagnose...), so
 * `--frame`, `--axis`, `--slice`, `--volume` and `--rescale` mean the same everywhere. No dependency on cli/.
 */
import { stat } from 'node:fs/promises';
import { BlindspotError, invalidOption } from '../errors.ts';
import type { ReadImageOptions } from './read.ts';

/** `node:util` parseArgs option specs for the image flags (spread them into a command's flag table). */
export const READ_IMAGE_FLAGS = {
  frame: { type: 'string' },
  axis: { type: 'string' },
  slice: { type: 'string' },
  volume: { type: 'string' },
  rescale: { type: 'boolean' },
} as const;

/** Help lines for the image flags (append them to a command's help text). */
export const READ_IMAGE_FLAGS_HELP = [
  'Image input (DICOM, NIfTI, multi-page files):',
  '  --frame N      frame of a multi-frame DICOM / page of a TIFF, GIF or WebP (default 0)',
  '  --axis 0|1|2   NIfTI slice axis: 0 = i (sagittal), 1 = j (coronal), 2 = k (axial) (default 2)',
  '  --slice N      NIfTI slice index along the axis (default: the middle slice)',
  '  --volume N     NIfTI 4-D volume index (default 0)',
  '  --rescale      DICOM RescaleSlope/Intercept (e.g. HU) or NIfTI scl_slope/scl_inter instead of stored values',
].join('\n');

/** Flags that turn a command into its volume form (every slice, plus a per-volume summary). */
export const VOLUME_FLAGS = {
  'all-slices': { type: 'boolean' },
  ssim3d: { type: 'boolean' },
} as const;

/** Help lines for the volume flags. */
export const VOLUME_FLAGS_HELP = [
  'Volumes (a DICOM series folder, a multi-frame DICOM, a 3-D/4-D NIfTI):',
  '  --all-slices   score every slice (along --axis, of --volume) and the volume (mean over slices);',
  '                 implied when GT is a folder (a DICOM series, sorted along the slice normal)',
  '  --ssim3d       also 3-D SSIM (window extended across slices; implies --all-slices)',
].join('\n');

/**
 * Whether the command works on volumes: --all-slices or --ssim3d, or a folder given as an image.
 * @throws BlindspotError E_USAGE when --slice or --frame (which pick one 2-D slice) come with volume mode.
 */
export async function volumeMode(values: Record<string, unknown>, paths: string[]): Promise<boolean> {
  let on = values['all-slices'] === true || values['ssim3d'] === true;
  for (const p of paths) {
    if (on) break;
    on = await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }
  if (on && (values['slice'] !== undefined || values['frame'] !== undefined)) {
    throw new BlindspotError(
      'E_USAGE',
      '--slice and --frame pick one 2-D slice; they do not go with a volume (a folder, --all-slices or --ssim3d)',
    );
  }
  return on;
}

function index(
  values: Record<string, unknown>,
  name: string,
  allowed = 'an integer >= 0',
): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidOption(`--${name}`, allowed, v);
  return n;
}

/**
 * Turn parsed flag values into `readImage` options (only the flags given).
 * @param values parseArgs values containing any of READ_IMAGE_FLAGS
 * @throws BlindspotError E_INVALID_OPTION, e.g. `invalid --axis: expected 0, 1 or 2, got "3"`.
 */
export function readImageOptionsFromFlags(values: Record<string, unknown>): Partial<ReadImageOptions> {
  const out: Partial<ReadImageOptions> = {};
  const frame = index(values, 'frame');
  if (frame !== undefined) out.frame = frame;
  const axis = index(values, 'axis', '0, 1 or 2');
  if (axis !== undefined) {
    if (axis !== 0 && axis !== 1 && axis !== 2) throw invalidOption('--axis', '0, 1 or 2', values['axis']);
    out.axis = axis;
  }
  const slice = index(values, 'slice');
  if (slice !== undefined) out.slice = slice;
  const volume = index(values, 'volume');
  if (volume !== undefined) out.volume = volume;
  if (values['rescale'] === true) out.rescale = true;
  return out;
}
