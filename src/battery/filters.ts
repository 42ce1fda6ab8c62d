/**
 * No-reference image statistics of the battery on an 8-bit grey plane (see gray8.ts): sharpness, RMS contrast,
 * entropy, noise, edge density, texture complexity, block artefacts, and the histogram they share. Pure kernels,
 * float64 accumulation, nothing allocated per pixel. Definitions follow the published engine's Kornia path (the
 * one its study data came from, used whenever PyTorch and Kornia are installed, GPU or not); `opencv` variants
 * are its CPU fallback where they are offered. docs/metrics.md states each formula.
 */

import { scratch } from './scratch.ts';
import { gradientInteriorWasm } from './wasm/gradientKernel.ts';

/** Reflect-101 index (PyTorch 'reflect', OpenCV BORDER_DEFAULT): -1 -> 1, n -> n-2. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

/** Replicate index (PyTorch 'replicate'). */
function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** 256-bin histogram of an 8-bit plane (OpenCV calcHist with [0, 256)). */
export function histogram256(gray: Uint8Array): Float64Array {
  // Four interleaved integer histograms: runs of equal levels (flat regions) do not wait on one counter.
  const c = new Int32Array(1024);
  const n = gray.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    c[gray[i]!]!++;
    c[256 + gray[i + 1]!]!++;
    c[512 + gray[i + 2]!]!++;
    c[768 + gray[i + 3]!]!++;
  }
  for (let i = n4; i < n; i++) c[gray[i]!]!++;
  const h = new Float64Array(256);
  for (let v = 0; v < 256; v++) h[v] = c[v]! + c[256 + v]! + c[512 + v]! + c[768 + v]!;
  return h;
}

/** RMS contrast: population standard deviation of the grey levels (numpy `std`). */
export function rmsContrast(hist: Float64Array): number {
  let n = 0;
  let s = 0;
  for (let v = 0; v < 256; v++) {
    n += hist[v]!;
    s += v * hist[v]!;
  }
  const mean = s / n;
  let ss = 0;
  for (let v = 0; v < 256; v++) ss += hist[v]! * (v - mean) * (v - mean);
  return Math.sqrt(ss / n);
}

/** Shannon entropy of the 256-bin histogram, in bits (0..8). */
export function entropy256(hist: Float64Array): number {
  let n = 0;
  for (let v = 0; v < 256; v++) n += hist[v]!;
  let e = 0;
  for (let v = 0; v < 256; v++) {
    const p = hist[v]! / n;
    if (p > 0) e -= p * Math.log2(p);
  }
  return e;
}

/**
 * Pearson correlation of two histograms (OpenCV `compareHist` HISTCMP_CORREL, 1 when both are constant).
 */
export function histogramCorrelation(h1: Float64Array, h2: Float64Array): number {
  const k = h1.length;
  let s1 = 0;
  let s2 = 0;
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  for (let i = 0; i < k; i++) {
    const a = h1[i]!;
    const b = h2[i]!;
    s1 += a;
    s2 += b;
    s11 += a * a;
    s12 += a * b;
    s22 += b * b;
  }
  const num = s12 - (s1 * s2) / k;
  const den2 = (s11 - (s1 * s1) / k) * (s22 - (s2 * s2) / k);
  return Math.abs(den2) > Number.EPSILON ? num / Math.sqrt(den2) : 1;
}

/** What one pass over the 3x3 neighbourhoods of a grey plane yields (see {@link gradientPass}). */
export interface GradientPass {
  /** Kornia-path sharpness: var_{n-1}(K8 * x) / 256 (K8 = ones with centre -8, reflect-101 borders). */
  sharpness: number;
  /** Noise estimate: mean |H * x| * 100 / 255, H = -K8, zero padding. */
  noise: number;
  /** Edge density (Kornia Sobel magnitude > 0.1), percent. */
  edgeDensity: number;
  /** Sobel gradients with replicate borders, unnormalised (also Canny's input). */
  dx: Int16Array;
  dy: Int16Array;
  /** |dx| + |dy| in a one-pixel zero frame, (height + 2) x (width + 2): Canny's magnitude. */
  mag: Int32Array;
}

/**
 * Sharpness, noise and Sobel edge density of one 8-bit grey plane in one pass over its 3x3 neighbourhoods
 * (interior pixels by direct indexing, the one-pixel frame through the border rules).
 *
 * - Sharpness (engine, Kornia path): Kornia `laplacian(x/255, 3)` = the 3x3 kernel of ones with centre -8,
 *   normalised by 16, reflect-101 borders; the engine reports `var(.) * 255^2` with PyTorch's unbiased variance,
 *   which in 8-bit units is var_{n-1}(K8 * x) / 256. Integer sums, combined exactly.
 * - Noise (engine, Kornia path): mean absolute response of [-1 -1 -1; -1 8 -1; -1 -1 -1] on x/255 with zero
 *   padding, times 100.
 * `reuse`: return per-thread scratch arrays (valid until the next reusing call) instead of new ones.
 * - Edge density (engine, Kornia path): percentage of pixels whose Kornia `sobel(x/255)` magnitude,
 *   sqrt(gx^2 + gy^2 + 1e-6) with the Sobel kernels normalised by 8 and replicate borders, exceeds 0.1.
 */
