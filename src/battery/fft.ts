/**
 * A small complex FFT for the battery's frequency metric: iterative radix-2 for powers of two, Bluestein's chirp-z
 * for other lengths. Plans (twiddles, bit reversal, chirps) are cached per length; transforms run in place on
 * split real/imaginary Float64Arrays. Forward transform, no scaling (numpy's `fft` convention).
 */

interface Radix2Plan {
  n: number;
  /** Twiddles of the stage with half-size h at [h, 2h): exp(-i pi k / h), k < h. */
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}

interface BluesteinPlan {
  n: number;
  m: number;
  /** Chirp exp(-i pi k^2 / n), k < n. */
  wr: Float64Array;
  wi: Float64Array;
  /** FFT (length m) of the conjugate chirp, wrapped. */
  br: Float64Array;
  bi: Float64Array;
  ar: Float64Array;
  ai: Float64Array;
}

const radix2Plans = new Map<number, Radix2Plan>();
const bluesteinPlans = new Map<number, BluesteinPlan>();

function radix2Plan(n: number): Radix2Plan {
  let p = radix2Plans.get(n);
  if (p) return p;
  const cos = new Float64Array(Math.max(2, n));
  const sin = new Float64Array(Math.max(2, n));
  for (let h = 1; h < n; h <<= 1) {
    for (let k = 0; k < h; k++) {
      cos[h + k] = Math.cos((Math.PI * k) / h);
      sin[h + k] = -Math.sin((Math.PI * k) / h);
    }
  }
  const rev = new Uint32Array(n);
  const bits = Math.round(Math.log2(n));
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { n, cos, sin, rev };
  radix2Plans.set(n, p);
  return p;
}

function fftRadix2(re: Float64Array, im: Float64Array, p: Radix2Plan): void {
  const { n, cos, sin, rev } = p;
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let h = 1; h < n; h <<= 1) {
    const size = h << 1;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < h; k++) {
        const wr = cos[h + k]!;
        const wi = sin[h + k]!;
        const a = start + k;
        const b = a + h;
        const br = re[b]!;
        const bi = im[b]!;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a]!;
        const ai = im[a]!;
        re[b] = ar - xr;
        im[b] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
      }
    }
  }
}

function bluesteinPlan(n: number): BluesteinPlan {
  let p = bluesteinPlans.get(n);
  if (p) return p;
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // k^2 mod 2n keeps the angle small and exact.
    const e = (k * k) % (2 * n);
    wr[k] = Math.cos((Math.PI * e) / n);
    wi[k] = -Math.sin((Math.PI * e) / n);
  }
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  br[0] = wr[0]!;
  bi[0] = -wi[0]!;
  for (let k = 1; k < n; k++) {
    br[k] = br[m - k] = wr[k]!;
    bi[k] = bi[m - k] = -wi[k]!;
  }
  fftRadix2(br, bi, radix2Plan(m));
  p = { n, m, wr, wi, br, bi, ar: new Float64Array(m), ai: new Float64Array(m) };
  bluesteinPlans.set(n, p);
  return p;
}

function fftBluestein(re: Float64Array, im: Float64Array, p: BluesteinPlan): void {
  const { n, m, wr, wi, br, bi, ar, ai } = p;
  ar.fill(0);
  ai.fill(0);
  for (let k = 0; k < n; k++) {
    ar[k] = re[k]! * wr[k]! - im[k]! * wi[k]!;
    ai[k] = re[k]! * wi[k]! + im[k]! * wr[k]!;
  }
  const plan = radix2Plan(m);
  fftRadix2(ar, ai, plan);
  for (let k = 0; k < m; k++) {
    const r = ar[k]! * br[k]! - ai[k]! * bi[k]!;
    const i = ar[k]! * bi[k]! + ai[k]! * br[k]!;
    // Inverse by conjugation: ifft(x) = conj(fft(conj(x))) / m.
    ar[k] = r;
    ai[k] = -i;
  }
  fftRadix2(ar, ai, plan);
  for (let k = 0; k < n; k++) {
    const r = ar[k]! / m;
    const i = -ai[k]! / m;
    re[k] = r * wr[k]! - i * wi[k]!;
    im[k] = r * wi[k]! + i * wr[k]!;
  }
}

/** In-place forward DFT of length `re.length` (any length >= 1). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n <= 1) return;
  if ((n & (n - 1)) === 0) fftRadix2(re, im, radix2Plan(n));
  else fftBluestein(re, im, bluesteinPlan(n));
}
