/**
 * Region of interest (DESIGN §3c): which blocks show anatomy. Blocks outside it (air or background, collimator
 * bands, burned-in letters and markers) stay in the data but are left out of the thresholds and headline shares,
 * because a block of air can only carry noise-level "damage" and a burned-in letter is not the patient.
 *
 * Two sources: a user mask (one image per GT, non-zero = inside) or an automatic mask from the GT alone.
 * The automatic rule (pixels; a 5x5 box mean first, so single noisy pixels do not break regions):
 *   1. background = pixels darker than min(lo + darkFraction (hi - lo), Otsu's split of the values in
 *      [lo, lo + 3 darkFraction (hi - lo)]) (lo, hi = the GT's p0.5, p99.5; Otsu separates the air mode from the
 *      darkest tissue), flat (local 5x5 sd below 3x that of the dark edge band, or 2% of hi - lo: air is flat,
 *      dark but noisy tissue such as MR muscle just above the noise floor is not) and
 *      connected to the image edge (a band of `edgeBand` of the side) through such pixels (air around the body; lungs and bowel gas are enclosed
 *      by tissue, so they stay inside);
 *   2. collimator = pixels at or above `max - brightFraction (hi - lo)` connected to the image edge (shutters
 *      are displayed saturated white on radiographs);
 *   3. labels = small islands (< `labelMaxArea` of the image) of anything else that lie inside the background:
 *      letters, "L/R" markers and text burned into the air around the body, widened by `labelMargin` pixels;
 *   4. bright marks = small white top-hat components in the outer `markMargin` (markers and text printed over
 *      tissue, or near-white ones touching the air), see `markBrightMarks`.
 * A block is inside the ROI when at least half of its pixels are inside and none belongs to a label.
 * Where it fails (docs/diagnose.md, with pictures): a marker printed on a collimator band is kept; a background that is not darker than the tissue (inverted display, MONOCHROME1 not inverted) is kept;
 * a body touching every edge has no background to remove (then every block is inside, which is correct).
 */
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import type { BlockGrid } from './blocks.ts';
import { quantileSorted } from './regimes.ts';

type Plane = ArrayLike<number>;

export interface AutoRoiOptions {
  /** Background: darker than lo + darkFraction (hi - lo), connected to the edge. Default 0.1. */
  darkFraction: number;
  /** Collimator: at or above max - brightFraction (hi - lo), connected to the edge. Default 0.02. */
  brightFraction: number;
  /** Labels: islands inside the background smaller than this share of the image. Default 0.005. */
  labelMaxArea: number;
  /** Pixels added around each label. Default 2. */
  labelMargin: number;
  /**
   * Bright marks: components of pixels at or above the GT's p99.5, smaller than `labelMaxArea`, lying wholly
   * within this share of the image side from an edge (L/R markers, arrows, text printed over tissue). 0 = off.
   * Default 0.15.
   */
  markMargin: number;
  /** Regions are grown from pixels within this share of the image side from the edge (at least 2 px). Default 0.01. */
  edgeBand: number;
  /**
   * Samples below this (data units) are dark enough for the background whatever the histogram says; null = none.
   * `gtReference` sets it for CT to -500 HU in stored units (air inside the field of view is not dark next to the
   * padding outside it). Default null.
   */
  airBelow: number | null;
}

export const DEFAULT_AUTO_ROI_OPTIONS: Readonly<AutoRoiOptions> = Object.freeze({
  darkFraction: 0.1,
  brightFraction: 0.02,
  labelMaxArea: 0.005,
  labelMargin: 2,
  markMargin: 0.15,
  edgeBand: 0.01,
  airBelow: null,
});