export function gradientPass(gray: Uint8Array, width: number, height: number, reuse = false): GradientPass {
  const n = width * height;
  const FW = width + 2;
  // With `reuse`, the interior runs in WebAssembly SIMD (wasm/gradientKernel.ts: integer sums, so the same values)
  // and the fields are views into its memory, valid until the next reusing call like the scratch buffers below;
  // columns [x0, width - 1) of the interior and the frame are done here. Every cell is written, and the frame of
  // `mag` is never written, so it stays zero.
  const simd = reuse ? gradientInteriorWasm(gray, width, height) : null;
  let dx: Int16Array, dy: Int16Array, mag: Int32Array;
  let lapSum = 0;
  let lapSq = 0;
  let noiseSum = 0;
  let edges = 0;
  let x0 = 1;
  if (simd !== null) {
    ({ dx, dy, mag } = simd);
    ({ lapSum, lapSq, noiseSum, edges } = simd);
    x0 = simd.xEnd;
  } else {
    dx = reuse ? scratch('gp.dx', n, (k) => new Int16Array(k)) : new Int16Array(n);
    dy = reuse ? scratch('gp.dy', n, (k) => new Int16Array(k)) : new Int16Array(n);
    mag = reuse ? scratch('gp.mag', (height + 2) * FW, (k) => new Int32Array(k)) : new Int32Array((height + 2) * FW);
  }
  // sqrt((gx/2040)^2 + (gy/2040)^2 + 1e-6) > 0.1  <=>  gx^2 + gy^2 > (0.01 - 1e-6) * 2040^2 = 41611.8384 (integer
  // gradients: no rounding can reach a value that close).
  const threshold = (0.1 * 0.1 - 1e-6) * (8 * 255) * (8 * 255);
  for (let y = 1; y < height - 1; y++) {
    const r0 = (y - 1) * width;
    const r1 = y * width;
    const r2 = (y + 1) * width;
    for (let x = x0; x < width - 1; x++) {
      const a = gray[r0 + x - 1]!, b = gray[r0 + x]!, c = gray[r0 + x + 1]!;
      const d = gray[r1 + x - 1]!, e = gray[r1 + x]!, f = gray[r1 + x + 1]!;
      const g = gray[r2 + x - 1]!, h = gray[r2 + x]!, i = gray[r2 + x + 1]!;
      const lap = a + b + c + d + f + g + h + i - 8 * e;
      lapSum += lap;
      lapSq += lap * lap;
      noiseSum += lap < 0 ? -lap : lap;
      const gx = c + 2 * f + i - a - 2 * d - g;
      const gy = g + 2 * h + i - a - 2 * b - c;
      dx[r1 + x] = gx;
      dy[r1 + x] = gy;
      mag[(y + 1) * FW + x + 1] = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
      if (gx * gx + gy * gy > threshold) edges++;
    }
  }
  // The one-pixel frame: reflect-101 for the Laplacian, zeros for the noise filter, replicate for Sobel. (A separate
  // function with an accumulator array, so the hot loop's sums stay in registers, not in a closure context.)
  const acc = new Float64Array(4);
  for (let x = 0; x < width; x++) {
    framePixel(gray, width, height, 0, x, threshold, dx, dy, mag, acc);
    if (height > 1) framePixel(gray, width, height, height - 1, x, threshold, dx, dy, mag, acc);
  }
  for (let y = 1; y < height - 1; y++) {
    framePixel(gray, width, height, y, 0, threshold, dx, dy, mag, acc);
    if (width > 1) framePixel(gray, width, height, y, width - 1, threshold, dx, dy, mag, acc);
  }
  lapSum += acc[0]!;
  lapSq += acc[1]!;
  noiseSum += acc[2]!;
  edges += acc[3]!;
  // n * sum(l^2) - (sum l)^2 exactly (BigInt), then one rounding.
  const num = BigInt(n) * BigInt(lapSq) - BigInt(lapSum) * BigInt(lapSum);
  return {
    sharpness: n > 1 ? Number(num) / (n * (n - 1)) / 256 : NaN,
    noise: ((noiseSum / n) * 100) / 255,
    edgeDensity: (edges / n) * 100,
    dx,
    dy,
    mag,
  };
}

