/**
 * DINOv2 ViT extractor against an independent float64 implementation written here from the architecture
 * (torch-layout weights, convolution for the patch embedding, per-head attention loops, erf from its series and
 * continued fraction, separable bicubic position resize): random weights at a small config (patch 14, 32 dims,
 * 2 heads via config.json, 2 blocks, MLP 48, 3x3 position grid resized to 16x16) are written as safetensors
 * (Hugging Face names, and torch.hub names with a fused qkv); the TF.js forward must match to 1e-4 relative and
 * its input gradient must match central finite differences of the float64 forward. Plus the full ViT-S/14 shape
 * (384-d, 12 blocks, 6 heads, 37x37 positions) loaded from an F16 file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { initTf } from '../../src/tf/backend.ts';
import { loadExtractor } from '../../src/anomaly/extractor.ts';
import { interpolatePositions } from '../../src/anomaly/dinov2.ts';
import { createRng } from '../../src/anomaly/rng.ts';
import { BlindspotError } from '../../src/errors.ts';
import { encodeSafetensors, type TestDtype, type TestTensor } from '../helpers/safetensors.ts';

const tf = await initTf('wasm');
const root = await mkdtemp(join(tmpdir(), 'anomaly-dinov2-'));
after(() => rm(root, { recursive: true, force: true }));

interface Cfg {
  p: number;
  D: number;
  H: number;
  L: number;
  F: number;
  M: number;
  S: number;
}
type W = Record<string, { shape: number[]; data: Float32Array }>;

/** Random torch-layout weights under Hugging Face names. */
function randomWeights(c: Cfg, seed: number): W {
  const r = createRng(seed, 'dinov2-test');
  const u = (n: number, a: number, centre = 0) =>
    Float32Array.from({ length: n }, () => centre + a * (2 * r.uniform() - 1));
  const w: W = {};
  const set = (name: string, shape: number[], a: number, centre = 0) =>
    (w[name] = {
      shape,
      data: u(
        shape.reduce((x, y) => x * y, 1),
        a,
        centre,
      ),
    });
  set('embeddings.cls_token', [1, 1, c.D], 0.5);
  set('embeddings.mask_token', [1, c.D], 0.1);
  set('embeddings.position_embeddings', [1, 1 + c.M * c.M, c.D], 0.5);
  set('embeddings.patch_embeddings.projection.weight', [c.D, 3, c.p, c.p], 1.5 / Math.sqrt(3 * c.p * c.p));
  set('embeddings.patch_embeddings.projection.bias', [c.D], 0.1);
  for (let i = 0; i < c.L; i++) {
    const b = `encoder.layer.${i}`;
    for (const n of ['norm1', 'norm2']) {
      set(`${b}.${n}.weight`, [c.D], 0.2, 1);
      set(`${b}.${n}.bias`, [c.D], 0.1);
    }
    for (const n of ['query', 'key', 'value']) {
      set(`${b}.attention.attention.${n}.weight`, [c.D, c.D], 2 / Math.sqrt(c.D));
      set(`${b}.attention.attention.${n}.bias`, [c.D], 0.1);
    }
    set(`${b}.attention.output.dense.weight`, [c.D, c.D], 1.5 / Math.sqrt(c.D));
    set(`${b}.attention.output.dense.bias`, [c.D], 0.1);
    set(`${b}.layer_scale1.lambda1`, [c.D], 0.5, 1);
    set(`${b}.layer_scale2.lambda1`, [c.D], 0.5, 1);
    set(`${b}.mlp.fc1.weight`, [c.F, c.D], 1.5 / Math.sqrt(c.D));
    set(`${b}.mlp.fc1.bias`, [c.F], 0.2);
    set(`${b}.mlp.fc2.weight`, [c.D, c.F], 1.5 / Math.sqrt(c.F));
    set(`${b}.mlp.fc2.bias`, [c.D], 0.1);
  }
  set('layernorm.weight', [c.D], 0.2, 1);
  set('layernorm.bias', [c.D], 0.1);
  return w;
}