export function resolveAutoRoiOptions(partial?: Partial<AutoRoiOptions>): AutoRoiOptions {
  const o = mergeOptions(DEFAULT_AUTO_ROI_OPTIONS, partial, 'ROI');
  for (const k of ['darkFraction', 'brightFraction', 'labelMaxArea', 'markMargin', 'edgeBand'] as const) {
    if (!(typeof o[k] === 'number' && o[k] >= 0 && o[k] < 1)) throw invalidOption(k, `a number in [0, 1) (default ${DEFAULT_AUTO_ROI_OPTIONS[k]})`, o[k]);
  }
  if (!Number.isInteger(o.labelMargin) || o.labelMargin < 0 || o.labelMargin > 64) throw invalidOption('labelMargin', 'an integer from 0 to 64 (default 2)', o.labelMargin);
  if (o.airBelow !== null && !(typeof o.airBelow === 'number' && Number.isFinite(o.airBelow))) throw invalidOption('airBelow', 'a number or null (default null)', o.airBelow);
  return o;
}

/** Pixel classes of a ROI mask. */
export const ROI_OUTSIDE = 0;
export const ROI_INSIDE = 1;
export const ROI_LABEL = 2;

/** A pixel mask: ROI_INSIDE, ROI_OUTSIDE (background, collimator) or ROI_LABEL (burned-in letters, markers). */
export interface RoiMask {
  width: number;
  height: number;
  pixels: Uint8Array;
  source: 'auto' | 'user' | 'all';
  /** Pixels of each kind, for the record. */
  counts: { inside: number; background: number; collimator: number; label: number };
}

const BG = 0;
const COLLIMATOR = 1;
const UNSET = 255;

/**
 * Otsu's threshold of the values of `v` within [a, b] (256 bins): the split that best separates the dark background
 * mode from the darkest tissue. Returns b when fewer than two bins are occupied.
 * @see N. Otsu, A threshold selection method from gray-level histograms, IEEE Trans. SMC 9(1):62-66, 1979.
 */
function otsuThreshold(v: Float32Array, a: number, b: number): number {
  const bins = 256;
  const hist = new Float64Array(bins);
  const scale = bins / (b - a);
  let total = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x < a || x > b) continue;
    hist[Math.min(bins - 1, Math.floor((x - a) * scale))]!++;
    total++;
  }
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i]!;
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestI = bins - 1;
  for (let i = 0; i < bins - 1; i++) {
    w0 += hist[i]!;
    sum0 += i * hist[i]!;
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const d = sum0 / w0 - (sumAll - sum0) / w1;
    const between = w0 * w1 * d * d;
    if (between > best) {
      best = between;
      bestI = i;
    }
  }
  return a + (bestI + 1) / scale;
}

/** Median of `v` over the edge band's pixels whose smoothed value is below `t` (0 when there is none). */
function edgeMedian(v: Float32Array, sm: Float32Array, t: number, w: number, h: number, band: number): number {
  const vals: number[] = [];
  for (let y = 0; y < h; y++) {
    const inBand = y < band || y >= h - band;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if ((inBand || x < band || x >= w - band) && sm[i]! < t) vals.push(v[i]!);
    }
  }
  if (vals.length === 0) return 0;
  vals.sort((a, b) => a - b);
  return vals[vals.length >> 1]!;
}

/** Local standard deviation over a (2r+1)^2 box (clipped at the edge), from the box means of x and x^2. */
function boxSd(src: Plane, mean: Float32Array, w: number, h: number, r: number): Float32Array {
  const sq = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) sq[i] = src[i]! * src[i]!;
  const m2 = boxMean(sq, w, h, r);
  for (let i = 0; i < w * h; i++) {
    const v = m2[i]! - mean[i]! * mean[i]!;
    m2[i] = v > 0 ? Math.sqrt(v) : 0;
  }
  return m2;
}

