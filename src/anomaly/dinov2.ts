/**
 * DINOv2 ViT (Oquab et al., "DINOv2: Learning Robust Visual Features without Supervision", arXiv:2304.07193) as
 * a differentiable TensorFlow.js feature map, the extractor of the Anomaly Score paper (the official code runs
 * torch.hub `dinov2_vits14` on [0,1] images at 224² and takes its output: the CLS token after the final
 * LayerNorm, 384-d). Re-implemented from the architecture; weights come only from a file the user supplies:
 * the Hugging Face `facebook/dinov2-small` model.safetensors (names `embeddings.*`, `encoder.layer.N.*`,
 * `layernorm.*`) or a safetensors conversion of the torch.hub checkpoint (names `patch_embed.*`, `blocks.N.*`,
 * `norm.*`). The size (width, depth, patch, MLP width, position grid) is read from the tensor shapes; the head
 * count is width / 64 (every DINOv2 model) unless a `config.json` next to the file says otherwise.
 *
 * Graph (pre-norm ViT with layer scale):
 *   tokens = [cls, patches · Wp + bp] + pos            (patch 14, stride 14, as a matmul over the patch pixels)
 *   x += ls1 ⊙ Attn(LN1(x));  x += ls2 ⊙ MLP(LN2(x))   (LayerNorm eps 1e-6; MLP = fc2(GELU_erf(fc1)))
 *   feature = LN(x)[CLS]
 * Position embeddings are resized to the input's patch grid as torch.hub DINOv2 does: bicubic (A = -0.75),
 * align_corners false, no antialiasing, with the scale factor (g + 0.1) / M (M = stored grid, g = new grid);
 * `interpolateOffset: 0` gives the size-based resize of newer Hugging Face versions (scale g / M).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import type { Tf } from '../tf/backend.ts';
import type { FeatureExtractor } from './extractor.ts';
import { type SafeTensor, readSafetensors } from './safetensors.ts';

/** Architecture of a DINOv2 ViT. */
export interface DinoV2Config {
  patchSize: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  mlpHidden: number;
  /** Side of the stored position-embedding grid (37 for the released 518² models). */
  posGrid: number;
  layerNormEps: number;
  /** Input size in pixels (a multiple of patchSize). Default 224, as the paper. */
  inputSize: number;
  /** 0.1 (torch.hub DINOv2, default) or 0 (newer Hugging Face: resize to the size). */
  interpolateOffset: number;
  /** Normalise [0,1] inputs by the ImageNet mean/std first. Default false: the official AS code feeds [0,1]. */
  imagenetNormalize: boolean;
}

/** Weights in matmul layout (row-major [in, out]); torch Linear weights are [out, in]. */
export interface DinoV2Weights {
  config: DinoV2Config;
  /** [p·p·3, D]; row index (kh·p + kw)·3 + c. */
  patchW: Float32Array;
  patchB: Float32Array;
  cls: Float32Array;
  /** [1 + M², D] as stored (CLS row first). */
  pos: Float32Array;
  blocks: DinoV2Block[];
  normW: Float32Array;
  normB: Float32Array;
}

export interface DinoV2Block {
  norm1W: Float32Array;
  norm1B: Float32Array;
  /** [D, D] each, [in, out]. */
  qW: Float32Array;
  qB: Float32Array;
  kW: Float32Array;
  kB: Float32Array;
  vW: Float32Array;
  vB: Float32Array;
  projW: Float32Array;
  projB: Float32Array;
  ls1: Float32Array;
  norm2W: Float32Array;
  norm2B: Float32Array;
  /** [D, F] and [F, D]. */
  fc1W: Float32Array;
  fc1B: Float32Array;
  fc2W: Float32Array;
  fc2B: Float32Array;
  ls2: Float32Array;
}

/** [out, in] (torch Linear) -> [in, out]. */
export function transposeLinear(w: Float32Array, out: number, inp: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
  return t;
}

