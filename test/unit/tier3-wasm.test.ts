/**
 * The WebAssembly SIMD block kernel (src/tier3/wasm/blockKernel.ts) against the JavaScript kernel it was generated
 * from: every column, every block, the same double (Object.is, and the same bytes, so NaN payloads and -0 agree)
 * on real fixture images (8-bit NIH chest X-rays, a 16-bit CT slice), random pairs of odd sizes, float32 and
 * float64 planes, fractional and 16-bit data, flat and identical images, every block size path (B = 8 and the
 * general one) with overlapping and gapped strides; whole `diagnose()` results (ROI, summaries) agree too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateBlockColumns, BLOCK_COLUMNS, type BlockColumns } from '../../src/tier3/columns.ts';
import { BLOCK_KERNEL_ENV, blockGrid, blockKernelFor, diagnoseBlocks, type BlockKernelBackend } from '../../src/tier3/blocks.ts';
import { resolveDiagnoseOptions, type DiagnoseOptions } from '../../src/tier3/options.ts';
import { wasmSimdAvailable } from '../../src/tier3/wasm/blockKernel.ts';
import { diagnose, type DiagnoseResult } from '../../src/tier3/diagnose.ts';
import { readImage } from '../../src/image/read.ts';
import { greyImage, type Image } from '../../src/image/types.ts';
import { fixture } from '../helpers/cli.ts';
import { mulberry32 } from '../helpers/rng.ts';

const skip = !wasmSimdAvailable;

const rng = mulberry32;

type Plane = Float32Array | Float64Array;
/** The only column the kernel does not write (the GT reference fills it). */
const NOT_WRITTEN = new Set(['in_roi']);

/** Run one backend into columns pre-filled with `junk`, so a column it forgets to write shows up. */
function runKernel(x: Plane, y: Plane, w: number, h: number, o: DiagnoseOptions, backend: BlockKernelBackend, junk: number): BlockColumns {
  const ro = { ...resolveDiagnoseOptions(o), dataRange: o.dataRange ?? 255 };
  const g = blockGrid(w, h, ro.blockSize, ro.stride);
  const cols = allocateBlockColumns(g.blockCount + 3);
  for (const c of Object.values(cols)) c.fill(junk);
  diagnoseBlocks(x, y, w, h, ro, cols, undefined, backend);
  return cols;
}

/** Every written column equal value by value (Object.is) and byte by byte over the first `n` blocks. */
function assertSameColumns(a: BlockColumns, b: BlockColumns, n: number, what: string): void {
  for (const spec of BLOCK_COLUMNS) {
    if (NOT_WRITTEN.has(spec.name)) continue;
    const ca = a[spec.name]!;
    const cb = b[spec.name]!;
    for (let k = 0; k < n; k++) {
      if (!Object.is(ca[k], cb[k])) assert.fail(`${what}: column ${spec.name}, block ${k}: js ${ca[k]} vs wasm ${cb[k]}`);
    }
    const bytes = (c: BlockColumns[string]) => Buffer.from(c.buffer, c.byteOffset, n * c.BYTES_PER_ELEMENT);
    assert.ok(bytes(ca).equals(bytes(cb)), `${what}: column ${spec.name} differs in its bytes (NaN payload?)`);
  }
}

function compareKernels(x: Plane, y: Plane, w: number, h: number, o: Partial<DiagnoseOptions>, what: string): BlockColumns {
  const full = resolveDiagnoseOptions(o);
  const opts = { ...full, dataRange: o.dataRange ?? 255 };
  const g = blockGrid(w, h, full.blockSize, full.stride);
  const js = runKernel(x, y, w, h, opts, 'js', 7);
  const wasm = runKernel(x, y, w, h, opts, 'wasm', -3);
  assertSameColumns(js, wasm, g.blockCount, what);
  return js;
}

/** A random pair: blocks of varied mean, texture and damage (gain, offset, noise, sign flips), `levels` grey levels. */
function randomPair(w: number, h: number, seed: number, opts: { levels?: number; frac?: boolean; f32?: boolean; negative?: boolean } = {}) {
  const r = rng(seed);
  const L = (opts.levels ?? 256) - 1;
  const A = opts.f32 ? Float32Array : Float64Array;
  const x = new A(w * h);
  const y = new A(w * h);
  const q = (v: number) => {
    const c = opts.negative ? v : Math.max(0, Math.min(L, v));
    return opts.frac ? c : Math.round(c);
  };
  for (let by = 0; by < h; by += 5) {
    for (let bx = 0; bx < w; bx += 6) {
      const mean = (0.05 + r() * 0.9) * L;
      const amp = (r() < 0.3 ? r() * 0.01 : r() * 0.25) * L;
      const gain = r() < 0.2 ? -1 : 0.3 + r() * 1.2;
      const off = (r() - 0.5) * 0.1 * L;
      const noise = r() * 0.04 * L;
      for (let j = by; j < Math.min(h, by + 5); j++) {
        for (let i = bx; i < Math.min(w, bx + 6); i++) {
          const t = (r() - 0.5) * 2 * amp;
          x[j * w + i] = q(mean + t);
          y[j * w + i] = q(mean + gain * t + off + (r() - 0.5) * noise);
        }
      }
    }
  }
  return { x, y };
}

