/**
 * Windowed first and second moments (valid region) and the luminance / contrast / structure maps of
 * Wang et al. 2004 (DESIGN §3): l = (2 mx my + C1)/(mx² + my² + C1), c = (2 sx sy + C2)/(sx² + sy² + C2),
 * s = (sxy + C3)/(sx sy + C3) with C3 = C2/2, so that l·c·s equals the SSIM map.
 * Reference: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error
 * visibility to structural similarity", IEEE TIP 13(4), 2004, doi:10.1109/TIP.2003.819861.
 */

/** Weighted moments per window position over the valid region. */
export interface WindowMoments {
  width: number;
  height: number;
  mx: Float64Array;
  my: Float64Array;
  /** Variance of x (times covNorm). */
  vx: Float64Array;
  /** Variance of y (times covNorm). */
  vy: Float64Array;
  /** Covariance of x and y (times covNorm). */
  cxy: Float64Array;
}

/**
 * Separable windowed moments of two planes over the 'valid' region.
 * @param taps odd-length symmetric 1-D window (sums to 1)
 * @param covNorm factor on the (co)variances: 1 (population, Wang) or N/(N-1) (skimage sample covariance)
 */
export function windowMoments(
  x: Float64Array | Float32Array,
  y: Float64Array | Float32Array,
  width: number,
  height: number,
  taps: Float64Array,
  covNorm: number,
): WindowMoments {
  const n = taps.length;
  const mw = width - n + 1;
  const mh = height - n + 1;
  // Vertical pass into five planes of width x mh.
  const vxs = new Float64Array(width * mh);
  const vys = new Float64Array(width * mh);
  const vxx = new Float64Array(width * mh);
  const vyy = new Float64Array(width * mh);
  const vxy = new Float64Array(width * mh);
  for (let r = 0; r < mh; r++) {
    const o = r * width;
    for (let k = 0; k < n; k++) {
      const g = taps[k]!;
      const src = (r + k) * width;
      for (let c = 0; c < width; c++) {
        const a = x[src + c]!;
        const b = y[src + c]!;
        vxs[o + c] += g * a;
        vys[o + c] += g * b;
        vxx[o + c] += g * (a * a);
        vyy[o + c] += g * (b * b);
        vxy[o + c] += g * (a * b);
      }
    }
  }
  const out: WindowMoments = {
    width: mw,
    height: mh,
    mx: new Float64Array(mw * mh),
    my: new Float64Array(mw * mh),
    vx: new Float64Array(mw * mh),
    vy: new Float64Array(mw * mh),
    cxy: new Float64Array(mw * mh),
  };
  for (let r = 0; r < mh; r++) {
    const src = r * width;
    const dst = r * mw;
    for (let c = 0; c < mw; c++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let k = 0; k < n; k++) {
        const g = taps[k]!;
        const i = src + c + k;
        sx += g * vxs[i]!;
        sy += g * vys[i]!;
        sxx += g * vxx[i]!;
        syy += g * vyy[i]!;
        sxy += g * vxy[i]!;
      }
      out.mx[dst + c] = sx;
      out.my[dst + c] = sy;
      out.vx[dst + c] = covNorm * (sxx - sx * sx);
      out.vy[dst + c] = covNorm * (syy - sy * sy);
      out.cxy[dst + c] = covNorm * (sxy - sx * sy);
    }
  }
  return out;
}

/** The three SSIM component maps. */
export interface LcsMaps {
  l: Float64Array;
  c: Float64Array;
  s: Float64Array;
}

/**
 * Luminance, contrast and structure maps from windowed moments (C3 = C2/2). Standard deviations are
 * `sqrt(max(0, variance))`: rounding can leave a flat window's variance a hair below 0.
 * @param C1 (K1 L)²
 * @param C2 (K2 L)²
 */
export function lcsMaps(m: WindowMoments, C1: number, C2: number): LcsMaps {
  const len = m.width * m.height;
  const l = new Float64Array(len);
  const c = new Float64Array(len);
  const s = new Float64Array(len);
  const C3 = C2 / 2;
  for (let i = 0; i < len; i++) {
    const mx = m.mx[i]!;
    const my = m.my[i]!;
    const vx = m.vx[i]! > 0 ? m.vx[i]! : 0;
    const vy = m.vy[i]! > 0 ? m.vy[i]! : 0;
    const sx = Math.sqrt(vx);
    const sy = Math.sqrt(vy);
    l[i] = (2 * mx * my + C1) / (mx * mx + my * my + C1);
    c[i] = (2 * sx * sy + C2) / (vx + vy + C2);
    s[i] = (m.cxy[i]! + C3) / (sx * sy + C3);
  }
  return { l, c, s };
}
