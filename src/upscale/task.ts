/** One unit of upscale work (one GT image -> one output PNG), shared by the inline path and the worker threads. */
import { isBlindspotError } from '../errors.ts';
import { readImage } from '../image/read.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { encodePng } from './png.ts';
import { upscaleFromGt, type UpscaleOptions } from './upscale.ts';

export interface UpscaleTask {
  gtPath: string;
  outPath: string;
  options: UpscaleOptions;
}

/** ok, or the BlindspotError (code and one-line message) that made this image fail. */
export type UpscaleTaskOutcome = { ok: true } | { ok: false; code: string; reason: string };

/**
 * Read the GT, run the degradation pipeline, write the PNG atomically.
 * @throws anything that is not a BlindspotError (a bug); BlindspotErrors come back as `{ ok: false }`.
 */
export async function runUpscaleTask(task: UpscaleTask): Promise<UpscaleTaskOutcome> {
  try {
    const gt = await readImage(task.gtPath);
    const { output } = await upscaleFromGt(gt, task.options);
    await writeFileAtomic(task.outPath, await encodePng(output));
    return { ok: true };
  } catch (e) {
    if (!isBlindspotError(e)) throw e;
    return { ok: false, code: e.code, reason: e.message };
  }
}
