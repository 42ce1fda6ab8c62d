/**
 * The interior of the battery's fused 3x3 pass (filters.ts `gradientPass`) as WebAssembly SIMD: eight pixels per
 * step in 16-bit lanes (the 8-bit samples widened on load), writing the Sobel fields dx, dy and Canny's framed
 * L1 magnitude, and summing the Laplacian, its square, its absolute value and the Sobel edge count. Integer
 * arithmetic throughout (sums widened to 64 bits per row), so every output equals the JavaScript loop's exactly;
 * the caller finishes the last (width - 2) mod 8 interior columns and the one-pixel frame in JavaScript.
 * Opcodes: WebAssembly Core Specification 2.0 §5.4 (SIMD prefix 0xFD).
 */
import { FunctionBuilder, I32, V128 } from '../../ssim/wasm/emit.ts';
import { instantiateKernels } from './module.ts';

const PAGE = 65536;

// SIMD sub-opcodes used here (§5.4.9).
const S = {
  load8x8U: 0x02,
  store: 0x0b,
  i32x4Splat: 0x11,
  i64x2ExtractLane: 0x1d,
  i32x4GtS: 0x3b,
  i16x8Abs: 0x80,
  i16x8Shl: 0x8b,
  i16x8Add: 0x8e,
  i16x8Sub: 0x91,
  i32x4ExtaddPairwiseI16x8S: 0x7e,
  i32x4ExtendLowI16x8S: 0xa7,
  i32x4ExtendHighI16x8S: 0xa8,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4DotI16x8S: 0xba,
  i32x4ExtmulLowI16x8S: 0xbc,
  i32x4ExtmulHighI16x8S: 0xbd,
  i64x2ExtendLowI32x4S: 0xc7,
  i64x2ExtendHighI32x4S: 0xc8,
  i64x2Add: 0xce,
} as const;

// Scalar opcodes (§5.4.7).
const O = {
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  i32GtS: 0x4a,
  i32GeS: 0x4e,
  i64Add: 0x7c,
  f64ConvertI64S: 0xb9,
  v128Const: 0x0c,
} as const;

/** Squared Sobel magnitude above which a pixel is an edge (see filters.ts: > 41611.8384 on integers). */
const EDGE_SQ = 41611;

