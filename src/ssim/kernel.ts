/**
 * The SSIM map over the 'valid' region of a separable window, fused into one streaming pass.
 *
 * For every window position only four weighted sums are needed: mx = Σw x, my = Σw y, Σw (x² + y²) and Σw xy
 * (the SSIM formula uses sx² + sy² only as a sum). They are formed row by row: a vertical pass over `n` input
 * rows into four row accumulators, then a horizontal pass that yields one output row and its SSIM values. The
 * products x² + y² and xy are computed once per input row into ring buffers of `n` rows. Nothing is allocated
 * per pixel; the working set is a few rows, so it stays in cache.
 *
 * Exactness: identical inputs give exactly 1. With x = y, 2·mx·my and mx² + my² are the same double (doubling
 * is exact), Σw (x² + y²) is exactly 2·Σw xy, so numerator and denominator agree bit for bit.
 *
 * Speed: the same computation also exists as generated WebAssembly SIMD (./wasm/ssimKernel.ts, two float64
 * lanes, taps unrolled); `ssimMap` uses it when available.
 */
import { WASM_MAX_BYTES, ssimMapWasm, wasmBytesNeeded, wasmSimdAvailable } from './wasm/ssimKernel.ts';

/**
 * A plane of samples, row-major. Float64Array is the working type; a grey image's own Float32Array samples are
 * accepted as they are (the wasm path converts while copying them in), which spares an 8 MB copy per image.
 */
export type SamplePlane = Float64Array | Float32Array;

/** Constants of the SSIM formula for one data range L. */
export interface SsimConstants {
  /** (K1 L)². */
  C1: number;
  /** (K2 L)². */
  C2: number;
  /** Factor on the (co)variances: 1 for population (Wang), N/(N-1) for skimage's sample covariance. */
  covNorm: number;
}

/** What `ssimMap` returns. */
export interface SsimMapResult {
  /** SSIM per window position, row-major, `mapWidth * mapHeight` values. */
  map: Float64Array;
  mapWidth: number;
  mapHeight: number;
  /** Mean of the map (MSSIM). */
  mssim: number;
  /** Mean of the contrast-structure term cs = (2 sxy + C2)/(sx² + sy² + C2); NaN unless `withCs`. */
  meanCs: number;
  /** Σ (x - y)² over all `width * height` input samples (PSNR's MSE without another pass over the planes). */
  sumSquaredError: number;
}

/** Options of `ssimMap`. */
export interface SsimMapOptions {
  /** Output buffer of at least `mapWidth * mapHeight` values (reused between calls); allocated when absent. */
  out?: Float64Array;
  /** Also average the cs term (MS-SSIM needs it). Default false. */
  withCs?: boolean;
  /**
   * `auto` (default): WebAssembly SIMD when the runtime has it and the pair fits in 1 GiB of wasm memory, else
   * JavaScript. `js` / `wasm` force one (tests compare them). Both give the same map bit for bit.
   */
  backend?: 'auto' | 'js' | 'wasm';
}

/**
 * SSIM map and its mean over the valid region of a separable window.
 * @param x ground-truth plane, row-major, `width * height` samples
 * @param y test plane, same size
 * @param taps odd-length, symmetric 1-D window taps summing to 1 (see `gaussianTaps`, `uniformTaps`)
 * @param k the constants C1, C2 and the covariance normalisation
 * @returns the map (`(width - n + 1) x (height - n + 1)`), its mean and, on request, the mean cs term.
 * Inputs must be at least `n x n` (callers validate; see `validatePair`).
 */
export function ssimMap(
  x: SamplePlane,
  y: SamplePlane,
  width: number,
  height: number,
  taps: Float64Array,
  k: SsimConstants,
  options: SsimMapOptions = {},
): SsimMapResult {
  const n = taps.length;
  const mapWidth = width - n + 1;
  const mapHeight = height - n + 1;
  const backend = options.backend ?? 'auto';
  const fits = mapWidth >= 2 && wasmBytesNeeded(width, height, n) <= WASM_MAX_BYTES;
  if (backend === 'wasm' || (backend === 'auto' && wasmSimdAvailable && fits)) {
    if (!fits) throw new RangeError(`ssimMap: a ${width}x${height} pair does not fit the wasm kernel`);
    const withCs = options.withCs === true;
    const r = ssimMapWasm(x, y, width, height, taps, k.C1, k.C2, k.covNorm, withCs, options.out);
    const map = r.map;
    const count = mapWidth * mapHeight;
    return {
      map,
      mapWidth,
      mapHeight,
      mssim: r.total / count,
      meanCs: withCs ? r.csTotal / count : NaN,
      sumSquaredError: r.sse,
    };
  }
  return ssimMapJs(x, y, width, height, taps, k, options);
}

