/**
 * The high-frequency ratio's 2-D real FFT (frequency.ts) as WebAssembly SIMD, for power-of-two sides: the same
 * real-input scheme (rows two at a time as one complex FFT, then the w/2 + 1 non-redundant columns), with two
 * independent transforms in the two float64 lanes:
 *   rows: four image rows per step (lane 0 = rows y, y+1 as real and imaginary parts, lane 1 = rows y+2, y+3),
 *     one radix-2 FFT over a 32 KiB buffer that stays in L1, unpacked into the half spectra of the four rows;
 *   columns: two adjacent columns per FFT, elements one spectrum row apart;
 *   total: the weighted sum of |F| over the half spectrum (columns 1..w/2-1 stand for their mirrors).
 * The caller adds the low-frequency disc (a few percent of the spectrum) from the same spectra. Radix-2 with
 * twiddles exp(-2 pi i j / n) from a table: float64 throughout, equal to the JavaScript path within rounding
 * (not bit for bit: its radix-2^2 forms some twiddles by rotation). Opcodes: WebAssembly Core Specification 2.0.
 */
import { FunctionBuilder, I32, V128, memOp as mem, simdOp as simd, whileLoop as loop } from '../../ssim/wasm/emit.ts';
import { instantiateKernels } from './module.ts';

const PAGE = 65536;

const O = {
  call: 0x10,
  br: 0x0c,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  f64Store: 0x39,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32DivU: 0x6e,
  i32And: 0x71,
  i32Shl: 0x74,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32GtS: 0x4a,
  f64Add: 0xa0,
  f64ConvertI32U: 0xb8,
} as const;
const S = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
} as const;

/** v128 load/store with a 16-byte alignment hint (must not exceed the access's natural alignment). */
const vload = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.load], 4, offset);
const vstore = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.store], 4, offset);

/**
 * fft(re, im, n, stride, tw, rev): in-place radix-2 DIT FFT of n elements `stride` bytes apart, each element
 * `lanes` consecutive f64x2 vectors transformed alike (lanes = 4: a whole 64-byte cache line of columns per load).
 */
function fftFunction(lanes: number): FunctionBuilder {
  const f = new FunctionBuilder([
    ['re', I32],
    ['im', I32],
    ['n', I32],
    ['stride', I32],
    ['tw', I32],
    ['rev', I32],
  ]);
  for (const n of ['i', 'j', 'pi', 'pj', 'h', 'step', 'hs', 'start', 'q', 'p0', 'p1', 'm0', 'm1', 'w']) f.local(n, I32);
  for (const n of ['t', 'wr', 'wi', 'ar', 'ai', 'br', 'bi', 'tr', 'ti']) f.local(n, V128);
  const add = (): FunctionBuilder => simd(f, S.f64x2Add);
  const sub = (): FunctionBuilder => simd(f, S.f64x2Sub);
  const mul = (): FunctionBuilder => simd(f, S.f64x2Mul);
  // Bit-reversal permutation.
  f.i32(0).set('i');
  loop(f, () => f.get('i').get('n').op(O.i32GeU), () => {
    mem(f.get('rev').get('i').i32(2).op(O.i32Shl).op(O.i32Add), [O.i32Load], 2, 0).set('j');
    f.get('j').get('i').op(O.i32GtU).if();
    {
      f.get('i').get('stride').op(O.i32Mul).set('pi');
      f.get('j').get('stride').op(O.i32Mul).set('pj');
      for (const base of ['re', 'im']) {
        for (let l = 0; l < lanes; l++) {
          vload(f.get(base).get('pi').op(O.i32Add), 16 * l).set('t');
          f.get(base).get('pi').op(O.i32Add);
          vload(f.get(base).get('pj').op(O.i32Add), 16 * l);
          vstore(f, 16 * l);
          f.get(base).get('pj').op(O.i32Add).get('t');
          vstore(f, 16 * l);
        }
      }
    }
    f.end();
    f.get('i').i32(1).op(O.i32Add).set('i');
  });
  // Stages h = 1, 2, 4, ...: twiddle of butterfly q is exp(-2 pi i q (n / 2h) / n), 32 bytes per table entry.
  f.i32(1).set('h');
  loop(f, () => f.get('h').get('n').op(O.i32GeU), () => {
    f.get('n').get('h').i32(1).op(O.i32Shl).op(O.i32DivU).i32(5).op(O.i32Shl).set('step');
    f.get('h').get('stride').op(O.i32Mul).set('hs');
    f.i32(0).set('start');
    loop(f, () => f.get('start').get('n').op(O.i32GeU), () => {
      f.i32(0).set('q');
      f.get('tw').set('w');
      loop(f, () => f.get('q').get('h').op(O.i32GeU), () => {
        vload(f.get('w'), 0).set('wr');
        vload(f.get('w'), 16).set('wi');
        f.get('start').get('q').op(O.i32Add).get('stride').op(O.i32Mul).set('p0');
        f.get('im').get('p0').op(O.i32Add).set('m0');
        f.get('re').get('p0').op(O.i32Add).set('p0');
        f.get('p0').get('hs').op(O.i32Add).set('p1');
        f.get('m0').get('hs').op(O.i32Add).set('m1');
        for (let l = 0; l < lanes; l++) {
          const o = 16 * l;
          vload(f.get('p0'), o).set('ar');
          vload(f.get('m0'), o).set('ai');
          vload(f.get('p1'), o).set('br');
          vload(f.get('m1'), o).set('bi');
          // t = b w
          f.get('br').get('wr');
          mul().get('bi').get('wi');
          mul();
          sub().set('tr');
          f.get('br').get('wi');
          mul().get('bi').get('wr');
          mul();
          add().set('ti');
          f.get('p1').get('ar').get('tr');
          sub();
          vstore(f, o);
          f.get('m1').get('ai').get('ti');
          sub();
          vstore(f, o);
          f.get('p0').get('ar').get('tr');
          add();
          vstore(f, o);
          f.get('m0').get('ai').get('ti');
          add();
          vstore(f, o);
        }
        f.get('w').get('step').op(O.i32Add).set('w');
        f.get('q').i32(1).op(O.i32Add).set('q');
      });
      f.get('start').get('h').i32(1).op(O.i32Shl).op(O.i32Add).set('start');
    });
    f.get('h').i32(1).op(O.i32Shl).set('h');
  });
  return f;
}

