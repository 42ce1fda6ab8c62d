/**
 * Upscale a folder of GT images through the degradation pipeline (GT -> bicubic 1/scale -> model -> GT size),
 * writing one PNG per GT at the GT's bit depth. Resumable (existing outputs are kept), bad inputs are logged to
 * `upscale-errors.jsonl` and skipped.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listGtImages } from '../dataset/discover.ts';
import { BlindspotError, isBlindspotError, mergeOptions } from '../errors.ts';
import { readImage } from '../image/read.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { encodePng } from './png.ts';
import { DEFAULT_UPSCALE_OPTIONS, resolveUpscaleOptions, upscaleFromGt, type UpscaleOptions } from './upscale.ts';

/** Options of `upscaleFolder`: the upscale options plus folder behaviour. */
export interface UpscaleFolderOptions extends UpscaleOptions {
  /** Recompute outputs that already exist (default false: keep them, which makes runs resumable). */
  overwrite: boolean;
}

export const DEFAULT_UPSCALE_FOLDER_OPTIONS: Readonly<UpscaleFolderOptions> = Object.freeze({
  ...DEFAULT_UPSCALE_OPTIONS,
  overwrite: false,
});

/** Merge and check folder options. @throws BlindspotError E_INVALID_OPTION */
export function resolveUpscaleFolderOptions(partial?: Partial<UpscaleFolderOptions>): UpscaleFolderOptions {
  const o = mergeOptions(DEFAULT_UPSCALE_FOLDER_OPTIONS, partial, 'upscale');
  const { overwrite, ...rest } = o;
  if (typeof overwrite !== 'boolean') throw new BlindspotError('E_INVALID_OPTION', 'invalid overwrite: expected a boolean');
  return { ...resolveUpscaleOptions(rest), overwrite };
}

/** File name of the output for GT stem `stem`: `STEM_MODEL_xSCALE[_tta].png` (pairs with the GT by stem prefix). */
export function upscaleOutputName(stem: string, model: string, scale: number, tta: boolean): string {
  return `${stem}_${model}_x${scale}${tta ? '_tta' : ''}.png`;
}

/** Name of the error log written into the output folder (not an image: the run stage ignores it). */
export const UPSCALE_ERRORS_FILE = 'upscale-errors.jsonl';
/** Name of the record of what produced the folder. */
export const UPSCALE_RECORD_FILE = 'upscale.json';

/** One failed GT image. */
export interface UpscaleFailure {
  file: string;
  code: string;
  reason: string;
}

/** Progress of a folder run, after each image. */
export interface UpscaleFolderProgress {
  done: number;
  total: number;
  file: string;
  /** 'started' is sent once, before the first image (done = 0). */
  status: 'started' | 'written' | 'kept' | 'failed';
}

/** What a folder run did. */
export interface UpscaleFolderResult {
  outDir: string;
  options: UpscaleFolderOptions;
  /** Output files written in this run. */
  written: string[];
  /** Outputs that already existed and were kept. */
  kept: string[];
  failed: UpscaleFailure[];
  total: number;
}

/**
 * Run the degradation pipeline on every GT image in `gtDir` (sorted by stem) and write the outputs to `outDir`.
 * @param gtDir folder of GT images (png, jpg, tif, bmp, gif, webp, dcm, nii — whatever readImage decodes)
 * @param outDir output folder (created); receives `STEM_MODEL_xS[_tta].png`, `upscale.json`, `upscale-errors.jsonl`
 * @param options upscale options plus `overwrite` (default false)
 * @param onProgress called after each image
 * @throws BlindspotError E_EMPTY / E_UNREADABLE for the GT folder, E_INVALID_OPTION for options; per-image
 *   errors are logged and skipped instead.
 */
export async function upscaleFolder(
  gtDir: string,
  outDir: string,
  options?: Partial<UpscaleFolderOptions>,
  onProgress?: (p: UpscaleFolderProgress) => void,
): Promise<UpscaleFolderResult> {
  const o = resolveUpscaleFolderOptions(options);
  const { overwrite, ...upscaleOptions } = o;
  const files = await listGtImages(gtDir);
  await mkdir(outDir, { recursive: true });
  const result: UpscaleFolderResult = { outDir, options: o, written: [], kept: [], failed: [], total: files.length };
  let done = 0;
  onProgress?.({ done, total: files.length, file: '', status: 'started' });
  for (const f of files) {
    const outName = upscaleOutputName(f.stem, o.model, o.scale, o.tta);
    const outPath = join(outDir, outName);
    let status: UpscaleFolderProgress['status'];
    if (!overwrite && (await isFile(outPath))) {
      result.kept.push(outName);
      status = 'kept';
    } else {
      try {
        const gt = await readImage(join(gtDir, f.name));
        const { output } = await upscaleFromGt(gt, upscaleOptions);
        await writeFileAtomic(outPath, await encodePng(output));
        result.written.push(outName);
        status = 'written';
      } catch (e) {
        if (!isBlindspotError(e)) throw e;
        result.failed.push({ file: f.name, code: e.code, reason: e.message });
        status = 'failed';
      }
    }
    done += 1;
    onProgress?.({ done, total: files.length, file: f.name, status });
  }
  await writeFileAtomic(
    join(outDir, UPSCALE_RECORD_FILE),
    JSON.stringify({ tool: 'blindspot upscale', gtDir, degradation: 'matlab-bicubic', ...upscaleOptions, version: await packageVersion() }, null, 2) + '\n',
  );
  await writeFileAtomic(join(outDir, UPSCALE_ERRORS_FILE), result.failed.map((r) => JSON.stringify(r) + '\n').join(''));
  return result;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

let version: string | undefined;
async function packageVersion(): Promise<string> {
  if (version === undefined) {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    version = pkg.version;
  }
  return version;
}
