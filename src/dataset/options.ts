/**
 * Options of a dataset run (`blindspot run`, `runDataset`) and the run file (JSON or YAML) that declares them.
 */
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { resolveRunBatteryOptions } from '../battery/run.ts';
import { resolveReadImageOptions, type ReadImageOptions } from '../image/read.ts';

export type ProcessingPath = 'notta' | 'tta';
export const PROCESSING_PATHS: readonly ProcessingPath[] = Object.freeze(['notta', 'tta']);

/** One folder of model outputs: a model name and the processing path it was produced with. */
export interface ModelFolder {
  /** Model name: letters, digits, `.`, `_`, `-` (it becomes a Hive partition value). */
  name: string;
  /** 'notta' (plain) or 'tta' (x8 self-ensemble). */
  path: ProcessingPath;
  /** Folder of output images. */
  dir: string;
}

export interface RunOptions {
  /** Folder of ground-truth images. Required. */
  gt: string;
  /** Model output folders. At least one. */
  models: ModelFolder[];
  /** Results folder. Required. */
  out: string;
  /** Block column set: 'core' or 'full'. Default 'full'. */
  columns: 'core' | 'full';
  /** Also write one CSV per pair under csv/. Default false. */
  csv: boolean;
  /** Worker threads; 0 = all cores (os.availableParallelism()). Default 0. */
  workers: number;
  /** This shard, 1-based (`{ index: 2, count: 4 }` = the second of four), or null for the whole run. Default null. */
  shard: { index: number; count: number } | null;
  /** Images per part file (per model and path). Default 32 (~0.5M block rows at 1024x1024 with 8x8 blocks). */
  partSize: number;
  /** Block engine options (DiagnoseOptions subset, e.g. { blockSize: 8 }), checked by the block engine. Default {}. */
  diagnose: Record<string, unknown>;
  /**
   * Folder of region-of-interest masks, one per GT stem (any decodable image, non-zero = inside; matched like model
   * outputs: `<stem>.png`, `<stem>_mask.png`...), or null for the automatic ROI (DESIGN §3c). Default null.
   */
  maskDir: string | null;
  /** How GT and test images are read (DICOM frame, NIfTI axis/slice/volume, rescale), see `readImage`. Default {}. */
  image: Partial<ReadImageOptions>;
  /**
   * The published engine's metric battery per pair (docs/metrics.md): battery options plus `lpips` / `clip`
   * ONNX model files, `{}` = defaults; null = off (`--no-battery`: the columns stay NULL). Default `{}` (on): with
   * its WebAssembly SIMD kernels a run takes ~1.15-1.2x as long as without (docs/metrics.md, Cost).
   */
  battery: Record<string, unknown> | null;
}

export const DEFAULT_RUN_OPTIONS: Readonly<RunOptions> = Object.freeze({
  gt: '',
  models: [],
  out: '',
  columns: 'full',
  csv: false,
  workers: 0,
  shard: null,
  partSize: 32,
  diagnose: {},
  maskDir: null,
  image: {},
  battery: {},
});

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Merge and check run options.
 * @throws BlindspotError E_INVALID_OPTION naming the option, the allowed values and the value given.
 */
