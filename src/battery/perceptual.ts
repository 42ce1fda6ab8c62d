/**
 * LPIPS and CLIP similarity from user-supplied ONNX weights (no npm package ships them), on ONNX Runtime
 * (onnxruntime-node, CPU; loaded lazily, only when a model is given). Without weights the battery's `lpips` and
 * `clip_similarity` stay null, and the patterns that need them say "not computed".
 *
 * - LPIPS (Zhang et al. 2018, https://doi.org/10.1109/CVPR.2018.00068), as the engine runs it: AlexNet variant,
 *   both images RGB in [-1, 1] (x / 127.5 - 1), NCHW float32, full size. The ONNX model takes two inputs (its
 *   first two, in that order: reference, test) and returns the distance as its first output's first value.
 * - CLIP image similarity (Radford et al. 2021): the image encoder's embeddings of both images, cosine of the two.
 *   Preprocessing as CLIPProcessor: shortest side to 224 (bicubic, antialiased; MATLAB-style imresize, close to
 *   but not bit-identical with PIL), centre crop 224, /255, per-channel mean/std normalisation; one input
 *   `pixel_values`-like [1, 3, 224, 224], first output = embedding.
 * docs/metrics.md says how to export both models.
 */
import { readFile } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { BlindspotError } from '../errors.ts';
import { imresize } from '../upscale/imresize.ts';
import type { Gray8 } from './gray8.ts';

type Ort = typeof import('onnxruntime-node');
let ortPending: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ortPending ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: Ort }).default ?? m) as Ort,
    () => {
      ortPending = undefined;
      throw new BlindspotError('E_NOT_FOUND', 'onnxruntime-node is not installed (npm install onnxruntime-node)');
    },
  );
  return ortPending;
}

/** A loaded ONNX model and the file it came from. */
export interface PerceptualModel {
  kind: 'lpips' | 'clip';
  file: string;
  session: InferenceSession;
  ort: Ort;
}

/**
 * Load an LPIPS or CLIP ONNX model.
 * @param threads intra-op threads (default 1: one per worker thread; 0 = ONNX Runtime default, all cores)
 * @throws BlindspotError E_UNREADABLE (no file), E_CORRUPT (not an ONNX model ORT can load), E_UNSUPPORTED
 *   (LPIPS with fewer than two inputs, CLIP without an input)
 */
export async function loadPerceptualModel(kind: 'lpips' | 'clip', file: string, threads = 1): Promise<PerceptualModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BlindspotError('E_UNREADABLE', `cannot read the ${kind.toUpperCase()} model (${(e as NodeJS.ErrnoException).code ?? 'error'})`, file);
  }
  const ort = await loadOrt();
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  } catch (e) {
    const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
    throw new BlindspotError('E_CORRUPT', `not an ONNX model ONNX Runtime can load: ${line}`, file);
  }
  const need = kind === 'lpips' ? 2 : 1;
  if (session.inputNames.length < need) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `a ${kind.toUpperCase()} model needs ${need} image input${need > 1 ? 's' : ''}, this one has ${session.inputNames.length}`,
      file,
    );
  }
  return { kind, file, session, ort };
}

/** NCHW float32 RGB of an 8-bit view (grey: R = G = B), each sample mapped by `f`. */
function toNchw(g: Gray8, f: (v: number, channel: number) => number): Float32Array {
  const n = g.width * g.height;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) out[c * n + i] = f(g.rgb ? g.rgb[i * 3 + c]! : g.gray[i]!, c);
  }
  return out;
}

async function firstOutput(m: PerceptualModel, feeds: Record<string, unknown>): Promise<Float32Array> {
  let result: InferenceSession.ReturnType;
  try {
    result = await m.session.run(feeds as InferenceSession.FeedsType);
  } catch (e) {
    const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
    throw new BlindspotError('E_UNSUPPORTED', `the ${m.kind.toUpperCase()} model failed on this input: ${line}`, m.file);
  }
  const out = result[m.session.outputNames[0]!];
  if (!out || !(out.data instanceof Float32Array) || out.data.length === 0) {
    throw new BlindspotError('E_UNSUPPORTED', `the ${m.kind.toUpperCase()} model's first output is not float32`, m.file);
  }
  return out.data;
}

/** LPIPS distance between GT and test (0 = identical; lower is better). */
export async function lpipsDistance(m: PerceptualModel, gt: Gray8, test: Gray8): Promise<number> {
  const dims = [1, 3, gt.height, gt.width];
  const scale = (v: number): number => v / 127.5 - 1;
  const [a, b] = m.session.inputNames;
  const out = await firstOutput(m, {
    [a!]: new m.ort.Tensor('float32', toNchw(gt, scale), dims),
    [b!]: new m.ort.Tensor('float32', toNchw(test, scale), dims),
  });
  return out[0]!;
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const CLIP_SIZE = 224;

/** CLIPProcessor-style input of one image: shortest side 224, centre crop, normalised, NCHW. */
export function clipInput(g: Gray8): Float32Array {
  const s = CLIP_SIZE / Math.min(g.width, g.height);
  const w = Math.max(CLIP_SIZE, Math.round(g.width * s));
  const h = Math.max(CLIP_SIZE, Math.round(g.height * s));
  const channels = g.rgb ? 3 : 1;
  const r = imresize(g.rgb ?? g.gray, g.width, g.height, channels, { width: w, height: h }, { integerMax: 255 });
  const top = Math.floor((h - CLIP_SIZE) / 2);
  const left = Math.floor((w - CLIP_SIZE) / 2);
  const n = CLIP_SIZE * CLIP_SIZE;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const src = channels === 3 ? c : 0;
    for (let y = 0; y < CLIP_SIZE; y++) {
      for (let x = 0; x < CLIP_SIZE; x++) {
        const v = r.data[((top + y) * w + left + x) * channels + src]!;
        out[c * n + y * CLIP_SIZE + x] = (v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
      }
    }
  }
  return out;
}

/** Cosine similarity of the CLIP image embeddings of GT and test (-1..1; 1 = same direction). */
export async function clipSimilarity(m: PerceptualModel, gt: Gray8, test: Gray8): Promise<number> {
  const name = m.session.inputNames[0]!;
  const dims = [1, 3, CLIP_SIZE, CLIP_SIZE];
  const ea = (await firstOutput(m, { [name]: new m.ort.Tensor('float32', clipInput(gt), dims) })).slice();
  const eb = (await firstOutput(m, { [name]: new m.ort.Tensor('float32', clipInput(test), dims) })).slice();
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < ea.length; i++) {
    dot += ea[i]! * eb[i]!;
    na += ea[i]! * ea[i]!;
    nb += eb[i]! * eb[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** The user's LPIPS / CLIP models, either absent. */
export interface PerceptualModels {
  lpips?: PerceptualModel | null;
  clip?: PerceptualModel | null;
}

/**
 * LPIPS and CLIP similarity of a pair, each null when its model is absent (never a silent 0).
 * @param gt, test the pair's 8-bit views (gray8.ts)
 */
export async function perceptualMetrics(
  gt: Gray8,
  test: Gray8,
  models: PerceptualModels,
): Promise<{ lpips: number | null; clip_similarity: number | null }> {
  return {
    lpips: models.lpips ? await lpipsDistance(models.lpips, gt, test) : null,
    clip_similarity: models.clip ? await clipSimilarity(models.clip, gt, test) : null,
  };
}
