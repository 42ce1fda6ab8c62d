/**
 * The local quality's window pass (localQuality.ts `addWindowSsim`) as WebAssembly SIMD, for one 8-bit plane
 * pair: the 7-row column sums of x, y, x², y², xy slide down eight columns per step (int32 lanes), the 7-wide
 * window sums come from seven shifted loads (four windows per step), and each window's SSIM is formed in float64
 * lanes with the same operations in the same order as the JavaScript kernel; the windows are then added into
 * their patch sums one by one in the same order. The window moments are exact integers either way, so the patch
 * sums equal the JavaScript kernel's bit for bit. Opcodes: WebAssembly Core Specification 2.0 §5.4.
 */
import { F64, FunctionBuilder, I32, V128, memOp as mem, simdOp as simd, whileLoop as loop } from '../../ssim/wasm/emit.ts';
import { instantiateKernels } from './module.ts';

const PAGE = 65536;
const WIN = 7;

const O = {
  br: 0x0c,
  i32Load: 0x28,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  i32GeS: 0x4e,
  i32LtS: 0x48,
  f64Add: 0xa0,
} as const;
const S = {
  load: 0x00,
  load8x8U: 0x02,
  store: 0x0b,
  shuffle: 0x0d,
  f64x2Splat: 0x14,
  i16x8Sub: 0x91,
  i32x4ExtendLowI16x8S: 0xa7,
  i32x4ExtendHighI16x8S: 0xa8,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4ExtmulLowI16x8U: 0xbe,
  i32x4ExtmulHighI16x8U: 0xbf,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2ConvertLowI32x4S: 0xfe,
} as const;

const vload = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.load], 0, offset);
const vstore = (f: FunctionBuilder, offset = 0): FunctionBuilder => mem(f, [0xfd, S.store], 0, offset);

const MOMENTS = ['sx', 'sy', 'sxx', 'syy', 'sxy'] as const;

/**
 * slide(x, y, cs, csBytes, width, outRow, inRow, sign): add row inRow to the column sums and, when outRow >= 0,
 * remove row outRow; `cs` holds the five int32 sum arrays `csBytes` apart. Whole groups of 8 columns (the last
 * group may run into the padding columns).
 */
function slideFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['x', I32],
    ['y', I32],
    ['cs', I32],
    ['csBytes', I32],
    ['width', I32],
    ['outRow', I32],
    ['inRow', I32],
  ]);
  for (const n of ['c', 'pi', 'po', 'p']) f.local(n, I32);
  for (const n of ['a', 'b', 'a0', 'b0', 'lo', 'hi']) f.local(n, V128);
  f.i32(0).set('c');
  loop(f, () => f.get('c').get('width').op(O.i32GeS), () => {
    f.get('inRow').get('width').op(O.i32Mul).get('c').op(O.i32Add).set('pi');
    mem(f.get('x').get('pi').op(O.i32Add), [0xfd, S.load8x8U], 0, 0).set('a');
    mem(f.get('y').get('pi').op(O.i32Add), [0xfd, S.load8x8U], 0, 0).set('b');
    f.get('outRow').i32(0).op(O.i32GeS).if();
    {
      f.get('outRow').get('width').op(O.i32Mul).get('c').op(O.i32Add).set('po');
      mem(f.get('x').get('po').op(O.i32Add), [0xfd, S.load8x8U], 0, 0).set('a0');
      mem(f.get('y').get('po').op(O.i32Add), [0xfd, S.load8x8U], 0, 0).set('b0');
    }
    f.end();
    // p = cs + 4 c: the first moment's sums of columns c..c+7.
    f.get('cs').get('c').i32(2).op(O.i32Shl).op(O.i32Add).set('p');
    // Linear moments: (a - a0) in int16 (|.| <= 255), widened.
    const linear = (v: string, v0: string, k: number): void => {
      f.get(v).get(v0);
      simd(f, S.i16x8Sub).set('lo');
      for (const [half, ext] of [[0, S.i32x4ExtendLowI16x8S], [16, S.i32x4ExtendHighI16x8S]] as const) {
        f.get('p').get('csBytes').i32(k).op(O.i32Mul).op(O.i32Add);
        f.get('p').get('csBytes').i32(k).op(O.i32Mul).op(O.i32Add);
        vload(f, half);
        f.get('lo');
        simd(f, ext);
        simd(f, S.i32x4Add);
        vstore(f, half);
      }
    };
    // Products: u v - u0 v0 in int32 lanes.
    const product = (u: string, v: string, u0: string, v0: string, k: number): void => {
      for (const [half, ext] of [[0, S.i32x4ExtmulLowI16x8U], [16, S.i32x4ExtmulHighI16x8U]] as const) {
        f.get('p').get('csBytes').i32(k).op(O.i32Mul).op(O.i32Add);
        f.get('p').get('csBytes').i32(k).op(O.i32Mul).op(O.i32Add);
        vload(f, half);
        f.get(u).get(v);
        simd(f, ext);
        simd(f, S.i32x4Add);
        f.get(u0).get(v0);
        simd(f, ext);
        simd(f, S.i32x4Sub);
        vstore(f, half);
      }
    };
    // With outRow < 0, a0 = b0 = 0 (zeroed below before the first rows).
    linear('a', 'a0', 0);
    linear('b', 'b0', 1);
    product('a', 'a', 'a0', 'a0', 2);
    product('b', 'b', 'b0', 'b0', 3);
    product('a', 'b', 'a0', 'b0', 4);
    f.get('c').i32(8).op(O.i32Add).set('c');
  });
  return f;
}

