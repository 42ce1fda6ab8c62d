/**
 * The metric battery (src/battery/, docs/metrics.md) against known answers from independent implementations:
 * OpenCV 4.6, SciPy 1.10, scikit-image 0.19 and numpy in float64, computed once by
 * test/fixtures/battery/make_reference.py (recipe there). Exact definitions: 1e-9 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readImage } from '../../src/image/read.ts';
import { greyImage } from '../../src/image/types.ts';
import { metricBattery, type BatteryRecord } from '../../src/battery/battery.ts';
import { toGray8 } from '../../src/battery/gray8.ts';
import { canny } from '../../src/battery/canny.ts';
import { ciede2000 } from '../../src/battery/color.ts';
import { fft, fftColumnsPow2 } from '../../src/battery/fft.ts';
import { fixture } from '../helpers/cli.ts';

interface Stats {
  sharpness: number;
  sharpness_opencv: number;
  contrast: number;
  entropy: number;
  noise: number;
  edge_density: number;
  edge_density_canny: number;
  canny_pixels: number;
  artifact_block: number;
  artifact_ringing: number;
  high_freq_ratio: number;
  texture_complexity: number;
  total_score: number;
}
interface LQ {
  mean: number;
  std: number;
  min: number;
  max: number;
  min_row: number;
  min_col: number;
  patches: number;
}
interface PairRef {
  gt_file: string;
  test_file: string;
  gt: Stats;
  test: Stats;
  delta_e: number;
  delta_e2000: number;
  histogram_corr: number;
  local_quality_64: LQ;
  local_quality_8: LQ;
}
const REF = JSON.parse(readFileSync(fixture('battery/reference.json'), 'utf8')) as { pairs: Record<string, PairRef> };

function rel(actual: number | null, expected: number, tol: number, what: string): void {
  assert.ok(actual !== null, `${what}: got null, expected ${expected}`);
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(err <= tol || actual === expected, `${what}: expected ${expected} (rel ${tol}), got ${actual} (rel err ${err})`);
}

const battery = new Map<string, { kornia: BatteryRecord; cpu: BatteryRecord }>();
async function batteryOf(name: string): Promise<{ kornia: BatteryRecord; cpu: BatteryRecord }> {
  const hit = battery.get(name);
  if (hit) return hit;
  const ref = REF.pairs[name]!;
  const gt = await readImage(fixture(`battery/${ref.gt_file}`));
  const sr = await readImage(fixture(`battery/${ref.test_file}`));
  const r = {
    kornia: metricBattery(gt, sr),
    cpu: metricBattery(gt, sr, { sharpnessKernel: 'opencv', edgeDetector: 'canny', blockSize: 0 }),
  };
  battery.set(name, r);
  return r;
}

const SIDES = [
  ['gt', '_gt'],
  ['test', ''],
] as const;

for (const name of ['cxr', 'camera', 'woman']) {
  test(`${name}: no-reference statistics match the OpenCV/SciPy float64 references (1e-9 relative)`, async () => {
    const { kornia, cpu } = await batteryOf(name);
    const ref = REF.pairs[name]!;
    for (const [side, suffix] of SIDES) {
      const s = ref[side];
      const k = kornia as Record<string, number | null>;
      rel(k[`sharpness${suffix}`]!, s.sharpness, 1e-9, `${side} sharpness (Kornia laplacian)`);
      rel(k[`contrast${suffix}`]!, s.contrast, 1e-9, `${side} contrast`);
      rel(k[`entropy${suffix}`]!, s.entropy, 1e-9, `${side} entropy`);
      rel(k[`noise${suffix}`]!, s.noise, 1e-9, `${side} noise`);
      rel(k[`edge_density${suffix}`]!, s.edge_density, 1e-12, `${side} edge density (Sobel)`);
      rel(k[`artifact_block${suffix}`]!, s.artifact_block, 1e-9, `${side} block artefact`);
      rel(k[`artifact_ringing${suffix}`]!, s.artifact_ringing, 1e-9, `${side} ringing (Canny + dilate)`);
      rel(k[`high_freq_ratio${suffix}`]!, s.high_freq_ratio, 1e-9, `${side} high-frequency ratio (FFT)`);
      rel(k[`texture_complexity${suffix}`]!, s.texture_complexity, 1e-9, `${side} texture complexity`);
      rel(k[`total_score${suffix}`]!, s.total_score, 1e-9, `${side} total score`);
      const c = cpu as Record<string, number | null>;
      rel(c[`sharpness${suffix}`]!, s.sharpness_opencv, 1e-9, `${side} sharpness (cv2.Laplacian)`);
      rel(c[`edge_density${suffix}`]!, s.edge_density_canny, 1e-12, `${side} edge density (cv2.Canny 100/200)`);
    }
  });

  test(`${name}: full-reference metrics match OpenCV / scikit-image (dE76, CIEDE2000, histogram correlation, local SSIM)`, async () => {
    const { kornia: r } = await batteryOf(name);
    const ref = REF.pairs[name]!;
    rel(r.delta_e, ref.delta_e, 1e-9, 'delta_e (skimage rgb2lab, CIE76)');
    rel(r.delta_e2000, ref.delta_e2000, 1e-9, 'delta_e2000 (skimage deltaE_ciede2000)');
    rel(r.histogram_corr, ref.histogram_corr, 1e-9, 'histogram_corr (cv2.compareHist CORREL)');
    const lq = ref.local_quality_64;
    rel(r.local_quality_mean, lq.mean, 1e-9, 'local_quality_mean (64x64 skimage SSIM)');
    rel(r.local_quality_std, lq.std, 1e-7, 'local_quality_std');
    rel(r.local_quality_min, lq.min, 1e-9, 'local_quality_min');
    rel(r.local_quality_max, lq.max, 1e-9, 'local_quality_max');
    assert.equal(r.local_quality_min_row, lq.min_row);
    assert.equal(r.local_quality_min_col, lq.min_col);
    rel(r.local_quality_blk_mean, ref.local_quality_8.mean, 1e-9, 'local quality at 8x8 mean');
    rel(r.local_quality_blk_min, ref.local_quality_8.min, 1e-9, 'local quality at 8x8 min');
    assert.equal(r.lpips, null, 'no LPIPS weights: null, not 0');
    assert.equal(r.clip_similarity, null, 'no CLIP weights: null, not 0');
  });
}

test('Canny edge map equals cv2.Canny(100, 200) pixel count on all six images', async () => {
  for (const ref of Object.values(REF.pairs)) {
    for (const [side, file] of [['gt', ref.gt_file], ['test', ref.test_file]] as const) {
      const img = await readImage(fixture(`battery/${file}`));
      const g = toGray8(img, 255);
      const e = canny(g.gray, g.width, g.height, 100, 200);
      assert.equal(e.reduce((a, b) => a + b, 0), ref[side].canny_pixels, `${file}`);
    }
  }
});

test('8-bit view: 16-bit keeps the top byte (as OpenCV), 12-bit of L = 4095 shifts by 4, 8-bit is unchanged', () => {
  const v16 = toGray8(greyImage(2, 1, [65535, 256 * 77 + 200], { bitDepth: 16 }), 65535).gray;
  assert.deepEqual([...v16], [255, 77]);
  const v12 = toGray8(greyImage(2, 1, [4095, 16 * 9 + 15], { bitDepth: 16, dataRange: 4095 }), 4095).gray;
  assert.deepEqual([...v12], [255, 9]);
  const v8 = toGray8(greyImage(3, 1, [0, 128, 255]), 255).gray;
  assert.deepEqual([...v8], [0, 128, 255]);
});

test('identical images: dE 0, histogram correlation 1, local quality 1, ratios 0 %', () => {
  const data = Array.from({ length: 64 * 64 }, (_, i) => (i * 37) % 251);
  const a = greyImage(64, 64, data);
  const r = metricBattery(a, greyImage(64, 64, data));
  assert.equal(r.delta_e, 0);
  assert.equal(r.delta_e2000, 0);
  assert.equal(r.histogram_corr, 1);
  assert.equal(r.local_quality_min, 1);
  assert.equal(r.sharpness_diff_pct, 0);
  assert.equal(r.sharpness, r.sharpness_gt);
});

test('a flat GT gives null ratios (never a silent 0) and a finite battery', () => {
  const flat = greyImage(32, 32, new Array(1024).fill(100));
  const other = greyImage(32, 32, Array.from({ length: 1024 }, (_, i) => 100 + (i % 3)));
  const r = metricBattery(flat, other);
  assert.equal(r.sharpness_gt, 0);
  assert.equal(r.sharpness_diff_pct, null);
  assert.equal(r.edge_diff_pct, null);
  assert.ok(Number.isFinite(r.sharpness!));
});

test('CIEDE2000 matches Sharma, Wu & Dalal (2005) Table 1 pairs 1, 7, 17, 25 (1e-4, as published to 4 decimals)', () => {
  near4(ciede2000(50, 2.6772, -79.7751, 50, 0, -82.7485), 2.0425);
  near4(ciede2000(50, 0, 0, 50, -1, 2), 2.3669);
  near4(ciede2000(50, 2.5, 0, 73, 25, -18), 27.1492);
  near4(ciede2000(60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387), 1.2644);
});

function near4(a: number, e: number): void {
  assert.ok(Math.abs(a - e) <= 1e-4, `expected ${e}, got ${a}`);
}

test('FFT: radix-2 and Bluestein lengths agree with a plain DFT (1e-9)', () => {
  for (const n of [1, 2, 8, 12, 17, 100]) {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + i / 7);
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const xr = re.slice();
    const xi = im.slice();
    fft(xr, xi);
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * ((k * t) % n)) / n;
        sr += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
        si += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
      }
      assert.ok(Math.abs(xr[k]! - sr) < 1e-9 * n && Math.abs(xi[k]! - si) < 1e-9 * n, `n=${n} k=${k}`);
    }
  }
});

test('rejects unknown options and sizes that differ, with one coded line', () => {
  const a = greyImage(16, 16, new Array(256).fill(1));
  assert.throws(() => metricBattery(a, a, { nope: 1 } as never), /unknown battery option "nope"/);
  assert.throws(() => metricBattery(a, a, { localPatch: 3 }), /invalid localPatch: expected an integer >= 7/);
  assert.throws(() => metricBattery(a, greyImage(8, 8, new Array(64).fill(1))), { code: 'E_SIZE_MISMATCH' });
});

test('run glue: options resolve with the block size off (the run has blk_*), LPIPS/CLIP paths checked; stored columns', async () => {
  const { resolveRunBatteryOptions, RUN_BATTERY_COLUMNS } = await import('../../src/battery/run.ts');
  const o = resolveRunBatteryOptions({});
  assert.equal(o.blockSize, 0);
  assert.equal(o.lpips, null);
  assert.equal(resolveRunBatteryOptions({ lpips: 'a.onnx', sharpnessKernel: 'opencv' }).sharpnessKernel, 'opencv');
  assert.throws(() => resolveRunBatteryOptions({ lpips: 3 }), /invalid battery\.lpips: expected an ONNX model file or null, got 3/);
  assert.throws(() => resolveRunBatteryOptions({ nope: 1 }), /unknown battery option "nope"/);
  const names = RUN_BATTERY_COLUMNS.map((c) => c.name);
  assert.ok(!names.some((n) => n.startsWith('local_quality_blk_')));
  assert.equal(RUN_BATTERY_COLUMNS.find((c) => c.name === 'local_quality_min_row')!.type, 'INTEGER');
  assert.equal(names.length, 38);
});

test('FFT over whole rows (column transforms at once) equals one column at a time, n = 8, 16, 64', () => {
  for (const n of [8, 16, 64]) {
    const cols = 5;
    const re = Float64Array.from({ length: n * cols }, (_, i) => Math.sin(i * 0.37) * 10);
    const im = Float64Array.from({ length: n * cols }, (_, i) => Math.cos(i * 0.11));
    const r2 = re.slice();
    const i2 = im.slice();
    fftColumnsPow2(r2, i2, n, cols);
    for (let k = 0; k < cols; k++) {
      const cr = Float64Array.from({ length: n }, (_, y) => re[y * cols + k]!);
      const ci = Float64Array.from({ length: n }, (_, y) => im[y * cols + k]!);
      fft(cr, ci);
      for (let y = 0; y < n; y++) {
        assert.ok(Math.abs(cr[y]! - r2[y * cols + k]!) < 1e-9 && Math.abs(ci[y]! - i2[y * cols + k]!) < 1e-9, `n=${n} col=${k} y=${y}`);
      }
    }
  }
});
