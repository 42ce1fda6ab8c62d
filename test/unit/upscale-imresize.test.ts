import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { fixture } from '../helpers/cli.ts';
import {
  cubicKernel,
  imresize,
  imresizeBicubic,
  lanczos3Kernel,
  resizeTable,
} from '../../src/upscale/imresize.ts';

const SET5 = ['baby', 'bird', 'butterfly', 'head', 'woman'];

async function rgb(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

function compare(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; exact: number } {
  assert.equal(a.length, b.length);
  let maxAbs = 0;
  let exact = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > maxAbs) maxAbs = d;
    if (d === 0) exact++;
  }
  return { maxAbs, exact: exact / a.length };
}

test('MATLAB bicubic downscale x1/4 of the Set5 HR images reproduces the MATLAB-made Set5 LR images exactly', async () => {
  for (const name of SET5) {
    const hr = await rgb(fixture(`set5/${name}_HR.png`));
    const lr = await rgb(fixture(`set5-lr/${name}_LR_x4.png`));
    const out = imresizeBicubic(hr.data, hr.width, hr.height, 3, { scale: 0.25 }, { integerMax: 255 });
    assert.equal(out.width, lr.width, name);
    assert.equal(out.height, lr.height, name);
    const { maxAbs, exact } = compare(out.data, lr.data);
    // measured: 100% of samples identical on all five images (max abs diff 0)
    assert.equal(maxAbs, 0, `${name}: max abs diff ${maxAbs}, ${(100 * exact).toFixed(3)}% exact`);
  }
});

test('a symmetric (mirror) edge differs from MATLAB only in the 2-pixel LR border on Set5', async () => {
  const hr = await rgb(fixture('set5/butterfly_HR.png'));
  const lr = await rgb(fixture('set5-lr/butterfly_LR_x4.png'));
  const out = imresizeBicubic(
    hr.data,
    hr.width,
    hr.height,
    3,
    { scale: 0.25 },
    { integerMax: 255, edge: 'symmetric' },
  );
  let borderDiff = 0;
  for (let y = 0; y < lr.height; y++) {
    for (let x = 0; x < lr.width; x++) {
      const inner = x >= 2 && y >= 2 && x < lr.width - 2 && y < lr.height - 2;
      for (let c = 0; c < 3; c++) {
        const i = (y * lr.width + x) * 3 + c;
        if (inner) assert.equal(out.data[i], lr.data[i], `interior (${x},${y})`);
        else if (out.data[i] !== lr.data[i]) borderDiff++;
      }
    }
  }
  assert.ok(borderDiff > 0, 'the mirror edge must be distinguishable from MATLAB on this image');
});

test('bicubic x4 of the Set5 LR matches the MATLAB-style *_bicubic_x4 references (symmetric edge: 100% exact)', async () => {
  for (const name of SET5) {
    const lr = await rgb(fixture(`set5-lr/${name}_LR_x4.png`));
    const ref = await rgb(fixture(`set5/${name}_bicubic_x4.png`));
    const sym = imresizeBicubic(
      lr.data,
      lr.width,
      lr.height,
      3,
      { scale: 4 },
      { integerMax: 255, edge: 'symmetric' },
    );
    assert.equal(compare(sym.data, ref.data).maxAbs, 0, `${name} symmetric`);
    // MATLAB's replicate edge: identical away from the border (taps reach 2 LR pixels = 8 HR pixels)
    const rep = imresizeBicubic(lr.data, lr.width, lr.height, 3, { scale: 4 }, { integerMax: 255 });
    for (let y = 8; y < ref.height - 8; y++) {
      for (let x = 8; x < ref.width - 8; x++) {
        const i = (y * ref.width + x) * 3;
        assert.equal(rep.data[i], ref.data[i], `${name} replicate interior (${x},${y})`);
      }
    }
  }
});

test('Keys cubic kernel (a = -0.5): interpolating at integers, partition of unity, values at 0.5 and 1.5', () => {
  assert.equal(cubicKernel(0), 1);
  assert.equal(cubicKernel(1), 0);
  assert.equal(cubicKernel(2), 0);
  assert.equal(cubicKernel(0.5), 0.5625); // 1.5/8 - 2.5/4 + 1
  assert.equal(cubicKernel(1.5), -0.0625); // -0.5*3.375 + 2.5*2.25 - 6 + 2
  for (const t of [0.1, 0.25, 0.7]) {
    const s = cubicKernel(t + 1) + cubicKernel(t) + cubicKernel(t - 1) + cubicKernel(t - 2);
    assert.ok(Math.abs(s - 1) < 1e-14);
  }
  assert.equal(lanczos3Kernel(0), 1);
  assert.ok(Math.abs(lanczos3Kernel(1)) < 1e-15 && Math.abs(lanczos3Kernel(2)) < 1e-15);
  assert.equal(lanczos3Kernel(3), 0);
});

test('table: MATLAB mapping u = x/s + 0.5(1 - 1/s) and normalised weights (x2 up and x1/2 antialiased down)', () => {
  const up = resizeTable(10, 20, 2);
  for (let j = 0; j < 20; j++) {
    let s = 0;
    for (let t = 0; t < up.taps; t++) s += up.weights[j * up.taps + t]!;
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  // x2 up: output 1 (1-based) sits at u = 0.75: weights on input samples at distances 0.25/0.75/1.25/1.75
  const down = resizeTable(20, 10, 0.5);
  assert.equal(down.taps, 10); // ceil(4 / 0.5) + 2
});

test('bicubic upscaling reproduces a linear ramp exactly away from the edges (cubic convolution is exact on lines)', () => {
  const w = 16;
  const h = 4;
  const data = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 10 + 3 * x;
  const out = imresize(data, w, h, 1, { scale: 2 });
  for (let x = 4; x < 2 * w - 4; x++) {
    const u = (x + 1) / 2 + 0.25 - 1; // 0-based input coordinate of output x
    assert.ok(Math.abs(out.data[2 * (2 * w) + x]! - (10 + 3 * u)) < 1e-9, `x=${x}`);
  }
  // the same ramp through Lanczos-3: centre-aligned (no half-pixel shift): the error away from the edges is a
  // +-0.06 ripple (x2 phases 0.25/0.75) whose neighbouring pairs cancel, i.e. zero mean offset
  const lz = imresize(data, w, h, 1, { scale: 2 }, { method: 'lanczos3' });
  const err = (x: number) => lz.data[x]! - (10 + 3 * ((x + 1) / 2 + 0.25 - 1));
  for (let x = 10; x < 2 * w - 10; x += 2) {
    assert.ok(Math.abs(err(x)) < 0.07, `lanczos x=${x}: error ${err(x)}`);
    assert.ok(Math.abs(err(x) + err(x + 1)) < 1e-9, `lanczos pair ${x}: ${err(x)} + ${err(x + 1)}`);
  }
});

test('resizing a constant image gives the same constant (down and up, both methods, non-divisible sizes)', () => {
  const data = new Float64Array(37 * 23).fill(77);
  for (const method of ['bicubic', 'lanczos3'] as const) {
    for (const scale of [0.5, 1 / 3, 2, 3]) {
      const out = imresize(data, 37, 23, 1, { scale }, { method });
      assert.equal(out.width, Math.ceil(37 * scale));
      assert.equal(out.height, Math.ceil(23 * scale));
      for (const v of out.data) assert.ok(Math.abs(v - 77) < 1e-9);
    }
  }
});