test('random pairs, odd sizes, float32/float64, integer and fractional samples, B = 8: the same columns', { skip }, () => {
  const sizes: [number, number][] = [
    [8, 8], // one block
    [9, 8], // one block, a spare column
    [23, 17], // two block columns (one pair), partial blocks cut off
    [31, 29], // three block columns: a lone last block in every band
    [65, 41],
    [97, 66],
  ];
  let seed = 1;
  for (const [w, h] of sizes) {
    for (const f32 of [false, true]) {
      for (const frac of [false, true]) {
        const { x, y } = randomPair(w, h, seed++, { f32, frac });
        compareKernels(x, y, w, h, {}, `${w}x${h} f32=${f32} frac=${frac}`);
      }
    }
  }
});

test('every block size path and stride (overlapping, gapped), display width != data range: the same columns', { skip }, () => {
  let seed = 100;
  for (const B of [7, 8, 9, 11, 16]) {
    for (const stride of [B, Math.max(1, B - 3), B + 5, 1]) {
      for (const [w, h] of [
        [B + 1, B],
        [3 * B + 2, 2 * B + 3],
        [53, 47],
      ] as [number, number][]) {
        const { x, y } = randomPair(w, h, seed++, { frac: seed % 3 === 0, f32: seed % 2 === 0 });
        compareKernels(x, y, w, h, { blockSize: B, stride, displayWidth: 183.7 }, `B=${B} stride=${stride} ${w}x${h}`);
      }
    }
  }
});

test('16-bit and 12-bit data, negative floats, non-default gates: the same columns', { skip }, () => {
  for (const [levels, seed] of [
    [65536, 7],
    [4096, 8],
    [65536, 9],
  ] as const) {
    const { x, y } = randomPair(83, 61, seed, { levels, f32: seed !== 9 });
    compareKernels(x, y, 83, 61, { dataRange: levels - 1 }, `${levels} levels`);
    compareKernels(x, y, 83, 61, { dataRange: levels - 1, blockSize: 12, displayWidth: 'data-range' }, `${levels} levels, B 12`);
  }
  const { x, y } = randomPair(45, 38, 11, { frac: true, negative: true, levels: 3 });
  compareKernels(x, y, 45, 38, { dataRange: 2, rhoGate: 0, a2Gate: 0, a4Gate: 0, a5Gate: 0, a3Gate: 0.1, rFloorVariance: 0 }, 'negative floats, open gates');
});

test('flat, identical and zero images (NaN rho, zero gradients, 0/0 paths): the same columns', { skip }, () => {
  const w = 37;
  const h = 26;
  const n = w * h;
  const flat = new Float64Array(n).fill(117);
  const zero = new Float64Array(n);
  const { x } = randomPair(w, h, 21);
  const ramp = Float64Array.from({ length: n }, (_, i) => (i % w) * 3);
  const pairs: [string, Plane, Plane][] = [
    ['flat vs flat', flat, flat],
    ['zero vs zero', zero, zero],
    ['flat vs random', flat, x],
    ['random vs flat', x, flat],
    ['identical', x, x],
    ['ramp vs ramp + 1', ramp, ramp.map((v) => v + 1)],
    ['zero vs 255', zero, new Float64Array(n).fill(255)],
  ];
  for (const [what, a, b] of pairs) {
    for (const B of [8, 10]) {
      const cols = compareKernels(a, b, w, h, { blockSize: B }, `${what}, B ${B}`);
      if (what === 'flat vs flat') assert.ok(Number.isNaN(cols.rho![0]), 'flat blocks have NaN rho');
    }
  }
});

test('one compiled kernel reused for a taller then a shorter image of the same width: no stale rows', { skip }, () => {
  const tall = randomPair(40, 120, 31);
  const short = randomPair(40, 24, 32);
  compareKernels(tall.x, tall.y, 40, 120, {}, 'tall');
  compareKernels(short.x, short.y, 40, 24, {}, 'short after tall');
  compareKernels(tall.x, tall.y, 40, 120, {}, 'tall again');
});