/** rows(g, W, H, bufRe, bufIm, tw, rev, specRe, specIm, rowBytes): half spectra of every row (H % 4 == 0). */
function rowsFunction(lanes: number): FunctionBuilder {
  const f = new FunctionBuilder([
    ['g', I32],
    ['W', I32],
    ['H', I32],
    ['bufRe', I32],
    ['bufIm', I32],
    ['tw', I32],
    ['rev', I32],
    ['specRe', I32],
    ['specIm', I32],
    ['rowBytes', I32],
  ]);
  for (const n of ['y', 'x', 'p', 'k', 'j', 'o', 'r0']) f.local(n, I32);
  for (const n of ['zr', 'zi', 'cr', 'ci', 'v', 'half']) f.local(n, V128);
  const add = (): FunctionBuilder => simd(f, S.f64x2Add);
  const sub = (): FunctionBuilder => simd(f, S.f64x2Sub);
  const mul = (): FunctionBuilder => simd(f, S.f64x2Mul);
  f.f64(0.5);
  simd(f, S.f64x2Splat).set('half');
  const sample = (rowOffset: number): void => {
    // f64(g[p + rowOffset * W + x])
    f.get('p').get('W').i32(rowOffset).op(O.i32Mul).op(O.i32Add).get('x').op(O.i32Add);
    mem(f, [O.i32Load8U], 0, 0).op(O.f64ConvertI32U);
  };
  /** Store lane `lane` of local `v` as float64 at `base` + row `row` of the four + k. */
  const storeLane = (base: string, row: number, lane: number, v: string): void => {
    f.get(base).get('r0').op(O.i32Add).get('rowBytes').i32(row).op(O.i32Mul).op(O.i32Add).get('o').op(O.i32Add);
    simd(f.get(v), S.f64x2ExtractLane, lane);
    mem(f, [O.f64Store], 3, 0);
  };
  f.i32(0).set('y');
  loop(f, () => f.get('y').get('H').op(O.i32GeU), () => {
    f.get('g').get('y').get('W').op(O.i32Mul).op(O.i32Add).set('p');
    // Gather: vector l of element x holds re = rows y+4l, y+4l+2 and im = rows y+4l+1, y+4l+3.
    f.i32(0).set('x');
    loop(f, () => f.get('x').get('W').op(O.i32GeU), () => {
      for (let l = 0; l < lanes; l++) {
        f.get('bufRe').get('x').i32(4 + Math.log2(lanes)).op(O.i32Shl).op(O.i32Add);
        sample(4 * l);
        simd(f, S.f64x2Splat);
        sample(4 * l + 2);
        simd(f, S.f64x2ReplaceLane, 1);
        vstore(f, 16 * l);
        f.get('bufIm').get('x').i32(4 + Math.log2(lanes)).op(O.i32Shl).op(O.i32Add);
        sample(4 * l + 1);
        simd(f, S.f64x2Splat);
        sample(4 * l + 3);
        simd(f, S.f64x2ReplaceLane, 1);
        vstore(f, 16 * l);
      }
      f.get('x').i32(1).op(O.i32Add).set('x');
    });
    f.get('bufRe').get('bufIm').get('W').i32(16 * lanes).get('tw').get('rev').op(O.call, lanes === 1 ? 0 : 4);
    // Unpack k = 0..W/2: A = (Z[k] + conj Z[-k]) / 2 (rows y, y+2), B = (Z[k] - conj Z[-k]) / 2i (rows y+1, y+3).
    f.get('y').get('rowBytes').op(O.i32Mul).set('r0');
    f.i32(0).set('k');
    loop(f, () => f.get('k').get('W').i32(1).op(0x76 /* i32.shr_u */).op(O.i32GtU), () => {
      f.get('W').get('k').op(O.i32Sub).get('W').i32(1).op(O.i32Sub).op(O.i32And).set('j');
      f.get('k').i32(3).op(O.i32Shl).set('o');
      const sh = 4 + Math.log2(lanes);
      for (let l = 0; l < lanes; l++) {
        const r = 4 * l;
        vload(f.get('bufRe').get('k').i32(sh).op(O.i32Shl).op(O.i32Add), 16 * l).set('zr');
        vload(f.get('bufIm').get('k').i32(sh).op(O.i32Shl).op(O.i32Add), 16 * l).set('zi');
        vload(f.get('bufRe').get('j').i32(sh).op(O.i32Shl).op(O.i32Add), 16 * l).set('cr');
        vload(f.get('bufIm').get('j').i32(sh).op(O.i32Shl).op(O.i32Add), 16 * l);
        simd(f, S.f64x2Neg).set('ci');
        f.get('zr').get('cr');
        add().get('half');
        mul().set('v');
        storeLane('specRe', r, 0, 'v');
        storeLane('specRe', r + 2, 1, 'v');
        f.get('zi').get('ci');
        add().get('half');
        mul().set('v');
        storeLane('specIm', r, 0, 'v');
        storeLane('specIm', r + 2, 1, 'v');
        f.get('zi').get('ci');
        sub().get('half');
        mul().set('v');
        storeLane('specRe', r + 1, 0, 'v');
        storeLane('specRe', r + 3, 1, 'v');
        f.get('zr').get('cr');
        sub().get('half');
        mul();
        simd(f, S.f64x2Neg).set('v');
        storeLane('specIm', r + 1, 0, 'v');
        storeLane('specIm', r + 3, 1, 'v');
      }
      f.get('k').i32(1).op(O.i32Add).set('k');
    });
    f.get('y').i32(4 * lanes).op(O.i32Add).set('y');
  });
  return f;
}

