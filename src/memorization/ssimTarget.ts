/**
 * The DeepSSIM training target: SSIM of the un-augmented pair, computed as the reference code does
 * (`calculate_ssim(normalise=True)`): both images z-scored, scikit-image defaults (7x7 uniform window, sample
 * covariance, K1 0.01, K2 0.03, mean over the map cropped by 3), data range = max - min of the first (real) image.
 */
import { BlindspotError } from '../errors.ts';
import { minMax } from './plane.ts';

/**
 * SSIM target of a pair of z-scored planes of the same size.
 * @param first the real / reference plane (its range is the data range).
 * @param second the other plane.
 * @throws BlindspotError E_TOO_SMALL when the planes are smaller than 7x7.
 */
export function ssimTarget(first: Float32Array, second: Float32Array, width: number, height: number): number {
  const { min, max } = minMax(first);
  const range = max - min;
  return skimageSsim(first, second, width, height, range > 0 ? range : 1);
}

const WIN = 7;

/**
 * scikit-image `structural_similarity` with its defaults on grey planes: 7x7 uniform filter, sample covariance
 * (N/(N-1)), mean of the SSIM map over the interior (3-pixel border cropped). Window sums come from float64
 * summed-area tables, so one pair costs O(width x height).
 */
export function skimageSsim(x: ArrayLike<number>, y: ArrayLike<number>, width: number, height: number, dataRange: number): number {
  if (width < WIN || height < WIN) {
    throw new BlindspotError('E_TOO_SMALL', `SSIM needs at least ${WIN}x${WIN} pixels, got ${width}x${height}`);
  }
  const w1 = width + 1;
  const sx = new Float64Array(w1 * (height + 1));
  const sy = new Float64Array(sx.length);
  const sxx = new Float64Array(sx.length);
  const syy = new Float64Array(sx.length);
  const sxy = new Float64Array(sx.length);
  for (let r = 0; r < height; r++) {
    let ax = 0;
    let ay = 0;
    let axx = 0;
    let ayy = 0;
    let axy = 0;
    for (let c = 0; c < width; c++) {
      const a = x[r * width + c]!;
      const b = y[r * width + c]!;
      ax += a;
      ay += b;
      axx += a * a;
      ayy += b * b;
      axy += a * b;
      const o = (r + 1) * w1 + c + 1;
      const up = r * w1 + c + 1;
      sx[o] = sx[up]! + ax;
      sy[o] = sy[up]! + ay;
      sxx[o] = sxx[up]! + axx;
      syy[o] = syy[up]! + ayy;
      sxy[o] = sxy[up]! + axy;
    }
  }
  const np = WIN * WIN;
  const covNorm = np / (np - 1);
  const c1 = (0.01 * dataRange) ** 2;
  const c2 = (0.03 * dataRange) ** 2;
  const half = (WIN - 1) / 2;
  let total = 0;
  let count = 0;
  // Windows centred at (r, c) for r, c in [half, dim - half): exactly skimage's cropped map.
  for (let r = half; r < height - half; r++) {
    const top = (r - half) * w1;
    const bottom = (r + half + 1) * w1;
    for (let c = half; c < width - half; c++) {
      const left = c - half;
      const right = c + half + 1;
      const br = bottom + right;
      const tr = top + right;
      const bl = bottom + left;
      const tl = top + left;
      const mx = (sx[br]! - sx[tr]! - sx[bl]! + sx[tl]!) / np;
      const my = (sy[br]! - sy[tr]! - sy[bl]! + sy[tl]!) / np;
      const vx = covNorm * ((sxx[br]! - sxx[tr]! - sxx[bl]! + sxx[tl]!) / np - mx * mx);
      const vy = covNorm * ((syy[br]! - syy[tr]! - syy[bl]! + syy[tl]!) / np - my * my);
      const vxy = covNorm * ((sxy[br]! - sxy[tr]! - sxy[bl]! + sxy[tl]!) / np - mx * my);
      total += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}