/** The JavaScript version of `ssimMap` (the reference for the SIMD kernel; used where wasm SIMD is missing). */
export function ssimMapJs(
  x: SamplePlane,
  y: SamplePlane,
  width: number,
  height: number,
  taps: Float64Array,
  k: SsimConstants,
  options: SsimMapOptions = {},
): SsimMapResult {
  const n = taps.length;
  const half = (n - 1) >> 1;
  const mapWidth = width - n + 1;
  const mapHeight = height - n + 1;
  const map = options.out ?? new Float64Array(mapWidth * mapHeight);
  const withCs = options.withCs === true;
  const { C1, C2, covNorm } = k;
  const tc = taps[half]!;

  // Ring buffers of product rows: input row i lives in slot i % n.
  const ringP = new Float64Array(n * width);
  const ringQ = new Float64Array(n * width);
  // Vertical accumulators for the current output row.
  const vx = new Float64Array(width);
  const vy = new Float64Array(width);
  const vp = new Float64Array(width);
  const vq = new Float64Array(width);
  // Row offsets of the folded tap pairs (top j, bottom n-1-j), refreshed per output row.
  const xTop = new Int32Array(half);
  const xBot = new Int32Array(half);
  const rTop = new Int32Array(half);
  const rBot = new Int32Array(half);

  let sse = 0;
  const fillProducts = (row: number): void => {
    const src = row * width;
    const dst = (row % n) * width;
    for (let c = 0; c < width; c++) {
      const a = x[src + c]!;
      const b = y[src + c]!;
      ringP[dst + c] = a * a + b * b;
      ringQ[dst + c] = a * b;
      const d = a - b;
      sse += d * d;
    }
  };
  for (let row = 0; row < n - 1; row++) fillProducts(row);

  let total = 0;
  let totalCs = 0;
  for (let r = 0; r < mapHeight; r++) {
    fillProducts(r + n - 1);
    for (let j = 0; j < half; j++) {
      xTop[j] = (r + j) * width;
      xBot[j] = (r + n - 1 - j) * width;
      rTop[j] = ((r + j) % n) * width;
      rBot[j] = ((r + n - 1 - j) % n) * width;
    }
    const xMid = (r + half) * width;
    const rMid = ((r + half) % n) * width;

    // Vertical pass: folded symmetric taps, all four sums per column.
    for (let c = 0; c < width; c++) {
      let ax = tc * x[xMid + c]!;
      let ay = tc * y[xMid + c]!;
      let ap = tc * ringP[rMid + c]!;
      let aq = tc * ringQ[rMid + c]!;
      for (let j = 0; j < half; j++) {
        const g = taps[j]!;
        const a = xTop[j]! + c;
        const b = xBot[j]! + c;
        ax += g * (x[a]! + x[b]!);
        ay += g * (y[a]! + y[b]!);
        const pa = rTop[j]! + c;
        const pb = rBot[j]! + c;
        ap += g * (ringP[pa]! + ringP[pb]!);
        aq += g * (ringQ[pa]! + ringQ[pb]!);
      }
      vx[c] = ax;
      vy[c] = ay;
      vp[c] = ap;
      vq[c] = aq;
    }

    // Horizontal pass and the SSIM formula.
    const outRow = r * mapWidth;
    let rowSum = 0;
    let rowCs = 0;
    for (let c = 0; c < mapWidth; c++) {
      const m = c + half;
      let mx = tc * vx[m]!;
      let my = tc * vy[m]!;
      let sp = tc * vp[m]!;
      let sq = tc * vq[m]!;
      for (let j = 0; j < half; j++) {
        const g = taps[j]!;
        const a = c + j;
        const b = c + n - 1 - j;
        mx += g * (vx[a]! + vx[b]!);
        my += g * (vy[a]! + vy[b]!);
        sp += g * (vp[a]! + vp[b]!);
        sq += g * (vq[a]! + vq[b]!);
      }
      const mxy = mx * my;
      const msq = mx * mx + my * my;
      const csNum = 2 * (covNorm * (sq - mxy)) + C2;
      const csDen = covNorm * (sp - msq) + C2;
      const s = ((2 * mxy + C1) * csNum) / ((msq + C1) * csDen);
      map[outRow + c] = s;
      rowSum += s;
      if (withCs) rowCs += csNum / csDen;
    }
    total += rowSum;
    totalCs += rowCs;
  }
  const count = mapWidth * mapHeight;
  return {
    map,
    mapWidth,
    mapHeight,
    mssim: total / count,
    meanCs: withCs ? totalCs / count : NaN,
    sumSquaredError: sse,
  };
}
