/** Mean squared error and peak signal-to-noise ratio on typed arrays (float64 accumulation). */

/** Mean squared error of two equally long sample arrays. */
export function mse(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - y[i]!;
    sum += d * d;
  }
  return sum / n;
}

/**
 * PSNR in dB: 10 log10(L² / MSE). Identical inputs give +Infinity.
 * @param x reference samples
 * @param y test samples (same length)
 * @param dataRange L, the peak-to-peak range of the samples (255 for 8-bit)
 */
export function psnr(x: ArrayLike<number>, y: ArrayLike<number>, dataRange: number): number {
  return psnrFromMse(mse(x, y), dataRange);
}

/** PSNR in dB from a mean squared error. */
export function psnrFromMse(meanSquaredError: number, dataRange: number): number {
  return 10 * Math.log10((dataRange * dataRange) / meanSquaredError);
}