/** cols(specRe, specIm, H, rowBytes, tw, rev): FFT of every column, eight at a time (rowBytes a multiple of 64). */
function colsFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['specRe', I32],
    ['specIm', I32],
    ['H', I32],
    ['rowBytes', I32],
    ['tw', I32],
    ['rev', I32],
  ]);
  f.local('c', I32);
  f.i32(0).set('c');
  loop(f, () => f.get('c').get('rowBytes').op(O.i32GeU), () => {
    f.get('specRe').get('c').op(O.i32Add).get('specIm').get('c').op(O.i32Add).get('H').get('rowBytes').get('tw').get('rev').op(O.call, 4);
    f.get('c').i32(64).op(O.i32Add).set('c');
  });
  return f;
}

/** total(specRe, specIm, count, wt, rowBytes, out): out = sum over all count bytes / 8 cells of wt[col] |F|. */
function totalFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['specRe', I32],
    ['specIm', I32],
    ['bytes', I32],
    ['wt', I32],
    ['rowBytes', I32],
    ['out', I32],
  ]);
  for (const n of ['o', 'c']) f.local(n, I32);
  for (const n of ['acc', 'a', 'b']) f.local(n, V128);
  f.op(0xfd, S.const, ...new Array<number>(16).fill(0)).set('acc');
  f.i32(0).set('o');
  loop(f, () => f.get('o').get('bytes').op(O.i32GeU), () => {
    f.i32(0).set('c');
    loop(f, () => f.get('c').get('rowBytes').op(O.i32GeU), () => {
      vload(f.get('specRe').get('o').op(O.i32Add).get('c').op(O.i32Add)).set('a');
      vload(f.get('specIm').get('o').op(O.i32Add).get('c').op(O.i32Add)).set('b');
      f.get('acc');
      f.get('a').get('a');
      simd(f, S.f64x2Mul).get('b').get('b');
      simd(f, S.f64x2Mul);
      simd(f, S.f64x2Add);
      simd(f, S.f64x2Sqrt);
      vload(f.get('wt').get('c').op(O.i32Add));
      simd(f, S.f64x2Mul);
      simd(f, S.f64x2Add).set('acc');
      f.get('c').i32(16).op(O.i32Add).set('c');
    });
    f.get('o').get('rowBytes').op(O.i32Add).set('o');
  });
  f.get('out');
  simd(f.get('acc'), S.f64x2ExtractLane, 0);
  simd(f.get('acc'), S.f64x2ExtractLane, 1);
  f.op(O.f64Add);
  mem(f, [O.f64Store], 3, 0);
  return f;
}

