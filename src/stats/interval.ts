/**
 * Mean with a Student-t confidence interval (the interval `blindspot ssim GTDIR TESTDIR` reports). The t quantile is
 * exact for integer degrees of freedom: the two-sided probability A(t | nu) is the finite series of Abramowitz &
 * Stegun 26.7.3/26.7.4 in theta = atan(t / sqrt(nu)), inverted by bisection; above 1000 degrees of freedom the
 * Cornish-Fisher expansion (A&S 26.7.5) is used (error < 1e-9 there).
 */

/** Two-sided probability P(|T| <= t) for Student's t with integer nu >= 1 degrees of freedom (A&S 26.7.3/4). */
export function studentTTwoSided(t: number, nu: number): number {
  const theta = Math.atan(Math.abs(t) / Math.sqrt(nu));
  const s = Math.sin(theta);
  const c2 = Math.cos(theta) ** 2;
  if (nu % 2 === 1) {
    if (nu === 1) return (2 / Math.PI) * theta;
    // cos + (2/3) cos^3 + (2*4)/(3*5) cos^5 + ... up to cos^(nu-2)
    let term = Math.cos(theta);
    let sum = term;
    for (let k = 3; k <= nu - 2; k += 2) {
      term *= (c2 * (k - 1)) / k;
      sum += term;
    }
    return (2 / Math.PI) * (theta + s * sum);
  }
  // 1 + (1/2) cos^2 + (1*3)/(2*4) cos^4 + ... up to cos^(nu-2)
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= nu - 2; k += 2) {
    term *= (c2 * (k - 1)) / k;
    sum += term;
  }
  return s * sum;
}

/** Standard normal quantile (Acklam's rational approximation refined by one Halley step; ~1e-15). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = p < 0.5 ? p : 1 - p;
  let x: number;
  if (q < 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  } else {
    const r = q - 0.5;
    const r2 = r * r;
    x = ((((((a[0]! * r2 + a[1]!) * r2 + a[2]!) * r2 + a[3]!) * r2 + a[4]!) * r2 + a[5]!) * r) /
      (((((b[0]! * r2 + b[1]!) * r2 + b[2]!) * r2 + b[3]!) * r2 + b[4]!) * r2 + 1);
    x = -x;
  }
  // x is the upper-tail quantile of q; the lower one for p < 0.5
  return p < 0.5 ? -Math.abs(x) : Math.abs(x);
}

/**
 * Quantile t_{p, nu} of Student's t (p in (0.5, 1), integer nu >= 1), e.g. tQuantile(0.975, 10) = 2.228.
 */
export function tQuantile(p: number, nu: number): number {
  if (!(p > 0.5 && p < 1) || !Number.isInteger(nu) || nu < 1) return NaN;
  if (nu > 1000) {
    const z = normalQuantile(p);
    const z3 = z ** 3;
    const z5 = z ** 5;
    const z7 = z ** 7;
    return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu * nu) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3);
  }
  const target = 2 * p - 1;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, nu) < target) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, nu) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanInterval {
  /** Finite values used. */
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1). NaN for n < 2. */
  sd: number;
  /** Two-sided Student-t interval at `level` (NaN bounds for n < 2). */
  lo: number;
  hi: number;
  level: number;
}

/**
 * Mean and Student-t confidence interval of the finite values (mean +- t_{(1+level)/2, n-1} * sd / sqrt(n)).
 * @param level - confidence level, default 0.95.
 */
export function meanInterval(values: ArrayLike<number>, level = 0.95): MeanInterval {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      n++;
      sum += v;
    }
  }
  const mean = n > 0 ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) ss += (v - mean) ** 2;
  }
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  const half = n > 1 ? (tQuantile((1 + level) / 2, n - 1) * sd) / Math.sqrt(n) : NaN;
  return { n, mean, sd, lo: mean - half, hi: mean + half, level };
}
