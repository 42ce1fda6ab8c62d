/**
 * The battery's WebAssembly SIMD kernels (src/battery/wasm/) against the plain JavaScript paths they replace:
 * integer kernels must agree bit for bit (same fields, same sums), on random planes of awkward sizes (widths
 * around the 8-lane step, tiny images) and on real images from the fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readImage } from '../../src/image/read.ts';
import { toGray8 } from '../../src/battery/gray8.ts';
import { gradientPass } from '../../src/battery/filters.ts';
import { highFrequencyRatio } from '../../src/battery/frequency.ts';
import { localQuality } from '../../src/battery/localQuality.ts';
import { wasmSimdAvailable } from '../../src/ssim/wasm/ssimKernel.ts';
import { metricBattery } from '../../src/battery/battery.ts';
import { canny, ringing } from '../../src/battery/canny.ts';
import { gradientInteriorWasm } from '../../src/battery/wasm/gradientKernel.ts';
import { halfSpectrumWasm } from '../../src/battery/wasm/fftKernel.ts';
import { addWindowSsimWasm } from '../../src/battery/wasm/localQualityKernel.ts';
import { ringRegionWasm } from '../../src/battery/wasm/ringingKernel.ts';
import { narrowToBytesWasm } from '../../src/battery/wasm/gray8Kernel.ts';
import type { Image } from '../../src/image/types.ts';
import { fixture } from '../helpers/cli.ts';

/** Deterministic 8-bit plane (LCG), with a few flat runs so that ties and zero gradients occur. */
function plane(width: number, height: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = i % 13 < 4 ? 200 : s >>> 24;
  }
  return out;
}