interface Instance {
  rows: (...a: number[]) => void;
  rows4: (...a: number[]) => void;
  cols: (...a: number[]) => void;
  total: (...a: number[]) => void;
  memory: WebAssembly.Memory;
}

let instance: Instance | null | undefined;

function getInstance(): Instance | null {
  if (instance === undefined) {
    instance = instantiateKernels<Instance>(
      [
        { name: 'fft', fn: fftFunction(1), exported: false },
        { name: 'rows', fn: rowsFunction(1), exported: true },
        { name: 'cols', fn: colsFunction(), exported: true },
        { name: 'total', fn: totalFunction(), exported: true },
        { name: 'fft4', fn: fftFunction(4), exported: false },
        { name: 'rows4', fn: rowsFunction(4), exported: true },
      ],
      1,
    );
  }
  return instance;
}

/** Twiddles exp(-2 pi i j / n), j < n/2, each as [re, re, im, im] (both lanes), and the bit-reversal table. */
function writeTables(buf: ArrayBuffer, twPtr: number, revPtr: number, n: number): void {
  const tw = new Float64Array(buf, twPtr, 2 * n);
  for (let j = 0; j < n / 2; j++) {
    const a = (2 * Math.PI * j) / n;
    tw[4 * j] = tw[4 * j + 1] = Math.cos(a);
    tw[4 * j + 2] = tw[4 * j + 3] = -Math.sin(a);
  }
  const rev = new Uint32Array(buf, revPtr, n);
  const bits = Math.round(Math.log2(n));
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
}

const align = (n: number): number => Math.ceil(n / 64) * 64;
const isPow2 = (n: number): boolean => (n & (n - 1)) === 0;

/** The half spectra in wasm memory: `half` = W/2 + 1 columns, rows `cols` floats apart (valid until the next call). */
export interface HalfSpectrum {
  re: Float64Array;
  im: Float64Array;
  /** Row length of re / im in floats (W/2 + 1 rounded up to 8: padding columns, zero). */
  cols: number;
  /** Weighted sum of |F| over the whole spectrum. */
  total: number;
}

/**
 * The 2-D DFT of an 8-bit plane as its half spectrum (columns 0..W/2), and the weighted total of |F|; null when a
 * side is not a power of two of at least 4 or there is no WebAssembly SIMD (the caller uses the JavaScript path).
 */
export function halfSpectrumWasm(gray: Uint8Array, width: number, height: number): HalfSpectrum | null {
  if (width < 4 || height < 4 || !isPow2(width) || !isPow2(height)) return null;
  const inst = getInstance();
  if (inst === null) return null;
  const n = width * height;
  const cols = Math.ceil((width / 2 + 1) / 8) * 8;
  const rowBytes = cols * 8;
  const gPtr = 0;
  const bufRe = align(n);
  // Row buffers: 16 image rows per transform (4 vectors per element) when the height allows, else 4.
  const lanes = height % 16 === 0 ? 4 : 1;
  const bufIm = bufRe + 16 * lanes * width;
  const twW = bufIm + 16 * lanes * width;
  const revW = twW + align(16 * width);
  const twH = revW + align(4 * width);
  const revH = twH + align(16 * height);
  const wt = revH + align(4 * height);
  const specRe = wt + align(rowBytes);
  const specIm = specRe + align(rowBytes * height);
  const outPtr = specIm + align(rowBytes * height);
  const need = outPtr + 64;
  const have = inst.memory.buffer.byteLength;
  if (need > have) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const buf = inst.memory.buffer;
  new Uint8Array(buf, gPtr, n).set(gray);
  writeTables(buf, twW, revW, width);
  writeTables(buf, twH, revH, height);
  // Column weights: 0 and W/2 count once, 1..W/2-1 twice (for their mirrors), the padding columns not at all.
  const half = width / 2 + 1;
  const w = new Float64Array(buf, wt, cols).fill(2);
  w[0] = 1;
  w[width / 2] = 1;
  w.fill(0, half);
  const re = new Float64Array(buf, specRe, cols * height);
  const im = new Float64Array(buf, specIm, cols * height);
  for (let y = 0; y < height; y++) {
    re.fill(0, y * cols + half, (y + 1) * cols);
    im.fill(0, y * cols + half, (y + 1) * cols);
  }
  (lanes === 4 ? inst.rows4 : inst.rows)(gPtr, width, height, bufRe, bufIm, twW, revW, specRe, specIm, rowBytes);
  inst.cols(specRe, specIm, height, rowBytes, twH, revH);
  inst.total(specRe, specIm, rowBytes * height, wt, rowBytes, outPtr);
  return { re, im, cols, total: new Float64Array(buf, outPtr, 1)[0]! };
}