const HUB_TO_HF: [RegExp, string][] = [
  [/^cls_token$/, 'embeddings.cls_token'],
  [/^mask_token$/, 'embeddings.mask_token'],
  [/^pos_embed$/, 'embeddings.position_embeddings'],
  [/^patch_embed\.proj\.(weight|bias)$/, 'embeddings.patch_embeddings.projection.$1'],
  [/^norm\.(weight|bias)$/, 'layernorm.$1'],
  [/^blocks\.(\d+)\.ls([12])\.gamma$/, 'encoder.layer.$1.layer_scale$2.lambda1'],
  [/^blocks\.(\d+)\.attn\.proj\.(weight|bias)$/, 'encoder.layer.$1.attention.output.dense.$2'],
  [/^blocks\.(\d+)\.(norm[12]|mlp\.fc[12])\.(weight|bias)$/, 'encoder.layer.$1.$2.$3'],
];

/** Tensors under Hugging Face names: hub names mapped, a `dinov2.` prefix dropped, hub qkv split in three. */
function hfNames(tensors: Map<string, SafeTensor>): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const [raw, t] of tensors) {
    const k = raw.replace(/^dinov2\./, '');
    const qkv = /^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$/.exec(k);
    if (qkv) {
      const part = t.data.length / 3;
      ['query', 'key', 'value'].forEach((n, i) =>
        out.set(`encoder.layer.${qkv[1]}.attention.attention.${n}.${qkv[2]}`, {
          dtype: t.dtype,
          shape: qkv[2] === 'weight' ? [t.shape[0]! / 3, t.shape[1]!] : [t.shape[0]! / 3],
          data: t.data.subarray(i * part, (i + 1) * part),
        }),
      );
      continue;
    }
    const rule = HUB_TO_HF.find(([re]) => re.test(k));
    out.set(rule ? k.replace(rule[0], rule[1]) : k, t);
  }
  return out;
}

/**
 * Build the weights from safetensors tensors.
 * @param overrides config fields to force (e.g. heads from config.json, inputSize).
 * @throws BlindspotError E_CORRUPT naming `file` when a tensor is missing or has the wrong shape.
 */