const SIZES: [number, number][] = [
  [1, 1], [2, 3], [3, 3], [9, 9], [10, 10], [11, 4], [17, 5], [18, 18], [33, 40], [100, 7], [257, 129],
];

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}[${i}]: JS ${a[i]}, wasm ${b[i]}`);
}

function compareGradient(gray: Uint8Array, width: number, height: number, what: string): void {
  const js = gradientPass(gray, width, height, false);
  const w = gradientPass(gray, width, height, true);
  assert.ok(Object.is(js.sharpness, w.sharpness), `${what} sharpness: JS ${js.sharpness}, wasm ${w.sharpness}`);
  assert.equal(w.noise, js.noise, `${what} noise`);
  assert.equal(w.edgeDensity, js.edgeDensity, `${what} edge density`);
  sameArray(w.dx, js.dx, `${what} dx`);
  sameArray(w.dy, js.dy, `${what} dy`);
  sameArray(w.mag, js.mag, `${what} mag`);
}

test('WebAssembly SIMD is available and every battery kernel compiles (else they fall back to JavaScript silently)', () => {
  assert.ok(wasmSimdAvailable);
  const g = plane(16, 16, 3);
  assert.notEqual(gradientInteriorWasm(g, 16, 16), null, 'gradient kernel');
  assert.notEqual(halfSpectrumWasm(g, 16, 16), null, 'FFT kernel');
  const sums = new Float64Array(1);
  assert.ok(addWindowSsimWasm(g, g, 16, 16, 255, new Int32Array(10), new Int32Array(10), 1, sums), 'local quality kernel');
  assert.notEqual(ringRegionWasm(g, g.map((v) => v & 1), 16, 16, 4), null, 'ringing kernel');
});

test('3x3 pass (sharpness, noise, Sobel, Canny magnitude): wasm equals JavaScript bit for bit on random planes', () => {
  for (const [w, h] of SIZES) compareGradient(plane(w, h, w * 7919 + h), w, h, `${w}x${h}`);
  // A larger plane after a smaller one and then a smaller again: stale memory must not leak into the frame.
  compareGradient(plane(300, 200, 1), 300, 200, '300x200');
  compareGradient(plane(20, 12, 2), 20, 12, '20x12 after 300x200');
});

test('3x3 pass: wasm equals JavaScript on real images (X-ray, camera, Set5 woman)', async () => {
  for (const f of ['cxr/nih_00000001_000.png', 'skimage/camera.png', 'set5/woman_HR.png']) {
    const img = await readImage(fixture(f));
    const g = toGray8(img, 255);
    compareGradient(g.gray, g.width, g.height, f);
  }
});

/** Relative difference, 0 when equal. */
const relDiff = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));

test('high-frequency ratio: the wasm real 2-D FFT equals the JavaScript FFT within 1e-12 (power-of-two sides)', async () => {
  // A plain number array takes the JavaScript path (checked against numpy in battery.test.ts).
  for (const [w, h] of [[4, 4], [8, 4], [4, 16], [16, 16], [64, 32], [32, 128], [256, 64]] as [number, number][]) {
    const g = plane(w, h, w * 31 + h);
    const js = highFrequencyRatio(Array.from(g), w, h);
    const wasm = highFrequencyRatio(g, w, h);
    assert.ok(relDiff(wasm, js) <= 1e-12, `${w}x${h}: JS ${js}, wasm ${wasm}`);
  }
  for (const f of ['cxr/nih_00000001_000.png', 'skimage/camera.png']) {
    const g = toGray8(await readImage(fixture(f)), 255);
    const js = highFrequencyRatio(Array.from(g.gray), g.width, g.height);
    const wasm = highFrequencyRatio(g.gray, g.width, g.height);
    assert.ok(relDiff(wasm, js) <= 1e-12, `${f}: JS ${js}, wasm ${wasm}`);
  }
  // A constant image has all its magnitude at DC: ratio 0 on both paths.
  assert.equal(highFrequencyRatio(new Uint8Array(64 * 64).fill(7), 64, 64), 0);
});

test('local quality (skimage SSIM per patch): wasm equals JavaScript bit for bit (grey and RGB, partial patches)', async () => {
  const cases: [number, number, number, number][] = [
    [7, 7, 7, 1], [8, 9, 8, 1], [13, 20, 8, 1], [64, 64, 64, 1], [100, 37, 16, 1], [130, 70, 64, 1], [50, 40, 8, 3], [229, 131, 64, 3],
  ];
  for (const [w, h, patch, ch] of cases) {
    const a = plane(w * ch, h, w + h);
    const noise = plane(w * ch, h, w * h);
    const b = a.map((v, i) => (v + (noise[i]! & 31)) & 255);
    const js = localQuality(a, b, ch, w, h, patch, 255, false);
    const wasm = localQuality(a, b, ch, w, h, patch, 255, true);
    assert.deepEqual(wasm, js, `${w}x${h}x${ch} patch ${patch}`);
  }
  for (const [gtFile, testFile] of [
    ['cxr/nih_00000001_000.png', 'cxr/nih_00000001_000_box4_bicubic4.png'],
    ['set5/woman_HR.png', 'set5/woman_bicubic_x4.png'],
  ]) {
    const g = toGray8(await readImage(fixture(gtFile!)), 255);
    const t = toGray8(await readImage(fixture(testFile!)), 255);
    const rgb = g.rgb !== null && t.rgb !== null;
    const [a, b, ch] = rgb ? [g.rgb!, t.rgb!, 3] : [g.gray, t.gray, 1];
    for (const patch of [64, 8]) {
      assert.deepEqual(localQuality(a, b, ch, g.width, g.height, patch, 255, true), localQuality(a, b, ch, g.width, g.height, patch, 255, false), `${gtFile} patch ${patch}`);
    }
  }
});

test('a grey image stored as RGB (R = G = B) gets the grey battery, without the per-pixel colour path', async () => {
  const gt = await readImage(fixture('cxr/nih_00000001_000.png'));
  const sr = await readImage(fixture('cxr/nih_00000001_000_box4_bicubic4.png'));
  const asRgb = (img: Image): Image => {
    const data = new Float32Array(img.data.length * 3);
    for (let i = 0; i < img.data.length; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = img.data[i]!;
    return { ...img, channels: 3, data };
  };
  assert.equal(toGray8(asRgb(gt), 255).rgb, null);
  const grey = metricBattery(gt, sr);
  for (const [a, b] of [[asRgb(gt), sr], [gt, asRgb(sr)], [asRgb(gt), asRgb(sr)]] as [Image, Image][]) {
    const r = metricBattery(a, b) as Record<string, number | null>;
    for (const [k, v] of Object.entries(grey)) assert.equal(r[k], v, `${k} (${a.channels} / ${b.channels} channels)`);
  }
  // One coloured pixel keeps the colour path.
  const tinted = asRgb(gt);
  tinted.data[0] = 255;
  tinted.data[1] = 0;
  assert.notEqual(toGray8(tinted, 255).rgb, null);
});

test('ringing (Canny region, 9x9 dilation, grey-level sd): wasm equals JavaScript bit for bit', async () => {
  for (const [w, h] of [...SIZES, [20, 12]] as [number, number][]) {
    const g = plane(w, h, w * 131 + h);
    const edges = plane(w, h, w + 7 * h).map((v) => (v < 12 ? 1 : 0));
    assert.ok(Object.is(ringing(g, w, h, edges, true), ringing(g, w, h, edges, false)), `${w}x${h}`);
  }
  for (const f of ['cxr/nih_00000001_000.png', 'skimage/camera.png', 'set5/woman_HR.png']) {
    const g = toGray8(await readImage(fixture(f)), 255);
    const edges = canny(g.gray, g.width, g.height, 100, 200);
    assert.equal(ringing(g.gray, g.width, g.height, edges, true), ringing(g.gray, g.width, g.height, edges, false), f);
  }
});

test('Canny (non-maximum suppression, strong pixels, edge map): wasm equals JavaScript on random and real images', async () => {
  const cases: [Uint8Array, number, number, string][] = [];
  for (const [w, h] of SIZES) {
    // Two levels plus noise: many gradients near the thresholds, ties between neighbours.
    const p = plane(w, h, w * 17 + h);
    cases.push([p.map((v) => (v & 1 ? 200 : 0) + (v & 15)), w, h, `${w}x${h}`]);
  }
  for (const f of ['cxr/nih_00000001_000.png', 'cxr/nih_00000001_000_box4_bicubic4.png', 'skimage/camera.png', 'set5/woman_HR.png']) {
    const g = toGray8(await readImage(fixture(f)), 255);
    cases.push([g.gray, g.width, g.height, f]);
  }
  for (const [g, w, h, what] of cases) {
    const js = canny(g, w, h, 100, 200);
    const wasm = canny(g, w, h, 100, 200, gradientPass(g, w, h, true), true);
    sameArray(wasm, js, `${what} Canny`);
  }
});

test('8-bit view of 8-bit grey samples: wasm clamp/truncate equals the JavaScript assignment, NaN and infinities included', () => {
  const special = [NaN, Infinity, -Infinity, -0.5, -0, 0, 0.999, 1, 254.9999, 255, 255.5, 256, 300, 1e10, -1e10, 2 ** 31, 2 ** 32, 127.5, 3.4e38, -3.4e38, 1e-30];
  // Odd lengths (not a multiple of 16) and values across the whole float range.
  for (const n of [1, 15, 17, 1000, 4099]) {
    const d = new Float32Array(n).map((_, i) => (i < special.length ? special[i]! : ((i * 7.37) % 600) - 150));
    const js = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = d[i]!;
      js[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    const wasm = new Uint8Array(n);
    assert.ok(narrowToBytesWasm(d, wasm));
    sameArray(wasm, js, `n = ${n}`);
  }
});
