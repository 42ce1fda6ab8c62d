/**
 * The fast separable kernels against a slow, plainly written reference (a direct double loop per window, the
 * 2-D window built as MATLAB's fspecial does), and the analytic properties of the SSIM formula (DESIGN §3, §6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { greyImage, type Image } from '../../src/image/types.ts';
import {
  gaussianTaps,
  msssim,
  psnr,
  ssim,
  ssimMap,
  uniformTaps,
  type SsimMode,
} from '../../src/ssim/index.ts';
import { ssimMapJs } from '../../src/ssim/kernel.ts';
import { wasmSimdAvailable } from '../../src/ssim/wasm/ssimKernel.ts';
import { mulberry32 } from '../helpers/rng.ts';

// ---------- plain reference ----------

/** 2-D window as MATLAB fspecial('gaussian', 11, 1.5) (normalised over the square), or a uniform 7x7 box. */
function window2d(mode: SsimMode): { n: number; w: number[][] } {
  if (mode === 'skimage') return { n: 7, w: Array.from({ length: 7 }, () => Array(7).fill(1 / 49)) };
  const n = 11;
  const w: number[][] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    w.push([]);
    for (let j = 0; j < n; j++) {
      const v = Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * 1.5 * 1.5));
      w[i]!.push(v);
      sum += v;
    }
  }
  return { n, w: w.map((row) => row.map((v) => v / sum)) };
}

interface RefWindow {
  mx: number;
  my: number;
  vx: number;
  vy: number;
  cxy: number;
}

/** Moments of the window whose top-left corner is (r, c): weighted means, then centred second moments. */
function refMoments(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  width: number,
  r: number,
  c: number,
  mode: SsimMode,
): RefWindow {
  const { n, w } = window2d(mode);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      mx += w[i]![j]! * x[(r + i) * width + c + j]!;
      my += w[i]![j]! * y[(r + i) * width + c + j]!;
    }
  }
  let vx = 0;
  let vy = 0;
  let cxy = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dx = x[(r + i) * width + c + j]! - mx;
      const dy = y[(r + i) * width + c + j]! - my;
      vx += w[i]![j]! * dx * dx;
      vy += w[i]![j]! * dy * dy;
      cxy += w[i]![j]! * dx * dy;
    }
  }
  // skimage: sample covariance, N/(N-1).
  const norm = mode === 'skimage' ? 49 / 48 : 1;
  return { mx, my, vx: vx * norm, vy: vy * norm, cxy: cxy * norm };
}

/** Reference SSIM map (valid region) and its mean. */
function refSsim(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  width: number,
  height: number,
  mode: SsimMode,
  L = 255,
) {
  const { n } = window2d(mode);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const mw = width - n + 1;
  const mh = height - n + 1;
  const map: number[] = [];
  const cs: number[] = [];
  for (let r = 0; r < mh; r++) {
    for (let c = 0; c < mw; c++) {
      const m = refMoments(x, y, width, r, c, mode);
      map.push(
        ((2 * m.mx * m.my + C1) * (2 * m.cxy + C2)) / ((m.mx ** 2 + m.my ** 2 + C1) * (m.vx + m.vy + C2)),
      );
      cs.push((2 * m.cxy + C2) / (m.vx + m.vy + C2));
    }
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return { map, mssim: mean(map), mcs: mean(cs), mw, mh };
}

/** Plain 2x2 / f x f box downsample with symmetric borders and MATLAB's centre (o = floor((f-1)/2)). */
function refDownsample(x: ArrayLike<number>, width: number, height: number, f: number) {
  const o = Math.floor((f - 1) / 2);
  const sym = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
  const ow = Math.ceil(width / f);
  const oh = Math.ceil(height / f);
  const out: number[] = [];
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let a = 0; a < f; a++)
        for (let b = 0; b < f; b++) s += x[sym(i * f - o + a, height) * width + sym(j * f - o + b, width)]!;
      out.push(s / (f * f));
    }
  }
  return { data: out, width: ow, height: oh };
}