/** One frame pixel of {@link gradientPass}: adds Laplacian, Laplacian^2, |noise|, edge into acc[0..3]. */
function framePixel(
  gray: Uint8Array,
  width: number,
  height: number,
  y: number,
  x: number,
  threshold: number,
  dx: Int16Array,
  dy: Int16Array,
  mag: Int32Array,
  acc: Float64Array,
): void {
  let lap = -9 * gray[y * width + x]!;
  let zero = lap;
  for (let oy = -1; oy <= 1; oy++) {
    for (let ox = -1; ox <= 1; ox++) {
      lap += gray[reflect101(y + oy, height) * width + reflect101(x + ox, width)]!;
      const yy = y + oy;
      const xx = x + ox;
      if (yy >= 0 && yy < height && xx >= 0 && xx < width) zero += gray[yy * width + xx]!;
    }
  }
  acc[0] += lap;
  acc[1] += lap * lap;
  acc[2] += zero < 0 ? -zero : zero;
  const ym = clampIndex(y - 1, height) * width;
  const yp = clampIndex(y + 1, height) * width;
  const y0 = y * width;
  const xm = clampIndex(x - 1, width);
  const xp = clampIndex(x + 1, width);
  const gx = gray[ym + xp]! + 2 * gray[y0 + xp]! + gray[yp + xp]! - gray[ym + xm]! - 2 * gray[y0 + xm]! - gray[yp + xm]!;
  const gy = gray[yp + xm]! + 2 * gray[yp + x]! + gray[yp + xp]! - gray[ym + xm]! - 2 * gray[ym + x]! - gray[ym + xp]!;
  dx[y0 + x] = gx;
  dy[y0 + x] = gy;
  mag[(y + 1) * (width + 2) + x + 1] = Math.abs(gx) + Math.abs(gy);
  if (gx * gx + gy * gy > threshold) acc[3] += 1;
}

/**
 * Sharpness, OpenCV variant (the engine's CPU fallback): `Laplacian(x, CV_64F)` (kernel [0 1 0; 1 -4 1; 0 1 0],
 * reflect-101) and numpy `var` (divisor n).
 */
export function sharpnessOpencv(gray: Uint8Array, width: number, height: number): number {
  const n = width * height;
  let sum = 0;
  let sq = 0;
  for (let y = 0; y < height; y++) {
    const ym = reflect101(y - 1, height) * width;
    const yp = reflect101(y + 1, height) * width;
    const y0 = y * width;
    for (let x = 0; x < width; x++) {
      const l = gray[ym + x]! + gray[yp + x]! + gray[y0 + reflect101(x - 1, width)]! + gray[y0 + reflect101(x + 1, width)]! - 4 * gray[y0 + x]!;
      sum += l;
      sq += l * l;
    }
  }
  const num = BigInt(n) * BigInt(sq) - BigInt(sum) * BigInt(sum);
  return Number(num) / (n * n);
}

/** Sobel gradients (correlation kernels [-1 0 1; -2 0 2; -1 0 1] and its transpose) with replicate borders. */
function sobelAt(p: ArrayLike<number>, width: number, height: number, y: number, x: number, out: Float64Array): void {
  const ym = clampIndex(y - 1, height) * width;
  const yp = clampIndex(y + 1, height) * width;
  const y0 = y * width;
  const xm = clampIndex(x - 1, width);
  const xp = clampIndex(x + 1, width);
  out[0] = p[ym + xp]! + 2 * p[y0 + xp]! + p[yp + xp]! - p[ym + xm]! - 2 * p[y0 + xm]! - p[yp + xm]!;
  out[1] = p[yp + xm]! + 2 * p[yp + x]! + p[yp + xp]! - p[ym + xm]! - 2 * p[ym + x]! - p[ym + xp]!;
}

/**
 * Texture complexity (engine, Kornia path): PyTorch bilinear downscale by 0.25 (align_corners false, no
 * antialias: each output pixel is the mean of the 2x2 centre of its 4x4 cell), then the mean Kornia Sobel
 * magnitude (as in {@link gradientPass}) times 255. NaN when a side is under 4 pixels.
 */
export function textureComplexity(gray: Uint8Array, width: number, height: number): number {
  const w = Math.floor(width / 4);
  const h = Math.floor(height / 4);
  if (w < 1 || h < 1) return NaN;
  const small = new Float64Array(w * h);
  for (let i = 0; i < h; i++) {
    const r0 = (4 * i + 1) * width;
    const r1 = (4 * i + 2) * width;
    for (let j = 0; j < w; j++) {
      const c0 = 4 * j + 1;
      small[i * w + j] = (gray[r0 + c0]! + gray[r0 + c0 + 1]! + gray[r1 + c0]! + gray[r1 + c0 + 1]!) / 4;
    }
  }
  const g = new Float64Array(2);
  const s = 8 * 255;
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      sobelAt(small, w, h, y, x, g);
      const gx = g[0]! / s;
      const gy = g[1]! / s;
      sum += Math.sqrt(gx * gx + gy * gy + 1e-6);
    }
  }
  return (sum / (w * h)) * 255;
}

/**
 * Block artefact (engine): over the 8x8 grid lines, the sum of the mean absolute step across each line —
 * rows y = 8, 16, ... < height (|g[y-1] - g[y]| averaged along the row) plus the same for columns.
 */
export function blockArtifact(gray: Uint8Array, width: number, height: number): number {
  let total = 0;
  for (let y = 8; y < height; y += 8) {
    let s = 0;
    const a = (y - 1) * width;
    const b = y * width;
    for (let x = 0; x < width; x++) s += Math.abs(gray[a + x]! - gray[b + x]!);
    total += s / width;
  }
  for (let x = 8; x < width; x += 8) {
    let s = 0;
    for (let y = 0; y < height; y++) s += Math.abs(gray[y * width + x - 1]! - gray[y * width + x]!);
    total += s / height;
  }
  return total;
}