/** The same weights under torch.hub names (qkv fused along the output axis). */
function hubNames(w: W, L: number): W {
  const out: W = {};
  const ren: [RegExp, string][] = [
    [/^embeddings\.cls_token$/, 'cls_token'],
    [/^embeddings\.mask_token$/, 'mask_token'],
    [/^embeddings\.position_embeddings$/, 'pos_embed'],
    [/^embeddings\.patch_embeddings\.projection\./, 'patch_embed.proj.'],
    [/^layernorm\./, 'norm.'],
    [/^encoder\.layer\.(\d+)\.layer_scale(\d)\.lambda1$/, 'blocks.$1.ls$2.gamma'],
    [/^encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'blocks.$1.attn.proj.'],
    [/^encoder\.layer\.(\d+)\.(norm\d|mlp)/, 'blocks.$1.$2'],
  ];
  for (const [k, v] of Object.entries(w)) {
    if (k.includes('.attention.attention.')) continue;
    const rule = ren.find(([re]) => re.test(k));
    out[rule ? k.replace(rule[0], rule[1]) : k] = v;
  }
  for (let i = 0; i < L; i++) {
    for (const part of ['weight', 'bias']) {
      const qkv = ['query', 'key', 'value'].map(
        (n) => w[`encoder.layer.${i}.attention.attention.${n}.${part}`]!,
      );
      const data = new Float32Array(qkv.reduce((a, t) => a + t.data.length, 0));
      qkv.forEach((t, j) => data.set(t.data, j * t.data.length));
      out[`blocks.${i}.attn.qkv.${part}`] = {
        shape: [3 * qkv[0]!.shape[0]!, ...qkv[0]!.shape.slice(1)],
        data,
      };
    }
  }
  return out;
}

async function writeWeights(dir: string, w: W, dtype: TestDtype = 'F32', config?: object): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  const tensors: Record<string, TestTensor> = {};
  for (const [k, v] of Object.entries(w)) tensors[k] = { ...v, dtype };
  const file = join(dir, 'model.safetensors');
  await writeFile(file, encodeSafetensors(tensors));
  if (config) await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return file;
}

// ---- float64 reference ----------------------------------------------------------------------------------------

function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    // Maclaurin series: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = a;
    let s = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const t = term / (2 * n + 1);
      s += t;
      if (Math.abs(t) < 1e-17 * Math.abs(s)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    // Laplace continued fraction for erfc, evaluated from the tail.
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  }
  return x < 0 ? -r : r;
}

