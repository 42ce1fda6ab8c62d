/**
 * The block kernel (DESIGN §3b): for every B x B block of a GT/test pair of grey planes, the Tier-2 block SSIM
 * (skimage defaults on the block alone), the Tier-3 whole-block moments and SSIM decomposition, and the six damage
 * axes with gates and severities, written into preallocated typed-array columns (src/tier3/columns.ts).
 *
 * How it stays fast: the image is processed one block row (a band of B pixel rows) at a time. The band plus a
 * 1-pixel halo (clamped at the image edge) is copied once into float64 scratch. Then, row by row and block by
 * block, one pass over the block's pixels computes the Sobel and Laplacian products in registers (sliding 3x3
 * neighbourhoods) and the row's 7-column window sums, which are added to every 7x7 window containing the row.
 * Nothing is allocated per block; scratch is allocated once per call (or passed in). For integer-valued data up
 * to 16 bits every sum is exact in float64, so ssim_blk matches a plain two-pass computation to rounding.
 *
 * The same loop also exists as generated WebAssembly SIMD (./wasm/blockKernel.ts: two neighbouring blocks per
 * f64x2, each lane doing this file's operations in this file's order), which `diagnoseBlocks` runs by default
 * where available (about 2x faster); the JavaScript below is the reference and the fallback, and both write the
 * same doubles into every column.
 */
import { BlindspotError, invalidOption } from '../errors.ts';
import type { BlockColumns } from './columns.ts';
import { ssimConstants, type ResolvedDiagnoseOptions } from './options.ts';
import {
  BLOCK_OUT_COLUMNS,
  BLOCK_WASM_MAX_BYTES,
  blockWasmBytes,
  runBlockKernelWasm,
  wasmSimdAvailable,
  type BlockParam,
} from './wasm/blockKernel.ts';

/** Geometry of the block grid: blocks that fit entirely inside the image (no partial blocks). */
export interface BlockGrid {
  gridRows: number;
  gridCols: number;
  blockCount: number;
  blockSize: number;
  stride: number;
}

/**
 * The block grid for an image: `gridRows = floor((height - B) / stride) + 1`, likewise for columns.
 * @throws BlindspotError E_TOO_SMALL when the image is smaller than one block.
 */

/** Number of failing axes in a 6-bit fail mask (A1..A6). */
function failingAxes(mask: number): number {
  return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1) + ((mask >> 4) & 1) + ((mask >> 5) & 1);
}
export function blockGrid(
  width: number,
  height: number,
  blockSize: number,
  stride: number,
  file?: string,
): BlockGrid {
  if (width < blockSize || height < blockSize) {
    throw new BlindspotError(
      'E_TOO_SMALL',
      `image ${width}x${height} is smaller than one ${blockSize}x${blockSize} block`,
      file,
    );
  }
  const gridRows = Math.floor((height - blockSize) / stride) + 1;
  const gridCols = Math.floor((width - blockSize) / stride) + 1;
  return { gridRows, gridCols, blockCount: gridRows * gridCols, blockSize, stride };
}

/** Scratch buffers of the kernel; reuse one across calls of the same width and block size to allocate nothing. */
export interface DiagnoseScratch {
  width: number;
  blockSize: number;
  /** padded band of x and y: (B + 2) rows of (width + 2) samples */
  px: Float64Array;
  py: Float64Array;
  /** one block row's x, y, x^2, y^2, xy (5 x B) */
  rowv: Float64Array;
  /** per block of the band: 10 whole-block sums */
  bacc: Float64Array;
  /** per block of the band: 5 sums for each of the (B-6)^2 7x7 windows */
  bwin: Float64Array;
  /** B = 8 fast path, per block: first/last row sums, first/last column sums, 4 corners (8 x 5 values) */
  bex: Float64Array;
  /** one row of one block: its 5 sums, first and last values */
  rowq: Float64Array;
}

const NQ = 10; // x, y, xx, yy, xy, gradDot, gradX, gradY, lapX, lapY

/** Allocate the scratch for images of `width` and blocks of `blockSize` (any stride). */
export function createDiagnoseScratch(width: number, blockSize: number): DiagnoseScratch {
  const B = blockSize;
  const maxCols = Math.max(1, width - B + 1); // stride 1
  const nw = Math.max(1, B - 6);
  return {
    width,
    blockSize,
    px: new Float64Array((B + 2) * (width + 2)),
    py: new Float64Array((B + 2) * (width + 2)),
    rowv: new Float64Array(5 * B),
    bacc: new Float64Array(maxCols * NQ),
    bwin: new Float64Array(maxCols * nw * nw * 5),
    bex: new Float64Array(B === 8 ? maxCols * 40 : 0),
    rowq: new Float64Array(15),
  };
}

