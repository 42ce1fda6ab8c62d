/**
 * One-dimensional window taps. The 2-D windows used by SSIM are separable: the 2-D weight at (i, j) is
 * `taps[i] * taps[j]`, so filtering is a vertical pass followed by a horizontal pass.
 */

/**
 * Normalised Gaussian taps, the 1-D factor of MATLAB's `fspecial('gaussian', size, sigma)` (Wang's window:
 * size 11, sigma 1.5) and of skimage's `gaussian(sigma=1.5, truncate=3.5)`.
 * @param size odd number of taps (11 for Wang's SSIM)
 * @param sigma standard deviation in pixels (1.5 for Wang's SSIM)
 */
export function gaussianTaps(size: number, sigma: number): Float64Array {
  const taps = new Float64Array(size);
  const centre = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const d = i - centre;
    taps[i] = Math.exp(-(d * d) / (2 * sigma * sigma));
    sum += taps[i]!;
  }
  for (let i = 0; i < size; i++) taps[i] = taps[i]! / sum;
  return taps;
}

/** Uniform (box) taps `1/size` each: skimage's default 7x7 `uniform_filter` window. */
export function uniformTaps(size: number): Float64Array {
  return new Float64Array(size).fill(1 / size);
}
