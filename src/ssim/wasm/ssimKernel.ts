/**
 * The fused SSIM kernel of `../kernel.ts` as WebAssembly SIMD (two float64 lanes), generated for one window
 * and one image width: the taps are unrolled and the row stride is baked into the load offsets. It computes the
 * same operations in the same order as the JavaScript kernel, lane by lane (IEEE float64, no fused multiply-add),
 * so the map agrees bit for bit; only the order of the final summations differs (two interleaved partial sums).
 * Modules are compiled once per (width, taps, float32/float64 input) and cached.
 *
 * Layout and speed (1024x1024: 58 -> ~21 ms): each input row is read once into a ring of float64 rows x, y,
 * x² + y², x y (stored twice, at slot i % m and i % m + m, so every window is consecutive slots at fixed
 * offsets); the ring's row stride is padded to an odd number of cache lines so the rows of a window do not
 * evict each other in L1 (a 8 KiB stride did, doubling the time); the vertical pass makes two output rows per
 * load of the n + 1 ring rows; the horizontal pass makes four outputs from aligned loads and shuffles.
 */
import { buildModule, F64, FunctionBuilder, I32, OP, SIMD, V128 } from './emit.ts';

const PAGE = 65536;
/** Above this many bytes of working memory the JavaScript kernel is used instead. */
export const WASM_MAX_BYTES = 1 << 30;

interface KernelInstance {
  run: (...args: number[]) => void;
  memory: WebAssembly.Memory;
}

const cache = new Map<string, KernelInstance>();

/** True when this runtime validates a module using f64x2 SIMD. */
export const wasmSimdAvailable: boolean = (() => {
  try {
    const fn = new FunctionBuilder([['a', F64]]);
    fn.local('v', V128);
    fn.get('a').simd(SIMD.f64x2Splat).set('v');
    return typeof WebAssembly === 'object' && WebAssembly.validate(buildModule(fn, 'run', 1) as BufferSource);
  } catch {
    return false;
  }
})();

/**
 * Row stride (in samples) of the planes inside wasm memory. The vertical pass reads 2n rows at once; with a
 * stride of a multiple of 4 KiB (any width that is a multiple of 512) they all fall into the same L1 cache sets
 * and evict each other, which doubled the kernel's time at 1024 columns. A stride whose cache-line count is odd
 * spreads consecutive rows over distinct sets.
 */
export function rowStride(width: number): number {
  let stride = Math.ceil(width / 8) * 8;
  if ((stride / 8) % 2 === 0) stride += 8;
  return stride;
}

/**
 * Generate the kernel for `width` columns and the symmetric `taps`; `f32` when both input planes are float32
 * (read as they are and widened exactly to float64 in the kernel), else float64 planes.
 */