function generate(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['gray', I32],
    ['dx', I32],
    ['dy', I32],
    ['mag', I32],
    ['out', I32],
    ['width', I32],
    ['height', I32],
  ]);
  for (const n of ['y', 'x', 'q0', 'q1', 'q2', 'o', 'pm']) f.local(n, I32);
  const vecs = ['a', 'b', 'c', 'd', 'e', 'ff', 'g', 'h', 'i', 'lap', 'gx', 'gy', 'm', 'thr'];
  const accs = ['rLap', 'rNoise', 'rEdge', 'tLap', 'tSq', 'tNoise', 'tEdge'];
  for (const n of [...vecs, ...accs]) f.local(n, V128);
  const simd = (s: number): typeof f => f.simd(s);
  const zero = (name: string): void => {
    f.op(0xfd, O.v128Const, ...new Array<number>(16).fill(0)).set(name);
  };
  for (const n of accs.slice(3)) zero(n);
  f.i32(EDGE_SQ).simd(S.i32x4Splat).set('thr');
  const widen64 = (from: string, into: string): void => {
    // into += sign-extended lanes of the i32x4 `from` (low and high halves).
    f.get(into).get(from).simd(S.i64x2ExtendLowI32x4S).simd(S.i64x2Add);
    f.get(from).simd(S.i64x2ExtendHighI32x4S).simd(S.i64x2Add).set(into);
  };

  f.i32(1).set('y');
  f.block().loop();
  {
    // while (y < height - 1)
    f.get('y').i32(1).op(O.i32Add).get('height').op(O.i32GeS).brIf(1);
    for (const n of accs.slice(0, 3)) zero(n);
    f.i32(1).set('x');
    f.block().loop();
    {
      // while (x + 8 <= width - 1)
      f.get('x').i32(9).op(O.i32Add).get('width').op(O.i32GtS).brIf(1);
      // q0 = gray + (y - 1) * width + x - 1; q1, q2 the next rows.
      f.get('gray').get('y').i32(1).op(O.i32Sub).get('width').op(O.i32Mul).op(O.i32Add).get('x').op(O.i32Add).i32(1).op(O.i32Sub).set('q0');
      f.get('q0').get('width').op(O.i32Add).set('q1');
      f.get('q1').get('width').op(O.i32Add).set('q2');
      const load = (q: string, off: number, into: string): void => {
        f.get(q).mem([0xfd, S.load8x8U], off).set(into);
      };
      load('q0', 0, 'a');
      load('q0', 1, 'b');
      load('q0', 2, 'c');
      load('q1', 0, 'd');
      load('q1', 1, 'e');
      load('q1', 2, 'ff');
      load('q2', 0, 'g');
      load('q2', 1, 'h');
      load('q2', 2, 'i');
      const add = (): typeof f => simd(S.i16x8Add);
      const sub = (): typeof f => simd(S.i16x8Sub);
      // lap = a + b + c + d + f + g + h + i - 8 e
      f.get('a').get('b');
      add().get('c');
      add().get('d');
      add().get('ff');
      add().get('g');
      add().get('h');
      add().get('i');
      add().get('e').i32(3).simd(S.i16x8Shl);
      sub().set('lap');
      // gx = c + 2 f + i - a - 2 d - g
      f.get('c').get('ff').i32(1).simd(S.i16x8Shl);
      add().get('i');
      add().get('a');
      sub().get('d').i32(1).simd(S.i16x8Shl);
      sub().get('g');
      sub().set('gx');
      // gy = g + 2 h + i - a - 2 b - c
      f.get('g').get('h').i32(1).simd(S.i16x8Shl);
      add().get('i');
      add().get('a');
      sub().get('b').i32(1).simd(S.i16x8Shl);
      sub().get('c');
      sub().set('gy');
      // o = y * width + x: dx, dy at 2 o.
      f.get('y').get('width').op(O.i32Mul).get('x').op(O.i32Add).i32(1).op(O.i32Shl).set('o');
      f.get('dx').get('o').op(O.i32Add).get('gx').mem([0xfd, S.store], 0);
      f.get('dy').get('o').op(O.i32Add).get('gy').mem([0xfd, S.store], 0);
      // mag[(y + 1) * (width + 2) + x + 1] = |gx| + |gy| (int32)
      f.get('gx').simd(S.i16x8Abs).get('gy').simd(S.i16x8Abs);
      add().set('m');
      f.get('mag').get('y').i32(1).op(O.i32Add).get('width').i32(2).op(O.i32Add).op(O.i32Mul).get('x').op(O.i32Add).i32(1).op(O.i32Add).i32(2).op(O.i32Shl).op(O.i32Add).set('pm');
      f.get('pm').get('m').simd(S.i32x4ExtendLowI16x8S).mem([0xfd, S.store], 0);
      f.get('pm').get('m').simd(S.i32x4ExtendHighI16x8S).mem([0xfd, S.store], 16);
      // Row sums: lap, |lap| (pairwise into int32 lanes), lap^2 (dot product, widened to int64 at once).
      f.get('rLap').get('lap').simd(S.i32x4ExtaddPairwiseI16x8S).simd(S.i32x4Add).set('rLap');
      f.get('rNoise').get('lap').simd(S.i16x8Abs).simd(S.i32x4ExtaddPairwiseI16x8S).simd(S.i32x4Add).set('rNoise');
      f.get('lap').get('lap').simd(S.i32x4DotI16x8S).set('m');
      widen64('m', 'tSq');
      // Edges: gx^2 + gy^2 > EDGE_SQ gives -1 per lane; subtracting counts them.
      for (const ext of [S.i32x4ExtmulLowI16x8S, S.i32x4ExtmulHighI16x8S]) {
        f.get('rEdge').get('gx').get('gx').simd(ext).get('gy').get('gy').simd(ext).simd(S.i32x4Add).get('thr').simd(S.i32x4GtS).simd(S.i32x4Sub).set('rEdge');
      }
      f.get('x').i32(8).op(O.i32Add).set('x');
      f.op(0x0c, 0); // br 0 (continue)
    }
    f.end().end();
    widen64('rLap', 'tLap');
    widen64('rNoise', 'tNoise');
    widen64('rEdge', 'tEdge');
    f.get('y').i32(1).op(O.i32Add).set('y');
    f.op(0x0c, 0);
  }
  f.end().end();
  // out[0..3] = lap sum, lap^2 sum, |lap| sum, edge count (float64, exact below 2^53).
  ['tLap', 'tSq', 'tNoise', 'tEdge'].forEach((n, k) => {
    f.get('out');
    f.get(n).op(0xfd, S.i64x2ExtractLane, 0).get(n).op(0xfd, S.i64x2ExtractLane, 1).op(O.i64Add).op(O.f64ConvertI64S);
    f.f64Store(8 * k);
  });
  return f;
}