export function dinov2WeightsFromTensors(
  tensors: Map<string, SafeTensor>,
  file: string,
  overrides: Partial<DinoV2Config> = {},
): DinoV2Weights {
  const t = hfNames(tensors);
  const get = (name: string, shape: number[]): Float32Array => {
    const x = t.get(name);
    if (!x) throw new BlindspotError('E_CORRUPT', `not a DINOv2 checkpoint: no tensor "${name}"`, file);
    const want = shape.reduce((a, b) => a * b, 1);
    if (x.data.length !== want)
      throw new BlindspotError(
        'E_CORRUPT',
        `DINOv2 tensor "${name}" has shape [${x.shape.join(', ')}], expected [${shape.join(', ')}]`,
        file,
      );
    return x.data;
  };
  const proj = t.get('embeddings.patch_embeddings.projection.weight');
  if (!proj || proj.shape.length !== 4)
    throw new BlindspotError('E_CORRUPT', 'not a DINOv2 checkpoint: no 4-D patch projection weight', file);
  const [D, C, p] = proj.shape as [number, number, number, number];
  if (C !== 3)
    throw new BlindspotError('E_CORRUPT', `DINOv2 patch projection takes ${C} channels, not 3`, file);
  let layers = 0;
  while (t.has(`encoder.layer.${layers}.norm1.weight`)) layers++;
  const fc1 = t.get('encoder.layer.0.mlp.fc1.weight');
  const posLen = t.get('embeddings.position_embeddings')?.data.length ?? 0;
  const M = Math.round(Math.sqrt(posLen / D - 1));
  const config: DinoV2Config = {
    patchSize: p,
    hiddenSize: D,
    layers,
    heads: Math.max(1, Math.round(D / 64)),
    mlpHidden: fc1 ? fc1.shape[0]! : 4 * D,
    posGrid: M,
    layerNormEps: 1e-6,
    inputSize: 224,
    interpolateOffset: 0.1,
    imagenetNormalize: false,
    ...overrides,
  };
  const { heads, mlpHidden: F } = config;
  if (layers === 0 || D % heads !== 0 || M * M * D + D !== posLen)
    throw new BlindspotError(
      'E_CORRUPT',
      `DINOv2 checkpoint has an unusable shape (D ${D}, ${layers} layers, ${heads} heads, position table ${posLen})`,
      file,
    );
  // torch [D, 3, p, p] -> [(kh p + kw) 3 + c, D]
  const w = get('embeddings.patch_embeddings.projection.weight', [D, 3, p, p]);
  const patchW = new Float32Array(p * p * 3 * D);
  for (let d = 0; d < D; d++)
    for (let c = 0; c < 3; c++)
      for (let kh = 0; kh < p; kh++)
        for (let kw = 0; kw < p; kw++)
          patchW[((kh * p + kw) * 3 + c) * D + d] = w[((d * 3 + c) * p + kh) * p + kw]!;
  const lin = (name: string, out: number, inp: number) =>
    transposeLinear(get(`${name}.weight`, [out, inp]), out, inp);
  const blocks: DinoV2Block[] = [];
  for (let i = 0; i < layers; i++) {
    const b = `encoder.layer.${i}`;
    const a = `${b}.attention.attention`;
    blocks.push({
      norm1W: get(`${b}.norm1.weight`, [D]),
      norm1B: get(`${b}.norm1.bias`, [D]),
      qW: lin(`${a}.query`, D, D),
      qB: get(`${a}.query.bias`, [D]),
      kW: lin(`${a}.key`, D, D),
      kB: get(`${a}.key.bias`, [D]),
      vW: lin(`${a}.value`, D, D),
      vB: get(`${a}.value.bias`, [D]),
      projW: lin(`${b}.attention.output.dense`, D, D),
      projB: get(`${b}.attention.output.dense.bias`, [D]),
      ls1: get(`${b}.layer_scale1.lambda1`, [D]),
      norm2W: get(`${b}.norm2.weight`, [D]),
      norm2B: get(`${b}.norm2.bias`, [D]),
      fc1W: lin(`${b}.mlp.fc1`, F, D),
      fc1B: get(`${b}.mlp.fc1.bias`, [F]),
      fc2W: lin(`${b}.mlp.fc2`, D, F),
      fc2B: get(`${b}.mlp.fc2.bias`, [D]),
      ls2: get(`${b}.layer_scale2.lambda1`, [D]),
    });
  }
  return {
    config,
    patchW,
    patchB: get('embeddings.patch_embeddings.projection.bias', [D]),
    cls: get('embeddings.cls_token', [D]),
    pos: get('embeddings.position_embeddings', [1 + M * M, D]),
    blocks,
    normW: get('layernorm.weight', [D]),
    normB: get('layernorm.bias', [D]),
  };
}

