/**
 * Local quality (engine `analyze_local_quality`): the image is cut into P x P patches from the top-left (the last
 * row and column of patches may be smaller; patches under 7 pixels on a side are skipped), and each patch gets
 * scikit-image's default SSIM — 7x7 uniform window, sample covariance (49/48), C1 = (0.01 L)^2, C2 = (0.03 L)^2,
 * mean over the windows that lie inside the patch — averaged over the colour channels for RGB. The engine works on
 * 8-bit data, so L = 255. Patch size 8 on an 8-bit grey pair is exactly blindspot's `ssim_blk`.
 */

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
const NW = WIN * WIN;

/**
 * Window SSIM at every top-left position of a 7x7 window of one 8-bit plane pair, row-major over
 * (height - 6) x (width - 6). Sliding integer sums, so the window moments are exact.
 */
function windowSsim(x: Uint8Array, y: Uint8Array, stride: number, offset: number, width: number, height: number, L: number): Float64Array {
  const ow = width - WIN + 1;
  const oh = height - WIN + 1;
  const out = new Float64Array(ow * oh);
  const sx = new Float64Array(width);
  const sy = new Float64Array(width);
  const sxx = new Float64Array(width);
  const syy = new Float64Array(width);
  const sxy = new Float64Array(width);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const covNorm = NW / (NW - 1);
  const add = (row: number, sign: number): void => {
    const base = row * width;
    for (let c = 0; c < width; c++) {
      const a = x[(base + c) * stride + offset]!;
      const b = y[(base + c) * stride + offset]!;
      sx[c] = sx[c]! + sign * a;
      sy[c] = sy[c]! + sign * b;
      sxx[c] = sxx[c]! + sign * a * a;
      syy[c] = syy[c]! + sign * b * b;
      sxy[c] = sxy[c]! + sign * a * b;
    }
  };
  for (let r = 0; r < WIN - 1; r++) add(r, 1);
  for (let r = 0; r < oh; r++) {
    add(r + WIN - 1, 1);
    let Sx = 0, Sy = 0, Sxx = 0, Syy = 0, Sxy = 0;
    for (let c = 0; c < WIN - 1; c++) {
      Sx += sx[c]!; Sy += sy[c]!; Sxx += sxx[c]!; Syy += syy[c]!; Sxy += sxy[c]!;
    }
    for (let c = 0; c < ow; c++) {
      const e = c + WIN - 1;
      Sx += sx[e]!; Sy += sy[e]!; Sxx += sxx[e]!; Syy += syy[e]!; Sxy += sxy[e]!;
      const ux = Sx / NW;
      const uy = Sy / NW;
      const vx = covNorm * (Sxx / NW - ux * ux);
      const vy = covNorm * (Syy / NW - uy * uy);
      const vxy = covNorm * (Sxy / NW - ux * uy);
      out[r * ow + c] = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
      Sx -= sx[c]!; Sy -= sy[c]!; Sxx -= sxx[c]!; Syy -= syy[c]!; Sxy -= sxy[c]!;
    }
    add(r, -1);
  }
  return out;
}

/**
 * Local quality of a pair of 8-bit images.
 * @param gt, test interleaved 8-bit samples with `channels` per pixel (1 grey, 3 RGB)
 * @param patchSize P (>= 7 to give any patch an SSIM)
 * @param L data range of the SSIM constants (255 for the engine)
 */
export function localQuality(
  gt: Uint8Array,
  test: Uint8Array,
  channels: number,
  width: number,
  height: number,
  patchSize: number,
  L = 255,
): LocalQuality {
  const gridRows = Math.ceil(height / patchSize);
  const gridCols = Math.ceil(width / patchSize);
  const sums = new Float64Array(gridRows * gridCols);
  const ow = width - WIN + 1;
  if (ow > 0 && height >= WIN) {
    for (let ch = 0; ch < channels; ch++) {
      const w = windowSsim(gt, test, channels, ch, width, height, L);
      for (let pr = 0; pr < gridRows; pr++) {
        const y0 = pr * patchSize;
        const ph = Math.min(patchSize, height - y0);
        if (ph < WIN) continue;
        for (let pc = 0; pc < gridCols; pc++) {
          const x0 = pc * patchSize;
          const pw = Math.min(patchSize, width - x0);
          if (pw < WIN) continue;
          let s = 0;
          for (let r = y0; r <= y0 + ph - WIN; r++) {
            for (let c = x0; c <= x0 + pw - WIN; c++) s += w[r * ow + c]!;
          }
          sums[pr * gridCols + pc] = sums[pr * gridCols + pc]! + s / ((ph - WIN + 1) * (pw - WIN + 1));
        }
      }
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
