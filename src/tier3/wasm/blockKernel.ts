/**
 * The block kernel of `../blocks.ts` as WebAssembly SIMD, generated for one image width, block size, stride and
 * input type (float32 or float64 planes). Each f64x2 lane runs one block: lanes hold two horizontally adjacent
 * blocks of a band (block bc and bc + 1), so every lane performs exactly the scalar operations of the JavaScript
 * kernel on its block, in the same order (IEEE float64, no fused multiply-add, same sums in the same sequence).
 * The columns therefore agree bit for bit; only Math.log2 is not available in WebAssembly, so the kernel writes
 * the three log2 arguments and `blocks.ts` finishes A2, A4's energy ratio and A5 (and their severities and fail
 * bits) in JavaScript, with the JavaScript kernel's expressions.
 *
 * Per call (one band of B pixel rows): the band plus a 1-pixel halo, clamped at the image edge, is copied from the
 * input planes into float64 rows (float32 widened exactly); then, per pair of blocks, the pixel pass (Sobel and
 * Laplacian products with sliding registers, the row sums of the moments; for B = 8 each row in two loops, GT
 * then test plane, so that the live values fit the registers) and the per-block float math
 * (skimage-default ssim_blk over the 7x7 windows, whole-block moments, l/c/s, axes, gates) write 28 float64
 * columns and a gate/fail bit word into wasm memory, from which the caller copies them into its columns. One call
 * per band (not per image) lets V8 tier the function up from its baseline compiler within the first image.
 */
import { buildModule, FunctionBuilder, I32, OP, SIMD, V128 } from '../../ssim/wasm/emit.ts';
import { rowStride, wasmSimdAvailable } from '../../ssim/wasm/ssimKernel.ts';

export { wasmSimdAvailable };

const PAGE = 65536;
/** Above this many bytes of working memory the JavaScript kernel is used instead. */
export const BLOCK_WASM_MAX_BYTES = 1 << 30;

/**
 * Float64 parameters the caller writes at the start of memory (slot index = position here), computed with the
 * JavaScript kernel's own expressions.
 */
export const BLOCK_PARAMS = [
  'C1',
  'C2',
  'C3',
  'k8',
  'k8sq64',
  'k8sq',
  'rhoGate',
  'rFloor',
  'a3FailRaw',
  'a4GateEnergy',
  'a5GateEnergy',
  'e4',
  'e5',
  'a1Fail',
  'a2Gate',
  'a3Gate',
  'a6Fail',
  'n',
  'n2',
  'invN',
  'covNorm',
  'invNW2',
] as const;
export type BlockParam = (typeof BLOCK_PARAMS)[number];
const slot = (p: BlockParam): number => BLOCK_PARAMS.indexOf(p) * 8;
const PARAMS_BYTES = 256;

/**
 * The float64 output columns, in memory order. `arg2`, `arg4`, `arg5` are the arguments of the log2 of A2, of A4's
 * energy ratio and of A5. After them one 64-bit word per block: gate bits 1..4 (A2..A5) in bits 1-4, fail bits of
 * A1, A3, A6 in bits 8, 10, 13 (the fail mask shifted left by 8).
 */
export const BLOCK_OUT_COLUMNS = [
  'ssim_blk',
  'l_blk',
  'cs_blk',
  'mx',
  'my',
  'sx',
  'sy',
  'sxy',
  'dmu',
  'se',
  'rho',
  'r_ac',
  'kappa',
  'lambda',
  'l',
  'c',
  's',
  'ssim',
  'a1',
  'sev1',
  'arg2',
  'a3',
  'sev3',
  'a4',
  'arg4',
  'arg5',
  'a6',
  'sev6',
] as const;
const NOUT = BLOCK_OUT_COLUMNS.length + 1; // + the bit word

interface Geometry {
  width: number;
  blockSize: number;
  stride: number;
  gridCols: number;
  f32: boolean;
}

/** Bytes of one padded band row (width + 2 samples; an odd number of cache lines, see `rowStride`). */
function bandRowBytes(width: number): number {
  return rowStride(width + 2) * 8;
}

const align64 = (b: number): number => Math.ceil(b / 64) * 64;

/** Fixed part of the memory layout (depends on the geometry only). */
function fixedLayout(g: Geometry) {
  const B = g.blockSize;
  const rowB = bandRowBytes(g.width);
  const bandBytes = (B + 2) * rowB;
  const bandX = PARAMS_BYTES;
  const bandY = bandX + bandBytes;
  // A lone last block of a band runs in lane 0; lane 1 reads up to stride + B + 2 samples past a band row.
  const slack = align64((g.stride + B + 4) * 8);
  const generic = B !== 8;
  const NW = B - 6;
  const rowv = align64(bandY + bandBytes + slack);
  const rowvBytes = generic ? 5 * B * 16 : 8 * 3 * 16; // B = 8: one row's GT gradients and samples (rowTwoPass)
  const bwin = rowv + rowvBytes;
  const bwinBytes = generic ? NW * NW * 5 * 16 : 0;
  return { rowB, bandBytes, bandX, bandY, rowv, bwin, end: align64(bwin + bwinBytes) };
}