type Plane = Float32Array | Float64Array;

/** Copy band rows y0-1 .. y0+B (clamped to the image) with a clamped 1-column halo into `p`. */
function copyBand(src: Plane, width: number, height: number, y0: number, B: number, p: Float64Array): void {
  const wp = width + 2;
  for (let i = 0; i < B + 2; i++) {
    let r = y0 - 1 + i;
    if (r < 0) r = 0;
    else if (r >= height) r = height - 1;
    const s = r * width;
    const d = i * wp;
    p[d] = src[s]!;
    for (let c = 0; c < width; c++) p[d + 1 + c] = src[s + c]!;
    p[d + wp - 1] = src[s + width - 1]!;
  }
}

/** Typed views of the columns the kernel writes (looked up once per call). */
function columnViews(out: BlockColumns) {
  const f = (n: string) => out[n] as Float64Array;
  const i = (n: string) => out[n] as Int32Array;
  const u = (n: string) => out[n] as Uint8Array;
  return {
    row: i('row'),
    col: i('col'),
    y0: i('y0'),
    x0: i('x0'),
    y1: i('y1'),
    x1: i('x1'),
    isBorder: u('is_border'),
    ring: i('ring'),
    ssimBlk: f('ssim_blk'),
    lBlk: f('l_blk'),
    csBlk: f('cs_blk'),
    mx: f('mx'),
    my: f('my'),
    sx: f('sx'),
    sy: f('sy'),
    sxy: f('sxy'),
    dmu: f('dmu'),
    se: f('se'),
    rho: f('rho'),
    rAc: f('r_ac'),
    kappa: f('kappa'),
    lambda: f('lambda'),
    l: f('l'),
    c: f('c'),
    s: f('s'),
    ssim: f('ssim'),
    a1: f('a1'),
    a2: f('a2'),
    a3: f('a3'),
    a4: f('a4'),
    a5: f('a5'),
    a6: f('a6'),
    g1: u('g1'),
    g2: u('g2'),
    g3: u('g3'),
    g4: u('g4'),
    g5: u('g5'),
    g6: u('g6'),
    sev1: f('sev1'),
    sev2: f('sev2'),
    sev3: f('sev3'),
    sev4: f('sev4'),
    sev5: f('sev5'),
    sev6: f('sev6'),
    failCount: i('fail_count'),
    failMask: i('fail_mask'),
    gateMask: i('gate_mask'),
    a4Log2Energy: f('a4_log2_energy'),
  };
}

const clip1 = (v: number): number => (v >= 1 ? 1 : v > 0 ? v : 0);

/**
 * Which implementation `diagnoseBlocks` runs. 'auto' (default): the generated WebAssembly SIMD kernel
 * (./wasm/blockKernel.ts) where the runtime has it and the pair fits in 1 GiB of wasm memory, else JavaScript;
 * the environment variable BLINDSPOT_BLOCK_KERNEL=js|wasm overrides 'auto' (worker threads inherit it). Both
 * give the same columns bit for bit; this file's JavaScript loop is the reference.
 */
export type BlockKernelBackend = 'auto' | 'js' | 'wasm';

/** The environment variable read by backend 'auto'. */
export const BLOCK_KERNEL_ENV = 'BLINDSPOT_BLOCK_KERNEL';

function envBackend(): BlockKernelBackend {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.[BLOCK_KERNEL_ENV];
  if (v === undefined || v === '') return 'auto';
  const t = v.trim().toLowerCase();
  if (t === 'auto' || t === 'js' || t === 'wasm') return t;
  throw invalidOption(BLOCK_KERNEL_ENV, 'js, wasm or auto', v);
}

/**
 * The implementation `diagnoseBlocks` runs for a pair with `backend`.
 * @throws BlindspotError E_INVALID_OPTION for a malformed BLINDSPOT_BLOCK_KERNEL; for a forced 'wasm',
 *   E_UNSUPPORTED without WebAssembly SIMD and E_TOO_LARGE past 1 GiB of wasm memory.
 */
export function blockKernelFor(backend: BlockKernelBackend, width: number, height: number, grid: BlockGrid): 'js' | 'wasm' {
  const b = backend === 'auto' ? envBackend() : backend;
  if (b === 'js') return 'js';
  const fits =
    blockWasmBytes(width, height, grid.blockSize, grid.stride, grid.gridCols, grid.blockCount) <= BLOCK_WASM_MAX_BYTES;
  if (b === 'wasm') {
    if (!wasmSimdAvailable) throw new BlindspotError('E_UNSUPPORTED', 'this runtime has no WebAssembly SIMD: use the js block kernel');
    if (!fits) throw new BlindspotError('E_TOO_LARGE', `a ${width}x${height} pair does not fit the wasm block kernel (1 GiB)`);
    return 'wasm';
  }
  return wasmSimdAvailable && fits ? 'wasm' : 'js';
}