function generate(width: number, taps: Float64Array, f32: boolean): Uint8Array {
  const n = taps.length;
  const half = (n - 1) >> 1;
  const rowB = rowStride(width) * 8;
  // The ring holds four channels x, y, p, q of 2n rows each, one after the other.
  // Ring modulus m = n + 1: two consecutive windows (n + 1 rows) are in the ring at once.
  const m = n + 1;
  const yOff = 2 * m * rowB;
  const pOff = 2 * yOff;
  const qOff = 3 * yOff;
  const srcRowB = width * (f32 ? 4 : 8);
  const mapWidth = width - n + 1;
  const f = new FunctionBuilder([
    ['xPtr', I32],
    ['yPtr', I32],
    ['vPtr', I32],
    ['ringPtr', I32],
    ['mapPtr', I32],
    ['outPtr', I32],
    ['rows', I32],
    ['withCs', I32],
    ['C1', F64],
    ['C2', F64],
    ['covNorm', F64],
  ]);
  for (const name of ['r', 'c', 'pv', 'pm', 'pr', 'rb', 'fr', 'sx', 'sy', 'vrow']) f.local(name, I32);
  for (const name of ['total', 'csTotal', 'sse']) f.local(name, F64);
  // Sum of squared errors (x - y)², formed in the fill pass that sees every input sample once (for PSNR).
  for (const name of ['ssev', 'dd']) f.local(name, V128);
  const vecs = ['C1v', 'C2v', 'cnv', 'two', 'sumv', 'csv', 'ax', 'ay', 'ap', 'aq', 'xa', 'xb', 'ya', 'yb'];
  for (const name of [...vecs, 'mx', 'my', 'sp', 'sq', 'mxy', 'msq', 'csn', 'csd', 's']) f.local(name, V128);

  const add = () => f.simd(SIMD.f64x2Add);
  const sub = () => f.simd(SIMD.f64x2Sub);
  const mul = () => f.simd(SIMD.f64x2Mul);
  const div = () => f.simd(SIMD.f64x2Div);
  const splat = () => f.simd(SIMD.f64x2Splat);

  // Constants as vectors.
  f.get('C1').simd(SIMD.f64x2Splat).set('C1v');
  f.get('C2').simd(SIMD.f64x2Splat).set('C2v');
  f.get('covNorm').simd(SIMD.f64x2Splat).set('cnv');
  f.f64(2);
  splat().set('two');
  // Taps are v128.const immediates (not locals): fewer live registers in the unrolled loops.
  const g = (j: number) => f.f64x2Const(taps[j]!);

  /** Vertical pass for the column pair at byte offset `c`: four sums into the v rows. */
  const vertical = (): void => {
    f.get('vPtr').get('c').op(OP.i32Add).set('pv');
    f.get('rb').get('c').op(OP.i32Add).set('pr');
    // Centre row.
    f.get('pr')
      .v128Load(half * rowB)
      .set('xa');
    f.get('pr')
      .v128Load(yOff + half * rowB)
      .set('ya');
    g(half).get('xa');
    mul().set('ax');
    g(half).get('ya');
    mul().set('ay');
    g(half)
      .get('pr')
      .v128Load(pOff + half * rowB);
    mul().set('ap');
    g(half)
      .get('pr')
      .v128Load(qOff + half * rowB);
    mul().set('aq');
    // Folded tap pairs (j, n-1-j), in the JavaScript kernel's order.
    for (let j = 0; j < half; j++) {
      f.get('pr')
        .v128Load(j * rowB)
        .set('xa');
      f.get('pr')
        .v128Load((n - 1 - j) * rowB)
        .set('xb');
      f.get('pr')
        .v128Load(yOff + j * rowB)
        .set('ya');
      f.get('pr')
        .v128Load(yOff + (n - 1 - j) * rowB)
        .set('yb');
      // ax += g (xa + xb)
      f.get('ax');
      g(j).get('xa').get('xb');
      add();
      mul();
      add().set('ax');
      f.get('ay');
      g(j).get('ya').get('yb');
      add();
      mul();
      add().set('ay');
      // ap += g (p_top + p_bottom) ; aq += g (q_top + q_bottom), products from the ring
      f.get('ap');
      g(j)
        .get('pr')
        .v128Load(pOff + j * rowB)
        .get('pr')
        .v128Load(pOff + (n - 1 - j) * rowB);
      add();
      mul();
      add().set('ap');
      f.get('aq');
      g(j)
        .get('pr')
        .v128Load(qOff + j * rowB)
        .get('pr')
        .v128Load(qOff + (n - 1 - j) * rowB);
      add();
      mul();
      add().set('aq');
    }
    f.get('pv').get('ax').v128Store(0);
    f.get('pv').get('ay').v128Store(rowB);
    f.get('pv')
      .get('ap')
      .v128Store(2 * rowB);
    f.get('pv')
      .get('aq')
      .v128Store(3 * rowB);
  };

  /**
   * Vertical pass for two consecutive output rows at once (column pair at byte offset `c`): the n + 1 rows of
   * each channel are loaded once and feed both sums, each in the single-row order. Row r goes to v rows 0..3,
   * row r + 1 to v rows 4..7.
   */
  for (let k = 0; k <= n; k++) f.local(`L${k}`, V128);
  const vertical2 = (): void => {
    f.get('vPtr').get('c').op(OP.i32Add).set('pv');
    f.get('rb').get('c').op(OP.i32Add).set('pr');
    [0, yOff, pOff, qOff].forEach((chOff, ch) => {
      for (let k = 0; k <= n; k++)
        f.get('pr')
          .v128Load(chOff + k * rowB)
          .set(`L${k}`);
      for (const d of [0, 1]) {
        g(half).get(`L${half + d}`);
        mul().set('ax');
        for (let j = 0; j < half; j++) {
          f.get('ax');
          g(j)
            .get(`L${j + d}`)
            .get(`L${n - 1 - j + d}`);
          add();
          mul();
          add().set('ax');
        }
        f.get('pv')
          .get('ax')
          .v128Store((4 * d + ch) * rowB);
      }
    });
  };

  /**
   * Input row `fr` as float64 and its products (p = x² + y², q = x y, as in the JavaScript kernel) into ring
   * slot fr % m and again into slot fr % m + m: then the rows of any window are consecutive slots, at fixed
   * offsets, and the ring's padded stride keeps them apart in the cache.
   */
  const loadSrc = (base: string): void => {
    f.get(base).get('c');
    if (f32) {
      f.i32(1).op(OP.i32ShrU).op(OP.i32Add).v128Load64Zero(0).simd(SIMD.f64x2PromoteLowF32x4);
    } else {
      f.op(OP.i32Add).v128Load(0);
    }
  };
  const fillPair = (tailOnly: boolean): void => {
    loadSrc('sx');
    f.set('xa');
    loadSrc('sy');
    f.set('ya');
    f.get('xa').get('ya');
    sub().tee('dd').get('dd');
    mul().set('dd');
    if (tailOnly) {
      // The overlapping last pair of an odd width: lane 0 was counted already.
      f.get('sse').get('dd').simd(SIMD.f64x2ExtractLane).op(1).op(OP.f64Add).set('sse');
    } else {
      f.get('ssev').get('dd');
      add().set('ssev');
    }
    f.get('pr').get('xa').v128Store(0);
    f.get('pr')
      .get('xa')
      .v128Store(m * rowB);
    f.get('pr').get('ya').v128Store(yOff);
    f.get('pr')
      .get('ya')
      .v128Store(yOff + m * rowB);
    f.get('xa').get('xa');
    mul();
    f.get('ya').get('ya');
    mul();
    add().set('xb');
    f.get('xa').get('ya');
    mul().set('yb');
    f.get('pr').get('xb').v128Store(pOff);
    f.get('pr')
      .get('xb')
      .v128Store(pOff + m * rowB);
    f.get('pr').get('yb').v128Store(qOff);
    f.get('pr')
      .get('yb')
      .v128Store(qOff + m * rowB);
  };
  const fillRow = (): void => {
    f.get('xPtr').get('fr').i32(srcRowB).op(OP.i32Mul).op(OP.i32Add).set('sx');
    f.get('yPtr').get('fr').i32(srcRowB).op(OP.i32Mul).op(OP.i32Add).set('sy');
    f.get('ringPtr').get('fr').i32(m).op(OP.i32RemU).i32(rowB).op(OP.i32Mul).op(OP.i32Add).set('rb');
    f.i32(0).set('c');
    f.loop();
    f.get('rb').get('c').op(OP.i32Add).set('pr');
    fillPair(false);
    f.get('c')
      .i32(16)
      .op(OP.i32Add)
      .tee('c')
      .i32(width * 8 - 15)
      .op(OP.i32LtU)
      .brIf(0);
    f.end();
    if (width % 2 === 1) {
      f.i32((width - 2) * 8).set('c');
      f.get('rb').get('c').op(OP.i32Add).set('pr');
      fillPair(true);
    }
  };

  /** One horizontally filtered quantity (v row at `base` bytes) into local `dst`. */
  const horizontal = (dst: string, base: number): void => {
    g(half)
      .get('pv')
      .v128Load(base + half * 8);
    mul().set(dst);
    for (let j = 0; j < half; j++) {
      f.get(dst);
      g(j)
        .get('pv')
        .v128Load(base + j * 8)
        .get('pv')
        .v128Load(base + (n - 1 - j) * 8);
      add();
      mul();
      add().set(dst);
    }
  };

  /** Horizontal pass and the SSIM formula for the output pair at byte offset `c`; `tailOnly` sums lane 1 only. */
  const output = (tailOnly: boolean): void => {
    f.get('vrow').get('c').op(OP.i32Add).set('pv');
    horizontal('mx', 0);
    horizontal('my', rowB);
    horizontal('sp', 2 * rowB);
    horizontal('sq', 3 * rowB);
    formula(0, tailOnly);
  };

  // Four outputs at a time: the 2n + 2 values of a v row they need are read as (n + 3) / 2 aligned pairs; the
  // pairs starting at odd offsets are shuffled from two aligned ones (fewer and no line-crossing loads).
  const aligned = (n + 3) >> 1;
  for (let k = 0; k < aligned; k++) f.local(`A${k}`, V128);
  for (let k = 0; k + 1 < aligned; k++) f.local(`S${k}`, V128);
  const vec = (o: number) => f.get(o % 2 === 0 ? `A${o >> 1}` : `S${o >> 1}`);
  /** One quantity for the output pairs at offsets 0 and 2 into `dst` (then moved to mx.. by the caller). */
  const horizontal4 = (base: number, dst0: string, dst1: string): void => {
    for (let k = 0; k < aligned; k++)
      f.get('pv')
        .v128Load(base + 16 * k)
        .set(`A${k}`);
    for (let k = 0; k + 1 < aligned; k++) {
      f.get(`A${k}`)
        .get(`A${k + 1}`)
        .simd(SIMD.i8x16Shuffle);
      f.op(8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23).set(`S${k}`);
    }
    for (const [dst, off] of [
      [dst0, 0],
      [dst1, 2],
    ] as const) {
      g(half);
      vec(off + half);
      mul().set(dst);
      for (let j = 0; j < half; j++) {
        f.get(dst);
        g(j);
        vec(off + j);
        vec(off + n - 1 - j);
        add();
        mul();
        add().set(dst);
      }
    }
  };
  for (const name of ['mx2', 'my2', 'sp2', 'sq2']) f.local(name, V128);
  const output4 = (): void => {
    f.get('vrow').get('c').op(OP.i32Add).set('pv');
    horizontal4(0, 'mx', 'mx2');
    horizontal4(rowB, 'my', 'my2');
    horizontal4(2 * rowB, 'sp', 'sp2');
    horizontal4(3 * rowB, 'sq', 'sq2');
    formula(0, false);
    f.get('mx2').set('mx');
    f.get('my2').set('my');
    f.get('sp2').set('sp');
    f.get('sq2').set('sq');
    formula(16, false);
  };

  /** The SSIM formula on mx, my, sp, sq: store the pair at byte offset `c + at` of the map row, add to the sums. */
  const formula = (at: number, tailOnly: boolean): void => {
    f.get('mx').get('my');
    mul().set('mxy');
    f.get('mx').get('mx');
    mul();
    f.get('my').get('my');
    mul();
    add().set('msq');
    // csn = 2 (cn (sq - mxy)) + C2 ; csd = cn (sp - msq) + C2
    f.get('two').get('cnv').get('sq').get('mxy');
    sub();
    mul();
    mul();
    f.get('C2v');
    add().set('csn');
    f.get('cnv').get('sp').get('msq');
    sub();
    mul();
    f.get('C2v');
    add().set('csd');
    // s = ((2 mxy + C1) csn) / ((msq + C1) csd)
    f.get('two').get('mxy');
    mul();
    f.get('C1v');
    add();
    f.get('csn');
    mul();
    f.get('msq').get('C1v');
    add();
    f.get('csd');
    mul();
    div().set('s');
    f.get('pm').get('c').op(OP.i32Add).get('s').v128Store(at);
    if (tailOnly) {
      f.get('total').get('s').simd(SIMD.f64x2ExtractLane).op(1).op(OP.f64Add).set('total');
      f.get('withCs').if();
      f.get('csTotal').get('csn').get('csd');
      div();
      f.simd(SIMD.f64x2ExtractLane).op(1).op(OP.f64Add).set('csTotal');
      f.end();
    } else {
      f.get('sumv').get('s');
      add().set('sumv');
      f.get('withCs').if();
      f.get('csv').get('csn').get('csd');
      div();
      add().set('csv');
      f.end();
    }
  };

  const zero = (name: string) => {
    f.f64(0);
    splat().set(name);
  };

  // Products of the first n - 1 input rows.
  f.i32(0).set('fr');
  f.block().loop();
  fillRow();
  f.get('fr')
    .i32(1)
    .op(OP.i32Add)
    .tee('fr')
    .i32(n - 1)
    .op(OP.i32LtU)
    .brIf(0);
  f.end().end();

  /** Horizontal pass, formula and sums of output row `r` from the v rows at `vrow`. */
  const rowOutput = (): void => {
    f.get('mapPtr')
      .get('r')
      .i32(mapWidth * 8)
      .op(OP.i32Mul)
      .op(OP.i32Add)
      .set('pm');
    // Horizontal pass, formula, row sums.
    zero('sumv');
    zero('csv');
    const quads = mapWidth >> 2;
    if (quads > 0) {
      f.i32(0).set('c');
      f.loop();
      output4();
      f.get('c')
        .i32(32)
        .op(OP.i32Add)
        .tee('c')
        .i32(quads * 32)
        .op(OP.i32LtU)
        .brIf(0);
      f.end();
    }
    const rest = mapWidth & 3;
    if (rest >= 2) {
      f.i32(quads * 32).set('c');
      output(false);
    }
    if (rest % 2 === 1) {
      // Odd width: the pair ending at the last column, whose lane 0 was already counted.
      f.i32((mapWidth - 2) * 8).set('c');
      output(true);
    }
    // total += sumv[0] + sumv[1]
    f.get('total')
      .get('sumv')
      .simd(SIMD.f64x2ExtractLane)
      .op(0)
      .get('sumv')
      .simd(SIMD.f64x2ExtractLane)
      .op(1);
    f.op(OP.f64Add).op(OP.f64Add).set('total');
    f.get('csTotal')
      .get('csv')
      .simd(SIMD.f64x2ExtractLane)
      .op(0)
      .get('csv')
      .simd(SIMD.f64x2ExtractLane)
      .op(1);
    f.op(OP.f64Add).op(OP.f64Add).set('csTotal');
  };
  /** `pass` over all column pairs (plus the last, overlapping pair when the width is odd). */
  const columns = (pass: () => void): void => {
    f.i32(0).set('c');
    f.loop();
    pass();
    f.get('c')
      .i32(16)
      .op(OP.i32Add)
      .tee('c')
      .i32(width * 8 - 15)
      .op(OP.i32LtU)
      .brIf(0);
    f.end();
    if (width % 2 === 1) {
      f.i32((width - 2) * 8).set('c');
      pass();
    }
  };
  const ringBase = (): void => {
    f.get('ringPtr').get('r').i32(m).op(OP.i32RemU).i32(rowB).op(OP.i32Mul).op(OP.i32Add).set('rb');
  };

  // Output rows two at a time while two remain.
  f.i32(0).set('r');
  f.block().loop();
  {
    f.get('r').i32(1).op(OP.i32Add).get('rows').op(OP.i32LtU).op(OP.i32Eqz).brIf(1);
    // Products of the last input rows of both windows.
    f.get('r')
      .i32(n - 1)
      .op(OP.i32Add)
      .set('fr');
    fillRow();
    f.get('r').i32(n).op(OP.i32Add).set('fr');
    fillRow();
    ringBase();
    columns(vertical2);
    f.get('vPtr').set('vrow');
    rowOutput();
    f.get('r').i32(1).op(OP.i32Add).set('r');
    f.get('vPtr')
      .i32(4 * rowB)
      .op(OP.i32Add)
      .set('vrow');
    rowOutput();
    f.get('r').i32(1).op(OP.i32Add).set('r');
    f.op(0x0c, 0);
  }
  f.end().end();
  // The last row when their number is odd.
  f.get('r').get('rows').op(OP.i32LtU).if();
  {
    f.get('r')
      .i32(n - 1)
      .op(OP.i32Add)
      .set('fr');
    fillRow();
    ringBase();
    columns(vertical);
    f.get('vPtr').set('vrow');
    rowOutput();
  }
  f.end();
  f.get('outPtr').get('total').f64Store(0);
  f.get('outPtr').get('csTotal').f64Store(8);
  f.get('sse').get('ssev').simd(SIMD.f64x2ExtractLane).op(0).op(OP.f64Add);
  f.get('ssev').simd(SIMD.f64x2ExtractLane).op(1).op(OP.f64Add);
  f.set('sse');
  f.get('outPtr').get('sse').f64Store(16);
  return buildModule(f, 'run', 1);
}

