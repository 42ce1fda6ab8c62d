/**
 * OpenCV's Canny edge detector (aperture 3, L1 gradient: the `cv2.Canny(img, 100, 200)` the engine calls) and the
 * engine's ringing measure built on it. Integer arithmetic throughout, so the edge map is exact.
 *
 * Canny, as OpenCV 4 computes it: Sobel dx, dy (replicate borders); magnitude |dx| + |dy|, zero outside the
 * image; a pixel is a candidate when its magnitude exceeds `low` and is a local maximum across the gradient
 * direction (sectors by tan 22.5 deg in 15-bit fixed point; ties broken as OpenCV: `>` on the left/upper side,
 * `>=` on the other, strict on diagonals); candidates above `high` are strong; weak candidates 8-connected to a
 * strong one become edges.
 */

import { scratch } from './scratch.ts';
import { ringRegionWasm } from './wasm/ringingKernel.ts';
import { cannyEdgesWasm, cannyNmsWasm, cannyStrongWasm } from './wasm/gradientKernel.ts';

const SHIFT = 15;
/** tan(22.5 deg) in 15-bit fixed point, rounded: floor(0.41421356... * 2^15 + 0.5) = 13573 (OpenCV TG22). */
const TG22 = 13573;

/**
 * Canny edge map (1 = edge).
 * @param low lower hysteresis threshold (floored, as OpenCV); @param high upper threshold (floored).
 * @param sobel the replicate-border Sobel gradients when the caller has them (filters.ts `gradientPass`), and their
 *   L1 magnitude in a one-pixel zero frame ((height + 2) x (width + 2)) when it has that too.
 * @param reuse return a per-thread scratch map (valid until the next reusing call; see scratch.ts).
 */
export function canny(
  gray: Uint8Array,
  width: number,
  height: number,
  low = 100,
  high = 200,
  sobel?: { dx: Int16Array; dy: Int16Array; mag?: Int32Array },
  reuse = false,
): Uint8Array {
  let lo = Math.floor(low);
  let hi = Math.floor(high);
  if (lo > hi) [lo, hi] = [hi, lo];
  const n = width * height;
  const W = width + 2;
  // Magnitude with a one-pixel zero frame: (height + 2) x (width + 2).
  const framed = sobel?.mag;
  const mag = framed ?? new Int32Array((height + 2) * W);
  let dx: Int16Array;
  let dy: Int16Array;
  if (sobel) {
    dx = sobel.dx;
    dy = sobel.dy;
  } else {
    dx = new Int16Array(n);
    dy = new Int16Array(n);
    for (let y = 0; y < height; y++) {
      const ym = (y > 0 ? y - 1 : 0) * width;
      const yp = (y < height - 1 ? y + 1 : height - 1) * width;
      const y0 = y * width;
      for (let x = 0; x < width; x++) {
        const xm = x > 0 ? x - 1 : 0;
        const xp = x < width - 1 ? x + 1 : width - 1;
        dx[y0 + x] = gray[ym + xp]! + 2 * gray[y0 + xp]! + gray[yp + xp]! - gray[ym + xm]! - 2 * gray[y0 + xm]! - gray[yp + xm]!;
        dy[y0 + x] = gray[yp + xm]! + 2 * gray[yp + x]! + gray[yp + xp]! - gray[ym + xm]! - 2 * gray[ym + x]! - gray[ym + xp]!;
      }
    }
  }
  if (!framed) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        mag[(y + 1) * W + x + 1] = Math.abs(dx[i]!) + Math.abs(dy[i]!);
      }
    }
  }
  // 0 = not an edge, 1 = weak candidate, 2 = edge. With `reuse` and the fields of the battery's WebAssembly 3x3
  // pass, its SIMD suppression (wasm/gradientKernel.ts, same rules) fills columns [0, x0) and this loop the rest.
  const simd = reuse && framed ? cannyNmsWasm(framed, width, height, lo, hi) : null;
  const state = simd ? simd.state : reuse ? scratch('canny.state', n, (k) => new Uint8Array(k)).fill(0) : new Uint8Array(n);
  const x0 = simd ? simd.xEnd : 0;
  let stack: Int32Array = simd ? new Int32Array(0) : reuse ? scratch('canny.stack', n, (k) => new Int32Array(k)) : new Int32Array(n);
  let top = 0;
  for (let y = 0; y < height; y++) {
    for (let x = x0; x < width; x++) {
      const k = (y + 1) * W + x + 1;
      const m = mag[k]!;
      if (m <= lo) {
        state[y * width + x] = 0;
        continue;
      }
      const xs = dx[y * width + x]!;
      const ys = dy[y * width + x]!;
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << SHIFT);
      const tg22x = ax * TG22;
      let isMax: boolean;
      if (ay < tg22x) {
        isMax = m > mag[k - 1]! && m >= mag[k + 1]!;
      } else {
        const tg67x = tg22x + ax * (1 << (SHIFT + 1));
        if (ay > tg67x) {
          isMax = m > mag[k - W]! && m >= mag[k + W]!;
        } else {
          const s = (xs ^ ys) < 0 ? -1 : 1;
          isMax = m > mag[k - W - s]! && m > mag[k + W + s]!;
        }
      }
      const i = y * width + x;
      if (!isMax) {
        state[i] = 0;
        continue;
      }
      if (m > hi) {
        state[i] = 2;
        if (!simd) stack[top++] = i;
      } else {
        state[i] = 1;
      }
    }
  }
  if (simd) {
    // Every strong pixel (the kernel's and this loop's), in raster order; hysteresis does not depend on the order.
    ({ stack, count: top } = cannyStrongWasm());
  }
  while (top > 0) {
    const i = stack[--top]!;
    const y = (i / width) | 0;
    const x = i - y * width;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
        const j = yy * width + xx;
        if (state[j] === 1) {
          state[j] = 2;
          stack[top++] = j;
        }
      }
    }
  }
  if (simd) cannyEdgesWasm();
  else for (let i = 0; i < n; i++) state[i] = state[i] === 2 ? 1 : 0;
  return state;
}