// Canny's non-maximum suppression (canny.ts), four pixels per step in int32 lanes.
const N = {
  load16x4S: 0x03,
  store32Lane: 0x5a,
  v128And: 0x4e,
  v128Bitselect: 0x52,
  v128Xor: 0x51,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4U: 0x86,
  i32x4Abs: 0xa0,
  i32x4Shl: 0xab,
  i32x4Mul: 0xb5,
  i32x4LtS: 0x39,
  i32x4GeS: 0x3f,
} as const;

/**
 * nms(mag, dx, dy, state, width, height, lo, hi): state = 2 (strong: above hi), 1 (weak) or 0 for pixels
 * [0, x4End) of every row, x4End = width rounded down to 4, with OpenCV's sectors and tie rules (canny.ts).
 */
function nmsFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['mag', I32],
    ['dx', I32],
    ['dy', I32],
    ['state', I32],
    ['width', I32],
    ['height', I32],
    ['lo', I32],
    ['hi', I32],
  ]);
  for (const n of ['y', 'x', 'pk', 'pi', 'fw4', 'xEnd']) f.local(n, I32);
  const vecs = ['m', 'xs', 'ys', 'ax', 'ay', 't22', 't67', 'cH', 'cV', 'mxH', 'mxV', 'mxD', 'neg', 'loV', 'hiV', 'c22', 'one', 'zero', 'cand'];
  for (const n of vecs) f.local(n, V128);
  const sp = (v: number, to: string): void => {
    f.i32(v).simd(S.i32x4Splat).set(to);
  };
  f.get('lo').simd(S.i32x4Splat).set('loV');
  f.get('hi').simd(S.i32x4Splat).set('hiV');
  sp(13573, 'c22');
  sp(1, 'one');
  sp(0, 'zero');
  // fw4 = 4 (width + 2): one framed row in bytes.
  f.get('width').i32(2).op(O.i32Add).i32(2).op(O.i32Shl).set('fw4');
  f.get('width').i32(-4).op(0x71 /* i32.and */).set('xEnd');
  /** Load mag at the current pixel + (dyRows framed rows, dxCols columns) as i32x4. */
  const magAt = (dyRows: number, dxCols: number): void => {
    f.get('pk');
    if (dyRows !== 0) f.get('fw4').i32(dyRows).op(O.i32Mul).op(O.i32Add);
    // Static offsets must be non-negative: add the column shift (+-4 bytes) to the address.
    f.i32(4 * dxCols).op(O.i32Add);
    f.mem([0xfd, 0x00], 0);
  };
  f.i32(0).set('y');
  f.block().loop();
  {
    f.get('y').get('height').op(O.i32GeS).brIf(1);
    f.i32(0).set('x');
    f.block().loop();
    {
      f.get('x').get('xEnd').op(O.i32GeS).brIf(1);
      // pk = mag + 4 ((y + 1) (width + 2) + x + 1); pi = y width + x
      f.get('mag').get('y').i32(1).op(O.i32Add).get('fw4').op(O.i32Mul).op(O.i32Add).get('x').i32(1).op(O.i32Add).i32(2).op(O.i32Shl).op(O.i32Add).set('pk');
      f.get('y').get('width').op(O.i32Mul).get('x').op(O.i32Add).set('pi');
      magAt(0, 0);
      f.set('m');
      f.get('dx').get('pi').i32(1).op(O.i32Shl).op(O.i32Add).mem([0xfd, N.load16x4S], 0).set('xs');
      f.get('dy').get('pi').i32(1).op(O.i32Shl).op(O.i32Add).mem([0xfd, N.load16x4S], 0).set('ys');
      f.get('xs').simd(N.i32x4Abs).set('ax');
      f.get('ys').simd(N.i32x4Abs).i32(15).simd(N.i32x4Shl).set('ay');
      f.get('ax').get('c22').simd(N.i32x4Mul).set('t22');
      f.get('t22').get('ax').i32(16).simd(N.i32x4Shl).simd(S.i32x4Add).set('t67');
      f.get('ay').get('t22').simd(N.i32x4LtS).set('cH');
      f.get('ay').get('t67').simd(S.i32x4GtS).set('cV');
      // Horizontal: m > left && m >= right; vertical: m > up && m >= down.
      f.get('m');
      magAt(0, -1);
      f.simd(S.i32x4GtS).get('m');
      magAt(0, 1);
      f.simd(N.i32x4GeS).simd(N.v128And).set('mxH');
      f.get('m');
      magAt(-1, 0);
      f.simd(S.i32x4GtS).get('m');
      magAt(1, 0);
      f.simd(N.i32x4GeS).simd(N.v128And).set('mxV');
      // Diagonal: (dx ^ dy) < 0 -> up-right and down-left, else up-left and down-right; strict both sides.
      f.get('xs').get('ys').simd(N.v128Xor).get('zero').simd(N.i32x4LtS).set('neg');
      f.get('m');
      magAt(-1, 1);
      f.simd(S.i32x4GtS).get('m');
      magAt(1, -1);
      f.simd(S.i32x4GtS).simd(N.v128And);
      f.get('m');
      magAt(-1, -1);
      f.simd(S.i32x4GtS).get('m');
      magAt(1, 1);
      f.simd(S.i32x4GtS).simd(N.v128And);
      f.get('neg').simd(N.v128Bitselect).set('mxD');
      // isMax = cH ? mxH : (cV ? mxV : mxD); candidate above lo, strong above hi.
      f.get('mxH').get('mxV').get('mxD').get('cV').simd(N.v128Bitselect).get('cH').simd(N.v128Bitselect);
      f.get('m').get('loV').simd(S.i32x4GtS).simd(N.v128And).set('cand');
      f.get('cand').get('one').simd(N.v128And);
      f.get('cand').get('m').get('hiV').simd(S.i32x4GtS).simd(N.v128And).get('one').simd(N.v128And);
      f.simd(S.i32x4Add).set('m');
      // Four states as bytes.
      f.get('state').get('pi').op(O.i32Add);
      f.get('m').get('m').simd(N.i16x8NarrowI32x4U);
      f.get('m').get('m').simd(N.i16x8NarrowI32x4U);
      f.simd(N.i8x16NarrowI16x8U);
      f.op(0xfd, N.store32Lane, 0, 0, 0);
      f.get('x').i32(4).op(O.i32Add).set('x');
      f.op(0x0c, 0);
    }
    f.end().end();
    f.get('y').i32(1).op(O.i32Add).set('y');
    f.op(0x0c, 0);
  }
  f.end().end();
  return f;
}