/** Constants of the kernel, computed once per call (the wasm kernel receives exactly these doubles). */
function kernelConstants(options: ResolvedDiagnoseOptions, L: number) {
  const B = options.blockSize;
  const { C1, C2, C3 } = ssimConstants(options, L);
  // data units -> display grey levels (DESIGN §3c); diagnose() resolves 'auto' to a number first
  const k8 = 255 / (typeof options.displayWidth === 'number' ? options.displayWidth : L);
  const k8sq = k8 * k8;
  const n = B * B;
  const NW = B - 6; // 7x7 windows per block side
  return {
    C1,
    C2,
    C3,
    k8,
    k8sq,
    k8sq64: k8sq / 64,
    n,
    invN: 1 / n,
    n2: n * n,
    covNorm: 49 / 48, // skimage's sample covariance
    invNW2: 1 / (NW * NW),
    rhoGate: options.rhoGate / k8, // in data units
    rFloor: options.rFloorVariance, // squared data units
    a3FailRaw: 1 - options.a3FailRho,
    a4GateEnergy: options.a4Gate * options.a4Gate,
    a5GateEnergy: options.a5Gate * options.a5Gate,
    e4: options.a4EnergyFloor,
    e5: options.a5EnergyFloor,
    a1Fail: options.a1Fail,
    a2Gate: options.a2Gate,
    a3Gate: options.a3Gate,
    a6Fail: options.a6Fail,
  } satisfies Record<BlockParam, number>;
}
type KernelConstants = ReturnType<typeof kernelConstants>;

/** The wasm column that fills each block column (the three log2 arguments land in a2, a4_log2_energy, a5). */
const WASM_TARGET: Record<string, string> = { arg2: 'a2', arg4: 'a4_log2_energy', arg5: 'a5' };

/**
 * The WebAssembly kernel, then what it leaves to JavaScript: the identity columns and, because WebAssembly has
 * no log2, A2, A4's energy ratio and A5 with their severities, gates and fail bits (expressions as in the
 * JavaScript kernel below, so the values are the same doubles).
 */
function diagnoseBlocksWasm(
  x: Plane,
  y: Plane,
  width: number,
  height: number,
  grid: BlockGrid,
  options: ResolvedDiagnoseOptions,
  kc: KernelConstants,
  out: BlockColumns,
): void {
  const r = runBlockKernelWasm(x, y, width, height, grid, kc);
  const N = grid.blockCount;
  BLOCK_OUT_COLUMNS.forEach((name, c) => {
    const col = out[WASM_TARGET[name] ?? name] as Float64Array;
    col.set(r.heap.subarray(r.col(c), r.col(c) + N));
  });
  const bits = r.bits;
  const v = columnViews(out);
  const { gridRows, gridCols, stride } = grid;
  const B = grid.blockSize;
  const { a2Fail, a4FailCosine, a4FailLog2Energy, a5Fail } = options;
  for (let br = 0; br < gridRows; br++) {
    const by0 = br * stride;
    const ring0 = Math.min(br, gridRows - 1 - br);
    for (let bc = 0; bc < gridCols; bc++) {
      const k = br * gridCols + bc;
      const x0 = bc * stride;
      v.row[k] = br;
      v.col[k] = bc;
      v.y0[k] = by0;
      v.x0[k] = x0;
      v.y1[k] = by0 + B;
      v.x1[k] = x0 + B;
      const ring = Math.min(ring0, bc, gridCols - 1 - bc);
      v.ring[k] = ring;
      v.isBorder[k] = ring === 0 ? 1 : 0;

      const e = bits[2 * k]!;
      const g2 = (e & 2) !== 0,
        g3 = (e & 4) !== 0,
        g4 = (e & 8) !== 0,
        g5 = (e & 16) !== 0;
      let mask = e >> 8;
      const a2 = Math.log2(v.a2[k]!);
      const sev2 = g2 ? clip1(Math.abs(a2) / a2Fail) : 0;
      v.a2[k] = a2;
      v.sev2[k] = sev2;
      if (g2 && sev2 >= 1) mask |= 2;
      const a4e = Math.log2(v.a4Log2Energy[k]!);
      const s4a = v.a4[k]! / a4FailCosine,
        s4b = Math.abs(a4e) / a4FailLog2Energy;
      const sev4 = g4 ? clip1(s4a > s4b ? s4a : s4b) : 0;
      v.a4Log2Energy[k] = a4e;
      v.sev4[k] = sev4;
      if (g4 && sev4 >= 1) mask |= 8;
      const a5 = Math.log2(v.a5[k]!);
      const sev5 = g5 ? clip1(Math.abs(a5) / a5Fail) : 0;
      v.a5[k] = a5;
      v.sev5[k] = sev5;
      if (g5 && sev5 >= 1) mask |= 16;
      v.g1[k] = 1;
      v.g2[k] = g2 ? 1 : 0;
      v.g3[k] = g3 ? 1 : 0;
      v.g4[k] = g4 ? 1 : 0;
      v.g5[k] = g5 ? 1 : 0;
      v.g6[k] = 1;
      v.failMask[k] = mask;
      v.gateMask[k] = 33 | (e & 30);
      v.failCount[k] = failingAxes(mask);
    }
  }
}