/** Generate the kernel's module (see the module comment). */
function generate(g: Geometry): Uint8Array {
  const { width: W, blockSize: B, stride: S, gridCols, f32 } = g;
  const L = fixedLayout(g);
  const { rowB, bandX } = L;
  const yo = L.bandY - L.bandX; // y band = x band + yo bytes
  const S8 = S * 8;
  const es = f32 ? 4 : 8;
  const fast8 = B === 8;
  const NW = B - 6;
  const pairs = Math.ceil(gridCols / 2);
  const f = new FunctionBuilder([
    ['y0', I32],
    ['k0', I32],
    ['height', I32],
    ['xPtr', I32],
    ['yPtr', I32],
    ['colPtr', I32],
    ['colStride', I32],
  ]);
  for (const n of ['i', 'r', 'sx', 'sy', 'dx', 'o', 'pr', 'P', 'cp', 'Pu', 'j', 'wc', 'wr', 'wrHi', 'Rw', 'Bw'])
    f.local(n, I32);
  const declared = new Set<string>();

  // --- a small expression language over v128 locals ---
  type E = () => void;
  const get =
    (n: string): E =>
    () => {
      f.get(n);
    };
  const def = (n: string, e: E): E => {
    if (!declared.has(n)) {
      f.local(n, V128);
      declared.add(n);
    }
    e();
    f.set(n);
    return get(n);
  };
  const bin =
    (op: number) =>
    (a: E, b: E): E =>
    () => {
      a();
      b();
      f.simd(op);
    };
  const add = bin(SIMD.f64x2Add);
  const sub = bin(SIMD.f64x2Sub);
  const mul = bin(SIMD.f64x2Mul);
  const div = bin(SIMD.f64x2Div);
  const ge = bin(SIMD.f64x2Ge);
  const gt = bin(SIMD.f64x2Gt);
  const lt = bin(SIMD.f64x2Lt);
  const eq = bin(SIMD.f64x2Eq);
  const and = bin(SIMD.v128And);
  const or = bin(SIMD.v128Or);
  const un =
    (op: number) =>
    (a: E): E =>
    () => {
      a();
      f.simd(op);
    };
  const sqrt = un(SIMD.f64x2Sqrt);
  const abs = un(SIMD.f64x2Abs);
  /** `c ? a : b` lane by lane (c: a comparison's all-ones/all-zeros lanes). */
  const sel =
    (c: E, a: E, b: E): E =>
    () => {
      a();
      b();
      c();
      f.simd(SIMD.v128Bitselect);
    };
  const k =
    (v: number): E =>
    () => {
      f.f64x2Const(v);
    };
  const bitsConst =
    (v: number): E =>
    () => {
      const b = new Uint8Array(16);
      b[0] = b[8] = v & 0xff;
      b[1] = b[9] = (v >> 8) & 0xff;
      f.v128Const(b);
    };
  const prm =
    (p: BlockParam): E =>
    () => {
      f.i32(0).v128Load64Splat(slot(p));
    };
  /** Two blocks' samples: lane 0 at `ptr + off`, lane 1 one stride further. */
  const ld =
    (ptr: string, off: number): E =>
    () => {
      f.get(ptr).get(ptr).v128Load64Splat(off).v128Load64Lane(off + S8, 1);
    };
  const ZERO = k(0);
  const ONE = k(1);
  const TWO = k(2);
  /** JavaScript's clip1: v >= 1 ? 1 : v > 0 ? v : 0 (v computed once into local `t`). */
  const clip1 = (e: E): E => {
    const v = def('t', e);
    return sel(ge(v, ONE), ONE, sel(gt(v, ZERO), v, ZERO));
  };

  // --- band copy: rows y0 - 1 .. y0 + B, clamped, with a clamped 1-column halo, as float64 ---
  const copyRow = (src: string, dst: number): void => {
    // o: byte offset into the float64 band row (c * 8); the source offset is o (float64) or o / 2 (float32)
    const loadPair = (): void => {
      if (f32) f.get(src).get('o').i32(1).op(OP.i32ShrU).op(OP.i32Add).v128Load64Zero(0).simd(SIMD.f64x2PromoteLowF32x4);
      else f.get(src).get('o').op(OP.i32Add).v128Load(0);
    };
    if (W >= 2) {
      f.i32(0).set('o');
      f.loop();
      f.get('dx').get('o').op(OP.i32Add);
      loadPair();
      f.v128Store(dst + 8);
      f.get('o')
        .i32(16)
        .op(OP.i32Add)
        .tee('o')
        .i32((W - 1) * 8)
        .op(OP.i32LtS)
        .brIf(0);
      f.end();
    }
    const scalar = (srcIdx: number, dstByte: number): void => {
      f.get('dx');
      f.get(src);
      if (f32) f.memAligned([OP.f32Load], 2, srcIdx * 4).op(OP.f64PromoteF32);
      else f.memAligned([OP.f64Load], 3, srcIdx * 8);
      f.f64Store(dstByte);
    };
    if (W % 2 === 1) scalar(W - 1, dst + 8 + (W - 1) * 8);
    scalar(0, dst);
    scalar(W - 1, dst + (W + 1) * 8);
  };
  f.i32(0).set('i');
  f.block().loop();
  {
    // r = clamp(y0 - 1 + i, 0, height - 1)
    f.get('y0').i32(1).op(OP.i32Sub).get('i').op(OP.i32Add).set('r');
    f.i32(0).get('r').get('r').i32(0).op(OP.i32LtS).op(OP.select).set('r');
    f.get('height').i32(1).op(OP.i32Sub).get('r').get('r').get('height').op(OP.i32GeS).op(OP.select).set('r');
    f.get('xPtr')
      .get('r')
      .i32(W * es)
      .op(OP.i32Mul)
      .op(OP.i32Add)
      .set('sx');
    f.get('yPtr')
      .get('r')
      .i32(W * es)
      .op(OP.i32Mul)
      .op(OP.i32Add)
      .set('sy');
    f.i32(bandX).get('i').i32(rowB).op(OP.i32Mul).op(OP.i32Add).set('dx');
    copyRow('sx', 0);
    copyRow('sy', yo);
    f.get('i')
      .i32(1)
      .op(OP.i32Add)
      .tee('i')
      .i32(B + 2)
      .op(OP.i32LtS)
      .brIf(0);
  }
  f.end().end();

  // --- the pixel pass of one row of a block pair ---
  interface Regs {
    xm0: string;
    xm1: string;
    ym0: string;
    ym1: string;
    xsv0: string;
    xsv1: string;
    xdv0: string;
    xdv1: string;
    ysv0: string;
    ysv1: string;
    ydv0: string;
    ydv1: string;
  }
  const ACC = ['rx', 'ry', 'rxx', 'ryy', 'rxy', 'gd', 'gx', 'gy', 'lx', 'ly'] as const; // bacc order
  /** Registers for columns p0 and p0 + 1 of rows u, m, d (byte offsets of column p0 relative to `ptr`). */
  const initRow = (r: Regs, ptr: string, u: number, m: number, d: number): void => {
    for (const [pl, xo] of [
      ['x', 0],
      ['y', yo],
    ] as const) {
      const R = r as unknown as Record<string, string>;
      for (const c of [0, 1]) {
        const mm = def(R[`${pl}m${c}`]!, ld(ptr, xo + m + c * 8));
        def(R[`${pl}sv${c}`]!, add(add(ld(ptr, xo + u + c * 8), mul(TWO, mm)), ld(ptr, xo + d + c * 8)));
        def(R[`${pl}dv${c}`]!, sub(ld(ptr, xo + d + c * 8), ld(ptr, xo + u + c * 8)));
      }
    }
    for (const a of ACC) def(a, ZERO);
  };
  /**
   * One pixel (column p2 at byte offset `c2` relative to `ptr` in rows u, m, d) into the row sums, as in the
   * JavaScript loop body. New values go to the `*2` names; returns the registers for the next pixel.
   */
  const pixel = (r: Regs, n: { xm2: string; ym2: string; xsv2: string; xdv2: string; ysv2: string; ydv2: string }, ptr: string, u: number, m: number, d: number): void => {
    const xu2 = def('xu2', ld(ptr, u));
    const xm2 = def(n.xm2, ld(ptr, m));
    const xd2 = def('xd2', ld(ptr, d));
    const yu2 = def('yu2', ld(ptr, yo + u));
    const ym2 = def(n.ym2, ld(ptr, yo + m));
    const yd2 = def('yd2', ld(ptr, yo + d));
    const xsv2 = def(n.xsv2, add(add(xu2, mul(TWO, xm2)), xd2));
    const xdv2 = def(n.xdv2, sub(xd2, xu2));
    const ysv2 = def(n.ysv2, add(add(yu2, mul(TWO, ym2)), yd2));
    const ydv2 = def(n.ydv2, sub(yd2, yu2));
    const gxX = def('gxX', sub(xsv2, get(r.xsv0)));
    const gyX = def('gyX', add(add(get(r.xdv0), mul(TWO, get(r.xdv1))), xdv2));
    const gxY = def('gxY', sub(ysv2, get(r.ysv0)));
    const gyY = def('gyY', add(add(get(r.ydv0), mul(TWO, get(r.ydv1))), ydv2));
    const lapX = def('lapX', sub(add(add(get(r.xsv1), get(r.xm0)), xm2), mul(k(6), get(r.xm1))));
    const lapY = def('lapY', sub(add(add(get(r.ysv1), get(r.ym0)), ym2), mul(k(6), get(r.ym1))));
    const xm1 = get(r.xm1);
    const ym1 = get(r.ym1);
    def('rx', add(get('rx'), xm1));
    def('ry', add(get('ry'), ym1));
    def('rxx', add(get('rxx'), mul(xm1, xm1)));
    def('ryy', add(get('ryy'), mul(ym1, ym1)));
    def('rxy', add(get('rxy'), mul(xm1, ym1)));
    def('gd', add(get('gd'), add(mul(gxX, gxY), mul(gyX, gyY))));
    def('gx', add(get('gx'), add(mul(gxX, gxX), mul(gyX, gyX))));
    def('gy', add(get('gy'), add(mul(gxY, gxY), mul(gyY, gyY))));
    def('lx', add(get('lx'), mul(lapX, lapX)));
    def('ly', add(get('ly'), mul(lapY, lapY)));
  };
  /** After a pixel in a runtime loop: (0, 1, 2) -> (0 := 1, 1 := 2). */
  const slide = (r: Regs, n: { xm2: string; ym2: string; xsv2: string; xdv2: string; ysv2: string; ydv2: string }): void => {
    for (const [a, b, c] of [
      [r.xm0, r.xm1, n.xm2],
      [r.ym0, r.ym1, n.ym2],
      [r.xsv0, r.xsv1, n.xsv2],
      [r.xdv0, r.xdv1, n.xdv2],
      [r.ysv0, r.ysv1, n.ysv2],
      [r.ydv0, r.ydv1, n.ydv2],
    ] as const) {
      f.get(b).set(a);
      f.get(c).set(b);
    }
  };
  /**
   * One row of a block pair (B = 8) in two loops over its eight columns, each with few enough live values to
   * stay in registers: the GT plane (rx, rxx, gx, lx; its Sobel components and samples saved per column), then
   * the test plane (ry, ryy, gy, ly) with the cross terms gd and rxy from the saved GT values. Every sum adds its
   * terms in column order with the JavaScript kernel's expressions. fx/fy, lx0/ly0: first and last column.
   */
  const rowTwoPass = (ptr: string, u: number, m: number, d: number): void => {
    const sc = L.rowv; // 8 columns x (gxX, gyX, xm1)
    for (const [pl, po, rs, rss, gE, lE] of [
      ['x', 0, 'rx', 'rxx', 'gx', 'lx'],
      ['y', yo, 'ry', 'ryy', 'gy', 'ly'],
    ] as const) {
      const m0 = `${pl}m0`, m1 = `${pl}m1`, m2 = `${pl}m2`, sv0 = `${pl}sv0`, sv1 = `${pl}sv1`, sv2 = `${pl}sv2`;
      const dv0 = `${pl}dv0`, dv1 = `${pl}dv1`, dv2 = `${pl}dv2`;
      def(m0, ld(ptr, po + m));
      def(m1, ld(ptr, po + m + 8));
      def(`${pl}first`, get(m1));
      def(sv0, add(add(ld(ptr, po + u), mul(TWO, get(m0))), ld(ptr, po + d)));
      def(sv1, add(add(ld(ptr, po + u + 8), mul(TWO, get(m1))), ld(ptr, po + d + 8)));
      def(dv0, sub(ld(ptr, po + d), ld(ptr, po + u)));
      def(dv1, sub(ld(ptr, po + d + 8), ld(ptr, po + u + 8)));
      for (const a of pl === 'x' ? [rs, rss, gE, lE] : [rs, rss, gE, lE, 'gd', 'rxy']) def(a, ZERO);
      f.get(ptr).set('o');
      f.i32(sc).set('Rw');
      f.block().loop();
      {
        const u2 = def(`${pl}u2`, ld('o', po + u + 16));
        const mm2 = def(m2, ld('o', po + m + 16));
        const d2 = def(`${pl}d2`, ld('o', po + d + 16));
        def(sv2, add(add(u2, mul(TWO, mm2)), d2));
        def(dv2, sub(d2, u2));
        const gX = def(`${pl}gX`, sub(get(sv2), get(sv0)));
        const gY = def(`${pl}gY`, add(add(get(dv0), mul(TWO, get(dv1))), get(dv2)));
        const lap = def(`${pl}lap`, sub(add(add(get(sv1), get(m0)), mm2), mul(k(6), get(m1))));
        def(rs, add(get(rs), get(m1)));
        def(rss, add(get(rss), mul(get(m1), get(m1))));
        def(gE, add(get(gE), add(mul(gX, gX), mul(gY, gY))));
        def(lE, add(get(lE), mul(lap, lap)));
        if (pl === 'x') {
          for (const [t, e] of [gX, gY, get(m1)].entries()) {
            f.get('Rw');
            e();
            f.v128Store(t * 16);
          }
        } else {
          const saved = (t: number): E => () => {
            f.get('Rw').v128Load(t * 16);
          };
          def('rxy', add(get('rxy'), mul(saved(2), get(m1))));
          def('gd', add(get('gd'), add(mul(saved(0), gX), mul(saved(1), gY))));
        }
        for (const [a, b, c] of [
          [m0, m1, m2],
          [sv0, sv1, sv2],
          [dv0, dv1, dv2],
        ] as const) {
          f.get(b).set(a);
          f.get(c).set(b);
        }
        f.get('Rw').i32(48).op(OP.i32Add).set('Rw');
        f.get('o').i32(8).op(OP.i32Add).tee('o').get(ptr).op(OP.i32Sub).i32(64).op(OP.i32LtS).brIf(0);
      }
      f.end().end();
      def(`${pl}last`, get(m0)); // after the slide: column p0 + 8
    }
    def('fx', get('xfirst'));
    def('fy', get('yfirst'));
    def('lx0', get('xlast'));
    def('ly0', get('ylast'));
  };
  const regs0: Regs = {
    xm0: 'xmA',
    xm1: 'xmB',
    ym0: 'ymA',
    ym1: 'ymB',
    xsv0: 'xsvA',
    xsv1: 'xsvB',
    xdv0: 'xdvA',
    xdv1: 'xdvB',
    ysv0: 'ysvA',
    ysv1: 'ysvB',
    ydv0: 'ydvA',
    ydv1: 'ydvB',
  };
  const new0 = { xm2: 'xmC', ym2: 'ymC', xsv2: 'xsvC', xdv2: 'xdvC', ysv2: 'ysvC', ydv2: 'ydvC' };

  /** The skimage SSIM of one 7x7 window from its five sums (JavaScript's expressions), added to the sums. */
  const windowSsim = (s: [E, E, E, E, E]): void => {
    const ux = def('ux', div(s[0], k(49)));
    const uy = def('uy', div(s[1], k(49)));
    const vx = def('vx', mul(prm('covNorm'), sub(div(s[2], k(49)), mul(ux, ux))));
    const vy = def('vy', mul(prm('covNorm'), sub(div(s[3], k(49)), mul(uy, uy))));
    const vxy = def('vxy', mul(prm('covNorm'), sub(div(s[4], k(49)), mul(ux, uy))));
    const A1 = def('A1', add(mul(mul(TWO, ux), uy), prm('C1')));
    const A2 = def('A2', add(mul(TWO, vxy), prm('C2')));
    const B1 = def('B1', add(add(mul(ux, ux), mul(uy, uy)), prm('C1')));
    const B2 = def('B2', add(add(vx, vy), prm('C2')));
    def('sumS', add(get('sumS'), div(mul(A1, A2), mul(B1, B2))));
    def('sumL', add(get('sumL'), div(A1, B1)));
    def('sumCS', add(get('sumCS'), div(A2, B2)));
  };

  /** Store value `e` into the next output column of the pair (cp advances by colStride). */
  const out = (e: E): void => {
    f.get('cp');
    e();
    f.v128Store(0);
    f.get('cp').get('colStride').op(OP.i32Add).set('cp');
  };

  /** Whole-block moments, l/c/s and axes from the block sums T*, after ssim_blk's sums (JavaScript's order). */
  const blockMath = (): void => {
    out(mul(get('sumS'), prm('invNW2')));
    out(mul(get('sumL'), prm('invNW2')));
    out(mul(get('sumCS'), prm('invNW2')));
    const [Sx, Sy, Sxx, Syy, Sxy, Gd, Gx, Gy, Lx, Ly] = ACC.map((a) => get(`T${a}`));
    const n = prm('n');
    const n2 = prm('n2');
    const mx = def('mx', div(Sx!, n));
    const my = def('my', div(Sy!, n));
    let vx = def('bvx', div(sub(mul(n, Sxx!), mul(Sx!, Sx!)), n2));
    let vy = def('bvy', div(sub(mul(n, Syy!), mul(Sy!, Sy!)), n2));
    const cxy = def('cxy', div(sub(mul(n, Sxy!), mul(Sx!, Sy!)), n2));
    vx = def('bvx', sel(lt(vx, ZERO), ZERO, vx));
    vy = def('bvy', sel(lt(vy, ZERO), ZERO, vy));
    let ve = def('ve', sub(add(vx, vy), mul(TWO, cxy)));
    ve = def('ve', sel(lt(ve, ZERO), ZERO, ve));
    const sx = def('bsx', sqrt(vx));
    const sy = def('bsy', sqrt(vy));
    const se = sqrt(ve);
    const dmu = def('dmu', sub(my, mx));
    const rg = prm('rhoGate');
    const rho = def(
      'rho',
      sel(and(and(ge(sx, rg), ge(sy, rg)), and(gt(sx, ZERO), gt(sy, ZERO))), div(cxy, mul(sx, sy)), k(NaN)),
    );
    out(mx);
    out(my);
    out(sx);
    out(sy);
    out(cxy);
    out(dmu);
    out(se);
    out(rho);
    out(div(ve, sel(gt(vx, prm('rFloor')), vx, prm('rFloor'))));
    const energy = def('energy', add(vx, vy));
    out(div(energy, add(energy, prm('C2'))));
    const lumDen = def('lumDen', add(add(mul(mx, mx), mul(my, my)), prm('C1')));
    out(div(prm('C1'), lumDen));
    const lT = def('lT', div(add(mul(mul(TWO, mx), my), prm('C1')), lumDen));
    const cT = def('cT', div(add(mul(mul(TWO, sx), sy), prm('C2')), add(energy, prm('C2'))));
    const sT = def('sT', div(add(cxy, prm('C3')), add(mul(sx, sy), prm('C3'))));
    out(lT);
    out(cT);
    out(sT);
    out(mul(mul(lT, cT), sT));
    // axes, in display grey levels
    const k8 = prm('k8');
    const sx8 = def('sx8', mul(sx, k8));
    const sy8 = def('sy8', mul(sy, k8));
    const a1 = def('a1', mul(dmu, k8));
    const sev1 = def('sev1', clip1(div(abs(a1), prm('a1Fail'))));
    out(a1);
    out(sev1);
    out(div(add(sy8, ONE), add(sx8, ONE))); // arg2
    const g2 = def('g2', ge(sel(gt(sx8, sy8), sx8, sy8), prm('a2Gate')));
    const a3 = def('a3', sub(ONE, rho));
    const g3 = def('g3', and(and(ge(sx8, prm('a3Gate')), ge(sy8, prm('a3Gate'))), eq(rho, rho)));
    const sev3 = def('sev3', sel(g3, clip1(div(a3, prm('a3FailRaw'))), ZERO));
    out(a3);
    out(sev3);
    // A4: Sobel/8 fields (sums carry Sobel's 8^2)
    const gx8 = def('gx8', mul(mul(Gx!, prm('k8sq64')), prm('invN')));
    const gy8 = def('gy8', mul(mul(Gy!, prm('k8sq64')), prm('invN')));
    const cosine = sel(
      and(gt(Gx!, ZERO), gt(Gy!, ZERO)),
      div(Gd!, sqrt(mul(Gx!, Gy!))),
      sel(and(eq(Gx!, ZERO), eq(Gy!, ZERO)), ONE, ZERO),
    );
    out(sub(ONE, cosine)); // a4
    out(div(add(gy8, prm('e4')), add(gx8, prm('e4')))); // arg4
    const g4 = def('g4', ge(gx8, prm('a4GateEnergy')));
    // A5: Laplacian energies
    const lx8 = def('lx8', mul(mul(Lx!, prm('k8sq')), prm('invN')));
    const ly8 = def('ly8', mul(mul(Ly!, prm('k8sq')), prm('invN')));
    out(div(add(ly8, prm('e5')), add(lx8, prm('e5')))); // arg5
    const g5 = def('g5', ge(sel(gt(lx8, ly8), lx8, ly8), prm('a5GateEnergy')));
    // A6: RMSE
    const a6 = def('a6', mul(sqrt(add(mul(dmu, dmu), ve)), k8));
    const sev6 = def('sev6', clip1(div(a6, prm('a6Fail'))));
    out(a6);
    out(sev6);
    const gates = or(or(and(g2, bitsConst(2)), and(g3, bitsConst(4))), or(and(g4, bitsConst(8)), and(g5, bitsConst(16))));
    const fails = or(
      or(and(ge(sev1, ONE), bitsConst(1 << 8)), and(and(g3, ge(sev3, ONE)), bitsConst(4 << 8))),
      and(ge(sev6, ONE), bitsConst(32 << 8)),
    );
    out(or(gates, fails));
  };

  // --- per pair of blocks ---
  f.i32(0).set('pr');
  f.block().loop();
  {
    f.i32(bandX)
      .get('pr')
      .i32(2 * S8)
      .op(OP.i32Mul)
      .op(OP.i32Add)
      .set('P');
    f.get('colPtr').get('k0').get('pr').i32(2).op(OP.i32Mul).op(OP.i32Add).i32(8).op(OP.i32Mul).op(OP.i32Add).set('cp');
    for (const a of ACC) def(`T${a}`, ZERO);
    for (const s of ['sumS', 'sumL', 'sumCS']) def(s, ZERO);
    if (fast8) emitFast8();
    else emitGeneric();
    blockMath();
    f.get('pr').i32(1).op(OP.i32Add).tee('pr').i32(pairs).op(OP.i32LtS).brIf(0);
  }
  f.end().end();
  return buildModule(f, 'run', 1);

  /**
   * B = 8: rows and columns as runtime loops, each row in two passes (rowTwoPass). Unrolled, the block did not fit
   * the instruction cache; in one pass, 22 values live across columns (sliding registers and row sums) made V8
   * spill: 45% of the instructions were spill moves. The four windows by inclusion-exclusion, as the JavaScript
   * fast path.
   */
  function emitFast8(): void {
    const Q = ['x', 'y', 'xx', 'yy', 'xy'];
    for (const q of Q) {
      def(`c0${q}`, ZERO);
      def(`c7${q}`, ZERO);
    }
    /** The five quantities of one sample pair (first or last column): x, y, x^2, y^2, xy. */
    const five = (px: E, py: E): E[] => [px, py, mul(px, px), mul(py, py), mul(px, py)];
    const fx = get('fx');
    const fy = get('fy');
    const lx0 = get('lx0');
    const ly0 = get('ly0');
    const first = five(fx, fy);
    const last = five(lx0, ly0);
    f.i32(0).set('i');
    f.block().loop();
    {
      f.get('P').get('i').i32(rowB).op(OP.i32Mul).op(OP.i32Add).set('Pu');
      rowTwoPass('Pu', 0, rowB, 2 * rowB);
      for (const a of ACC) def(`T${a}`, add(get(`T${a}`), get(a)));
      Q.forEach((q, t) => {
        def(`c0${q}`, add(get(`c0${q}`), first[t]!));
        def(`c7${q}`, add(get(`c7${q}`), last[t]!));
      });
      f.get('i').op(OP.i32Eqz).if();
      Q.forEach((q, t) => {
        def(`r0${q}`, get(ACC[t]!));
        def(`k00${q}`, first[t]!);
        def(`k07${q}`, last[t]!);
      });
      f.end();
      f.get('i').i32(1).op(OP.i32Add).tee('i').i32(8).op(OP.i32LtS).brIf(0);
    }
    f.end().end();
    // windows (wr, wc) = block - excluded row - excluded column + their corner; row 7's values are still live
    const win: E[][] = [[], [], [], []];
    Q.forEach((q, t) => {
      const T = get(`T${ACC[t]!}`);
      const r0 = get(`r0${q}`);
      const r7 = get(ACC[t]!);
      const c0 = get(`c0${q}`);
      const c7 = get(`c7${q}`);
      win[0]!.push(def(`w0${q}`, add(sub(sub(T, r7), c7), last[t]!)));
      win[1]!.push(def(`w1${q}`, add(sub(sub(T, r7), c0), first[t]!)));
      win[2]!.push(def(`w2${q}`, add(sub(sub(T, r0), c7), get(`k07${q}`))));
      win[3]!.push(def(`w3${q}`, add(sub(sub(T, r0), c0), get(`k00${q}`))));
    });
    for (const w of win) windowSsim(w as [E, E, E, E, E]);
  }

  /** Any other B: runtime loops; each row's 7-column window sums are added to the windows containing it. */
  function emitGeneric(): void {
    const rv = L.rowv;
    const bw = L.bwin;
    // zero the window sums
    f.i32(0).set('o');
    f.loop();
    f.get('o');
    ZERO();
    f.v128Store(bw);
    f.get('o')
      .i32(16)
      .op(OP.i32Add)
      .tee('o')
      .i32(NW * NW * 5 * 16)
      .op(OP.i32LtS)
      .brIf(0);
    f.end();
    f.i32(0).set('i');
    f.block().loop();
    {
      f.get('P').get('i').i32(rowB).op(OP.i32Mul).op(OP.i32Add).set('Pu');
      const r = regs0;
      const n = new0;
      initRow(r, 'Pu', 0, rowB, 2 * rowB);
      f.i32(0).set('j');
      f.block().loop();
      {
        // Pj = Pu + 8 j in 'o'; rowv slot j at rv + 16 j in 'Rw'
        f.get('Pu').get('j').i32(8).op(OP.i32Mul).op(OP.i32Add).set('o');
        f.i32(rv).get('j').i32(16).op(OP.i32Mul).op(OP.i32Add).set('Rw');
        pixel(r, n, 'o', 16, rowB + 16, 2 * rowB + 16);
        const vals = [get(r.xm1), get(r.ym1), mul(get(r.xm1), get(r.xm1)), mul(get(r.ym1), get(r.ym1)), mul(get(r.xm1), get(r.ym1))];
        vals.forEach((e, q) => {
          f.get('Rw');
          e();
          f.v128Store(q * B * 16);
        });
        slide(r, n);
        f.get('j').i32(1).op(OP.i32Add).tee('j').i32(B).op(OP.i32LtS).brIf(0);
      }
      f.end().end();
      for (const a of ACC) def(`T${a}`, add(get(`T${a}`), get(a)));
      // windows containing row i: wr from max(i - 6, 0) to min(i, NW - 1)
      f.get('i').i32(6).op(OP.i32Sub).set('wr');
      f.i32(0).get('wr').get('wr').i32(0).op(OP.i32LtS).op(OP.select).set('wr');
      f.i32(NW - 1)
        .get('i')
        .get('i')
        .i32(NW - 1)
        .op(OP.i32GtS)
        .op(OP.select)
        .set('wrHi');
      for (let q = 0; q < 5; q++) {
        const base = rv + q * B * 16;
        def('h', ZERO);
        for (let j = 0; j < 7; j++) def('h', add(get('h'), () => f.i32(0).v128Load(base + j * 16)));
        f.i32(0).set('wc');
        f.block().loop();
        {
          f.get('wc').if();
          // h += rowv[wc + 6] - rowv[wc - 1] (Rw = 16 wc)
          f.get('wc').i32(16).op(OP.i32Mul).set('Rw');
          def(
            'h',
            add(
              get('h'),
              sub(
                () => f.get('Rw').v128Load(base + 6 * 16),
                () => f.get('Rw').v128Load(base - 16),
              ),
            ),
          );
          f.end();
          // bwin[(wr NW + wc) 5 + q] += h for wr in wrLo..wrHi (wrLo in 'wr', restored after)
          f.get('wr').set('dx');
          f.block().loop();
          {
            f.get('dx').get('wrHi').op(OP.i32GtS).brIf(1);
            f.get('dx')
              .i32(NW)
              .op(OP.i32Mul)
              .get('wc')
              .op(OP.i32Add)
              .i32(80)
              .op(OP.i32Mul)
              .set('Bw');
            f.get('Bw');
            add(() => f.get('Bw').v128Load(bw + q * 16), get('h'))();
            f.v128Store(bw + q * 16);
            f.get('dx').i32(1).op(OP.i32Add).set('dx');
            f.op(0x0c, 0);
          }
          f.end().end();
          f.get('wc').i32(1).op(OP.i32Add).tee('wc').i32(NW).op(OP.i32LtS).brIf(0);
        }
        f.end().end();
      }
      f.get('i').i32(1).op(OP.i32Add).tee('i').i32(B).op(OP.i32LtS).brIf(0);
    }
    f.end().end();
    // ssim_blk over the NW x NW windows, in order
    f.i32(0).set('o');
    f.block().loop();
    {
      const s = [0, 1, 2, 3, 4].map((q) => () => {
        f.get('o').v128Load(bw + q * 16);
      }) as [E, E, E, E, E];
      windowSsim(s);
      f.get('o')
        .i32(80)
        .op(OP.i32Add)
        .tee('o')
        .i32(NW * NW * 80)
        .op(OP.i32LtS)
        .brIf(0);
    }
    f.end().end();
  }
}