export function resolveRunOptions(partial: Partial<RunOptions>): RunOptions {
  const o = mergeOptions(DEFAULT_RUN_OPTIONS, partial, 'run');
  if (typeof o.gt !== 'string' || o.gt === '') throw invalidOption('gt', 'a folder of ground-truth images', o.gt);
  if (typeof o.out !== 'string' || o.out === '') throw invalidOption('out', 'a results folder', o.out);
  if (!Array.isArray(o.models) || o.models.length === 0) throw invalidOption('models', 'at least one model folder', o.models);
  const seen = new Set<string>();
  for (const m of o.models) {
    if (typeof m?.name !== 'string' || !MODEL_NAME.test(m.name)) {
      throw invalidOption('model name', 'letters, digits, ".", "_", "-" (not starting with "." "_" "-")', m?.name);
    }
    if (!PROCESSING_PATHS.includes(m.path)) throw invalidOption(`path of model ${m.name}`, 'notta|tta', m.path);
    if (typeof m.dir !== 'string' || m.dir === '') throw invalidOption(`folder of model ${m.name}`, 'a folder path', m.dir);
    const key = `${m.name}/${m.path}`;
    if (seen.has(key)) throw invalidOption('models', 'each (model, path) once', key);
    seen.add(key);
  }
  if (o.columns !== 'core' && o.columns !== 'full') throw invalidOption('columns', 'core|full (default full)', o.columns);
  if (typeof o.csv !== 'boolean') throw invalidOption('csv', 'true|false (default false)', o.csv);
  if (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 256) throw invalidOption('workers', 'an integer from 0 (all cores) to 256', o.workers);
  if (!Number.isInteger(o.partSize) || o.partSize < 1 || o.partSize > 100000) throw invalidOption('partSize', 'an integer from 1 to 100000 (default 32)', o.partSize);
  if (o.shard !== null) {
    const { index, count } = o.shard ?? {};
    if (!Number.isInteger(count) || count! < 1 || !Number.isInteger(index) || index! < 1 || index! > count!) {
      throw invalidOption('shard', 'K/N with 1 <= K <= N', o.shard);
    }
  }
  if (o.diagnose === null || typeof o.diagnose !== 'object' || Array.isArray(o.diagnose)) throw invalidOption('diagnose', 'an object of block engine options', o.diagnose);
  if (o.maskDir !== null && (typeof o.maskDir !== 'string' || o.maskDir === '')) throw invalidOption('maskDir', 'a folder of mask images or null', o.maskDir);
  if (o.image === null || typeof o.image !== 'object' || Array.isArray(o.image)) throw invalidOption('image', 'an object of readImage options', o.image);
  resolveReadImageOptions(o.image);
  if (o.battery !== null) {
    if (typeof o.battery !== 'object' || Array.isArray(o.battery)) throw invalidOption('battery', 'an object of battery options or null (off)', o.battery);
    resolveRunBatteryOptions(o.battery);
  }
  return {
    ...o,
    image: { ...o.image },
    battery: o.battery === null ? null : { ...o.battery },
    models: o.models.map((m) => ({ name: m.name, path: m.path, dir: m.dir })),
    shard: o.shard === null ? null : { index: o.shard.index, count: o.shard.count },
    diagnose: { ...o.diagnose },
  };
}

/** Worker count after resolving 0 = all cores. */
export function effectiveWorkers(o: Pick<RunOptions, 'workers'>): number {
  return o.workers === 0 ? Math.max(1, availableParallelism()) : o.workers;
}

/**
 * Parse `K/N` (1-based shard index).
 * @throws BlindspotError E_INVALID_OPTION for anything else.
 */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || index < 1 || count < 1 || index > count) throw invalidOption('--shard', 'K/N with 1 <= K <= N (e.g. 2/4)', text);
  return { index, count };
}

/**
 * Parse a `--model` value: `NAME=DIR` (path notta) or `NAME:notta=DIR` / `NAME:tta=DIR`.
 * @throws BlindspotError E_INVALID_OPTION when the form is wrong.
 */
export function parseModelFlag(text: string): ModelFolder {
  const m = /^([^=:]+)(?::([^=]+))?=(.+)$/.exec(text);
  if (!m) throw invalidOption('--model', 'NAME=DIR or NAME:notta=DIR or NAME:tta=DIR', text);
  const path = (m[2] ?? 'notta') as ProcessingPath;
  if (!PROCESSING_PATHS.includes(path)) throw invalidOption('--model path', 'notta|tta', m[2]);
  return { name: m[1]!, path, dir: m[3]! };
}

const RUN_FILE_KEYS = ['gt', 'out', 'models', 'columns', 'csv', 'workers', 'shard', 'partSize', 'diagnose', 'maskDir', 'image', 'battery'] as const;

function fieldError(file: string, field: string, expected: string, got: unknown): BlindspotError {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  return new BlindspotError('E_INVALID_OPTION', `field "${field}": expected ${expected}, got ${shown}`, file);
}

/**
 * Read a run file (JSON, or YAML for .yaml/.yml). Relative folders are resolved against the run file's folder.
 *
 * ```yaml
 * gt: data/gt
 * out: RESULTS            # optional; the --out flag wins
 * columns: full           # core|full
 * csv: false
 * workers: 0              # 0 = all cores
 * partSize: 32
 * diagnose: { blockSize: 8 }
 * models:
 *   - { name: swinir, notta: out/swinir, tta: out/swinir_tta }
 *   - { name: bicubic, notta: out/bicubic }
 * ```
 * @param file Path of the run file.
 * @returns the options it declares (not yet merged with flags or resolved).
 * @throws BlindspotError E_UNREADABLE, E_CORRUPT (syntax), E_INVALID_OPTION (one message per bad field).
 */