/** PyTorch's bicubic kernel (A = -0.75) weights for the 4 taps around a fractional offset t in [0, 1). */
function cubicWeights(t: number): [number, number, number, number] {
  const A = -0.75;
  const near = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const far = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * Resize the position table to a g x g patch grid (see the module comment), in float64.
 * @param pos [1 + M², D] with the CLS row first.
 * @returns [1 + g², D]; the table itself when g = M.
 */
export function interpolatePositions(
  pos: Float32Array,
  M: number,
  D: number,
  g: number,
  offset: number,
): Float32Array {
  if (g === M) return pos;
  // torch: with a scale factor s the source coordinate is (dst + 0.5) / s - 0.5; s = (g + offset) / M.
  const inv = M / (g + offset);
  const out = new Float32Array((1 + g * g) * D);
  out.set(pos.subarray(0, D));
  const taps = Array.from({ length: g }, (_, o) => {
    const src = (o + 0.5) * inv - 0.5;
    const i0 = Math.floor(src);
    const w = cubicWeights(src - i0);
    const idx = [i0 - 1, i0, i0 + 1, i0 + 2].map((i) => Math.min(M - 1, Math.max(0, i)));
    return { w, idx };
  });
  const acc = new Float64Array(D);
  for (let oy = 0; oy < g; oy++) {
    for (let ox = 0; ox < g; ox++) {
      acc.fill(0);
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const wt = taps[oy]!.w[a]! * taps[ox]!.w[b]!;
          const row = 1 + taps[oy]!.idx[a]! * M + taps[ox]!.idx[b]!;
          for (let d = 0; d < D; d++) acc[d]! += wt * pos[row * D + d]!;
        }
      }
      out.set(acc, (1 + oy * g + ox) * D);
    }
  }
  return out;
}

/** Images per forward chunk (see `createDinoV2`). */
const CHUNK = 2;

/** A DINOv2 forward as TF.js ops: [B, S, S, 3] in [0,1] -> [B, D] (CLS after the final LayerNorm). */
export interface DinoV2Model {
  readonly config: DinoV2Config;
  apply(x: TfTypes.Tensor4D): TfTypes.Tensor2D;
  dispose(): void;
}

/**
 * Build the TF.js graph over `weights` (weights are uploaded once as constants; only the input is
 * differentiated).
 * @throws BlindspotError E_INVALID_OPTION when the input size is not a multiple of the patch size.
 */
