/**
 * `blindSpotMap(gt)`: where SSIM is blind for this GT's data range, before any model is run (DESIGN §3c). The GT
 * is diagnosed against itself at a fixed threshold T, which gives its blocks, ROI, display window and floors; the
 * map is se_max(T) per block in display grey levels (src/tier3/reference.ts), the summary says how many ROI blocks
 * would hide a texture error at the damage floor.
 */
import type { Image } from '../image/types.ts';
import { diagnose, type DiagnoseResult } from './diagnose.ts';
import type { DiagnoseOptions } from './options.ts';
import { invalidOption } from '../errors.ts';

export interface BlindSpotMapOptions extends Partial<DiagnoseOptions> {
  /** The SSIM threshold T whose blind spot is mapped. Default 0.99 (the fallback T of DESIGN §3c). */
  threshold?: number;
}

/**
 * Diagnose `gt` against itself at threshold T: `summary.blindSpot` is the blind-spot summary, `seMaxField(result)`
 * and `renderReferencePngs` draw the map.
 * @throws BlindspotError E_INVALID_OPTION for T outside (0, 1); the errors of `diagnose`.
 * @example const r = blindSpotMap(await readImage('MR2_UNCI.dcm')); console.log(r.summary.blindSpot.sentence);
 */
export function blindSpotMap(gt: Image, options: BlindSpotMapOptions = {}): DiagnoseResult {
  const { threshold = 0.99, ...rest } = options;
  if (!(typeof threshold === 'number' && threshold > 0 && threshold < 1)) throw invalidOption('threshold', 'a number in (0, 1) (default 0.99)', threshold);
  return diagnose(gt, gt, { ...rest, hiddenThreshold: threshold });
}
