/**
 * Super-resolution networks on ONNX Runtime (onnxruntime-node, CPU execution provider): the shipped Real-ESRGAN
 * models (ncnn files converted once to ONNX and cached, keyed by the SHA-256 of their bytes) and a user's own
 * `.onnx` export. onnxruntime-node loads lazily, only when a network runs here.
 *
 * Threads: one session per worker thread with `threads` intra-op threads (the caller divides the cores among its
 * workers, so 2 workers on 2 cores get 1 thread each) and one inter-op thread.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { BlindspotError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic.ts';

/** A loaded super-resolution network: RGB HWC in [0, valueMax] of w x h -> (w*scale) x (h*scale) RGB HWC. */
export interface SrNetwork {
  /** The network's own integer scale. */
  scale: number;
  valueMax: number;
  backend: 'onnx' | 'wasm' | 'cpu';
  /** Model file the network came from (the .onnx, or the ncnn .param). */
  source: string;
  /** Run on one RGB image; a new Float32Array clipped to [0, valueMax]. */
  predict(rgb: Float32Array, width: number, height: number): Promise<Float32Array>;
}

/** How an ONNX export wants its input (Real-ESRGAN, SwinIR and HAT exports: NCHW RGB in [0, 1]). */
export interface OnnxInputConvention {
  layout: 'nchw' | 'nhwc';
  /** Value range of input and output: 1 or 255. */
  range: 1 | 255;
  channelOrder: 'rgb' | 'bgr';
}

/** Environment variable that moves the conversion cache. */
export const CACHE_DIR_ENV = 'BLINDSPOT_CACHE_DIR';
/** Bumped whenever the converter's output would change, so stale cached graphs are not reused. */
const CONVERTER_VERSION = 1;

/**
 * Where converted models are cached: $BLINDSPOT_CACHE_DIR, else $XDG_CACHE_HOME/blindspot, else
 * ~/.cache/blindspot; then `/onnx`.
 */
export function defaultCacheDir(): string {
  const base =
    process.env[CACHE_DIR_ENV] ||
    join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'blindspot');
  return join(base, 'onnx');
}

/** A cached conversion: the .onnx path, the graph's scale, and whether this call converted it. */
export interface CachedOnnx {
  onnxPath: string;
  scale: number;
  sha256: string;
  converted: boolean;
}

/**
 * The ONNX file for an ncnn model, converting on first use: `<cacheDir>/<sha256 of .param + .bin>.v<N>.onnx` and
 * a `.json` beside it (scale, parameter count, source). Two processes converting at once both write atomically.
 * @throws BlindspotError from loadNcnn (E_UNREADABLE, E_CORRUPT, E_UNSUPPORTED) on a cache miss
 */
export async function cachedNcnnOnnx(
  paramPath: string,
  binPath: string,
  cacheDir = defaultCacheDir(),
): Promise<CachedOnnx> {
  let sha256: string;
  try {
    const h = createHash('sha256');
    h.update(await readFile(paramPath));
    h.update(await readFile(binPath));
    sha256 = h.digest('hex');
  } catch {
    throw new BlindspotError('E_UNREADABLE', 'cannot read ncnn model files (.param and .bin)', paramPath);
  }
  const base = join(cacheDir, `${sha256}.v${CONVERTER_VERSION}`);
  if (existsSync(`${base}.onnx`) && existsSync(`${base}.json`)) {
    try {
      const meta = JSON.parse(await readFile(`${base}.json`, 'utf8')) as { scale: number };
      if (Number.isInteger(meta.scale))
        return { onnxPath: `${base}.onnx`, scale: meta.scale, sha256, converted: false };
    } catch {
      // an unreadable record: convert again
    }
  }
  const { loadNcnn } = await import('./ncnn.ts');
  const { ncnnToOnnx } = await import('./ncnnToOnnx.ts');
  const net = await loadNcnn(paramPath, binPath);
  const bytes = ncnnToOnnx(net);
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(`${base}.onnx`, bytes);
  const record = {
    scale: net.scale,
    parameterCount: net.parameterCount,
    source: paramPath,
    sha256: net.sha256,
    converter: CONVERTER_VERSION,
  };
  await writeFileAtomic(`${base}.json`, JSON.stringify(record, null, 2) + '\n');
  return { onnxPath: `${base}.onnx`, scale: net.scale, sha256, converted: true };
}

type Ort = typeof import('onnxruntime-node');
let ortPending: Promise<Ort> | undefined;
async function loadOrt(): Promise<Ort> {
  ortPending ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: Ort }).default ?? m) as Ort,
    () => {
      ortPending = undefined;
      throw new BlindspotError(
        'E_NOT_FOUND',
        'onnxruntime-node is not installed (npm install onnxruntime-node)',
      );
    },
  );
  return ortPending;
}

/** First line of an onnxruntime error, without its C++ source location, at most 200 characters. */
function ortReason(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^\[[^\]]*\]\s*/, '');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

const sessions = new Map<string, Promise<SrNetwork>>();

/**
 * Load (once per process, file, threads and convention) an ONNX super-resolution model.
 * @param path the .onnx file
 * @param threads intra-op threads (0 = one per core)
 * @param scale the model's scale when known (converted ncnn graphs); otherwise measured with a 32x32 probe
 * @throws BlindspotError E_UNREADABLE, E_CORRUPT (not an ONNX model: one line with the runtime's reason),
 *   E_UNSUPPORTED (not an image-to-image upscaler: input/output shapes), E_NOT_FOUND (no onnxruntime-node)
 */