// ---------- helpers ----------

/** Deterministic pseudo-random 8-bit image (mulberry32). */
function randomImage(width: number, height: number, seed: number, smooth = false): Image {
  const rnd = mulberry32(seed);
  const data = new Float64Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const base = smooth ? 128 + 80 * Math.sin((i % width) / 9) * Math.cos(Math.floor(i / width) / 7) : 0;
    data[i] = smooth
      ? Math.round(Math.min(255, Math.max(0, base + 30 * (rnd() - 0.5))))
      : Math.floor(rnd() * 256);
  }
  return greyImage(width, height, data);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const sizeArb = fc.record({
  w: fc.integer({ min: 11, max: 30 }),
  h: fc.integer({ min: 11, max: 30 }),
  seed: fc.integer(),
});

// ---------- fast kernel vs plain reference ----------

for (const mode of ['wang', 'skimage', 'matlab2009'] as const) {
  test(`the separable ${mode} kernel equals the direct per-window reference to 1e-12 on random images`, () => {
    fc.assert(
      fc.property(sizeArb, ({ w, h, seed }) => {
        const x = randomImage(w, h, seed);
        const y = randomImage(w, h, seed ^ 0x5bd1e995, seed % 2 === 0);
        const r = ssim(x, y, { mode });
        // Below 384 px matlab2009 does not downsample (f = 1), so its reference is Wang's.
        const ref = refSsim(x.data, y.data, w, h, mode === 'skimage' ? 'skimage' : 'wang');
        assert.equal(r.mapWidth, ref.mw);
        assert.equal(r.mapHeight, ref.mh);
        assert.ok(maxAbsDiff(r.map, ref.map) <= 1e-12, `map diff ${maxAbsDiff(r.map, ref.map)}`);
        assert.ok(Math.abs(r.mssim - ref.mssim) <= 1e-12);
      }),
      { numRuns: 15, seed: 20261123 },
    );
  });
}

test(
  "the WebAssembly SIMD kernel gives the JavaScript kernel's map bit for bit (odd/even sizes, both windows)",
  { skip: !wasmSimdAvailable },
  () => {
    fc.assert(
      fc.property(
        fc.record({
          w: fc.integer({ min: 12, max: 41 }),
          h: fc.integer({ min: 11, max: 30 }),
          seed: fc.integer(),
        }),
        ({ w, h, seed }) => {
          const x = randomImage(w, h, seed).data as Float64Array;
          const y = randomImage(w, h, seed + 99, true).data as Float64Array;
          for (const [taps, covNorm] of [
            [gaussianTaps(11, 1.5), 1],
            [uniformTaps(7), 49 / 48],
          ] as const) {
            const k = { C1: 6.5025, C2: 58.5225, covNorm };
            const js = ssimMapJs(x, y, w, h, taps, k, { withCs: true });
            const wasm = ssimMap(x, y, w, h, taps, k, { withCs: true, backend: 'wasm' });
            assert.deepEqual(wasm.map, js.map);
            assert.ok(Math.abs(wasm.mssim - js.mssim) <= 1e-14);
            assert.ok(Math.abs(wasm.meanCs - js.meanCs) <= 1e-14);
          }
        },
      ),
      { numRuns: 25, seed: 99 },
    );
  },
);