/**
 * Square dilation of a 0/1 map by `radius` (a (2r+1)^2 box; the engine's 5x5 kernel applied twice is r = 4),
 * pixels outside the image ignored (OpenCV's default dilate border).
 */
export function dilateSquare(map: Uint8Array, width: number, height: number, radius: number, reuse = false): Uint8Array {
  const tmp = reuse ? scratch('dilate.tmp', map.length, (k) => new Uint8Array(k)).fill(0) : new Uint8Array(map.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let last = -Infinity; // the last set column at or before c + radius: c is covered when it is >= c - radius
    for (let x = 0; x < width + radius; x++) {
      if (x < width && map[row + x]) last = x;
      const c = x - radius;
      if (c >= 0 && c - last <= radius) tmp[row + c] = 1;
    }
  }
  const out = reuse ? scratch('dilate.out', map.length, (k) => new Uint8Array(k)).fill(0) : new Uint8Array(map.length);
  for (let x = 0; x < width; x++) {
    let last = -Infinity;
    for (let y = 0; y < height + radius; y++) {
      if (y < height && tmp[y * width + x]) last = y;
      const r = y - radius;
      if (r >= 0 && r - last <= radius) out[r * width + x] = 1;
    }
  }
  return out;
}

/**
 * Ringing (engine): population standard deviation of the grey levels within 4 pixels (Chebyshev) of a Canny
 * edge (`Canny(100, 200)`, then a 5x5 dilation applied twice); 0 when there is no edge.
 */
export function ringing(gray: Uint8Array, width: number, height: number, edges: Uint8Array, reuse = false): number {
  // With `reuse` (the battery's path), WebAssembly SIMD (wasm/ringingKernel.ts): the same integer sums.
  const simd = reuse ? ringRegionWasm(gray, edges, width, height, 4) : null;
  let n = 0;
  let s = 0;
  let ss = 0;
  if (simd !== null) {
    ({ n, s, ss } = simd);
  } else {
    const region = dilateSquare(edges, width, height, 4, reuse);
    // Integer sums (exact), combined exactly: var = (n sum(g^2) - (sum g)^2) / n^2.
    for (let i = 0; i < region.length; i++) {
      if (region[i]) {
        const g = gray[i]!;
        n++;
        s += g;
        ss += g * g;
      }
    }
  }
  if (n === 0) return 0;
  return Math.sqrt(Number(BigInt(n) * BigInt(ss) - BigInt(s) * BigInt(s)) / (n * n));
}