export function createDinoV2(tf: Tf, weights: DinoV2Weights): DinoV2Model {
  const c = weights.config;
  const { patchSize: p, hiddenSize: D, heads: H, inputSize: S, mlpHidden: F } = c;
  if (!Number.isInteger(S / p) || S < p)
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `DINOv2 input size ${S} is not a multiple of the patch size ${p}`,
    );
  const g = S / p;
  const T = 1 + g * g;
  const hd = D / H;
  const owned: TfTypes.Tensor[] = [];
  const k = <R extends TfTypes.Rank>(data: Float32Array, shape: number[]): TfTypes.Tensor<R> => {
    const t = tf.tensor(data, shape as number[]) as unknown as TfTypes.Tensor<R>;
    owned.push(t);
    return t;
  };
  /**
   * x [N, in] · W [in, out] + b, differentiated in x only, with Wᵀ kept as a second constant: tfjs-backend-wasm
   * 4.22's matmul with a transposed operand (what the stock gradient dy · Wᵀ calls) is several times slower
   * than a plain one on cached constant weights.
   */
  const lin = (w: Float32Array, inp: number, out: number, bias: Float32Array) => {
    const wT = k<TfTypes.Rank.R2>(w, [inp, out]);
    const wtT = k<TfTypes.Rank.R2>(transposeLinear(w, inp, out), [out, inp]);
    const bT = k(bias, [out]);
    const f = tf.customGrad((x) => ({
      value: tf.add(tf.matMul(x as TfTypes.Tensor2D, wT), bT),
      gradFunc: (dy) => tf.matMul(dy as TfTypes.Tensor2D, wtT),
    }));
    return (x: TfTypes.Tensor2D) => f(x) as TfTypes.Tensor2D;
  };
  /** a · b for 2-D tensors, with a gradient of plain matmuls over explicit transposes (see `lin`). */
  const mm = tf.customGrad((a, b, save) => {
    (save as TfTypes.GradSaveFunc)([a as TfTypes.Tensor, b as TfTypes.Tensor]);
    return {
      value: tf.matMul(a as TfTypes.Tensor2D, b as TfTypes.Tensor2D),
      gradFunc: (dy, saved) => [
        tf.matMul(dy as TfTypes.Tensor2D, tf.transpose(saved[1]!) as TfTypes.Tensor2D),
        tf.matMul(tf.transpose(saved[0]!) as TfTypes.Tensor2D, dy as TfTypes.Tensor2D),
      ],
    };
  }) as (a: TfTypes.Tensor, b: TfTypes.Tensor) => TfTypes.Tensor2D;
  const patchLin = lin(weights.patchW, p * p * 3, D, weights.patchB);
  const cls = k(weights.cls, [1, 1, D]);
  const pos = k(interpolatePositions(weights.pos, c.posGrid, D, g, c.interpolateOffset), [1, T, D]);
  const blocks = weights.blocks.map((b) => ({
    n1w: k(b.norm1W, [D]),
    n1b: k(b.norm1B, [D]),
    q: lin(b.qW, D, D, b.qB),
    kk: lin(b.kW, D, D, b.kB),
    v: lin(b.vW, D, D, b.vB),
    proj: lin(b.projW, D, D, b.projB),
    ls1: k(b.ls1, [D]),
    n2w: k(b.norm2W, [D]),
    n2b: k(b.norm2B, [D]),
    fc1: lin(b.fc1W, D, F, b.fc1B),
    fc2: lin(b.fc2W, F, D, b.fc2B),
    ls2: k(b.ls2, [D]),
  }));
  const normW = k(weights.normW, [D]);
  const normB = k(weights.normB, [D]);
  const mean = k(new Float32Array([0.485, 0.456, 0.406]), [3]);
  const std = k(new Float32Array([0.229, 0.224, 0.225]), [3]);

  const layerNorm = (x: TfTypes.Tensor, w: TfTypes.Tensor, b: TfTypes.Tensor) => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, c.layerNormEps))), w), b);
  };
  const SQRT1_2 = Math.SQRT1_2;
  const gelu = (x: TfTypes.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1));

  const applyChunk = (x: TfTypes.Tensor4D): TfTypes.Tensor2D => {
    const B = x.shape[0];
    const xin = c.imagenetNormalize ? tf.div(tf.sub(x, mean), std) : x;
    // Non-overlapping p x p patches as rows of p·p·3 pixels, ordered (kh, kw, c).
    const rows = tf.reshape(tf.transpose(tf.reshape(xin, [B * g, p, g, p * 3]), [0, 2, 1, 3]), [
      B * g * g,
      p * p * 3,
    ]) as TfTypes.Tensor2D;
    const patches = tf.reshape(patchLin(rows), [B, g * g, D]);
    let h: TfTypes.Tensor = tf.add(tf.concat([tf.tile(cls, [B, 1, 1]), patches], 1), pos);
    // [B·T, D] -> B·H tensors [T, hd] (one 2-D matmul per image and head: faster than batched ones here).
    // tfjs 4.22's Unpack gradient fails for a single output (it stacks a bare tensor), hence the B·H = 1 case.
    const heads = (t: TfTypes.Tensor2D): TfTypes.Tensor[] =>
      B * H === 1
        ? [tf.reshape(t, [T, hd])]
        : tf.unstack(tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]));
    for (const bl of blocks) {
      const n1 = tf.reshape(layerNorm(h, bl.n1w, bl.n1b), [B * T, D]) as TfTypes.Tensor2D;
      const q = heads(bl.q(n1));
      const kk = heads(bl.kk(n1));
      const v = heads(bl.v(n1));
      const outs = q.map((qi, i) => {
        const att = tf.softmax(tf.mul(mm(qi, tf.transpose(kk[i]!)), 1 / Math.sqrt(hd)));
        return mm(att, v[i]!);
      });
      const ctx = tf.reshape(
        tf.transpose(tf.reshape(outs.length === 1 ? outs[0]! : tf.stack(outs), [B, H, T, hd]), [0, 2, 1, 3]),
        [B * T, D],
      ) as TfTypes.Tensor2D;
      h = tf.add(h, tf.mul(tf.reshape(bl.proj(ctx), [B, T, D]), bl.ls1));
      const n2 = tf.reshape(layerNorm(h, bl.n2w, bl.n2b), [B * T, D]) as TfTypes.Tensor2D;
      const mlp = bl.fc2(gelu(bl.fc1(n2)) as TfTypes.Tensor2D);
      h = tf.add(h, tf.mul(tf.reshape(mlp, [B, T, D]), bl.ls2));
    }
    // Only the CLS row is the feature: normalise it alone (LayerNorm is per token).
    const clsOut = tf.reshape(tf.slice(h, [0, 0, 0], [B, 1, D]), [B, D]);
    return layerNorm(clsOut, normW, normB) as TfTypes.Tensor2D;
  };
  // Chunks of 2 images: per image, a batch of 11 ran 1.8x slower than batches of 2 (wasm, measured).
  const apply = (x: TfTypes.Tensor4D): TfTypes.Tensor2D => {
    const B = x.shape[0];
    if (B <= CHUNK) return applyChunk(x);
    const sizes = Array.from({ length: Math.ceil(B / CHUNK) }, (_, i) => Math.min(CHUNK, B - i * CHUNK));
    return tf.concat(
      tf.split(x, sizes).map((part) => applyChunk(part as TfTypes.Tensor4D)),
    ) as TfTypes.Tensor2D;
  };
  return {
    config: c,
    apply,
    dispose: () => {
      for (const t of owned) t.dispose();
    },
  };
}