export async function readRunFile(file: string): Promise<Partial<RunOptions>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BlindspotError('E_UNREADABLE', `cannot read run file (${(e as NodeJS.ErrnoException).code})`, file);
  }
  let doc: unknown;
  const ext = extname(file).toLowerCase();
  try {
    doc = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new BlindspotError('E_CORRUPT', `not valid ${ext === '.yaml' || ext === '.yml' ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`, file);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fieldError(file, '(top level)', 'a mapping of run options', doc);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!(RUN_FILE_KEYS as readonly string[]).includes(k)) throw fieldError(file, k, `one of ${RUN_FILE_KEYS.join(', ')}`, k);
  }
  const base = dirname(file);
  const resolvePath = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const out: Partial<RunOptions> = {};
  if (typeof d.gt !== 'string' || d.gt === '') throw fieldError(file, 'gt', 'a folder path', d.gt);
  out.gt = resolvePath(d.gt);
  if (d.out !== undefined) {
    if (typeof d.out !== 'string' || d.out === '') throw fieldError(file, 'out', 'a folder path', d.out);
    out.out = resolvePath(d.out);
  }
  if (!Array.isArray(d.models) || d.models.length === 0) throw fieldError(file, 'models', 'a list of { name, notta?, tta? }', d.models);
  out.models = [];
  d.models.forEach((m: unknown, i: number) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw fieldError(file, `models[${i}]`, 'a mapping { name, notta?, tta? }', m);
    const r = m as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (!['name', 'notta', 'tta'].includes(k)) throw fieldError(file, `models[${i}].${k}`, 'one of name, notta, tta', k);
    }
    if (typeof r.name !== 'string' || !MODEL_NAME.test(r.name)) throw fieldError(file, `models[${i}].name`, 'a name of letters, digits, ".", "_", "-"', r.name);
    if (r.notta === undefined && r.tta === undefined) throw fieldError(file, `models[${i}]`, 'a notta and/or tta folder', undefined);
    for (const path of PROCESSING_PATHS) {
      const dir = r[path];
      if (dir === undefined) continue;
      if (typeof dir !== 'string' || dir === '') throw fieldError(file, `models[${i}].${path}`, 'a folder path', dir);
      out.models!.push({ name: r.name, path, dir: resolvePath(dir) });
    }
  });
  if (d.columns !== undefined) {
    if (d.columns !== 'core' && d.columns !== 'full') throw fieldError(file, 'columns', 'core|full', d.columns);
    out.columns = d.columns;
  }
  if (d.csv !== undefined) {
    if (typeof d.csv !== 'boolean') throw fieldError(file, 'csv', 'true|false', d.csv);
    out.csv = d.csv;
  }
  if (d.workers !== undefined) {
    if (!Number.isInteger(d.workers) || (d.workers as number) < 0) throw fieldError(file, 'workers', 'an integer >= 0 (0 = all cores)', d.workers);
    out.workers = d.workers as number;
  }
  if (d.partSize !== undefined) {
    if (!Number.isInteger(d.partSize) || (d.partSize as number) < 1) throw fieldError(file, 'partSize', 'an integer >= 1', d.partSize);
    out.partSize = d.partSize as number;
  }
  if (d.shard !== undefined) {
    if (typeof d.shard !== 'string') throw fieldError(file, 'shard', 'a string K/N', d.shard);
    try {
      out.shard = parseShard(d.shard);
    } catch {
      throw fieldError(file, 'shard', 'K/N with 1 <= K <= N', d.shard);
    }
  }
  if (d.maskDir !== undefined) {
    if (typeof d.maskDir !== 'string' || d.maskDir === '') throw fieldError(file, 'maskDir', 'a folder of mask images', d.maskDir);
    out.maskDir = resolvePath(d.maskDir);
  }
  if (d.diagnose !== undefined) {
    if (d.diagnose === null || typeof d.diagnose !== 'object' || Array.isArray(d.diagnose)) throw fieldError(file, 'diagnose', 'a mapping of block engine options', d.diagnose);
    out.diagnose = d.diagnose as Record<string, unknown>;
  }
  if (d.image !== undefined) {
    if (d.image === null || typeof d.image !== 'object' || Array.isArray(d.image)) throw fieldError(file, 'image', 'a mapping of image read options (frame, axis, slice, volume, rescale)', d.image);
    out.image = d.image as Partial<ReadImageOptions>;
  }
  if (d.battery !== undefined) {
    // false or null: off; a mapping: battery options (lpips / clip paths relative to the run file).
    if (d.battery === false || d.battery === null) out.battery = null;
    else if (typeof d.battery !== 'object' || Array.isArray(d.battery)) throw fieldError(file, 'battery', 'false or a mapping of battery options', d.battery);
    else {
      const b = { ...(d.battery as Record<string, unknown>) };
      for (const k of ['lpips', 'clip']) if (typeof b[k] === 'string' && b[k] !== '') b[k] = resolvePath(b[k] as string);
      out.battery = b;
    }
  }
  return out;
}
