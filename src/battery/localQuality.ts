/**
 * Local quality (engine `analyze_local_quality`): the image is cut into P x P patches from the top-left (the last
 * row and column of patches may be smaller; patches under 7 pixels on a side are skipped), and each patch gets
 * scikit-image's default SSIM — 7x7 uniform window, sample covariance (49/48), C1 = (0.01 L)^2, C2 = (0.03 L)^2,
 * mean over the windows that lie inside the patch — averaged over the colour channels for RGB. The engine works on
 * 8-bit data, so L = 255. Patch size 8 on an 8-bit grey pair is exactly blindspot's `ssim_blk`.
 */

import { addWindowSsimWasm } from './wasm/localQualityKernel.ts';

/** Statistics of the patch SSIMs of one pair. */
export interface LocalQuality {
  patchSize: number;
  gridRows: number;
  gridCols: number;
  /** Patches that got an SSIM. */
  patches: number;
  mean: number;
  /** Population standard deviation (numpy `std`). */
  std: number;
  min: number;
  max: number;
  /** Grid position of the first patch (row-major) holding the minimum. */
  minRow: number;
  minCol: number;
}

const WIN = 7;

/** One channel of interleaved samples as its own plane. */
function channelPlane(data: Uint8Array, channels: number, ch: number): Uint8Array {
  const out = new Uint8Array(data.length / channels);
  for (let i = 0, j = ch; i < out.length; i++, j += channels) out[i] = data[j]!;
  return out;
}
const NW = WIN * WIN;
const INV_NW = 1 / NW;

/**
 * Add the window SSIMs of one 8-bit plane pair into per-patch sums: a 7x7 window counts for the patch that
 * contains it whole (`patchOfRow[r]`, `patchOfCol[c]`, -1 when it straddles two patches or a patch under 7
 * pixels). Sliding integer sums, so the window moments are exact.
 */
function addWindowSsim(
  x: Uint8Array,
  y: Uint8Array,
  stride: number,
  offset: number,
  width: number,
  height: number,
  L: number,
  patchOfRow: Int32Array,
  patchOfCol: Int32Array,
  gridCols: number,
  sums: Float64Array,
): void {
  const ow = width - WIN + 1;
  const oh = height - WIN + 1;
  // Column sums over 7 rows: integers below 7 * 255^2, exact in int32.
  const sx = new Int32Array(width);
  const sy = new Int32Array(width);
  const sxx = new Int32Array(width);
  const syy = new Int32Array(width);
  const sxy = new Int32Array(width);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const covNorm = NW / (NW - 1);
  for (let r = 0; r < WIN; r++) addRow(x, y, stride, offset, width, r, sx, sy, sxx, syy, sxy);
  for (let r = 0; r < oh; r++) {
    // Column sums hold rows r .. r + 6 here; they move down one row at the end of the iteration.
    const pr = patchOfRow[r]!;
    if (pr >= 0) {
      const rowBase = pr * gridCols;
      let Sx = 0, Sy = 0, Sxx = 0, Syy = 0, Sxy = 0;
      for (let c = 0; c < WIN - 1; c++) {
        Sx += sx[c]!; Sy += sy[c]!; Sxx += sxx[c]!; Syy += syy[c]!; Sxy += sxy[c]!;
      }
      for (let c = 0; c < ow; c++) {
        const e = c + WIN - 1;
        Sx += sx[e]!; Sy += sy[e]!; Sxx += sxx[e]!; Syy += syy[e]!; Sxy += sxy[e]!;
        const pc = patchOfCol[c]!;
        if (pc >= 0) {
          const ux = Sx * INV_NW;
          const uy = Sy * INV_NW;
          const vx = covNorm * (Sxx * INV_NW - ux * ux);
          const vy = covNorm * (Syy * INV_NW - uy * uy);
          const vxy = covNorm * (Sxy * INV_NW - ux * uy);
          sums[rowBase + pc] += ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
        }
        Sx -= sx[c]!; Sy -= sy[c]!; Sxx -= sxx[c]!; Syy -= syy[c]!; Sxy -= sxy[c]!;
      }
    }
    if (r + WIN < height) slideRow(x, y, stride, offset, width, r, r + WIN, sx, sy, sxx, syy, sxy);
  }
}

