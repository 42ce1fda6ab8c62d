/**
 * Upscale a folder of GT images through the degradation pipeline (GT -> bicubic 1/scale -> model -> GT size),
 * writing one PNG per GT at the GT's bit depth. Resumable (existing outputs are kept), bad inputs are logged to
 * `upscale-errors.jsonl` and skipped.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { listGtImages } from '../dataset/discover.ts';
import { invalidOption, mergeOptions } from '../errors.ts';
import { compareCodeUnits } from '../store/manifest.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { modelLabel } from './models.ts';
import { createUpscalePool, type UpscalePool } from './pool.ts';
import { DEFAULT_UPSCALE_OPTIONS, isNetworkModel, resolveUpscaleOptions, type UpscaleOptions } from './upscale.ts';

/** Options of `upscaleFolder`: the upscale options plus folder behaviour. */
export interface UpscaleFolderOptions extends UpscaleOptions {
  /** Recompute outputs that already exist (default false: keep them, which makes runs resumable). */
  overwrite: boolean;
  /** Worker threads, 0 = one per core (default 0). 1 runs on the calling thread. */
  workers: number;
}

export const DEFAULT_UPSCALE_FOLDER_OPTIONS: Readonly<UpscaleFolderOptions> = Object.freeze({
  ...DEFAULT_UPSCALE_OPTIONS,
  overwrite: false,
  workers: 0,
});

/** Merge and check folder options. @throws BlindspotError E_INVALID_OPTION */
export function resolveUpscaleFolderOptions(partial?: Partial<UpscaleFolderOptions>): UpscaleFolderOptions {
  const o = mergeOptions(DEFAULT_UPSCALE_FOLDER_OPTIONS, partial, 'upscale');
  const { overwrite, workers, ...rest } = o;
  if (typeof overwrite !== 'boolean') throw invalidOption('overwrite', 'a boolean', overwrite);
  if (!Number.isInteger(workers) || workers < 0 || workers > 256)
    throw invalidOption('workers', 'an integer from 0 (all cores) to 256', workers);
  return { ...resolveUpscaleOptions(rest), overwrite, workers };
}

/**
 * File name of the output for GT stem `stem`: `STEM_MODEL_xSCALE[_tta].png` (pairs with the GT by stem prefix);
 * `.tif` (float32) when the samples do not fit PNG: signed CT/MR data or float GTs.
 */
export function upscaleOutputName(stem: string, model: string, scale: number, tta: boolean, ext: 'png' | 'tif' = 'png'): string {
  return `${stem}_${model}_x${scale}${tta ? '_tta' : ''}.${ext}`;
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
 * @param options upscale options plus `overwrite` (default false) and `workers` (default 0 = one per core)
 * @param onProgress called once before the first image and after each image (completion order)
 * @param shared an existing worker pool to use instead of starting one (the pipeline shares one)
 * @throws BlindspotError E_EMPTY / E_UNREADABLE for the GT folder, E_INVALID_OPTION for options, a model
 *   error (E_NOT_FOUND, E_CORRUPT, E_UNSUPPORTED: checked once before the first image); per-image
 *   errors are logged and skipped instead.
 */
export async function upscaleFolder(
  gtDir: string,
  outDir: string,
  options?: Partial<UpscaleFolderOptions>,
  onProgress?: (p: UpscaleFolderProgress) => void,
  shared?: { pool?: UpscalePool },
): Promise<UpscaleFolderResult> {
  const o = resolveUpscaleFolderOptions(options);
  const { overwrite, workers, ...upscaleOptions } = o;
  const files = await listGtImages(gtDir);
  await mkdir(outDir, { recursive: true });
  const result: UpscaleFolderResult = {
    outDir,
    options: o,
    written: [],
    kept: [],
    failed: [],
    total: files.length,
  };
  let done = 0;
  const report = (file: string, status: UpscaleFolderProgress['status']): void => {
    if (status !== 'started') done += 1;
    onProgress?.({ done, total: files.length, file, status });
  };
  report('', 'started');
  const todo: { file: string; stem: string }[] = [];
  // a user's model (onnx:PATH) is named by its file name in outputs
  const label = modelLabel(o.model);
  for (const f of files) {
    let kept: string | undefined;
    for (const ext of ['png', 'tif'] as const) {
      const name = upscaleOutputName(f.stem, label, o.scale, o.tta, ext);
      if (kept === undefined && !overwrite && (await isFile(join(outDir, name)))) kept = name;
    }
    if (kept !== undefined) {
      result.kept.push(kept);
      report(f.name, 'kept');
    } else {
      todo.push({ file: f.name, stem: f.stem });
    }
  }
  const threads = Math.min(todo.length, workers === 0 ? availableParallelism() : workers);
  const poolSize = shared?.pool?.size ?? (threads > 1 ? threads : 0);
  // ONNX Runtime threads: the cores divided among the workers, so the pool never oversubscribes them
  if (upscaleOptions.threads === 0) {
    upscaleOptions.threads = Math.max(1, Math.floor(availableParallelism() / Math.max(1, poolSize)));
  }
  if (todo.length > 0 && isNetworkModel(o.model)) {
    // same options as the tasks: an inline run (no workers) reuses the session opened here
    const { checkModel } = await import('./network.ts');
    await checkModel(upscaleOptions);
  }
  const pool = shared?.pool ?? createUpscalePool(poolSize);
  let networkScale: number | undefined;
  try {
    await Promise.all(
      todo.map(async ({ file, stem }) => {
        const r = await pool.run({
          gtPath: join(gtDir, file),
          outBase: join(outDir, upscaleOutputName(stem, label, o.scale, o.tta).replace(/\.png$/, '')),
          options: upscaleOptions,
        });
        if (r.ok) {
          result.written.push(upscaleOutputName(stem, label, o.scale, o.tta, r.ext));
          if (r.networkScale) networkScale = r.networkScale;
        } else result.failed.push({ file, code: r.code, reason: r.reason });
        report(file, r.ok ? 'written' : 'failed');
      }),
    );
  } finally {
    if (!shared?.pool) await pool.close();
  }
  // completion order varies with threads: sort so that results and logs are deterministic
  result.written.sort(compareCodeUnits);
  result.kept.sort(compareCodeUnits);
  result.failed.sort((a, b) => compareCodeUnits(a.file, b.file));
  await writeFileAtomic(
    join(outDir, UPSCALE_RECORD_FILE),
    JSON.stringify(
      {
        tool: 'blindspot upscale',
        gtDir,
        degradation: 'matlab-bicubic',
        ...upscaleOptions,
        ...(networkScale && networkScale !== o.scale
          ? {
              networkScale,
              resample: `x${networkScale} network output, then MATLAB imresize bicubic x${o.scale}/${networkScale} (antialiased, float)`,
            }
          : {}),
        version: await packageVersion(),
      },
      null,
      2,
    ) + '\n',
  );
  await writeFileAtomic(
    join(outDir, UPSCALE_ERRORS_FILE),
    result.failed.map((r) => JSON.stringify(r) + '\n').join(''),
  );
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
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    version = pkg.version;
  }
  return version;
}