function cubicKernel(x: number): number {
  const a = -0.75;
  const t = Math.abs(x);
  if (t <= 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
  if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
  return 0;
}

/** Resize one axis of a [n][m] grid of D-vectors to g samples along axis 0 (torch bicubic, scale given). */
function resizeAxis(grid: Float64Array[][], g: number, scale: number): Float64Array[][] {
  const n = grid.length;
  return Array.from({ length: g }, (_, o) => {
    const src = (o + 0.5) / scale - 0.5;
    const f = Math.floor(src);
    return grid[0]!.map((_, col) => {
      const acc = new Float64Array(grid[0]![0]!.length);
      for (let j = f - 1; j <= f + 2; j++) {
        const wgt = cubicKernel(src - j);
        const row = grid[Math.min(n - 1, Math.max(0, j))]!;
        for (let d = 0; d < acc.length; d++) acc[d]! += wgt * row[col]![d]!;
      }
      return acc;
    });
  });
}
const transpose = <T>(g: T[][]): T[][] => g[0]!.map((_, j) => g.map((row) => row[j]!));

function refPositions(pos: Float32Array, M: number, D: number, g: number, offset: number): Float64Array[] {
  const grid = Array.from({ length: M }, (_, y) =>
    Array.from({ length: M }, (_, x) =>
      Float64Array.from(pos.subarray((1 + y * M + x) * D, (2 + y * M + x) * D)),
    ),
  );
  const cls = Float64Array.from(pos.subarray(0, D));
  if (g === M) return [cls, ...grid.flat()];
  const s = (g + offset) / M;
  const rows = resizeAxis(grid, g, s); // along y
  const both = transpose(resizeAxis(transpose(rows), g, s)); // along x
  return [cls, ...both.flat()];
}

function layerNorm(x: Float64Array, w: Float32Array, b: Float32Array, eps = 1e-6): Float64Array {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  const inv = 1 / Math.sqrt(s / x.length + eps);
  return x.map((v, i) => (v - m) * inv * w[i]! + b[i]!);
}
/** torch Linear: W [out, in]. */
function linear(x: Float64Array, W: Float32Array, b: Float32Array, out: number): Float64Array {
  const inp = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b[o]!;
    for (let i = 0; i < inp; i++) s += W[o * inp + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** Reference forward of one HWC image in [0,1]: the CLS token after the final LayerNorm. */
function refForward(w: W, c: Cfg, img: Float64Array | Float32Array, offset = 0.1): Float64Array {
  const g = c.S / c.p;
  const pw = w['embeddings.patch_embeddings.projection.weight']!.data;
  const pb = w['embeddings.patch_embeddings.projection.bias']!.data;
  const pos = refPositions(w['embeddings.position_embeddings']!.data, c.M, c.D, g, offset);
  let x: Float64Array[] = [Float64Array.from(w['embeddings.cls_token']!.data)];
  for (let gy = 0; gy < g; gy++) {
    for (let gx = 0; gx < g; gx++) {
      const t = new Float64Array(c.D);
      for (let d = 0; d < c.D; d++) {
        let s = pb[d]!;
        for (let ch = 0; ch < 3; ch++)
          for (let kh = 0; kh < c.p; kh++)
            for (let kw = 0; kw < c.p; kw++)
              s +=
                pw[((d * 3 + ch) * c.p + kh) * c.p + kw]! *
                img[((gy * c.p + kh) * c.S + gx * c.p + kw) * 3 + ch]!;
        t[d] = s;
      }
      x.push(t);
    }
  }
  x = x.map((t, i) => t.map((v, d) => v + pos[i]![d]!));
  const hd = c.D / c.H;
  for (let l = 0; l < c.L; l++) {
    const P = (n: string) => w[`encoder.layer.${l}.${n}`]!.data;
    const n1 = x.map((t) => layerNorm(t, P('norm1.weight'), P('norm1.bias')));
    const q = n1.map((t) =>
      linear(t, P('attention.attention.query.weight'), P('attention.attention.query.bias'), c.D),
    );
    const k = n1.map((t) =>
      linear(t, P('attention.attention.key.weight'), P('attention.attention.key.bias'), c.D),
    );
    const v = n1.map((t) =>
      linear(t, P('attention.attention.value.weight'), P('attention.attention.value.bias'), c.D),
    );
    const ctx = x.map(() => new Float64Array(c.D));
    for (let h = 0; h < c.H; h++) {
      for (let i = 0; i < x.length; i++) {
        const sc = x.map((_, j) => {
          let s = 0;
          for (let d = h * hd; d < (h + 1) * hd; d++) s += q[i]![d]! * k[j]![d]!;
          return s / Math.sqrt(hd);
        });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++)
          for (let d = h * hd; d < (h + 1) * hd; d++) ctx[i]![d]! += (e[j]! / z) * v[j]![d]!;
      }
    }
    x = x.map((t, i) => {
      const a = linear(ctx[i]!, P('attention.output.dense.weight'), P('attention.output.dense.bias'), c.D);
      return t.map((val, d) => val + P('layer_scale1.lambda1')[d]! * a[d]!);
    });
    x = x.map((t) => {
      const n2 = layerNorm(t, P('norm2.weight'), P('norm2.bias'));
      const h1 = linear(n2, P('mlp.fc1.weight'), P('mlp.fc1.bias'), c.F).map(
        (u) => 0.5 * u * (1 + erf(u / Math.SQRT2)),
      );
      const h2 = linear(h1, P('mlp.fc2.weight'), P('mlp.fc2.bias'), c.D);
      return t.map((val, d) => val + P('layer_scale2.lambda1')[d]! * h2[d]!);
    });
  }
  return layerNorm(x[0]!, w['layernorm.weight']!.data, w['layernorm.bias']!.data);
}

// ---- tests -----------------------------------------------------------------------------------------------------

const SMALL: Cfg = { p: 14, D: 32, H: 2, L: 2, F: 48, M: 3, S: 224 };
const weights = randomWeights(SMALL, 1);
const hfFile = await writeWeights(join(root, 'hf'), weights, 'F32', {
  num_attention_heads: 2,
  layer_norm_eps: 1e-6,
  hidden_act: 'gelu',
});
const img = (seed: number) => {
  const r = createRng(seed, 'img');
  return Float32Array.from({ length: SMALL.S * SMALL.S * 3 }, () => r.uniform());
};

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

test('DINOv2 small config: TF.js forward equals the float64 reference (<= 1e-4 relative), HF and hub names alike', async () => {
  const ex = await loadExtractor(tf, `dinov2:${hfFile}`);
  const hubFile = await writeWeights(join(root, 'hub'), hubNames(weights, SMALL.L), 'F32', {
    num_attention_heads: 2,
  });
  const hub = await loadExtractor(tf, `dinov2:${hubFile}`);
  try {
    assert.equal(ex.featureSize, 32);
    assert.equal(ex.inputSize, 224);
    assert.equal(ex.channels, 3);
    assert.match(ex.weightsSha256, /^[0-9a-f]{64}$/);
    // Three images: the model runs batches in chunks of 2, so this covers a split batch.
    const xs = [img(1), img(2), img(5)];
    const batch = new Float32Array(3 * xs[0]!.length);
    xs.forEach((x, i) => batch.set(x, i * x.length));
    const out = tf.tidy(() => ex.apply(tf.tensor4d(batch, [3, 224, 224, 3])));
    const outHub = tf.tidy(() => hub.apply(tf.tensor4d(batch, [3, 224, 224, 3])));
    const got = out.dataSync();
    assert.deepEqual(out.shape, [3, 32]);
    assert.deepEqual(Array.from(outHub.dataSync()), Array.from(got));
    out.dispose();
    outHub.dispose();
    for (const [i, x] of xs.entries()) {
      const ref = refForward(weights, SMALL, x);
      const rel = maxRel(got.subarray(i * 32, (i + 1) * 32), ref);
      assert.ok(rel <= 1e-4, `image ${i}: max relative error ${rel}`);
    }
    // A different image gives a different feature (the input reaches the output).
    assert.ok(maxRel(got.subarray(0, 32), got.subarray(32, 64)) > 1e-2);
  } finally {
    ex.dispose();
    hub.dispose();
  }
});

test('DINOv2 input gradient matches central finite differences of the float64 reference', async () => {
  const ex = await loadExtractor(tf, `dinov2:${hfFile}`);
  try {
    const x = img(3);
    const r = createRng(9, 'dir');
    const dir = Float64Array.from({ length: 32 }, () => r.normal());
    const dirT = tf.tensor1d(Float32Array.from(dir));
    const lossOf = (t: TfTypes.Tensor) => tf.sum(tf.mul(ex.apply(t as TfTypes.Tensor4D), dirT));
    const grad = tf.tidy(() => tf.grad(lossOf)(tf.tensor4d(x, [1, 224, 224, 3])));
    const g = grad.dataSync();
    grad.dispose();
    dirT.dispose();
    const loss = (v: Float64Array) => refForward(weights, SMALL, v).reduce((a, f, d) => a + f * dir[d]!, 0);
    const pr = createRng(5, 'pixels');
    const picks = Array.from({ length: 6 }, () => Math.floor(pr.uniform() * x.length));
    let gmax = 0;
    for (const i of picks) gmax = Math.max(gmax, Math.abs(g[i]!));
    assert.ok(gmax > 0, 'gradient is zero at the checked pixels');
    const h = 1e-4;
    for (const i of picks) {
      const up = Float64Array.from(x);
      const dn = Float64Array.from(x);
      up[i]! += h;
      dn[i]! -= h;
      const fd = (loss(up) - loss(dn)) / (2 * h);
      assert.ok(
        Math.abs(fd - g[i]!) <= 2e-3 * gmax + 1e-6,
        `pixel ${i}: TF.js ${g[i]} vs finite difference ${fd}`,
      );
    }
  } finally {
    ex.dispose();
  }
});

test('DINOv2 gradients of a split batch (3 images, chunks of 2) and of a one-head model equal per-image gradients', async () => {
  // 64 dims without config.json: one head (width / 64). Batch 3 runs as chunks of 2 and 1.
  const one: Cfg = { p: 14, D: 64, H: 1, L: 1, F: 64, M: 2, S: 224 };
  const ex = await loadExtractor(
    tf,
    `dinov2:${await writeWeights(join(root, 'onehead'), randomWeights(one, 7))}`,
  );
  try {
    const xs = [img(6), img(7), img(8)];
    const batch = new Float32Array(3 * xs[0]!.length);
    xs.forEach((x, i) => batch.set(x, i * x.length));
    const gradOf = (data: Float32Array, b: number) =>
      tf.tidy(() =>
        tf.grad((t: TfTypes.Tensor) => tf.sum(ex.apply(t as TfTypes.Tensor4D)))(
          tf.tensor4d(data, [b, 224, 224, 3]),
        ),
      );
    const gb = gradOf(batch, 3);
    const all = gb.dataSync();
    gb.dispose();
    for (const [i, x] of xs.entries()) {
      const g1 = gradOf(x, 1);
      const single = g1.dataSync();
      g1.dispose();
      const rel = maxRel(all.subarray(i * x.length, (i + 1) * x.length), single);
      assert.ok(rel < 1e-5, `image ${i}: batched vs single gradient ${rel}`);
    }
  } finally {
    ex.dispose();
  }
});

test('position-embedding resize: torch-style bicubic 37 -> 16 (offset 0.1 and 0) equals the separable reference', () => {
  const M = 37;
  const D = 3;
  const r = createRng(4, 'pos');
  const pos = Float32Array.from({ length: (1 + M * M) * D }, () => r.normal());
  for (const offset of [0.1, 0]) {
    const got = interpolatePositions(pos, M, D, 16, offset);
    const ref = refPositions(pos, M, D, 16, offset).flatMap((v) => Array.from(v));
    assert.equal(got.length, ref.length);
    assert.ok(maxRel(got, ref) < 1e-6, `offset ${offset}: ${maxRel(got, ref)}`);
  }
  // The offset matters (the two torch/HF conventions differ), the stored grid is returned untouched, and a
  // constant table stays constant (the taps sum to 1).
  assert.ok(maxRel(interpolatePositions(pos, M, D, 16, 0.1), interpolatePositions(pos, M, D, 16, 0)) > 1e-3);
  assert.equal(interpolatePositions(pos, M, D, 37, 0.1), pos);
  const flat = interpolatePositions(new Float32Array((1 + M * M) * D).fill(0.25), M, D, 16, 0.1);
  for (const v of flat) assert.ok(Math.abs(v - 0.25) < 1e-7);
});

test('DINOv2 ViT-S/14 full size: 384-d CLS feature, 12 blocks, 6 heads, 37x37 positions', async () => {
  const full: Cfg = { p: 14, D: 384, H: 6, L: 12, F: 1536, M: 37, S: 224 };
  const file = await writeWeights(join(root, 'full'), randomWeights(full, 2), 'F32');
  const ex = await loadExtractor(tf, `dinov2:${file}`);
  try {
    assert.equal(ex.name, 'dinov2-vits14');
    assert.equal(ex.featureSize, 384);
    const y = tf.tidy(() => ex.apply(tf.tensor4d(img(4), [1, 224, 224, 3])));
    assert.deepEqual(y.shape, [1, 384]);
    assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
    y.dispose();
  } finally {
    ex.dispose();
  }
});

test('DINOv2 loader: a file that is not a DINOv2 checkpoint gives one E_CORRUPT line naming it', async () => {
  const file = join(root, 'other.safetensors');
  await writeFile(file, encodeSafetensors({ 'fc.weight': { shape: [2, 2], data: [1, 2, 3, 4] } }));
  await assert.rejects(
    loadExtractor(tf, `dinov2:${file}`),
    (e: unknown) =>
      e instanceof BlindspotError &&
      e.code === 'E_CORRUPT' &&
      e.message.startsWith(`${file}: not a DINOv2 checkpoint`),
  );
  const broken = { ...weights, 'encoder.layer.1.mlp.fc2.bias': { shape: [5], data: new Float32Array(5) } };
  const f2 = await writeWeights(join(root, 'broken'), broken, 'F32', { num_attention_heads: 2 });
  await assert.rejects(
    loadExtractor(tf, `dinov2:${f2}`),
    /encoder\.layer\.1\.mlp\.fc2\.bias" has shape \[5\], expected \[32\]/,
  );
  await assert.rejects(
    loadExtractor(tf, `dinov2:${join(root, 'missing.safetensors')}`),
    /E_UNREADABLE|cannot read/,
  );
});
