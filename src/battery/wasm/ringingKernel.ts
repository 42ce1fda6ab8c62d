/**
 * The ringing measure's region statistics (canny.ts `ringing`) as WebAssembly SIMD: the (2r+1)² square dilation
 * of the Canny map as an OR of shifted 16-pixel loads (rows, then columns; zero frame = pixels outside ignored),
 * then the count, sum and sum of squares of the grey levels under it (integer lanes, widened to 64 bits per row).
 * The caller forms the standard deviation from the exact integer sums, as the JavaScript path does, so the value
 * is the same bit for bit. Opcodes: WebAssembly Core Specification 2.0 §5.4.
 */
import { FunctionBuilder, I32, V128, memOp as mem, simdOp as simd, whileLoop as loop } from '../../ssim/wasm/emit.ts';
import { instantiateKernels } from './module.ts';

const PAGE = 65536;
/** Left / right frame in bytes (>= the radius, and keeps rows 16-byte aligned). */
const PAD = 16;

const O = { br: 0x0c, i32Store8: 0x3a, f64Store: 0x39, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32GeS: 0x4e, i64Add: 0x7c, f64ConvertI64S: 0xb9 } as const;
const S = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  i64x2ExtractLane: 0x1d,
  and: 0x4e,
  or: 0x50,
  i8x16Neg: 0x61,
  i16x8ExtaddPairwiseI8x16U: 0x7d,
  i32x4ExtaddPairwiseI16x8U: 0x7f,
  i16x8ExtmulLowI8x16U: 0x9e,
  i16x8ExtmulHighI8x16U: 0x9f,
  i32x4Add: 0xae,
  i64x2ExtendLowI32x4U: 0xc9,
  i64x2ExtendHighI32x4U: 0xca,
  i64x2Add: 0xce,
} as const;

const vload = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.load], 0, offset);
const vstore = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.store], 0, offset);

/**
 * region(E, T, G, stride, width, height, radius, out): E (edges), T (scratch) and G (grey) are framed planes of
 * `stride` bytes per row, `radius` zero rows above and below, PAD zero bytes left; out = n, sum, sum of squares.
 */
function regionFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['E', I32],
    ['T', I32],
    ['G', I32],
    ['stride', I32],
    ['width', I32],
    ['height', I32],
    ['radius', I32],
    ['out', I32],
  ]);
  for (const n of ['y', 'x', 'p', 'q', 'k', 'row', 'wEnd']) f.local(n, I32);
  for (const n of ['m', 'v', 'rN', 'rS', 'rSS', 'tN', 'tS', 'tSS']) f.local(n, V128);
  const zero = (name: string): void => {
    f.op(0xfd, S.const, ...new Array<number>(16).fill(0)).set(name);
  };
  // Rows are processed in whole 16-byte vectors; columns width..wEnd-1 of T are cleared after the row pass.
  f.get('width').i32(15).op(O.i32Add).i32(-16).op(0x71 /* i32.and */).set('wEnd');
  // Row pass: T[y][x] = OR over |dx| <= radius of E[y][x + dx].
  f.i32(0).set('y');
  loop(f, () => f.get('y').get('height').op(O.i32GeS), () => {
    f.get('y').get('radius').op(O.i32Add).get('stride').op(O.i32Mul).i32(PAD).op(O.i32Add).set('row');
    f.i32(0).set('x');
    loop(f, () => f.get('x').get('width').op(O.i32GeS), () => {
      f.get('E').get('row').op(O.i32Add).get('x').op(O.i32Add).get('radius').op(O.i32Sub).set('p');
      vload(f.get('p')).set('v');
      f.i32(1).set('k');
      loop(f, () => f.get('k').get('radius').i32(2).op(O.i32Mul).op(0x4a /* i32.gt_s */), () => {
        f.get('v');
        vload(f.get('p').get('k').op(O.i32Add));
        simd(f, S.or).set('v');
        f.get('k').i32(1).op(O.i32Add).set('k');
      });
      vstore(f.get('T').get('row').op(O.i32Add).get('x').op(O.i32Add).get('v'));
      f.get('x').i32(16).op(O.i32Add).set('x');
    });
    f.get('width').set('x');
    loop(f, () => f.get('x').get('wEnd').op(O.i32GeS), () => {
      mem(f.get('T').get('row').op(O.i32Add).get('x').op(O.i32Add).i32(0), [O.i32Store8], 0, 0);
      f.get('x').i32(1).op(O.i32Add).set('x');
    });
    f.get('y').i32(1).op(O.i32Add).set('y');
  });
  // Column pass and region sums.
  for (const n of ['tN', 'tS', 'tSS']) zero(n);
  const widen = (from: string, into: string): void => {
    f.get(into).get(from);
    simd(f, S.i64x2ExtendLowI32x4U);
    simd(f, S.i64x2Add);
    f.get(from);
    simd(f, S.i64x2ExtendHighI32x4U);
    simd(f, S.i64x2Add).set(into);
  };
  const pairwise = (): void => {
    simd(f, S.i16x8ExtaddPairwiseI8x16U);
    simd(f, S.i32x4ExtaddPairwiseI16x8U);
  };
  f.i32(0).set('y');
  loop(f, () => f.get('y').get('height').op(O.i32GeS), () => {
    for (const n of ['rN', 'rS', 'rSS']) zero(n);
    f.i32(0).set('x');
    loop(f, () => f.get('x').get('width').op(O.i32GeS), () => {
      // m = OR over rows y - radius .. y + radius of T (framed row y + dy + radius).
      f.get('T').get('y').get('stride').op(O.i32Mul).op(O.i32Add).i32(PAD).op(O.i32Add).get('x').op(O.i32Add).set('q');
      vload(f.get('q')).set('m');
      f.i32(1).set('k');
      loop(f, () => f.get('k').get('radius').i32(2).op(O.i32Mul).op(0x4a /* i32.gt_s */), () => {
        f.get('q').get('stride').op(O.i32Add).set('q');
        f.get('m');
        vload(f.get('q'));
        simd(f, S.or).set('m');
        f.get('k').i32(1).op(O.i32Add).set('k');
      });
      // v = grey where m (0/1 -> 0x00/0xFF mask)
      vload(f.get('G').get('y').get('radius').op(O.i32Add).get('stride').op(O.i32Mul).op(O.i32Add).i32(PAD).op(O.i32Add).get('x').op(O.i32Add));
      f.get('m');
      simd(f, S.i8x16Neg);
      simd(f, S.and).set('v');
      f.get('rN').get('m');
      pairwise();
      simd(f, S.i32x4Add).set('rN');
      f.get('rS').get('v');
      pairwise();
      simd(f, S.i32x4Add).set('rS');
      for (const ext of [S.i16x8ExtmulLowI8x16U, S.i16x8ExtmulHighI8x16U]) {
        f.get('rSS').get('v').get('v');
        simd(f, ext);
        simd(f, S.i32x4ExtaddPairwiseI16x8U);
        simd(f, S.i32x4Add).set('rSS');
      }
      f.get('x').i32(16).op(O.i32Add).set('x');
    });
    widen('rN', 'tN');
    widen('rS', 'tS');
    widen('rSS', 'tSS');
    f.get('y').i32(1).op(O.i32Add).set('y');
  });
  ['tN', 'tS', 'tSS'].forEach((n, i) => {
    f.get('out');
    f.get(n).op(0xfd, S.i64x2ExtractLane, 0).get(n).op(0xfd, S.i64x2ExtractLane, 1).op(O.i64Add).op(O.f64ConvertI64S);
    mem(f, [O.f64Store], 3, 8 * i);
  });
  return f;
}

interface Instance {
  region: (E: number, T: number, G: number, stride: number, width: number, height: number, radius: number, out: number) => void;
  memory: WebAssembly.Memory;
}

let instance: Instance | null | undefined;
let layout = '';

function getInstance(): Instance | null {
  if (instance === undefined) {
    instance = instantiateKernels<Instance>([{ name: 'region', fn: regionFunction(), exported: true }], 1);
  }
  return instance;
}

/**
 * Count, sum and sum of squares of the grey levels within Chebyshev distance `radius` (<= 16) of a set pixel of
 * the 0/1 map `edges`; null when there is no WebAssembly SIMD.
 */
export function ringRegionWasm(gray: Uint8Array, edges: Uint8Array, width: number, height: number, radius: number): { n: number; s: number; ss: number } | null {
  if (radius < 1 || radius > PAD) return null;
  const inst = getInstance();
  if (inst === null) return null;
  const stride = Math.ceil(width / 16) * 16 + 2 * PAD;
  const rows = height + 2 * radius;
  const plane = stride * rows;
  const E = 0;
  const T = plane;
  const G = 2 * plane;
  const out = 3 * plane;
  const need = out + 64;
  const have = inst.memory.buffer.byteLength;
  if (need > have) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const buf = inst.memory.buffer;
  const key = `${width}x${height}r${radius}`;
  if (key !== layout) {
    // Frames must be zero: clear everything when the layout changes (afterwards only the interiors are written).
    new Uint8Array(buf, 0, out).fill(0);
    layout = key;
  }
  const bytes = new Uint8Array(buf);
  for (let y = 0; y < height; y++) {
    const o = (y + radius) * stride + PAD;
    bytes.set(edges.subarray(y * width, (y + 1) * width), E + o);
    bytes.set(gray.subarray(y * width, (y + 1) * width), G + o);
  }
  inst.region(E, T, G, stride, width, height, radius, out);
  const r = new Float64Array(buf, out, 3);
  return { n: r[0]!, s: r[1]!, ss: r[2]! };
}