interface KernelInstance {
  run: (...args: number[]) => void;
  memory: WebAssembly.Memory;
}

/** Compiled kernels by geometry, each with its own memory (planes + columns); mixed sizes keep at most this many. */
const CACHE_SIZE = 4;
const cache = new Map<string, KernelInstance>();

function instance(g: Geometry): KernelInstance {
  const key = `${g.width}:${g.blockSize}:${g.stride}:${g.f32 ? 'f32' : 'f64'}`;
  let k = cache.get(key);
  if (k) {
    cache.delete(key); // most recently used last
  } else {
    const mod = new WebAssembly.Module(generate(g) as BufferSource);
    const inst = new WebAssembly.Instance(mod, {});
    k = { run: inst.exports['run'] as (...args: number[]) => void, memory: inst.exports['mem'] as WebAssembly.Memory };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, k);
  return k;
}

function variableLayout(g: Geometry, height: number, blockCount: number) {
  const fixed = fixedLayout(g);
  const colStride = align64((blockCount + 2) * 8);
  const colPtr = fixed.end;
  const planeB = align64(g.width * height * (g.f32 ? 4 : 8));
  const xPtr = colPtr + NOUT * colStride;
  const yPtr = xPtr + planeB;
  return { colPtr, colStride, xPtr, yPtr, end: yPtr + planeB };
}