test(
  "float32 planes (what the decoders return): the WebAssembly kernel still gives the JavaScript kernel's map bit for bit",
  { skip: !wasmSimdAvailable },
  () => {
    fc.assert(
      fc.property(
        fc.record({
          w: fc.integer({ min: 12, max: 41 }),
          h: fc.integer({ min: 11, max: 30 }),
          seed: fc.integer(),
          frac: fc.boolean(),
        }),
        ({ w, h, seed, frac }) => {
          // integer samples (8-bit decodes) and non-integer float32 samples (e.g. rescaled DICOM)
          const x = Float32Array.from(randomImage(w, h, seed).data, (v) => (frac ? v + 0.37 : v));
          const y = Float32Array.from(randomImage(w, h, seed + 7, true).data, (v) => (frac ? v * 0.91 : v));
          const taps = gaussianTaps(11, 1.5);
          const k = { C1: 6.5025, C2: 58.5225, covNorm: 1 };
          const js = ssimMapJs(x, y, w, h, taps, k, { withCs: true });
          const wasm = ssimMap(x, y, w, h, taps, k, { withCs: true, backend: 'wasm' });
          assert.deepEqual(wasm.map, js.map);
          // and the float32 plane scores exactly what its float64 copy scores
          const js64 = ssimMapJs(Float64Array.from(x), Float64Array.from(y), w, h, taps, k, { withCs: true });
          assert.deepEqual(js.map, js64.map);
        },
      ),
      { numRuns: 20, seed: 7 },
    );
  },
);

test('matlab2009 equals wang bit for bit on an image under 384 px (factor round(min/256) = 1)', () => {
  const x = randomImage(300, 200, 7, true);
  const y = randomImage(300, 200, 8, true);
  const a = ssim(x, y, { mode: 'matlab2009', msssim: false });
  const b = ssim(x, y, { mode: 'wang', msssim: false });
  assert.equal(a.downsample, 1);
  assert.equal(a.mssim, b.mssim);
});

for (const [w, h, f] of [
  [400, 390, 2],
  [650, 640, 3],
] as const) {
  test(`matlab2009 on a ${w}x${h} image equals wang on a plain ${f}x${f} symmetric box downsample (1e-12)`, () => {
    const x = randomImage(w, h, 11, true);
    const y = randomImage(w, h, 12, true);
    const r = ssim(x, y, { mode: 'matlab2009', msssim: false });
    assert.equal(r.downsample, f);
    const dx = refDownsample(x.data, w, h, f);
    const dy = refDownsample(y.data, w, h, f);
    const ref = refSsim(dx.data, dy.data, dx.width, dx.height, 'wang');
    assert.equal(r.mapWidth, dx.width - 10);
    assert.equal(r.mapHeight, dx.height - 10);
    assert.ok(Math.abs(r.mssim - ref.mssim) <= 1e-12, `${r.mssim} vs ${ref.mssim}`);
  });
}

test('MS-SSIM equals a plain five-scale reference (Wang msssim.m weights, 2x2 symmetric average) to 1e-12', () => {
  const w = 181;
  const h = 190;
  const x = randomImage(w, h, 21, true);
  const y = randomImage(w, h, 22, true);
  const weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
  let a: { data: ArrayLike<number>; width: number; height: number } = { data: x.data, width: w, height: h };
  let b: { data: ArrayLike<number>; width: number; height: number } = { data: y.data, width: w, height: h };
  let expected = 1;
  for (let level = 0; level < 5; level++) {
    const r = refSsim(a.data, b.data, a.width, a.height, 'wang');
    expected *= (level < 4 ? r.mcs : r.mssim) ** weights[level]!;
    a = refDownsample(a.data, a.width, a.height, 2);
    b = refDownsample(b.data, b.width, b.height, 2);
  }
  const got = msssim(x, y);
  assert.ok(Math.abs(got - expected) <= 1e-12, `${got} vs ${expected}`);
  assert.equal(ssim(x, y).msssim, got);
});

// ---------- analytic properties ----------

test('identical inputs give exactly 1 for SSIM (every mode) and MS-SSIM', () => {
  fc.assert(
    fc.property(sizeArb, ({ w, h, seed }) => {
      const x = randomImage(w, h, seed, seed % 3 === 0);
      for (const mode of ['wang', 'skimage', 'matlab2009'] as const) {
        const r = ssim(x, x, { mode });
        assert.equal(r.mssim, 1);
        assert.ok(r.map.every((v) => v === 1));
      }
    }),
    { numRuns: 20, seed: 42 },
  );
  const big = randomImage(200, 180, 3, true);
  const r = ssim(big, big);
  assert.equal(r.mssim, 1);
  assert.equal(r.msssim, 1);
  assert.equal(r.psnr, Infinity);
});