function instance(width: number, taps: Float64Array, f32: boolean): KernelInstance {
  const key = `${width}:${f32 ? 'f32' : 'f64'}:${Array.from(taps).join(',')}`;
  let k = cache.get(key);
  if (!k) {
    const mod = new WebAssembly.Module(generate(width, taps, f32) as BufferSource);
    const inst = new WebAssembly.Instance(mod, {});
    k = {
      run: inst.exports['run'] as (...args: number[]) => void,
      memory: inst.exports['mem'] as WebAssembly.Memory,
    };
    cache.set(key, k);
  }
  return k;
}

/** Bytes of one input plane in wasm memory, rounded up to a cache line. */
function planeBytes(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Bytes of wasm memory the kernel needs for a width x height pair. */
export function wasmBytesNeeded(width: number, height: number, n: number): number {
  const rowB = rowStride(width) * 8;
  const plane = planeBytes(width * height * 8);
  return 2 * plane + 8 * rowB + 8 * (n + 1) * rowB + (width - n + 1) * (height - n + 1) * 8 + 32;
}

/**
 * Run the SIMD kernel. Same contract as `ssimMap` in ../kernel.ts (the caller checks `wasmSimdAvailable`, the
 * size against `WASM_MAX_BYTES`, and `width >= 2`).
 * @param out buffer for the map (else a new one)
 * @returns the map, the sums of the map and of the cs term, and the sum of squared errors over all samples
 */
export function ssimMapWasm(
  x: Float64Array | Float32Array,
  y: Float64Array | Float32Array,
  width: number,
  height: number,
  taps: Float64Array,
  C1: number,
  C2: number,
  covNorm: number,
  withCs: boolean,
  out?: Float64Array,
): { map: Float64Array; total: number; csTotal: number; sse: number } {
  const n = taps.length;
  const f32 = x instanceof Float32Array && y instanceof Float32Array;
  const k = instance(width, taps, f32);
  const need = wasmBytesNeeded(width, height, n);
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / PAGE));
  const rowB = rowStride(width) * 8;
  const plane = width * height;
  const planeB = planeBytes(plane * (f32 ? 4 : 8));
  const xPtr = 0;
  const yPtr = planeB;
  const vPtr = 2 * planeB;
  const ringPtr = vPtr + 8 * rowB;
  const mapPtr = ringPtr + 8 * (n + 1) * rowB;
  const mapLen = (width - n + 1) * (height - n + 1);
  const outPtr = mapPtr + mapLen * 8;
  const heap = new Float64Array(k.memory.buffer);
  if (f32) {
    // Plain copies: the kernel widens float32 to float64 itself (exactly, as JavaScript reads them).
    new Float32Array(k.memory.buffer, xPtr, plane).set(x.subarray(0, plane));
    new Float32Array(k.memory.buffer, yPtr, plane).set(y.subarray(0, plane));
  } else {
    heap.set(x.subarray(0, plane), xPtr / 8);
    heap.set(y.subarray(0, plane), yPtr / 8);
  }
  k.run(xPtr, yPtr, vPtr, ringPtr, mapPtr, outPtr, height - n + 1, withCs ? 1 : 0, C1, C2, covNorm);
  // slice() copies without first zero-filling a new buffer.
  const view = heap.subarray(mapPtr / 8, mapPtr / 8 + mapLen);
  const map = out ?? view.slice();
  if (out) out.set(view);
  return { map, total: heap[outPtr / 8]!, csTotal: heap[outPtr / 8 + 1]!, sse: heap[outPtr / 8 + 2]! };
}
