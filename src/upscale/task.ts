/** One unit of upscale work (one GT image -> one output image), shared by the inline path and the worker threads. */
import { rm } from 'node:fs/promises';
import { isBlindspotError } from '../errors.ts';
import { readImage } from '../image/read.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { encodeFloatTiff, encodePng, needsFloatTiff } from './png.ts';
import { upscaleFromGt, type UpscaleOptions } from './upscale.ts';

export interface UpscaleTask {
  gtPath: string;
  /** Output path without its extension: `.png`, or `.tif` when PNG cannot hold the samples (see needsFloatTiff). */
  outBase: string;
  options: UpscaleOptions;
}

/** ok, or the BlindspotError (code and one-line message) that made this image fail. */
export type UpscaleTaskOutcome =
  | { ok: true; ext: 'png' | 'tif'; networkScale?: number }
  | { ok: false; code: string; reason: string };

/**
 * Read the GT, run the degradation pipeline, write the output atomically (PNG, or float TIFF for signed/float data).
 * @throws anything that is not a BlindspotError (a bug); BlindspotErrors come back as `{ ok: false }`.
 */
export async function runUpscaleTask(task: UpscaleTask): Promise<UpscaleTaskOutcome> {
  try {
    const gt = await readImage(task.gtPath);
    const { output } = await upscaleFromGt(gt, task.options);
    const ext = needsFloatTiff(output) ? 'tif' : 'png';
    await writeFileAtomic(`${task.outBase}.${ext}`, ext === 'tif' ? encodeFloatTiff(output) : await encodePng(output));
    // An overwritten output of the other kind would make the pair ambiguous for the run stage.
    await rm(`${task.outBase}.${ext === 'tif' ? 'png' : 'tif'}`, { force: true });
    const networkScale = (output.meta['upscale'] as { networkScale?: number } | undefined)?.networkScale;
    return networkScale ? { ok: true, ext, networkScale } : { ok: true, ext };
  } catch (e) {
    if (!isBlindspotError(e)) throw e;
    return { ok: false, code: e.code, reason: e.message };
  }
}