/** Bytes of wasm memory the kernel needs (compare with `BLOCK_WASM_MAX_BYTES`). */
export function blockWasmBytes(
  width: number,
  height: number,
  blockSize: number,
  stride: number,
  gridCols: number,
  blockCount: number,
): number {
  return variableLayout({ width, blockSize, stride, gridCols, f32: false }, height, blockCount).end;
}

/** Where the kernel left its outputs: float64 column `c` of BLOCK_OUT_COLUMNS starts at heap index col(c). */
export interface BlockWasmOutput {
  heap: Float64Array;
  /** Heap index of the first block of output column `c` (0-based position in BLOCK_OUT_COLUMNS). */
  col: (c: number) => number;
  /** The gate/fail bit word of block k is bits[2 k] (low 32 bits). */
  bits: Int32Array;
}

/**
 * Run the generated kernel over every band of a pair of planes (the caller checks `wasmSimdAvailable` and the
 * size against `BLOCK_WASM_MAX_BYTES`). The returned views alias wasm memory: read them before the next call.
 * @param params - every `BlockParam`, computed as the JavaScript kernel computes it.
 */
export function runBlockKernelWasm(
  x: Float32Array | Float64Array,
  y: Float32Array | Float64Array,
  width: number,
  height: number,
  grid: { gridRows: number; gridCols: number; blockCount: number; blockSize: number; stride: number },
  params: Readonly<Record<BlockParam, number>>,
): BlockWasmOutput {
  const f32 = x instanceof Float32Array && y instanceof Float32Array;
  const g: Geometry = { width, blockSize: grid.blockSize, stride: grid.stride, gridCols: grid.gridCols, f32 };
  const k = instance(g);
  const lay = variableLayout(g, height, grid.blockCount);
  const have = k.memory.buffer.byteLength;
  if (lay.end > have) k.memory.grow(Math.ceil((lay.end - have) / PAGE));
  const buf = k.memory.buffer;
  const heap = new Float64Array(buf);
  BLOCK_PARAMS.forEach((p, i) => {
    heap[i] = params[p];
  });
  const plane = width * height;
  if (f32) {
    // float32 planes are copied as they are; the band copy widens them exactly (as JavaScript reads them)
    new Float32Array(buf, lay.xPtr, plane).set(x.subarray(0, plane));
    new Float32Array(buf, lay.yPtr, plane).set(y.subarray(0, plane));
  } else {
    heap.set(x.subarray(0, plane), lay.xPtr / 8);
    heap.set(y.subarray(0, plane), lay.yPtr / 8);
  }
  const { gridRows, gridCols, stride } = grid;
  for (let br = 0; br < gridRows; br++) {
    k.run(br * stride, br * gridCols, height, lay.xPtr, lay.yPtr, lay.colPtr, lay.colStride);
  }
  const c0 = lay.colPtr / 8;
  const cs = lay.colStride / 8;
  return {
    heap,
    col: (c: number) => c0 + c * cs,
    bits: new Int32Array(buf, lay.colPtr + (NOUT - 1) * lay.colStride, 2 * grid.blockCount),
  };
}
