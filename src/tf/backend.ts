/**
 * Shared TensorFlow.js setup for every ML stage (upscale, anomaly, memorization).
 *
 * - `initTf(backend)` loads `@tensorflow/tfjs` lazily, points the wasm backend at the `.wasm` binaries inside
 *   node_modules (a file path, never a URL: works offline), and registers the wasm gradient kernels that
 *   tfjs-backend-wasm 4.22 lacks (src/tf/wasmGradients.ts, when present). Idempotent.
 * - `loadLayersModelFromDir` / `loadGraphModelFromDir` read a tfjs model folder through an IO handler built on
 *   `fs` (no `file://` handler, no fetch, no network).
 * - `packageDir(name)` finds an installed package's folder (e.g. the UpscalerJS model packages).
 *
 * Threads: tfjs-backend-wasm 4.22 turns multi-threading off under Node (its `WASM_HAS_MULTITHREAD_SUPPORT`
 * flag returns false when `IS_NODE`, tfjs issue #3830), so the SIMD single-thread binary is what runs here.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlindspotError } from '../errors.ts';

export type Tf = typeof import('@tensorflow/tfjs');
export type TfBackendName = 'wasm' | 'cpu';

/** The backend chosen by measurement (bench/upscale.ts): wasm+SIMD is ~10-30x faster than cpu on conv nets. */
export const DEFAULT_TF_BACKEND: TfBackendName = 'wasm';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const require = createRequire(import.meta.url);

let tfPending: Promise<Tf> | undefined;
let wasmPathsSet = false;
let gradientsPending: Promise<void> | undefined;

/** Facts about the live TF.js setup (for reports and benchmarks). */
export interface TfInfo {
  backend: string;
  version: string;
  wasmSimd: boolean | null;
  wasmThreads: number | null;
}

/**
 * Set up TensorFlow.js once per process and switch to `backend` (default `DEFAULT_TF_BACKEND`, 'wasm').
 * Safe to call many times and from several stages; later calls only switch the backend if a different one is
 * asked for.
 * @param backend 'wasm' (default; SIMD, single-threaded under Node) or 'cpu' (plain JS kernels).
 * @returns the `@tensorflow/tfjs` namespace.
 * @throws BlindspotError E_NOT_FOUND when the wasm binaries are missing from node_modules.
 */
export async function initTf(backend: TfBackendName = DEFAULT_TF_BACKEND): Promise<Tf> {
  tfPending ??= loadTfModule();
  const tf = await tfPending;
  if (backend === 'wasm') await ensureWasm();
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok)
      throw new BlindspotError('E_NOT_FOUND', `TensorFlow.js backend "${backend}" failed to initialise`);
  }
  await tf.ready();
  return tf;
}

async function loadTfModule(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  // Production mode: skips debug checks and the "install tfjs-node" console banner (it cannot install here).
  tf.enableProdMode();
  return tf;
}

async function ensureWasm(): Promise<void> {
  if (!wasmPathsSet) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    const simd = join(dist, 'tfjs-backend-wasm-simd.wasm');
    if (!existsSync(simd)) {
      throw new BlindspotError('E_NOT_FOUND', 'tfjs-backend-wasm binaries not found in node_modules', dist);
    }
    wasm.setWasmPaths(dist + '/');
    wasmPathsSet = true;
  }
  gradientsPending ??= registerGradientsIfPresent();
  await gradientsPending;
}

/** Wire in src/tf/wasmGradients.ts (the anomaly engineer's missing wasm gradient kernels) when it exists. */
async function registerGradientsIfPresent(): Promise<void> {
  const url = new URL(`./wasmGradients${EXT}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return;
  const mod = (await import(url.href)) as { registerWasmGradientKernels?: () => void | Promise<void> };
  if (typeof mod.registerWasmGradientKernels === 'function') await mod.registerWasmGradientKernels();
}

/** Backend, version, SIMD and thread facts of the current setup (call after `initTf`). */
export async function tfInfo(): Promise<TfInfo> {
  const tf = await (tfPending ?? loadTfModule());
  const backend = tf.getBackend();
  let wasmSimd: boolean | null = null;
  let wasmThreads: number | null = null;
  if (backend === 'wasm') {
    wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasmThreads = wasm.getThreadsCount();
  }
  return { backend, version: tf.version.tfjs, wasmSimd, wasmThreads };
}

/**
 * The folder of an installed npm package (found through Node's module search paths, so packages whose
 * `exports` hide package.json are found too).
 * @throws BlindspotError E_NOT_FOUND when the package is not installed.
 */
export function packageDir(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new BlindspotError('E_NOT_FOUND', `npm package "${name}" is not installed (run npm install)`);
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: { paths: string[]; weights: unknown[] }[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
  modelInitializer?: unknown;
}

/**
 * A tfjs IO handler that reads `model.json` and its weight shards from a folder with `fs` (no fetch, no network).
 * @param dir folder holding model.json (or the model.json path itself).
 * @throws BlindspotError E_NOT_FOUND / E_CORRUPT naming the file.
 */
export function fsModelHandler(dir: string): { load: () => Promise<Record<string, unknown>> } {
  const jsonPath = dir.endsWith('.json') ? resolve(dir) : resolve(dir, 'model.json');
  const base = dirname(jsonPath);
  return {
    async load() {
      let json: ModelJson;
      try {
        json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new BlindspotError('E_NOT_FOUND', 'model.json not found', jsonPath);
        throw new BlindspotError('E_CORRUPT', 'model.json is not valid JSON', jsonPath);
      }
      const manifest = json.weightsManifest ?? [];
      const weightSpecs: unknown[] = [];
      const buffers: Buffer[] = [];
      for (const group of manifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(base, p);
          try {
            buffers.push(await readFile(file));
          } catch {
            throw new BlindspotError('E_NOT_FOUND', 'weight shard missing', file);
          }
        }
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs,
        weightData,
        weightsManifest: manifest,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
      };
    },
  };
}

/**
 * Load a tfjs layers model from a folder (offline). Register custom layer classes with
 * `tf.serialization.registerClass` before calling.
 * @throws BlindspotError E_NOT_FOUND / E_CORRUPT naming the file.
 */
export async function loadLayersModelFromDir(
  tf: Tf,
  dir: string,
): Promise<import('@tensorflow/tfjs').LayersModel> {
  return tf.loadLayersModel(fsModelHandler(dir) as unknown as import('@tensorflow/tfjs').io.IOHandler);
}

/**
 * Load a tfjs graph model from a folder (offline).
 * @throws BlindspotError E_NOT_FOUND / E_CORRUPT naming the file.
 */
export async function loadGraphModelFromDir(
  tf: Tf,
  dir: string,
): Promise<import('@tensorflow/tfjs').GraphModel> {
  return tf.loadGraphModel(fsModelHandler(dir) as unknown as import('@tensorflow/tfjs').io.IOHandler);
}
