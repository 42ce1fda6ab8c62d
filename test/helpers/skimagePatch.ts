/** Plain, slow reference for the block engine tests (written from the formula, not from the kernel). */

/**
 * scikit-image `structural_similarity(x, y, data_range=L)` with its defaults (win_size 7, uniform filter,
 * use_sample_covariance=True, K1 0.01, K2 0.03) on a patch: mean of S over the windows that do not touch the
 * patch border (skimage crops (7-1)/2 = 3 on each side), plus the means of its l and cs factors.
 */
export function skimagePatchSsim(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  w: number,
  x0: number,
  y0: number,
  B: number,
  L: number,
) {
  const C1 = (0.01 * L) ** 2,
    C2 = (0.03 * L) ** 2;
  let S = 0,
    Ls = 0,
    CS = 0,
    count = 0;
  for (let wy = 0; wy + 7 <= B; wy++) {
    for (let wx = 0; wx + 7 <= B; wx++) {
      let ux = 0,
        uy = 0;
      for (let j = 0; j < 7; j++)
        for (let i = 0; i < 7; i++) {
          ux += x[(y0 + wy + j) * w + x0 + wx + i]!;
          uy += y[(y0 + wy + j) * w + x0 + wx + i]!;
        }
      ux /= 49;
      uy /= 49;
      let vx = 0,
        vy = 0,
        vxy = 0;
      for (let j = 0; j < 7; j++)
        for (let i = 0; i < 7; i++) {
          const a = x[(y0 + wy + j) * w + x0 + wx + i]! - ux,
            b = y[(y0 + wy + j) * w + x0 + wx + i]! - uy;
          vx += a * a;
          vy += b * b;
          vxy += a * b;
        }
      vx /= 48;
      vy /= 48;
      vxy /= 48;
      const l = (2 * ux * uy + C1) / (ux * ux + uy * uy + C1);
      const cs = (2 * vxy + C2) / (vx + vy + C2);
      S += l * cs;
      Ls += l;
      CS += cs;
      count++;
    }
  }
  return { ssim: S / count, l: Ls / count, cs: CS / count };
}