/**
 * strong(state, n, stack, out): the indices of the 2s of `state` (n bytes) into the int32 `stack`, in order, and
 * their count into out (int32); sixteen bytes are tested at once and skipped when none is 2.
 */
function strongFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['state', I32],
    ['n', I32],
    ['stack', I32],
    ['out', I32],
  ]);
  for (const name of ['i', 'j', 'e', 'top']) f.local(name, I32);
  f.local('two', V128);
  f.i32(2).op(0xfd, 0x0f /* i8x16.splat */).set('two');
  f.i32(0).set('i');
  f.block().loop();
  {
    f.get('i').get('n').op(O.i32GeS).brIf(1);
    // any byte == 2 among state[i .. i+15]?
    f.get('state').get('i').op(O.i32Add).mem([0xfd, 0x00], 0).get('two').op(0xfd, 0x23 /* i8x16.eq */).op(0xfd, 0x53 /* v128.any_true */).if();
    {
      f.get('i').i32(16).op(O.i32Add).set('e');
      f.get('i').set('j');
      f.block().loop();
      {
        f.get('j').get('e').op(O.i32GeS).brIf(1);
        f.get('j').get('n').op(O.i32GeS).brIf(1);
        f.get('state').get('j').op(O.i32Add).op(0x2d /* i32.load8_u */, 0, 0).i32(2).op(0x46 /* i32.eq */).if();
        f.get('stack').get('top').i32(2).op(O.i32Shl).op(O.i32Add).get('j').op(0x36 /* i32.store */, 2, 0);
        f.get('top').i32(1).op(O.i32Add).set('top');
        f.end();
        f.get('j').i32(1).op(O.i32Add).set('j');
        f.op(0x0c, 0);
      }
      f.end().end();
    }
    f.end();
    f.get('i').i32(16).op(O.i32Add).set('i');
    f.op(0x0c, 0);
  }
  f.end().end();
  f.get('out').get('top').op(0x36, 2, 0);
  return f;
}