/**
 * Diagnose every block of a GT/test pair of grey planes into `out`.
 *
 * Per block (population moments over all B*B pixels, float64): mx, my, sx, sy, sxy, dmu = my - mx,
 * se = sd(y - x), rho = sxy/(sx sy) (NaN when sx or sy < rhoGate display levels), R = se^2/max(sx^2, rFloorVariance),
 * kappa = (sx^2+sy^2)/(sx^2+sy^2+C2), lambda = C1/(mx^2+my^2+C1), l, c, s (C3 = C2/2) and ssim = l*c*s;
 * `ssim_blk` = mean of skimage's default SSIM (7x7 box, sample covariance) over the (B-6)^2 interior windows, with
 * the window means of its l and cs terms; axes A1..A6 (raw value, gate, severity = |raw|/threshold clipped to
 * [0, 1], 0 when the gate is closed; an axis fails when its gate is open and its severity reaches 1).
 * A4 (Sobel/8 gradients) and A5 (4-neighbour Laplacian) read a 1-pixel halo clamped at the image edge.
 *
 * @param x - GT grey plane, row-major, `width * height` samples.
 * @param y - test grey plane, same size.
 * Axis values, gates and thresholds are in display grey levels: `options.displayWidth` / 255 data units each
 * ('auto' or 'data-range' read as the data range L here; `diagnose()` resolves 'auto' from the GT first).
 * @param options - resolved options (`resolveDiagnoseOptions`); `dataRange` must be a number here.
 * @param out - columns from `allocateBlockColumns(n)` with n >= the grid's block count.
 * @param scratch - optional reusable scratch from `createDiagnoseScratch(width, blockSize)` (JavaScript kernel).
 * @param backend - 'auto' (default: WebAssembly SIMD where available, BLINDSPOT_BLOCK_KERNEL overrides), 'js' or
 *   'wasm'; every column is the same double either way (see `BlockKernelBackend`).
 * @returns the block grid (rows, cols, count); block k is row-major: k = row * gridCols + col.
 * @throws BlindspotError E_TOO_SMALL if the image is smaller than one block; E_INVALID_OPTION if dataRange is null.
 * @see Wang Z. et al., Image quality assessment: from error visibility to structural similarity, IEEE TIP 13(4)
 *   2004, doi:10.1109/TIP.2003.819861 (SSIM); scikit-image `structural_similarity` defaults (7x7, sample covariance).
 */