test('the product l*c*s equals the SSIM map to 1e-12 on random images (C3 = C2/2)', () => {
  fc.assert(
    fc.property(sizeArb, ({ w, h, seed }) => {
      const x = randomImage(w, h, seed);
      const y = randomImage(w, h, seed + 1, seed % 2 === 0);
      for (const mode of ['wang', 'skimage'] as const) {
        const r = ssim(x, y, { mode, maps: true });
        const { lMap, cMap, sMap } = r;
        assert.ok(lMap && cMap && sMap);
        for (let i = 0; i < r.map.length; i++) {
          assert.ok(Math.abs(lMap[i]! * cMap[i]! * sMap[i]! - r.map[i]!) <= 1e-12);
        }
      }
    }),
    { numRuns: 15, seed: 7 },
  );
});

test('a constant shift changes only l: c and s stay 1, l follows (2 mx my + C1)/(mx² + my² + C1) with my = mx + d', () => {
  const w = 24;
  const h = 20;
  const x = randomImage(w, h, 5, true);
  const d = 7;
  const y = greyImage(
    w,
    h,
    Array.from(x.data, (v) => v + d),
  );
  const r = ssim(x, y, { maps: true });
  const C1 = (0.01 * 255) ** 2;
  for (let row = 0, i = 0; row < r.mapHeight; row++) {
    for (let col = 0; col < r.mapWidth; col++, i++) {
      const m = refMoments(x.data, x.data, w, row, col, 'wang');
      const l = (2 * m.mx * (m.mx + d) + C1) / (m.mx ** 2 + (m.mx + d) ** 2 + C1);
      assert.ok(Math.abs(r.lMap![i]! - l) <= 1e-12);
      assert.ok(Math.abs(r.cMap![i]! - 1) <= 1e-9);
      assert.ok(Math.abs(r.sMap![i]! - 1) <= 1e-9);
    }
  }
});

test('scaling around the mean by a changes c to (2a vx + C2)/((1+a²) vx + C2) and l as the formula says; s stays 1', () => {
  const w = 26;
  const h = 22;
  const x = randomImage(w, h, 9, true);
  let m = 0;
  for (const v of x.data) m += v;
  m /= x.data.length;
  const a = 0.5;
  const y = greyImage(
    w,
    h,
    Array.from(x.data, (v) => m + a * (v - m)),
  );
  const r = ssim(x, y, { maps: true });
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  for (let row = 0, i = 0; row < r.mapHeight; row++) {
    for (let col = 0; col < r.mapWidth; col++, i++) {
      const mo = refMoments(x.data, x.data, w, row, col, 'wang');
      const my = m + a * (mo.mx - m);
      const l = (2 * mo.mx * my + C1) / (mo.mx ** 2 + my ** 2 + C1);
      const c = (2 * a * mo.vx + C2) / ((1 + a * a) * mo.vx + C2);
      assert.ok(Math.abs(r.lMap![i]! - l) <= 1e-9, `l ${r.lMap![i]} vs ${l}`);
      assert.ok(Math.abs(r.cMap![i]! - c) <= 1e-9, `c ${r.cMap![i]} vs ${c}`);
      assert.ok(Math.abs(r.sMap![i]! - 1) <= 1e-9);
    }
  }
});

test('PSNR of a uniform +5 error at L = 255 is 20 log10(51) dB', () => {
  const x = Float64Array.from({ length: 100 }, (_, i) => i);
  const y = x.map((v) => v + 5);
  assert.ok(Math.abs(psnr(x, y, 255) - 20 * Math.log10(51)) <= 1e-12);
  assert.equal(psnr(x, x, 255), Infinity);
});