/** edges(state, n): state = 1 where it is 2, else 0 (sixteen bytes per step; may touch 15 bytes past n). */
function edgesFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['state', I32],
    ['n', I32],
  ]);
  f.local('i', I32);
  for (const name of ['two', 'one']) f.local(name, V128);
  f.i32(2).op(0xfd, 0x0f).set('two');
  f.i32(1).op(0xfd, 0x0f).set('one');
  f.i32(0).set('i');
  f.block().loop();
  {
    f.get('i').get('n').op(O.i32GeS).brIf(1);
    f.get('state').get('i').op(O.i32Add);
    f.get('state').get('i').op(O.i32Add).mem([0xfd, 0x00], 0).get('two').op(0xfd, 0x23).get('one').op(0xfd, 0x4e /* v128.and */);
    f.mem([0xfd, 0x0b], 0);
    f.get('i').i32(16).op(O.i32Add).set('i');
    f.op(0x0c, 0);
  }
  f.end().end();
  return f;
}

interface Instance {
  run: (gray: number, dx: number, dy: number, mag: number, out: number, width: number, height: number) => void;
  strong: (state: number, n: number, stack: number, out: number) => void;
  edges: (state: number, n: number) => void;
  nms: (mag: number, dx: number, dy: number, state: number, width: number, height: number, lo: number, hi: number) => void;
  memory: WebAssembly.Memory;
}

/** Byte offsets of the last call's planes (the Canny state map follows them). */
let last: { dx: number; dy: number; mag: number; state: number; stack: number; out: number; width: number; height: number } | undefined;

let instance: Instance | null | undefined;

function getInstance(): Instance | null {
  if (instance === undefined) {
    instance = instantiateKernels<Instance>(
      [
        { name: 'run', fn: generate(), exported: true },
        { name: 'nms', fn: nmsFunction(), exported: true },
        { name: 'strong', fn: strongFunction(), exported: true },
        { name: 'edges', fn: edgesFunction(), exported: true },
      ],
      1,
    );
  }
  return instance;
}

/** What the kernel leaves for the caller: views into wasm memory (valid until the next call on this thread). */
export interface GradientInterior {
  dx: Int16Array;
  dy: Int16Array;
  /** (height + 2) x (width + 2), zero frame, interior columns 1..xEnd-1 of interior rows filled. */
  mag: Int32Array;
  /** Sum of the Laplacian, of its square, of its absolute value, and the edge count over the pixels done. */
  lapSum: number;
  lapSq: number;
  noiseSum: number;
  edges: number;
  /** Interior columns [1, xEnd) of rows [1, height - 1) are done; the caller does [xEnd, width - 1). */
  xEnd: number;
}