/** Replace row `out` by row `inp` in the 7-row column sums (one pass over the sums). */
function slideRow(
  x: Uint8Array,
  y: Uint8Array,
  stride: number,
  offset: number,
  width: number,
  out: number,
  inp: number,
  sx: Int32Array,
  sy: Int32Array,
  sxx: Int32Array,
  syy: Int32Array,
  sxy: Int32Array,
): void {
  let i = inp * width * stride + offset;
  let o = out * width * stride + offset;
  for (let c = 0; c < width; c++, i += stride, o += stride) {
    const a = x[i]!;
    const b = y[i]!;
    const a0 = x[o]!;
    const b0 = y[o]!;
    sx[c] += a - a0;
    sy[c] += b - b0;
    sxx[c] += a * a - a0 * a0;
    syy[c] += b * b - b0 * b0;
    sxy[c] += a * b - a0 * b0;
  }
}

/** For each window start along one axis: the patch holding the whole window, or -1. */
function patchOfStart(size: number, patchSize: number): Int32Array {
  const out = new Int32Array(Math.max(0, size - WIN + 1)).fill(-1);
  for (let p0 = 0, k = 0; p0 < size; p0 += patchSize, k++) {
    const len = Math.min(patchSize, size - p0);
    if (len < WIN) continue;
    for (let s = p0; s <= p0 + len - WIN; s++) out[s] = k;
  }
  return out;
}

/** Add one image row to the column sums. */
function addRow(
  x: Uint8Array,
  y: Uint8Array,
  stride: number,
  offset: number,
  width: number,
  row: number,
  sx: Int32Array,
  sy: Int32Array,
  sxx: Int32Array,
  syy: Int32Array,
  sxy: Int32Array,
): void {
  let i = row * width * stride + offset;
  for (let c = 0; c < width; c++, i += stride) {
    const a = x[i]!;
    const b = y[i]!;
    sx[c] += a;
    sy[c] += b;
    sxx[c] += a * a;
    syy[c] += b * b;
    sxy[c] += a * b;
  }
}

/**
 * Local quality of a pair of 8-bit images.
 * @param gt, test interleaved 8-bit samples with `channels` per pixel (1 grey, 3 RGB)
 * @param patchSize P (>= 7 to give any patch an SSIM)
 * @param L data range of the SSIM constants (255 for the engine)
 * @param simd false: the plain JavaScript kernel (the WebAssembly one gives the same values; for tests)
 */
export function localQuality(
  gt: Uint8Array,
  test: Uint8Array,
  channels: number,
  width: number,
  height: number,
  patchSize: number,
  L = 255,
  simd = true,
): LocalQuality {
  const gridRows = Math.ceil(height / patchSize);
  const gridCols = Math.ceil(width / patchSize);
  const sums = new Float64Array(gridRows * gridCols);
  if (width >= WIN && height >= WIN) {
    const rows = patchOfStart(height, patchSize);
    const cols = patchOfStart(width, patchSize);
    for (let ch = 0; ch < channels; ch++) {
      // WebAssembly SIMD (wasm/localQualityKernel.ts: the same sums bit for bit) on one plane per channel.
      const x = channels === 1 ? gt : simd ? channelPlane(gt, channels, ch) : gt;
      const y = channels === 1 ? test : simd ? channelPlane(test, channels, ch) : test;
      if (!simd || !addWindowSsimWasm(x, y, width, height, L, rows, cols, gridCols, sums)) {
        addWindowSsim(gt, test, channels, ch, width, height, L, rows, cols, gridCols, sums);
      }
    }
  }
  // Each patch's mean over its windows, then over channels.
  const windowsIn = (p0: number, size: number): number => Math.min(patchSize, size - p0) - WIN + 1;
  for (let pr = 0; pr < gridRows; pr++) {
    for (let pc = 0; pc < gridCols; pc++) {
      const n = windowsIn(pr * patchSize, height) * windowsIn(pc * patchSize, width);
      if (n > 0) sums[pr * gridCols + pc] = sums[pr * gridCols + pc]! / n;
    }
  }
  const values: number[] = [];
  let minRow = -1;
  let minCol = -1;
  let min = Infinity;
  let max = -Infinity;
  for (let pr = 0; pr < gridRows; pr++) {
    if (Math.min(patchSize, height - pr * patchSize) < WIN) continue;
    for (let pc = 0; pc < gridCols; pc++) {
      if (Math.min(patchSize, width - pc * patchSize) < WIN) continue;
      const v = sums[pr * gridCols + pc]! / channels;
      values.push(v);
      if (v < min) {
        min = v;
        minRow = pr;
        minCol = pc;
      }
      if (v > max) max = v;
    }
  }
  const n = values.length;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return {
    patchSize,
    gridRows,
    gridCols,
    patches: n,
    mean: n > 0 ? mean : NaN,
    std: n > 0 ? Math.sqrt(ss / n) : NaN,
    min: n > 0 ? min : NaN,
    max: n > 0 ? max : NaN,
    minRow,
    minCol,
  };
}