export function diagnoseBlocks(
  x: Plane,
  y: Plane,
  width: number,
  height: number,
  options: ResolvedDiagnoseOptions,
  out: BlockColumns,
  scratch?: DiagnoseScratch,
  backend: BlockKernelBackend = 'auto',
): BlockGrid {
  const B = options.blockSize;
  const stride = options.stride;
  const grid = blockGrid(width, height, B, stride);
  const L = options.dataRange;
  if (L === null)
    throw new BlindspotError(
      'E_INVALID_OPTION',
      'diagnoseBlocks needs a numeric dataRange (resolve it from the images first)',
    );
  const kc = kernelConstants(options, L);
  if (blockKernelFor(backend, width, height, grid) === 'wasm') {
    try {
      diagnoseBlocksWasm(x, y, width, height, grid, options, kc, out);
      return grid;
    } catch (e) {
      // 'auto' only: wasm memory could not grow (RangeError, before any column was written) -> JavaScript
      if (backend === 'wasm' || !(e instanceof RangeError)) throw e;
    }
  }
  const sc =
    scratch && scratch.width === width && scratch.blockSize === B ? scratch : createDiagnoseScratch(width, B);
  const { px, py, rowv, rowq } = sc;
  // B = 8 (the default): the four 7x7 windows are the block minus one row and one column, so they follow from the
  // block sums, the first/last row and column sums and the corners, with no per-window accumulation.
  const fast8 = B === 8;
  const bex = fast8
    ? sc.bex.length >= grid.gridCols * 40
      ? sc.bex
      : new Float64Array(grid.gridCols * 40)
    : sc.bex;
  const { gridRows, gridCols } = grid;
  const bacc = sc.bacc.length >= gridCols * NQ ? sc.bacc : new Float64Array(gridCols * NQ);
  const NWs = B - 6;
  const bwin =
    sc.bwin.length >= gridCols * NWs * NWs * 5 ? sc.bwin : new Float64Array(gridCols * NWs * NWs * 5);
  const v = columnViews(out);
  // column arrays as locals: the per-block writes stay cheap
  const {
    a1: c_a1,
    a2: c_a2,
    a3: c_a3,
    a4: c_a4,
    a4Log2Energy: c_a4Log2Energy,
    a5: c_a5,
    a6: c_a6,
    c: c_c,
    col: c_col,
    csBlk: c_csBlk,
    dmu: c_dmu,
    failCount: c_failCount,
    failMask: c_failMask,
    gateMask: c_gateMask,
    g1: c_g1,
    g2: c_g2,
    g3: c_g3,
    g4: c_g4,
    g5: c_g5,
    g6: c_g6,
    isBorder: c_isBorder,
    kappa: c_kappa,
    l: c_l,
    lBlk: c_lBlk,
    lambda: c_lambda,
    mx: c_mx,
    my: c_my,
    rAc: c_rAc,
    rho: c_rho,
    ring: c_ring,
    row: c_row,
    s: c_s,
    se: c_se,
    sev1: c_sev1,
    sev2: c_sev2,
    sev3: c_sev3,
    sev4: c_sev4,
    sev5: c_sev5,
    sev6: c_sev6,
    ssim: c_ssim,
    ssimBlk: c_ssimBlk,
    sx: c_sx,
    sxy: c_sxy,
    sy: c_sy,
    x0: c_x0,
    x1: c_x1,
    y0: c_y0,
    y1: c_y1,
  } = v;
  const W = width;
  const wp = W + 2;

  const { C1, C2, C3, k8, k8sq, n, invN, n2, covNorm, invNW2, rhoGate, rFloor, a3FailRaw, a4GateEnergy, a5GateEnergy, e4, e5 } = kc;
  const NW = B - 6; // 7x7 windows per block side

  for (let br = 0; br < gridRows; br++) {
    const by0 = br * stride;
    copyBand(x, W, height, by0, B, px);
    copyBand(y, W, height, by0, B, py);
    bacc.fill(0);
    if (fast8) bex.fill(0);
    else bwin.fill(0);

    // One pass over each block's pixels, row by row: whole-block sums in locals, 7-column window sums per row
    // added to the windows (wr) that contain the row.
    for (let i = 0; i < B; i++) {
      const u = i * wp;
      const m = u + wp;
      const d = m + wp;
      const wrLo = i - 6 > 0 ? i - 6 : 0;
      const wrHi = i < NW - 1 ? i : NW - 1;
      // Sliding registers over padded columns p-1 and p: the centre sample m, the vertical Sobel smoothing
      // sv = u + 2m + d and difference dv = d - u. The Laplacian needs u + d = sv - 2m, so u and d need no registers.
      // With stride = B consecutive blocks continue the slide; otherwise each block starts its own.
      const contiguous = stride === B;
      let xm0 = 0,
        xm1 = 0,
        ym0 = 0,
        ym1 = 0,
        xsv0 = 0,
        xsv1 = 0,
        xdv0 = 0,
        xdv1 = 0,
        ysv0 = 0,
        ysv1 = 0,
        ydv0 = 0,
        ydv1 = 0;
      for (let bc = 0; bc < gridCols; bc++) {
        const p0 = bc * stride; // padded index of column x0 - 1
        if (bc === 0 || !contiguous) {
          xm0 = px[m + p0]!;
          xm1 = px[m + p0 + 1]!;
          ym0 = py[m + p0]!;
          ym1 = py[m + p0 + 1]!;
          xsv0 = px[u + p0]! + 2 * xm0 + px[d + p0]!;
          xsv1 = px[u + p0 + 1]! + 2 * xm1 + px[d + p0 + 1]!;
          xdv0 = px[d + p0]! - px[u + p0]!;
          xdv1 = px[d + p0 + 1]! - px[u + p0 + 1]!;
          ysv0 = py[u + p0]! + 2 * ym0 + py[d + p0]!;
          ysv1 = py[u + p0 + 1]! + 2 * ym1 + py[d + p0 + 1]!;
          ydv0 = py[d + p0]! - py[u + p0]!;
          ydv1 = py[d + p0 + 1]! - py[u + p0 + 1]!;
        }
        let gd = 0,
          gx = 0,
          gy = 0,
          lx = 0,
          ly = 0;
        let rx = 0,
          ry = 0,
          rxx = 0,
          ryy = 0,
          rxy = 0;
        for (let j = 0; j < B; j++) {
          const p2 = p0 + j + 2;
          const xu2 = px[u + p2]!,
            xm2 = px[m + p2]!,
            xd2 = px[d + p2]!;
          const yu2 = py[u + p2]!,
            ym2 = py[m + p2]!,
            yd2 = py[d + p2]!;
          const xsv2 = xu2 + 2 * xm2 + xd2,
            xdv2 = xd2 - xu2;
          const ysv2 = yu2 + 2 * ym2 + yd2,
            ydv2 = yd2 - yu2;
          const gxX = xsv2 - xsv0,
            gyX = xdv0 + 2 * xdv1 + xdv2;
          const gxY = ysv2 - ysv0,
            gyY = ydv0 + 2 * ydv1 + ydv2;
          const lapX = xsv1 + xm0 + xm2 - 6 * xm1;
          const lapY = ysv1 + ym0 + ym2 - 6 * ym1;
          const xx = xm1 * xm1,
            yy = ym1 * ym1,
            xy = xm1 * ym1;
          rx += xm1;
          ry += ym1;
          rxx += xx;
          ryy += yy;
          rxy += xy;
          if (!fast8) {
            rowv[j] = xm1;
            rowv[B + j] = ym1;
            rowv[2 * B + j] = xx;
            rowv[3 * B + j] = yy;
            rowv[4 * B + j] = xy;
          }
          gd += gxX * gxY + gyX * gyY;
          gx += gxX * gxX + gyX * gyX;
          gy += gxY * gxY + gyY * gyY;
          lx += lapX * lapX;
          ly += lapY * lapY;
          xm0 = xm1;
          xm1 = xm2;
          ym0 = ym1;
          ym1 = ym2;
          xsv0 = xsv1;
          xsv1 = xsv2;
          xdv0 = xdv1;
          xdv1 = xdv2;
          ysv0 = ysv1;
          ysv1 = ysv2;
          ydv0 = ydv1;
          ydv1 = ydv2;
        }
        const a = bc * NQ;
        bacc[a + 5] += gd;
        bacc[a + 6] += gx;
        bacc[a + 7] += gy;
        bacc[a + 8] += lx;
        bacc[a + 9] += ly;
        bacc[a] += rx;
        bacc[a + 1] += ry;
        bacc[a + 2] += rxx;
        bacc[a + 3] += ryy;
        bacc[a + 4] += rxy;
        if (fast8) {
          // this row's sums, first and last values of the 5 quantities
          const fx = px[m + p0 + 1]!,
            fy = py[m + p0 + 1]!,
            lx0 = px[m + p0 + 8]!,
            ly0 = py[m + p0 + 8]!;
          rowq[0] = rx;
          rowq[1] = ry;
          rowq[2] = rxx;
          rowq[3] = ryy;
          rowq[4] = rxy;
          rowq[5] = fx;
          rowq[6] = fy;
          rowq[7] = fx * fx;
          rowq[8] = fy * fy;
          rowq[9] = fx * fy;
          rowq[10] = lx0;
          rowq[11] = ly0;
          rowq[12] = lx0 * lx0;
          rowq[13] = ly0 * ly0;
          rowq[14] = lx0 * ly0;
          const e = bc * 40;
          for (let q = 0; q < 5; q++) {
            bex[e + 10 + q] += rowq[5 + q]!; // first column
            bex[e + 15 + q] += rowq[10 + q]!; // last column
          }
          if (i === 0) {
            for (let q = 0; q < 5; q++) {
              bex[e + q] = rowq[q]!; // first row
              bex[e + 20 + q] = rowq[5 + q]!; // corner (0, 0)
              bex[e + 25 + q] = rowq[10 + q]!; // corner (0, 7)
            }
          } else if (i === 7) {
            for (let q = 0; q < 5; q++) {
              bex[e + 5 + q] = rowq[q]!; // last row
              bex[e + 30 + q] = rowq[5 + q]!; // corner (7, 0)
              bex[e + 35 + q] = rowq[10 + q]!; // corner (7, 7)
            }
          }
        } else {
          // this row's 7-column window sums, added to every window (wr) containing the row
          for (let q = 0; q < 5; q++) {
            const base = q * B;
            let h = 0;
            for (let j = 0; j < 7; j++) h += rowv[base + j]!;
            const wb = bc * NW * NW * 5 + q;
            for (let wc = 0; wc < NW; wc++) {
              if (wc > 0) h += rowv[base + wc + 6]! - rowv[base + wc - 1]!;
              for (let wr = wrLo; wr <= wrHi; wr++) bwin[wb + (wr * NW + wc) * 5] += h;
            }
          }
        }
      }
    }

    const ring0 = Math.min(br, gridRows - 1 - br);
    for (let bc = 0; bc < gridCols; bc++) {
      const k = br * gridCols + bc;
      const x0 = bc * stride;

      // identity
      c_row[k] = br;
      c_col[k] = bc;
      c_y0[k] = by0;
      c_x0[k] = x0;
      c_y1[k] = by0 + B;
      c_x1[k] = x0 + B;
      const ring = Math.min(ring0, bc, gridCols - 1 - bc);
      c_ring[k] = ring;
      c_isBorder[k] = ring === 0 ? 1 : 0;

      const a = bc * NQ;
      const Sx = bacc[a]!,
        Sy = bacc[a + 1]!,
        Sxx = bacc[a + 2]!,
        Syy = bacc[a + 3]!,
        Sxy = bacc[a + 4]!;
      const Gd = bacc[a + 5]!,
        Gx = bacc[a + 6]!,
        Gy = bacc[a + 7]!,
        Lx = bacc[a + 8]!,
        Ly = bacc[a + 9]!;

      // Tier 2: skimage-default SSIM of the block alone (mean over the NW x NW interior 7x7 windows). Sums are
      // divided (not multiplied by 1/49) so that exact integer sums give exact means.
      let sumS = 0,
        sumL = 0,
        sumCS = 0;
      const wb = bc * NW * NW * 5;
      if (fast8) {
        // window (wr, wc) = block - excluded row - excluded column + their corner (wr 0 drops row 7, wr 1 row 0)
        const e = bc * 40;
        for (let q = 0; q < 5; q++) {
          const T = bacc[a + q]!;
          const r0 = bex[e + q]!,
            r7 = bex[e + 5 + q]!,
            c0 = bex[e + 10 + q]!,
            c7 = bex[e + 15 + q]!;
          bwin[wb + q] = T - r7 - c7 + bex[e + 35 + q]!; // rows 0-6, cols 0-6
          bwin[wb + 5 + q] = T - r7 - c0 + bex[e + 30 + q]!; // rows 0-6, cols 1-7
          bwin[wb + 10 + q] = T - r0 - c7 + bex[e + 25 + q]!; // rows 1-7, cols 0-6
          bwin[wb + 15 + q] = T - r0 - c0 + bex[e + 20 + q]!; // rows 1-7, cols 1-7
        }
      }
      for (let w = 0; w < NW * NW; w++) {
        const o = wb + w * 5;
        const ux = bwin[o]! / 49,
          uy = bwin[o + 1]! / 49;
        const vx = covNorm * (bwin[o + 2]! / 49 - ux * ux);
        const vy = covNorm * (bwin[o + 3]! / 49 - uy * uy);
        const vxy = covNorm * (bwin[o + 4]! / 49 - ux * uy);
        const A1 = 2 * ux * uy + C1,
          A2 = 2 * vxy + C2;
        const B1 = ux * ux + uy * uy + C1,
          B2 = vx + vy + C2;
        sumS += (A1 * A2) / (B1 * B2);
        sumL += A1 / B1;
        sumCS += A2 / B2;
      }
      c_ssimBlk[k] = sumS * invNW2;
      c_lBlk[k] = sumL * invNW2;
      c_csBlk[k] = sumCS * invNW2;

      // Tier 3: whole-block population moments (numerators exact for integer data)
      const mx = Sx / n,
        my = Sy / n;
      let vx = (n * Sxx - Sx * Sx) / n2;
      let vy = (n * Syy - Sy * Sy) / n2;
      const cxy = (n * Sxy - Sx * Sy) / n2;
      if (vx < 0) vx = 0;
      if (vy < 0) vy = 0;
      let ve = vx + vy - 2 * cxy;
      if (ve < 0) ve = 0;
      const sx = Math.sqrt(vx),
        sy = Math.sqrt(vy),
        se = Math.sqrt(ve);
      const dmu = my - mx;
      const rho = sx >= rhoGate && sy >= rhoGate && sx > 0 && sy > 0 ? cxy / (sx * sy) : NaN;
      c_mx[k] = mx;
      c_my[k] = my;
      c_sx[k] = sx;
      c_sy[k] = sy;
      c_sxy[k] = cxy;
      c_dmu[k] = dmu;
      c_se[k] = se;
      c_rho[k] = rho;
      c_rAc[k] = ve / (vx > rFloor ? vx : rFloor);
      const energy = vx + vy;
      c_kappa[k] = energy / (energy + C2);
      const lumDen = mx * mx + my * my + C1;
      c_lambda[k] = C1 / lumDen;
      const lTerm = (2 * mx * my + C1) / lumDen;
      const cTerm = (2 * sx * sy + C2) / (energy + C2);
      const sTerm = (cxy + C3) / (sx * sy + C3);
      c_l[k] = lTerm;
      c_c[k] = cTerm;
      c_s[k] = sTerm;
      c_ssim[k] = lTerm * cTerm * sTerm;

      // Axes, in display grey levels
      const sx8 = sx * k8,
        sy8 = sy * k8;
      let mask = 0;
      // A1 luminance shift
      const a1 = dmu * k8;
      const sev1 = clip1(Math.abs(a1) / options.a1Fail);
      c_a1[k] = a1;
      c_g1[k] = 1;
      c_sev1[k] = sev1;
      if (sev1 >= 1) mask |= 1;
      // A2 contrast change
      const a2 = Math.log2((sy8 + 1) / (sx8 + 1));
      const g2 = (sx8 > sy8 ? sx8 : sy8) >= options.a2Gate;
      const sev2 = g2 ? clip1(Math.abs(a2) / options.a2Fail) : 0;
      c_a2[k] = a2;
      c_g2[k] = g2 ? 1 : 0;
      c_sev2[k] = sev2;
      if (g2 && sev2 >= 1) mask |= 2;
      // A3 structure decorrelation
      const a3 = 1 - rho;
      const g3 = sx8 >= options.a3Gate && sy8 >= options.a3Gate && !Number.isNaN(rho);
      const sev3 = g3 ? clip1(a3 / a3FailRaw) : 0;
      c_a3[k] = a3;
      c_g3[k] = g3 ? 1 : 0;
      c_sev3[k] = sev3;
      if (g3 && sev3 >= 1) mask |= 4;
      // A4 edge/gradient fidelity: Sobel/8 fields (sums carry Sobel's factor 8^2 = 64)
      const gx8 = Gx * (k8sq / 64) * invN,
        gy8 = Gy * (k8sq / 64) * invN;
      const cosine = Gx > 0 && Gy > 0 ? Gd / Math.sqrt(Gx * Gy) : Gx === 0 && Gy === 0 ? 1 : 0;
      const a4 = 1 - cosine;
      const a4e = Math.log2((gy8 + e4) / (gx8 + e4));
      const g4 = gx8 >= a4GateEnergy;
      const s4a = a4 / options.a4FailCosine,
        s4b = Math.abs(a4e) / options.a4FailLog2Energy;
      const sev4 = g4 ? clip1(s4a > s4b ? s4a : s4b) : 0;
      c_a4[k] = a4;
      c_a4Log2Energy[k] = a4e;
      c_g4[k] = g4 ? 1 : 0;
      c_sev4[k] = sev4;
      if (g4 && sev4 >= 1) mask |= 8;
      // A5 high-frequency (Laplacian) energy
      const lx8 = Lx * k8sq * invN,
        ly8 = Ly * k8sq * invN;
      const a5 = Math.log2((ly8 + e5) / (lx8 + e5));
      const g5 = (lx8 > ly8 ? lx8 : ly8) >= a5GateEnergy;
      const sev5 = g5 ? clip1(Math.abs(a5) / options.a5Fail) : 0;
      c_a5[k] = a5;
      c_g5[k] = g5 ? 1 : 0;
      c_sev5[k] = sev5;
      if (g5 && sev5 >= 1) mask |= 16;
      // A6 residual error: RMSE = sqrt(dmu^2 + se^2)
      const a6 = Math.sqrt(dmu * dmu + ve) * k8;
      const sev6 = clip1(a6 / options.a6Fail);
      c_a6[k] = a6;
      c_g6[k] = 1;
      c_sev6[k] = sev6;
      if (sev6 >= 1) mask |= 32;

      c_failMask[k] = mask;
      c_gateMask[k] = 33 | (g2 ? 2 : 0) | (g3 ? 4 : 0) | (g4 ? 8 : 0) | (g5 ? 16 : 0); // A1, A6: always open
      c_failCount[k] = failingAxes(mask);
    }
  }
  return grid;
}