const align = (n: number): number => Math.ceil(n / 64) * 64;

/**
 * Run the SIMD interior of the 3x3 pass; null when this runtime has no WebAssembly SIMD (the caller then does
 * everything in JavaScript). The mag frame and the cells the caller fills are zero / stale: the caller writes
 * every cell outside [1, xEnd) x [1, height - 1) itself, and mag's frame is cleared here.
 */
export function gradientInteriorWasm(gray: Uint8Array, width: number, height: number): GradientInterior | null {
  const inst = getInstance();
  if (inst === null) return null;
  const n = width * height;
  const magLen = (height + 2) * (width + 2);
  const grayPtr = 0;
  // 16 spare bytes after the plane: the last 8-lane load of a row may read past the end of the last row.
  const dxPtr = align(n + 16);
  const dyPtr = dxPtr + align(2 * n);
  const magPtr = dyPtr + align(2 * n);
  const outPtr = magPtr + align(4 * magLen);
  const statePtr = outPtr + 64;
  const stackPtr = statePtr + align(n + 16);
  const need = stackPtr + align(4 * n);
  const have = inst.memory.buffer.byteLength;
  if (need > have) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const buf = inst.memory.buffer;
  new Uint8Array(buf, grayPtr, n).set(gray);
  const mag = new Int32Array(buf, magPtr, magLen);
  // The frame of mag stays zero (Canny reads it as "outside the image"); a previous larger image may have left
  // values there, so clear the first and last rows and the two frame columns.
  const FW = width + 2;
  mag.fill(0, 0, FW);
  mag.fill(0, (height + 1) * FW, magLen);
  for (let y = 1; y <= height; y++) {
    mag[y * FW] = 0;
    mag[y * FW + FW - 1] = 0;
  }
  inst.run(grayPtr, dxPtr, dyPtr, magPtr, outPtr, width, height);
  last = { dx: dxPtr, dy: dyPtr, mag: magPtr, state: statePtr, stack: stackPtr, out: outPtr, width, height };
  const out = new Float64Array(buf, outPtr, 4);
  return {
    dx: new Int16Array(buf, dxPtr, n),
    dy: new Int16Array(buf, dyPtr, n),
    mag,
    lapSum: out[0]!,
    lapSq: out[1]!,
    noiseSum: out[2]!,
    edges: out[3]!,
    xEnd: width >= 10 ? 1 + 8 * Math.floor((width - 2) / 8) : 1,
  };
}

/**
 * Canny's non-maximum suppression over the fields of the last {@link gradientInteriorWasm} call (when `mag` is
 * its view): a state map in wasm memory (valid until the next call) with 2 = strong, 1 = weak candidate, 0 = none
 * for columns [0, xEnd) of every row; the caller does columns [xEnd, width). Null when the fields are not those.
 */
export function cannyNmsWasm(mag: Int32Array, width: number, height: number, lo: number, hi: number): { state: Uint8Array; xEnd: number } | null {
  const inst = instance;
  if (!inst || !last || last.width !== width || last.height !== height) return null;
  if (mag.buffer !== inst.memory.buffer || mag.byteOffset !== last.mag) return null;
  inst.nms(last.mag, last.dx, last.dy, last.state, width, height, lo, hi);
  return { state: new Uint8Array(inst.memory.buffer, last.state, width * height), xEnd: width & ~3 };
}

/** The strong pixels (2s) of the state map of {@link cannyNmsWasm}, in raster order: a view of the kernel's stack. */
export function cannyStrongWasm(): { stack: Int32Array; count: number } {
  const inst = instance!;
  const l = last!;
  const n = l.width * l.height;
  inst.strong(l.state, n, l.stack, l.out + 32);
  return { stack: new Int32Array(inst.memory.buffer, l.stack, n), count: new Int32Array(inst.memory.buffer, l.out + 32, 1)[0]! };
}

/** Map the state of {@link cannyNmsWasm} to the edge map: 1 where 2, else 0. */
export function cannyEdgesWasm(): void {
  const l = last!;
  instance!.edges(l.state, l.width * l.height);
}
