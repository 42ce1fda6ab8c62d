/**
 * Seeded pseudo-random numbers for the Anomaly Score (noise directions, PGD start). Each image gets its own
 * stream from (seed, image key), so results do not depend on which other images were processed or skipped.
 */

/** FNV-1a 32-bit hash of a string (stable stream keys). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded stream: uniform [0,1) doubles (two mulberry32 draws -> 53 bits) and standard normals. */
export interface Rng {
  uniform(): number;
  normal(): number;
}

/**
 * Create a stream for `seed` and an optional `key` (e.g. the image's file name).
 * @param seed any integer (taken modulo 2^32).
 * @param key string mixed into the seed.
 */
export function createRng(seed: number, key = ''): Rng {
  let a = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ hashString(key)) >>> 0;
  const next32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const uniform = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

/** A Gaussian direction of unit L2 norm over all `n` samples (float64 norm, stored as float32). */
export function unitGaussian(rng: Rng, n: number): Float32Array {
  const v = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const g = rng.normal();
    v[i] = g;
    ss += g * g;
  }
  const inv = 1 / Math.sqrt(ss);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = v[i]! * inv;
  return out;
}