/**
 * rowSsim(cs, csBytes, ow, row, C1, C2, covNorm): SSIM of windows 0..ow-1 (rounded up to 4) of the current
 * column sums into `row` (float64).
 */
function rowSsimFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['cs', I32],
    ['csBytes', I32],
    ['ow', I32],
    ['row', I32],
    ['C1', F64],
    ['C2', F64],
    ['covNorm', F64],
  ]);
  for (const n of ['c', 'p']) f.local(n, I32);
  const sums = MOMENTS.map((m) => `S${m}`);
  for (const n of sums) f.local(n, V128);
  for (const n of ['ux', 'uy', 'vx', 'vy', 'vxy', 'inv', 'two', 'c1', 'c2', 'cn', 'X', 'Y', 'XX', 'YY', 'XY']) f.local(n, V128);
  const splat = (from: string, to: string): void => {
    f.get(from);
    simd(f, S.f64x2Splat).set(to);
  };
  splat('C1', 'c1');
  splat('C2', 'c2');
  splat('covNorm', 'cn');
  f.f64(1 / (WIN * WIN));
  simd(f, S.f64x2Splat).set('inv');
  f.f64(2);
  simd(f, S.f64x2Splat).set('two');
  const add = (): FunctionBuilder => simd(f, S.f64x2Add);
  const sub = (): FunctionBuilder => simd(f, S.f64x2Sub);
  const mul = (): FunctionBuilder => simd(f, S.f64x2Mul);
  // High two int32 lanes to the low two (for the second pair of windows).
  const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  f.i32(0).set('c');
  loop(f, () => f.get('c').get('ow').op(O.i32GeS), () => {
    f.get('cs').get('c').i32(2).op(O.i32Shl).op(O.i32Add).set('p');
    // Window sums of windows c..c+3: seven shifted loads per moment (exact int32).
    MOMENTS.forEach((_, k) => {
      f.get('p').get('csBytes').i32(k).op(O.i32Mul).op(O.i32Add).set('p');
      vload(f.get('p'), 0);
      for (let j = 1; j < WIN; j++) {
        vload(f.get('p'), 4 * j);
        simd(f, S.i32x4Add);
      }
      f.set(sums[k]!);
      f.get('cs').get('c').i32(2).op(O.i32Shl).op(O.i32Add).set('p');
    });
    for (const pairHalf of [0, 1]) {
      const names = ['X', 'Y', 'XX', 'YY', 'XY'];
      sums.forEach((s, k) => {
        f.get(s);
        if (pairHalf === 1) f.get(s).op(0xfd, S.shuffle, ...HIGH);
        simd(f, S.f64x2ConvertLowI32x4S).set(names[k]!);
      });
      // ux = Sx / 49, uy = Sy / 49 (as multiplications by 1/49, like the JavaScript kernel)
      f.get('X').get('inv');
      mul().set('ux');
      f.get('Y').get('inv');
      mul().set('uy');
      // vx = covNorm * (Sxx * inv - ux * ux), vy, vxy alike
      const variance = (s: string, a: string, b: string, to: string): void => {
        f.get('cn').get(s).get('inv');
        mul().get(a).get(b);
        mul();
        sub();
        mul().set(to);
      };
      variance('XX', 'ux', 'ux', 'vx');
      variance('YY', 'uy', 'uy', 'vy');
      variance('XY', 'ux', 'uy', 'vxy');
      // ((2 ux uy + C1) (2 vxy + C2)) / ((ux ux + uy uy + C1) (vx + vy + C2))
      f.get('row').get('c').i32(3).op(O.i32Shl).op(O.i32Add);
      f.get('two').get('ux');
      mul().get('uy');
      mul().get('c1');
      add().get('two').get('vxy');
      mul().get('c2');
      add();
      mul();
      f.get('ux').get('ux');
      mul().get('uy').get('uy');
      mul();
      add().get('c1');
      add().get('vx').get('vy');
      add().get('c2');
      add();
      mul();
      simd(f, S.f64x2Div);
      vstore(f, 16 * pairHalf);
    }
    f.get('c').i32(4).op(O.i32Add).set('c');
  });
  return f;
}

/**
 * accumulate(row, ow, patchOfCol, sums): sums[patchOfCol[c]] += row[c] for c = 0..ow-1 in order (patch -1: skip);
 * `sums` is the patch row's first sum.
 */
function accumulateFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['row', I32],
    ['ow', I32],
    ['patchOfCol', I32],
    ['sums', I32],
  ]);
  for (const n of ['c', 'pc', 'cur']) f.local(n, I32);
  f.local('s', F64);
  // The running patch sum stays in a local while consecutive windows hold the same patch (they do: a patch's
  // windows are contiguous), so the additions do not wait on a store and reload; same additions, same order.
  const storeCur = (): void => {
    f.get('cur').i32(0).op(O.i32GeS).if();
    mem(f.get('sums').get('cur').i32(3).op(O.i32Shl).op(O.i32Add).get('s'), [O.f64Store], 3, 0);
    f.end();
  };
  f.i32(-1).set('cur');
  f.i32(0).set('c');
  loop(f, () => f.get('c').get('ow').op(O.i32GeS), () => {
    mem(f.get('patchOfCol').get('c').i32(2).op(O.i32Shl).op(O.i32Add), [O.i32Load], 2, 0).set('pc');
    f.get('pc').get('cur').op(0x47 /* i32.ne */).if();
    {
      storeCur();
      f.get('pc').set('cur');
      f.get('pc').i32(0).op(O.i32GeS).if();
      mem(f.get('sums').get('pc').i32(3).op(O.i32Shl).op(O.i32Add), [O.f64Load], 3, 0).set('s');
      f.end();
    }
    f.end();
    f.get('pc').i32(0).op(O.i32GeS).if();
    f.get('s');
    mem(f.get('row').get('c').i32(3).op(O.i32Shl).op(O.i32Add), [O.f64Load], 3, 0);
    f.op(O.f64Add).set('s');
    f.end();
    f.get('c').i32(1).op(O.i32Add).set('c');
  });
  storeCur();
  return f;
}

interface Instance {
  slide: (x: number, y: number, cs: number, csBytes: number, width: number, outRow: number, inRow: number) => void;
  rowSsim: (cs: number, csBytes: number, ow: number, row: number, C1: number, C2: number, covNorm: number) => void;
  accumulate: (row: number, ow: number, patchOfCol: number, sums: number) => void;
  memory: WebAssembly.Memory;
}

let instance: Instance | null | undefined;

function getInstance(): Instance | null {
  if (instance === undefined) {
    instance = instantiateKernels<Instance>(
      [
        { name: 'slide', fn: slideFunction(), exported: true },
        { name: 'rowSsim', fn: rowSsimFunction(), exported: true },
        { name: 'accumulate', fn: accumulateFunction(), exported: true },
      ],
      1,
    );
  }
  return instance;
}

const align = (n: number): number => Math.ceil(n / 64) * 64;

/**
 * Add the window SSIMs of one plane pair into the patch sums, as `addWindowSsim` does (same arguments, planes
 * given one sample per pixel); false when there is no WebAssembly SIMD (the caller then runs the JavaScript kernel).
 */
export function addWindowSsimWasm(
  x: Uint8Array,
  y: Uint8Array,
  width: number,
  height: number,
  L: number,
  patchOfRow: Int32Array,
  patchOfCol: Int32Array,
  gridCols: number,
  sums: Float64Array,
): boolean {
  const inst = getInstance();
  if (inst === null) return false;
  const n = width * height;
  const ow = width - WIN + 1;
  const oh = height - WIN + 1;
  // Column sums: width rounded up to 8, plus the columns the last 4-window group reads (ow + 3 + 6).
  const csCols = Math.ceil((width + 16) / 8) * 8;
  const csBytes = align(4 * csCols);
  const xPtr = 0;
  const yPtr = align(n + 16);
  const csPtr = yPtr + align(n + 16);
  const rowPtr = csPtr + 5 * csBytes;
  const pocPtr = rowPtr + align(8 * (ow + 4));
  const sumsPtr = pocPtr + align(4 * ow);
  const need = sumsPtr + align(8 * sums.length);
  const have = inst.memory.buffer.byteLength;
  if (need > have) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const buf = inst.memory.buffer;
  new Uint8Array(buf, xPtr, n).set(x);
  new Uint8Array(buf, yPtr, n).set(y);
  new Int32Array(buf, csPtr, (5 * csBytes) / 4).fill(0);
  new Int32Array(buf, pocPtr, ow).set(patchOfCol.subarray(0, ow));
  const s = new Float64Array(buf, sumsPtr, sums.length);
  s.set(sums);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const covNorm = (WIN * WIN) / (WIN * WIN - 1);
  for (let r = 0; r < WIN; r++) inst.slide(xPtr, yPtr, csPtr, csBytes, width, -1, r);
  for (let r = 0; r < oh; r++) {
    const pr = patchOfRow[r]!;
    if (pr >= 0) {
      inst.rowSsim(csPtr, csBytes, ow, rowPtr, C1, C2, covNorm);
      inst.accumulate(rowPtr, ow, pocPtr, sumsPtr + 8 * pr * gridCols);
    }
    if (r + WIN < height) inst.slide(xPtr, yPtr, csPtr, csBytes, width, r, r + WIN);
  }
  sums.set(s);
  return true;
}
