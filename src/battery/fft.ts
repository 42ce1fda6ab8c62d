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
  // Radix-2 stages taken two at a time (stages h and 2h in one pass over each group of 4h: half the memory
  // traffic of one stage per pass), then a last single stage when log2 n is odd.
  let h = 1;
  for (; 4 * h <= n; h *= 4) {
    const size = 4 * h;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < h; k++) {
        const w1r = cos[h + k]!;
        const w1i = sin[h + k]!;
        const w2r = cos[2 * h + k]!;
        const w2i = sin[2 * h + k]!;
        const i0 = start + k;
        const i1 = i0 + h;
        const i2 = i1 + h;
        const i3 = i2 + h;
        // Stage h: (a0, a1) and (a2, a3), twiddle w1.
        let tr = re[i1]! * w1r - im[i1]! * w1i;
        let ti = re[i1]! * w1i + im[i1]! * w1r;
        const b0r = re[i0]! + tr;
        const b0i = im[i0]! + ti;
        const b1r = re[i0]! - tr;
        const b1i = im[i0]! - ti;
        tr = re[i3]! * w1r - im[i3]! * w1i;
        ti = re[i3]! * w1i + im[i3]! * w1r;
        const b2r = re[i2]! + tr;
        const b2i = im[i2]! + ti;
        const b3r = re[i2]! - tr;
        const b3i = im[i2]! - ti;
        // Stage 2h: (b0, b2) with twiddle w2, (b1, b3) with -i w2.
        tr = b2r * w2r - b2i * w2i;
        ti = b2r * w2i + b2i * w2r;
        re[i0] = b0r + tr;
        im[i0] = b0i + ti;
        re[i2] = b0r - tr;
        im[i2] = b0i - ti;
        // (-i w2) b3 = (w2i, -w2r) rotated: real = b3r*w2i + b3i*w2r, imag = b3i*w2i - b3r*w2r.
        tr = b3r * w2i + b3i * w2r;
        ti = b3i * w2i - b3r * w2r;
        re[i1] = b1r + tr;
        im[i1] = b1i + ti;
        re[i3] = b1r - tr;
        im[i3] = b1i - ti;
      }
    }
  }
  if (h < n) {
    for (let k = 0; k < h; k++) {
      const wr = cos[h + k]!;
      const wi = sin[h + k]!;
      const b = k + h;
      const xr = re[b]! * wr - im[b]! * wi;
      const xi = re[b]! * wi + im[b]! * wr;
      const ar = re[k]!;
      const ai = im[k]!;
      re[b] = ar - xr;
      im[b] = ai - xi;
      re[k] = ar + xr;
      im[k] = ai + xi;
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

/**
 * In-place forward DFT along the first axis of a row-major `n x cols` array, for every column at once (each
 * butterfly runs over whole rows: contiguous, no transpose). `n` must be a power of two.
 */
export function fftColumnsPow2(re: Float64Array, im: Float64Array, n: number, cols: number): void {
  if (n <= 1) return;
  const { cos, sin, rev } = radix2Plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      const a = i * cols;
      const b = j * cols;
      for (let k = 0; k < cols; k++) {
        let t = re[a + k]!;
        re[a + k] = re[b + k]!;
        re[b + k] = t;
        t = im[a + k]!;
        im[a + k] = im[b + k]!;
        im[b + k] = t;
      }
    }
  }
  // Stages h and 2h in one pass (as fftRadix2), then a last single stage when log2 n is odd.
  let h = 1;
  for (; 4 * h <= n; h *= 4) {
    for (let start = 0; start < n; start += 4 * h) {
      for (let q = 0; q < h; q++) {
        const w1r = cos[h + q]!;
        const w1i = sin[h + q]!;
        const w2r = cos[2 * h + q]!;
        const w2i = sin[2 * h + q]!;
        const i0 = (start + q) * cols;
        const i1 = i0 + h * cols;
        const i2 = i1 + h * cols;
        const i3 = i2 + h * cols;
        for (let k = 0; k < cols; k++) {
          let tr = re[i1 + k]! * w1r - im[i1 + k]! * w1i;
          let ti = re[i1 + k]! * w1i + im[i1 + k]! * w1r;
          const b0r = re[i0 + k]! + tr;
          const b0i = im[i0 + k]! + ti;
          const b1r = re[i0 + k]! - tr;
          const b1i = im[i0 + k]! - ti;
          tr = re[i3 + k]! * w1r - im[i3 + k]! * w1i;
          ti = re[i3 + k]! * w1i + im[i3 + k]! * w1r;
          const b2r = re[i2 + k]! + tr;
          const b2i = im[i2 + k]! + ti;
          const b3r = re[i2 + k]! - tr;
          const b3i = im[i2 + k]! - ti;
          tr = b2r * w2r - b2i * w2i;
          ti = b2r * w2i + b2i * w2r;
          re[i0 + k] = b0r + tr;
          im[i0 + k] = b0i + ti;
          re[i2 + k] = b0r - tr;
          im[i2 + k] = b0i - ti;
          tr = b3r * w2i + b3i * w2r;
          ti = b3i * w2i - b3r * w2r;
          re[i1 + k] = b1r + tr;
          im[i1 + k] = b1i + ti;
          re[i3 + k] = b1r - tr;
          im[i3 + k] = b1i - ti;
        }
      }
    }
  }
  if (h < n) {
    for (let q = 0; q < h; q++) {
      const wr = cos[h + q]!;
      const wi = sin[h + q]!;
      const a = q * cols;
      const b = a + h * cols;
      for (let k = 0; k < cols; k++) {
        const br = re[b + k]!;
        const bi = im[b + k]!;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a + k]!;
        const ai = im[a + k]!;
        re[b + k] = ar - xr;
        im[b + k] = ai - xi;
        re[a + k] = ar + xr;
        im[a + k] = ai + xi;
      }
    }
  }
}