/** `config.json` fields (Hugging Face) that the loader reads when the file sits next to the weights. */
function readHfConfig(file: string): Partial<DinoV2Config> {
  const cfgPath = join(dirname(file), 'config.json');
  if (!existsSync(cfgPath)) return {};
  let j: { num_attention_heads?: unknown; layer_norm_eps?: unknown; hidden_act?: unknown };
  try {
    j = JSON.parse(readFileSync(cfgPath, 'utf8')) as typeof j;
  } catch {
    throw new BlindspotError('E_CORRUPT', 'config.json is not valid JSON', cfgPath);
  }
  if (j.hidden_act !== undefined && j.hidden_act !== 'gelu')
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `hidden_act ${JSON.stringify(j.hidden_act)}; only "gelu" (DINOv2 ViT-S/B/L)`,
      cfgPath,
    );
  const out: Partial<DinoV2Config> = {};
  if (typeof j.num_attention_heads === 'number') out.heads = j.num_attention_heads;
  if (typeof j.layer_norm_eps === 'number') out.layerNormEps = j.layer_norm_eps;
  return out;
}

/**
 * Load a DINOv2 extractor from a safetensors file (`--extractor dinov2:PATH`).
 * @param overrides config fields to force (tests use small configs; `inputSize` defaults to 224).
 * @throws BlindspotError E_UNREADABLE / E_CORRUPT for the file, E_UNSUPPORTED for a non-GELU config.
 */
export async function loadDinoV2Extractor(
  tf: Tf,
  file: string,
  overrides: Partial<DinoV2Config> = {},
): Promise<FeatureExtractor> {
  const st = await readSafetensors(file);
  const weights = dinov2WeightsFromTensors(st.tensors, file, { ...readHfConfig(file), ...overrides });
  const model = createDinoV2(tf, weights);
  const c = model.config;
  return {
    name: `dinov2-vit${c.hiddenSize === 384 ? 's' : c.hiddenSize === 768 ? 'b' : c.hiddenSize === 1024 ? 'l' : `-${c.hiddenSize}d-`}${c.patchSize}`,
    inputSize: c.inputSize,
    channels: 3,
    featureSize: c.hiddenSize,
    weightsSha256: createHash('sha256').update(st.bytes).digest('hex'),
    source: basename(file),
    apply: (x) => model.apply(x),
    dispose: () => model.dispose(),
  };
}