/** diagnose() with the kernel chosen through the environment variable (what `run` workers inherit). */
function diagnoseWith(kernel: 'js' | 'wasm', gt: Image, test: Image, o: Partial<DiagnoseOptions> = {}): DiagnoseResult {
  const before = process.env[BLOCK_KERNEL_ENV];
  process.env[BLOCK_KERNEL_ENV] = kernel;
  try {
    const r = diagnose(gt, test, o);
    // the result aliases no buffers here, but copy the columns anyway: the next call must not change them
    return { ...r, columns: Object.fromEntries(Object.entries(r.columns).map(([k, v]) => [k, v.slice()])) };
  } finally {
    if (before === undefined) delete process.env[BLOCK_KERNEL_ENV];
    else process.env[BLOCK_KERNEL_ENV] = before;
  }
}

function assertSameDiagnosis(a: DiagnoseResult, b: DiagnoseResult, what: string): void {
  assertSameColumns(a.columns, b.columns, a.blockCount, what);
  assert.deepEqual(a.columns.in_roi, b.columns.in_roi);
  assert.equal(JSON.stringify(b.summary), JSON.stringify(a.summary), `${what}: summaries differ`);
}

test('real images through diagnose(): NIH chest X-ray vs its bicubic twin (8-bit), ROI auto and all, B 8 and 16', { skip }, async () => {
  const gt = await readImage(fixture('cxr/nih_00000001_000.png'));
  const sr = await readImage(fixture('cxr/nih_00000001_000_box4_bicubic4.png'));
  for (const o of [{}, { roi: 'all' as const, displayWidth: 'data-range' as const }, { blockSize: 16 }, { blockSize: 8, stride: 4 }]) {
    assertSameDiagnosis(diagnoseWith('js', gt, sr, o), diagnoseWith('wasm', gt, sr, o), `NIH CXR ${JSON.stringify(o)}`);
  }
});

test('real 16-bit images through diagnose(): a CT slice vs a smoothed, requantised copy; a DICOM pair', { skip }, async () => {
  const ct = await readImage(fixture('medical/ct/CT693_512_u16_HUplus1024.png'));
  const { width: w, height: h } = ct;
  // a 3-tap horizontal blur plus a deterministic ripple, rounded to integers: realistic hidden damage
  const d = new Float64Array(w * h);
  for (let j = 0; j < h; j++)
    for (let i = 0; i < w; i++) {
      const at = (ii: number) => ct.data[j * w + Math.min(w - 1, Math.max(0, ii))]!;
      d[j * w + i] = Math.round((at(i - 1) + 2 * at(i) + at(i + 1)) / 4 + 3 * Math.sin(i * 0.7 + j * 0.3));
    }
  const test16 = greyImage(w, h, d, { bitDepth: ct.bitDepth, dataRange: ct.dataRange });
  assertSameDiagnosis(diagnoseWith('js', ct, test16), diagnoseWith('wasm', ct, test16), 'CT 16-bit');
  const mrA = await readImage(fixture('medical/dicom_small/MR_small.dcm'));
  const mrB = await readImage(fixture('medical/dicom_compressed/MR_small_RLE.dcm'));
  const mrC = greyImage(mrA.width, mrA.height, Array.from(mrA.data, (v, i) => v + (i % 7) - 3), { bitDepth: mrA.bitDepth, dataRange: mrA.dataRange });
  for (const [t, what] of [
    [mrB, 'MR DICOM vs its RLE copy (identical samples)'],
    [mrC, 'MR DICOM vs a perturbed copy'],
  ] as const) {
    assertSameDiagnosis(diagnoseWith('js', mrA, t), diagnoseWith('wasm', mrA, t), what);
  }
});

test('backend choice: auto picks wasm where SIMD exists; BLINDSPOT_BLOCK_KERNEL=js forces JavaScript; bad values are refused', () => {
  const g = blockGrid(64, 64, 8, 8);
  const before = process.env[BLOCK_KERNEL_ENV];
  try {
    delete process.env[BLOCK_KERNEL_ENV];
    assert.equal(blockKernelFor('auto', 64, 64, g), wasmSimdAvailable ? 'wasm' : 'js');
    assert.equal(blockKernelFor('js', 64, 64, g), 'js');
    process.env[BLOCK_KERNEL_ENV] = 'js';
    assert.equal(blockKernelFor('auto', 64, 64, g), 'js');
    if (wasmSimdAvailable) assert.equal(blockKernelFor('wasm', 64, 64, g), 'wasm', 'an explicit backend wins over the environment');
    process.env[BLOCK_KERNEL_ENV] = 'WASM';
    assert.equal(blockKernelFor('auto', 64, 64, g), wasmSimdAvailable ? 'wasm' : 'js');
    process.env[BLOCK_KERNEL_ENV] = 'fast';
    assert.throws(() => blockKernelFor('auto', 64, 64, g), { code: 'E_INVALID_OPTION', message: /BLINDSPOT_BLOCK_KERNEL/ });
  } finally {
    if (before === undefined) delete process.env[BLOCK_KERNEL_ENV];
    else process.env[BLOCK_KERNEL_ENV] = before;
  }
});
