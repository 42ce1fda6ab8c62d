/**
 * The DeepSSIM training target: SSIM of the un-augmented pair, computed as the reference code does
 * (`calculate_ssim(normalise=True)`): both images z-scored, scikit-image defaults (7x7 uniform window, sample
 * covariance, K1 0.01, K2 0.03, mean over the map cropped by 3), data range = max - min of the first (real) image.
 * The arithmetic is the SSIM engine's own kernel (src/ssim, skimage mode).
 */
import { BlindspotError } from '../errors.ts';
import { ssimMap, uniformTaps } from '../ssim/index.ts';
import { minMax } from './plane.ts';

const WIN = 7;
const TAPS = uniformTaps(WIN);
/** skimage's sample covariance: N / (N - 1) over the 49 window samples. */
const COV_NORM = (WIN * WIN) / (WIN * WIN - 1);

/**
 * SSIM target of a pair of z-scored planes of the same size (skimage mode, data range of `first`).
 * @param first the real / reference plane (its max - min is the data range; 1 when it is constant).
 * @param second the other plane.
 * @param width plane width (>= 7)
 * @param height plane height (>= 7)
 * @param scratch optional reusable map buffer of (width - 6) * (height - 6) values.
 * @throws BlindspotError E_TOO_SMALL when the planes are smaller than 7x7.
 */
export function ssimTarget(
  first: Float32Array | Float64Array,
  second: Float32Array | Float64Array,
  width: number,
  height: number,
  scratch?: Float64Array,
): number {
  if (width < WIN || height < WIN) {
    throw new BlindspotError('E_TOO_SMALL', `SSIM needs at least ${WIN}x${WIN} pixels, got ${width}x${height}`);
  }
  const { min, max } = minMax(first);
  const L = max - min > 0 ? max - min : 1;
  const x = first instanceof Float64Array ? first : Float64Array.from(first);
  const y = second instanceof Float64Array ? second : Float64Array.from(second);
  const opts = scratch ? { out: scratch } : {};
  return ssimMap(x, y, width, height, TAPS, { C1: (0.01 * L) ** 2, C2: (0.03 * L) ** 2, covNorm: COV_NORM }, opts).mssim;
}
