/**
 * Real upscalers, really run: the ESRGAN networks load offline from their npm packages and upscale small crops of
 * a real NIH chest X-ray (data/demo/cxr_nih). References: the GT itself (PSNR) and nearest-neighbour upscaling of
 * the same low-resolution image, computed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../src/image/read.ts';
import type { Image } from '../../src/image/types.ts';
import { DIHEDRAL_COUNT, dihedral } from '../../src/upscale/dihedral.ts';
import { upscaleFromGt, upscaleImage } from '../../src/upscale/upscale.ts';

const CXR = fileURLToPath(new URL('../../data/demo/cxr_nih/nih_00001734_000.png', import.meta.url));

function crop(im: Image, x0: number, y0: number, w: number, h: number, extra: Partial<Image> = {}): Image {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) d[y * w + x] = im.data[(y0 + y) * im.width + x0 + x]!;
  return { ...im, width: w, height: h, data: d, ...extra };
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>, peak = 255): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((peak * peak) / (s / a.length));
}

function nearest(lr: Image, scale: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      out[y * w + x] = lr.data[Math.floor(y / scale) * lr.width + Math.floor(x / scale)]!;
  }
  return out;
}

const gtPromise = readImage(CXR);

const CASES = [
  { model: 'esrgan-slim', scale: 2, size: 64 },
  { model: 'esrgan-slim', scale: 4, size: 64 },
  { model: 'esrgan-medium', scale: 2, size: 64 },
  { model: 'esrgan-medium', scale: 4, size: 64 },
  { model: 'esrgan-thick', scale: 2, size: 40 },
  { model: 'esrgan-thick', scale: 4, size: 40 },
  { model: 'bicubic', scale: 2, size: 64 },
  { model: 'lanczos3', scale: 2, size: 64 },
] as const;

for (const { model, scale, size } of CASES) {
  test(`${model} x${scale} loads offline and beats nearest-neighbour PSNR on a real chest X-ray crop`, async () => {
    const gt = crop(await gtPromise, 160, 170, size, size);
    const { lr, output } = await upscaleFromGt(gt, { model, scale });
    assert.equal(lr.width, size / scale);
    assert.equal(output.width, size);
    assert.equal(output.height, size);
    assert.equal(output.channels, 1);
    assert.equal(output.bitDepth, 8);
    for (const v of output.data) assert.ok(Number.isInteger(v) && v >= 0 && v <= 255, `sample ${v}`);
    const pModel = psnr(output.data, gt.data);
    const pNearest = psnr(nearest(lr, scale, size, size), gt.data);
    assert.ok(
      pModel > pNearest,
      `${model} x${scale}: PSNR ${pModel.toFixed(2)} dB vs nearest ${pNearest.toFixed(2)} dB`,
    );
  });
}

test('TTA of a real network on a dihedral-symmetric input is itself dihedral-symmetric (esrgan-slim)', async () => {
  // A real network is not equivariant, so tta != plain in general; but averaged over the group, the output of a
  // symmetric input must be symmetric. Input: a real 12x12 X-ray patch symmetrised over the 8 transforms.
  const patch = crop(await gtPromise, 200, 200, 12, 12);
  const sym = new Float32Array(144);
  for (let k = 0; k < DIHEDRAL_COUNT; k++) {
    const t = dihedral(patch.data as Float32Array, 12, 12, 1, k).data;
    for (let i = 0; i < 144; i++) sym[i]! += t[i]! / DIHEDRAL_COUNT;
  }
  const input: Image = { ...patch, data: sym, isFloat: true, dataRange: 255 }; // float: no rounding of the output
  const tta = await upscaleImage(input, { model: 'esrgan-slim', tta: true });
  const plain = await upscaleImage(input, { model: 'esrgan-slim' });
  let asym = 0;
  for (let k = 1; k < DIHEDRAL_COUNT; k++) {
    const t = dihedral(tta.data as Float32Array, 24, 24, 1, k).data;
    for (let i = 0; i < t.length; i++) asym = Math.max(asym, Math.abs(t[i]! - tta.data[i]!));
  }
  assert.ok(asym < 1e-3, `tta output deviates from symmetry by ${asym}`);
  let plainAsym = 0;
  const t1 = dihedral(plain.data as Float32Array, 24, 24, 1, 1).data;
  for (let i = 0; i < t1.length; i++) plainAsym = Math.max(plainAsym, Math.abs(t1[i]! - plain.data[i]!));
  assert.ok(plainAsym > asym, 'the plain network output is not symmetric, so this test can fail');
});

test('TTA on a dihedral-symmetric input equals the plain output for the equivariant bicubic model', async () => {
  const n = 16;
  const data = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const dx = Math.abs(x - 7.5);
      const dy = Math.abs(y - 7.5);
      data[y * n + x] = Math.round(60 + 4 * Math.min(dx, dy) + Math.max(dx, dy) ** 2);
    }
  }
  // float samples: no rounding anywhere, so tta == plain up to float round-off
  const float: Image = { ...(await gtPromise), width: n, height: n, data, isFloat: true, dataRange: 255 };
  const maxDiff = (a: Image, b: Image): number => {
    let m = 0;
    for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
    return m;
  };
  const fPlain = await upscaleImage(float, { model: 'bicubic' });
  const fTta = await upscaleImage(float, { model: 'bicubic', tta: true });
  assert.ok(maxDiff(fPlain, fTta) < 1e-3, `float: max |tta - plain| = ${maxDiff(fPlain, fTta)}`);
  // 8-bit: MATLAB rounds after the first (row) pass, and a transposed input swaps the pass order, so the
  // ensemble may differ from the plain output by rounding only: at most 1 grey level
  const int8: Image = { ...float, isFloat: false };
  const d = maxDiff(
    await upscaleImage(int8, { model: 'bicubic' }),
    await upscaleImage(int8, { model: 'bicubic', tta: true }),
  );
  assert.ok(d <= 1, `8-bit: max |tta - plain| = ${d}`);
});

test('tiled and untiled network outputs agree: max abs diff 0 grey levels at overlap 16 (float max stated)', async () => {
  const lr = crop(await gtPromise, 150, 150, 72, 72, { isFloat: true, dataRange: 255 });
  for (const model of ['esrgan-slim', 'esrgan-medium'] as const) {
    const whole = await upscaleImage(lr, { model, tile: 0 });
    const tiled = await upscaleImage(lr, { model, tile: 24, tileOverlap: 16 });
    let max = 0;
    for (let i = 0; i < whole.data.length; i++)
      max = Math.max(max, Math.abs(whole.data[i]! - tiled.data[i]!));
    // measured: slim and medium agree to float round-off (< 1e-3 grey levels) with 16 pixels of context
    assert.ok(max < 0.01, `${model}: max |tiled - untiled| = ${max} grey levels`);
    const seams = await upscaleImage(lr, { model, tile: 24, tileOverlap: 0 });
    let seamMax = 0;
    for (let i = 0; i < whole.data.length; i++)
      seamMax = Math.max(seamMax, Math.abs(whole.data[i]! - seams.data[i]!));
    assert.ok(seamMax > 10 * max, `${model}: without overlap the tiles must show (seam max ${seamMax})`);
  }
});

test('16-bit GT in, 16-bit out: same network input, output = 257 x the 8-bit output to within rounding', async () => {
  const gt8 = crop(await gtPromise, 160, 170, 32, 32);
  const d16 = new Float32Array(gt8.data.length);
  for (let i = 0; i < d16.length; i++) d16[i] = gt8.data[i]! * 257;
  const gt16: Image = { ...gt8, data: d16, bitDepth: 16, dataRange: 65535 };
  for (const model of ['esrgan-slim', 'bicubic'] as const) {
    const o8 = (await upscaleFromGt(gt8, { model })).output;
    const o16 = (await upscaleFromGt(gt16, { model })).output;
    assert.equal(o16.bitDepth, 16);
    let max = 0;
    let notMultiple = 0;
    for (let i = 0; i < o8.data.length; i++) {
      max = Math.max(max, Math.abs(o16.data[i]! - 257 * o8.data[i]!));
      if (o16.data[i]! % 257 !== 0) notMultiple++;
    }
    // the 8-bit LR is rounded to 8 bits, the 16-bit LR to 16 bits: they differ by < 0.5/255 of range per pass
    assert.ok(max <= 2 * 257, `${model}: max |o16 - 257 o8| = ${max}`);
    assert.ok(notMultiple > 0, `${model}: 16-bit output carries more than 8 bits`);
  }
});

test("intensity 'minmax': a 16-bit image using a small part of its range reaches the network like its 8-bit twin", async () => {
  // x16 = 1000 + 8 x8: with 'minmax' both map to the same network input, so o16 = 1000 + 8 o8 (float samples)
  const lr8 = crop(await gtPromise, 160, 170, 24, 24, { isFloat: true, dataRange: 255 });
  const d16 = new Float32Array(lr8.data.length);
  for (let i = 0; i < d16.length; i++) d16[i] = 1000 + 8 * lr8.data[i]!;
  const lr16: Image = { ...lr8, data: d16, bitDepth: 16, dataRange: 65535 };
  const o8 = await upscaleImage(lr8, { model: 'esrgan-slim', intensity: 'minmax' });
  const o16 = await upscaleImage(lr16, { model: 'esrgan-slim', intensity: 'minmax' });
  let max = 0;
  for (let i = 0; i < o8.data.length; i++)
    max = Math.max(max, Math.abs(o16.data[i]! - (1000 + 8 * o8.data[i]!)));
  assert.ok(max < 0.05, `max |o16 - (1000 + 8 o8)| = ${max}`);
  // with 'range' the 16-bit image reaches the network as a nearly black picture: a different result
  const r16 = await upscaleImage(lr16, { model: 'esrgan-slim' });
  let diff = 0;
  for (let i = 0; i < r16.data.length; i++) diff = Math.max(diff, Math.abs(r16.data[i]! - o16.data[i]!));
  assert.ok(diff > 1, `range vs minmax differ by ${diff}`);
});