export function loadOnnxNetwork(
  path: string,
  threads: number,
  convention: OnnxInputConvention,
  scale?: number,
): Promise<SrNetwork> {
  const key = `${path}|${threads}|${convention.layout}|${convention.range}|${convention.channelOrder}`;
  let p = sessions.get(key);
  if (!p) {
    p = openSession(path, threads, convention, scale);
    p.catch(() => sessions.delete(key));
    sessions.set(key, p);
  }
  return p;
}

async function openSession(
  path: string,
  threads: number,
  conv: OnnxInputConvention,
  knownScale?: number,
): Promise<SrNetwork> {
  const ort = await loadOrt();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new BlindspotError('E_UNREADABLE', 'cannot read ONNX model file', path);
  }
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads > 0 ? threads : availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new BlindspotError('E_CORRUPT', `not a loadable ONNX model: ${ortReason(e)}`, path);
  }
  if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `an upscaler has one image input; this model has ${session.inputNames.length} inputs`,
      path,
    );
  }
  const meta = session.inputMetadata[0] as { shape?: readonly (number | string)[] } | undefined;
  const dims = meta?.shape ?? [];
  const cDim = dims[conv.layout === 'nchw' ? 1 : 3];
  const inChannels = typeof cDim === 'number' ? cDim : 3;
  if (dims.length !== 0 && dims.length !== 4) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `input has rank ${dims.length}; an image model takes [1, C, H, W] or [1, H, W, C]`,
      path,
    );
  }
  if (inChannels !== 1 && inChannels !== 3) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `input has ${inChannels} channels (check --layout nchw|nhwc)`,
      path,
    );
  }
  for (const i of conv.layout === 'nchw' ? [2, 3] : [1, 2]) {
    if (typeof dims[i] === 'number' && dims[i]! > 0) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `input size is fixed (${dims.join('x')}); export the model with dynamic height and width`,
        path,
      );
    }
  }
  const run = runner(ort, session, path, conv, inChannels);
  let scale = knownScale;
  if (scale === undefined) {
    const probe = 32;
    const y = await run(new Float32Array(probe * probe * 3), probe, probe);
    scale = y.width / probe;
    if (!Number.isInteger(scale) || scale < 1 || y.height !== probe * scale) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `a ${probe}x${probe} input gives ${y.width}x${y.height}: not an integer upscaling`,
        path,
      );
    }
  }
  const s = scale;
  return {
    scale: s,
    valueMax: conv.range,
    backend: 'onnx',
    source: path,
    predict: async (rgb, width, height) => {
      const y = await run(rgb, width, height);
      if (y.width !== width * s || y.height !== height * s) {
        throw new BlindspotError(
          'E_UNSUPPORTED',
          `a ${width}x${height} input gives ${y.width}x${y.height}, not x${s}`,
          path,
        );
      }
      return y.data;
    },
  };
}

/** Feed RGB HWC, get RGB HWC back, converting layout, channel order and channel count both ways. */
function runner(ort: Ort, session: InferenceSession, path: string, conv: OnnxInputConvention, inC: number) {
  const nchw = conv.layout === 'nchw';
  const bgr = conv.channelOrder === 'bgr';
  return async (
    rgb: Float32Array,
    w: number,
    h: number,
  ): Promise<{ data: Float32Array; width: number; height: number }> => {
    const n = w * h;
    const x = new Float32Array(n * inC);
    for (let i = 0; i < n; i++) {
      const r = rgb[3 * i]!;
      const g = rgb[3 * i + 1]!;
      const b = rgb[3 * i + 2]!;
      if (inC === 1) x[i] = (r + g + b) / 3;
      else {
        const c0 = bgr ? b : r;
        const c2 = bgr ? r : b;
        if (nchw) {
          x[i] = c0;
          x[n + i] = g;
          x[2 * n + i] = c2;
        } else {
          x[3 * i] = c0;
          x[3 * i + 1] = g;
          x[3 * i + 2] = c2;
        }
      }
    }
    let result: InferenceSession.ReturnType;
    try {
      const feed = new ort.Tensor('float32', x, nchw ? [1, inC, h, w] : [1, h, w, inC]);
      result = await session.run({ [session.inputNames[0]!]: feed });
    } catch (e) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `inference failed on a ${w}x${h} input: ${ortReason(e)}`,
        path,
      );
    }
    const out = result[session.outputNames[0]!]!;
    const d = out.dims;
    const oc = nchw ? d[1]! : d[3]!;
    const oh = nchw ? d[2]! : d[1]!;
    const ow = nchw ? d[3]! : d[2]!;
    if (d.length !== 4 || d[0] !== 1 || (oc !== 1 && oc !== 3) || out.type !== 'float32') {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `output is ${out.type} [${d.join(', ')}]; expected float32 [1, 3, H, W] (or NHWC)`,
        path,
      );
    }
    const y = out.data as Float32Array;
    const m = ow * oh;
    const res = new Float32Array(3 * m);
    const hi = conv.range;
    const clip = (v: number) => (v < 0 ? 0 : v > hi ? hi : v);
    for (let i = 0; i < m; i++) {
      let c0: number, g: number, c2: number;
      if (oc === 1) c0 = g = c2 = y[i]!;
      else if (nchw) {
        c0 = y[i]!;
        g = y[m + i]!;
        c2 = y[2 * m + i]!;
      } else {
        c0 = y[3 * i]!;
        g = y[3 * i + 1]!;
        c2 = y[3 * i + 2]!;
      }
      res[3 * i] = clip(bgr ? c2 : c0);
      res[3 * i + 1] = clip(g);
      res[3 * i + 2] = clip(bgr ? c0 : c2);
    }
    out.dispose?.();
    return { data: res, width: ow, height: oh };
  };
}