/** (2r+1)^2 box mean, the box clipped at the image edge (integral image, O(N)). */
function boxMean(src: Plane, w: number, h: number, r: number): Float32Array {
  const W1 = w + 1;
  const ii = new Float64Array(W1 * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += src[y * w + x]!;
      ii[(y + 1) * W1 + x + 1] = ii[y * W1 + x + 1]! + row;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = y - r < 0 ? 0 : y - r;
    const y1 = y + r + 1 > h ? h : y + r + 1;
    for (let x = 0; x < w; x++) {
      const x0 = x - r < 0 ? 0 : x - r;
      const x1 = x + r + 1 > w ? w : x + r + 1;
      const s = ii[y1 * W1 + x1]! - ii[y0 * W1 + x1]! - ii[y1 * W1 + x0]! + ii[y0 * W1 + x0]!;
      out[y * w + x] = s / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/**
 * Flood fill (4-connected) from every pixel within `band` pixels of the image edge that passes `test` (a band,
 * not just the edge row: many radiographs carry a thin bright frame line); marks `mark` in `cls` where unset.
 */
function floodFromEdges(w: number, h: number, band: number, test: (i: number) => boolean, cls: Uint8Array, mark: number, stack: Int32Array): number {
  let top = 0;
  let count = 0;
  const push = (i: number): void => {
    if (cls[i] === UNSET && test(i)) {
      cls[i] = mark;
      count++;
      stack[top++] = i;
    }
  };
  for (let y = 0; y < h; y++) {
    const inBand = y < band || y >= h - band;
    for (let x = 0; x < w; x++) if (inBand || x < band || x >= w - band) push(y * w + x);
  }
  while (top > 0) {
    const i = stack[--top]!;
    const x = i % w;
    if (x > 0) push(i - 1);
    if (x < w - 1) push(i + 1);
    if (i >= w) push(i - w);
    if (i < (h - 1) * w) push(i + w);
  }
  return count;
}


/**
 * The automatic ROI mask of a GT grey plane.
 * @param plane - GT samples, row-major `width * height` (data units, any range).
 * @param options - `AutoRoiOptions` subset.
 * @returns the pixel mask (source 'auto').
 */
export function autoRoiMask(plane: Plane, width: number, height: number, options?: Partial<AutoRoiOptions>): RoiMask {
  const o = resolveAutoRoiOptions(options);
  const n = width * height;
  const sm = boxMean(plane, width, height, 2);
  // quantiles of the raw samples on a fixed sub-grid (every 4th pixel of every 4th row when large): deterministic
  const step = n > 1 << 18 ? 4 : 1;
  const sub: number[] = [];
  let vmax = -Infinity;
  for (let y = 0; y < height; y += step) for (let x = 0; x < width; x += step) sub.push(plane[y * width + x]!);
  for (let i = 0; i < n; i++) if (plane[i]! > vmax) vmax = plane[i]!;
  const sorted = Float32Array.from(sub).sort();
  const lo = quantileSorted(sorted, 0.005);
  const hi = quantileSorted(sorted, 0.995);
  const span = hi - lo;
  const cls = new Uint8Array(n).fill(UNSET);
  const stack = new Int32Array(n);
  let background = 0;
  let collimator = 0;
  if (span > 0) {
    const tDark = Math.max(Math.min(lo + o.darkFraction * span, otsuThreshold(sm, lo, lo + 3 * o.darkFraction * span)), o.airBelow ?? -Infinity);
    const band = Math.max(2, Math.round(o.edgeBand * Math.min(width, height)));
    // Air is flat as well as dark: its local sd stays near the noise of the dark edge band, while dark but noisy
    // tissue (MR muscle next to the noise floor) does not, so the fill does not leak into it.
    const sd = boxSd(plane, sm, width, height, 2);
    const tSd = Math.max(3 * edgeMedian(sd, sm, tDark, width, height, band), 0.02 * span);
    background = floodFromEdges(width, height, band, (i) => sm[i]! < tDark && sd[i]! < tSd, cls, BG, stack);
    const tBright = vmax - o.brightFraction * span;
    if (o.brightFraction > 0) collimator = floodFromEdges(width, height, band, (i) => sm[i]! >= tBright, cls, COLLIMATOR, stack);
  }
  const pixels = new Uint8Array(n);
  for (let i = 0; i < n; i++) pixels[i] = cls[i] === UNSET ? ROI_INSIDE : ROI_OUTSIDE;
  let label = background > 0 ? markLabels(pixels, cls, width, height, o, stack) : 0;
  if (span > 0 && o.markMargin > 0) label += markBrightMarks(plane, boxMean(plane, width, height, 7), pixels, cls, width, height, 0.2 * span, lo + 0.8 * span, o, stack);
  let inside = 0;
  for (let i = 0; i < n; i++) if (pixels[i] === ROI_INSIDE) inside++;
  return { width, height, pixels, source: 'auto', counts: { inside, background, collimator, label } };
}

/**
 * Islands of non-background pixels smaller than `labelMaxArea` of the image whose surroundings are background
 * (8-connected components of inside pixels; an island touching the collimator is kept: a marker printed on
 * a shutter band is rare, while a bright band's own fragments are common).
 * Marks them, widened by `labelMargin`, as ROI_LABEL. Returns the number of label pixels.
 */
function markLabels(pixels: Uint8Array, cls: Uint8Array, w: number, h: number, o: AutoRoiOptions, stack: Int32Array): number {
  const n = w * h;
  const maxArea = Math.max(1, Math.floor(o.labelMaxArea * n));
  const seen = new Uint8Array(n);
  const members: number[] = [];
  // 8-neighbour offsets of an interior pixel (edge pixels take the bounds-checked path)
  const offsets = [-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1];
  let labelled = 0;
  for (let s = 0; s < n; s++) {
    if (pixels[s] !== ROI_INSIDE || seen[s]) continue;
    // BFS over the component, stopping early once it is too big to be a label
    members.length = 0;
    let top = 0;
    stack[top++] = s;
    seen[s] = 1;
    let big = false;
    let touchesOther = false;
    while (top > 0) {
      const i = stack[--top]!;
      // a component past the label size is kept whole: stop collecting its members (the body has ~10^6)
      if (!big) {
        members.push(i);
        if (members.length > maxArea) big = true;
      }
      const x = i % w;
      if (x > 0 && x < w - 1 && i >= w && i < n - w) {
        for (let t = 0; t < 8; t++) {
          const j = i + offsets[t]!;
          if (pixels[j] === ROI_INSIDE) {
            if (!seen[j]) {
              seen[j] = 1;
              stack[top++] = j;
            }
          } else if (cls[j] === COLLIMATOR) touchesOther = true;
        }
        continue;
      }
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
          const j = yy * w + xx;
          if (pixels[j] === ROI_INSIDE) {
            if (!seen[j]) {
              seen[j] = 1;
              stack[top++] = j;
            }
          } else if (cls[j] === COLLIMATOR) touchesOther = true;
        }
      }
    }
    if (big || touchesOther) continue;
    labelled += widen(members, pixels, w, h, o.labelMargin);
  }
  return labelled;
}

/** Mark pixels (and `labelMargin` around them) as ROI_LABEL; returns how many were newly marked. */
function widen(members: readonly number[], pixels: Uint8Array, w: number, h: number, m: number): number {
  let n = 0;
  for (const i of members) {
    const x = i % w;
    const y = (i - x) / w;
    for (let yy = Math.max(0, y - m); yy <= Math.min(h - 1, y + m); yy++) {
      for (let xx = Math.max(0, x - m); xx <= Math.min(w - 1, x + m); xx++) {
        const j = yy * w + xx;
        if (pixels[j] !== ROI_LABEL) {
          pixels[j] = ROI_LABEL;
          n++;
        }
      }
    }
  }
  return n;
}

/**
 * Small bright components within the outer `markMargin` of the image: 8-connected pixels that stand `contrast`
 * above their 15x15 neighbourhood mean (a white top-hat: letters, arrows and L/R markers printed over tissue;
 * bright anatomy rises slowly and does not). Near the background (within 3 px) such a component is usually the
 * skin line against air, so it counts only when its brightest pixel reaches 80% of the GT's p0.5..p99.5 range
 * (`peakAtLeast`: markers are burned in near white, 205-255 on 8-bit X-rays; a skin line is tissue grey) and keeps 2% of the side away from the image edge (bright fat or a shutter band
 * cut by the edge is not a marker; seen on a shoulder MR). Marked ROI_LABEL (widened); returns the number of
 * newly marked pixels.
 */
function markBrightMarks(
  plane: Plane,
  local: Float32Array,
  pixels: Uint8Array,
  cls: Uint8Array,
  w: number,
  h: number,
  contrast: number,
  peakAtLeast: number,
  o: AutoRoiOptions,
  stack: Int32Array,
): number {
  const n = w * h;
  const maxArea = Math.max(1, Math.floor(o.labelMaxArea * n));
  const mx = Math.round(o.markMargin * w);
  const my = Math.round(o.markMargin * h);
  const eb = Math.round(0.02 * Math.min(w, h));
  const seen = new Uint8Array(n);
  const members: number[] = [];
  let marked = 0;
  for (let s = 0; s < n; s++) {
    if (seen[s] || plane[s]! - local[s]! < contrast) continue;
    members.length = 0;
    let top = 0;
    stack[top++] = s;
    seen[s] = 1;
    let x0 = w, x1 = -1, y0 = h, y1 = -1;
    let peak = -Infinity;
    while (top > 0) {
      const i = stack[--top]!;
      if (members.length <= maxArea) members.push(i);
      if (plane[i]! > peak) peak = plane[i]!;
      const x = i % w;
      const y = (i - x) / w;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const j = yy * w + xx;
          if (!seen[j] && plane[j]! - local[j]! >= contrast) {
            seen[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
    if (members.length > maxArea || members.length < 4) continue;
    const inMargin = x1 < mx || x0 >= w - mx || y1 < my || y0 >= h - my;
    if (!inMargin) continue;
    const offEdge = x0 >= eb && y0 >= eb && x1 < w - eb && y1 < h - eb;
    if ((peak >= peakAtLeast && offEdge) || !nearClass(members, cls, BG, w, h, 3)) marked += widen(members, pixels, w, h, o.labelMargin);
  }
  return marked;
}

/** Whether any pixel within `r` of a member has class `c` (a bright rim of tissue against air is not a mark). */
function nearClass(members: readonly number[], cls: Uint8Array, c: number, w: number, h: number, r: number): boolean {
  for (const i of members) {
    const x = i % w;
    const y = (i - x) / w;
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) if (cls[yy * w + xx] === c) return true;
    }
  }
  return false;
}

/** A mask that keeps every pixel (ROI off: the published, all-block definition). */
export function fullRoiMask(width: number, height: number): RoiMask {
  const n = width * height;
  return { width, height, pixels: new Uint8Array(n).fill(ROI_INSIDE), source: 'all', counts: { inside: n, background: 0, collimator: 0, label: 0 } };
}

/**
 * A user mask: non-zero samples are inside.
 * @throws BlindspotError E_SIZE_MISMATCH naming the mask file when its size differs from the GT's.
 */
export function userRoiMask(samples: Plane, width: number, height: number, channels: number, gtWidth: number, gtHeight: number, file: string): RoiMask {
  if (width !== gtWidth || height !== gtHeight) {
    throw new BlindspotError('E_SIZE_MISMATCH', `mask is ${width}x${height} but the ground truth is ${gtWidth}x${gtHeight}`, file);
  }
  const n = width * height;
  const pixels = new Uint8Array(n);
  let inside = 0;
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let c = 0; c < channels; c++) if (samples[i * channels + c] !== 0) any = true;
    if (any) {
      pixels[i] = ROI_INSIDE;
      inside++;
    }
  }
  return { width, height, pixels, source: 'user', counts: { inside, background: n - inside, collimator: 0, label: 0 } };
}

/**
 * Block membership: a block is inside when at least half of its pixels are inside and none is a label pixel.
 * @returns one byte per block (1 inside), row-major like the block columns.
 */
export function blockRoi(mask: RoiMask, grid: BlockGrid, out?: Uint8Array): Uint8Array {
  const { gridRows, gridCols, blockSize: B, stride } = grid;
  const res = out ?? new Uint8Array(grid.blockCount);
  const w = mask.width;
  const half = (B * B) / 2;
  for (let br = 0; br < gridRows; br++) {
    for (let bc = 0; bc < gridCols; bc++) {
      let inside = 0;
      let label = false;
      for (let y = br * stride; y < br * stride + B; y++) {
        const row = y * w + bc * stride;
        for (let x = 0; x < B; x++) {
          const v = mask.pixels[row + x];
          if (v === ROI_INSIDE) inside++;
          else if (v === ROI_LABEL) label = true;
        }
      }
      res[br * gridCols + bc] = !label && inside >= half ? 1 : 0;
    }
  }
  return res;
}
