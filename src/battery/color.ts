/**
 * Colour difference in CIE L*a*b* (D65), as the engine's Kornia path computes it (`kornia.color.rgb_to_lab` on
 * RGB / 255: sRGB gamma, the sRGB->XYZ matrix, white (0.95047, 1, 1.08883), f(t) = cbrt(t) above 0.008856 else
 * 7.787 t + 4/29), then the mean over pixels of the Euclidean distance (CIE76 dE*ab) — and CIEDE2000 (Sharma,
 * Wu & Dalal 2005, kL = kC = kH = 1), which colour scientists use. Grey images are R = G = B. 8-bit input: the
 * Lab of each level comes from a table; for grey pairs each (GT level, test level) pair's dE is computed once.
 */

import { scratch } from './scratch.ts';

/** L*, a*, b* of one 8-bit sRGB triple. */
export function srgb8ToLab(r: number, g: number, b: number, out: Float64Array): void {
  const R = LINEAR[r]!;
  const G = LINEAR[g]!;
  const B = LINEAR[b]!;
  const x = (0.412453 * R + 0.35758 * G + 0.180423 * B) / 0.95047;
  const y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
  const z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  out[0] = 116 * fy - 16;
  out[1] = 500 * (fx - fy);
  out[2] = 200 * (fy - fz);
}

function labF(t: number): number {
  return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 4 / 29;
}

/** sRGB 8-bit level -> linear (IEC 61966-2-1 as Kornia: threshold 0.04045). */
const LINEAR = (() => {
  const t = new Float64Array(256);
  for (let v = 0; v < 256; v++) {
    const c = v / 255;
    t[v] = c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
  }
  return t;
})();

const DEG = Math.PI / 180;

/** Hue angle in [0, 2 pi) (0 for a neutral colour). */
function hue(b: number, a: number): number {
  if (b === 0 && a === 0) return 0;
  const h = Math.atan2(b, a);
  return h < 0 ? h + 2 * Math.PI : h;
}

/** CIEDE2000 colour difference of two Lab colours (kL = kC = kH = 1). */
export function ciede2000(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
  const C1 = Math.sqrt(a1 * a1 + b1 * b1);
  const C2 = Math.sqrt(a2 * a2 + b2 * b2);
  const Cm = (C1 + C2) / 2;
  const Cm7 = Cm ** 7;
  const G = 0.5 * (1 - Math.sqrt(Cm7 / (Cm7 + 25 ** 7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.sqrt(a1p * a1p + b1 * b1);
  const C2p = Math.sqrt(a2p * a2p + b2 * b2);
  const h1p = hue(b1, a1p);
  const h2p = hue(b2, a2p);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > Math.PI) dhp -= 2 * Math.PI;
    else if (dhp < -Math.PI) dhp += 2 * Math.PI;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin(dhp / 2);
  const Lpm = (L1 + L2) / 2;
  const Cpm = (C1p + C2p) / 2;
  let hpm = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) > Math.PI) hpm += h1p + h2p < 2 * Math.PI ? 2 * Math.PI : -2 * Math.PI;
    hpm /= 2;
  }
  const T =
    1 - 0.17 * Math.cos(hpm - 30 * DEG) + 0.24 * Math.cos(2 * hpm) + 0.32 * Math.cos(3 * hpm + 6 * DEG) -
    0.2 * Math.cos(4 * hpm - 63 * DEG);
  const dTheta = 30 * DEG * Math.exp(-(((hpm / DEG - 275) / 25) ** 2));
  const Cpm7 = Cpm ** 7;
  const RC = 2 * Math.sqrt(Cpm7 / (Cpm7 + 25 ** 7));
  const Lm50 = (Lpm - 50) ** 2;
  const SL = 1 + (0.015 * Lm50) / Math.sqrt(20 + Lm50);
  const SC = 1 + 0.045 * Cpm;
  const SH = 1 + 0.015 * Cpm * T;
  const RT = -Math.sin(2 * dTheta) * RC;
  const l = dLp / SL;
  const c = dCp / SC;
  const h = dHp / SH;
  return Math.sqrt(l * l + c * c + h * h + RT * c * h);
}

/** Mean colour differences of a pair, both on the engine's Lab. */
export interface ColorDifference {
  /** Mean CIE76 dE*ab (the engine's `delta_e`). */
  deltaE76: number;
  /** Mean CIEDE2000. */
  deltaE2000: number;
}

/** Lab of the 256 grey levels (R = G = B). */
const GREY_LAB = (() => {
  const t = new Float64Array(256 * 3);
  const o = new Float64Array(3);
  for (let v = 0; v < 256; v++) {
    srgb8ToLab(v, v, v, o);
    t.set(o, v * 3);
  }
  return t;
})();

/** dE76 and CIEDE2000 of each (GT level << 8 | test level) grey pair, filled on first use (NaN = not yet). */
const GREY_DE76 = new Float64Array(65536).fill(NaN);
const GREY_DE2000 = new Float64Array(65536);

/**
 * Mean dE76 and CIEDE2000 between two 8-bit images of the same size.
 * @param gt, test 8-bit grey planes (used when rgb is null)
 * @param gtRgb, testRgb interleaved 8-bit RGB or null (grey: R = G = B)
 */
export function colorDifference(
  gt: Uint8Array,
  test: Uint8Array,
  gtRgb: Uint8Array | null,
  testRgb: Uint8Array | null,
): ColorDifference {
  const n = gt.length;
  if (gtRgb === null && testRgb === null) {
    // Grey pair: a joint histogram of (gt, test) levels, then one dE per occupied level pair.
    // Four interleaved tables: runs of one level pair (flat regions) do not wait on one counter.
    const joint = scratch('color.joint4', 4 * 65536, (k) => new Int32Array(k)).fill(0);
    const n4 = n - (n % 4);
    for (let i = 0; i < n4; i += 4) {
      joint[(gt[i]! << 8) | test[i]!]!++;
      joint[65536 + ((gt[i + 1]! << 8) | test[i + 1]!)]!++;
      joint[131072 + ((gt[i + 2]! << 8) | test[i + 2]!)]!++;
      joint[196608 + ((gt[i + 3]! << 8) | test[i + 3]!)]!++;
    }
    for (let i = n4; i < n; i++) joint[(gt[i]! << 8) | test[i]!]!++;
    let s76 = 0;
    let s2000 = 0;
    for (let k = 0; k < 65536; k++) {
      const c = joint[k]! + joint[65536 + k]! + joint[131072 + k]! + joint[196608 + k]!;
      if (c === 0) continue;
      let d76 = GREY_DE76[k]!;
      if (Number.isNaN(d76)) {
        const p = (k >> 8) * 3;
        const q = (k & 255) * 3;
        const L1 = GREY_LAB[p]!, A1 = GREY_LAB[p + 1]!, B1 = GREY_LAB[p + 2]!;
        const L2 = GREY_LAB[q]!, A2 = GREY_LAB[q + 1]!, B2 = GREY_LAB[q + 2]!;
        d76 = GREY_DE76[k] = Math.sqrt((L1 - L2) ** 2 + (A1 - A2) ** 2 + (B1 - B2) ** 2);
        GREY_DE2000[k] = ciede2000(L1, A1, B1, L2, A2, B2);
      }
      s76 += c * d76;
      s2000 += c * GREY_DE2000[k]!;
    }
    return { deltaE76: s76 / n, deltaE2000: s2000 / n };
  }
  const p = new Float64Array(3);
  const q = new Float64Array(3);
  let s76 = 0;
  let s2000 = 0;
  for (let i = 0; i < n; i++) {
    if (gtRgb) srgb8ToLab(gtRgb[i * 3]!, gtRgb[i * 3 + 1]!, gtRgb[i * 3 + 2]!, p);
    else srgb8ToLab(gt[i]!, gt[i]!, gt[i]!, p);
    if (testRgb) srgb8ToLab(testRgb[i * 3]!, testRgb[i * 3 + 1]!, testRgb[i * 3 + 2]!, q);
    else srgb8ToLab(test[i]!, test[i]!, test[i]!, q);
    s76 += Math.sqrt((p[0]! - q[0]!) ** 2 + (p[1]! - q[1]!) ** 2 + (p[2]! - q[2]!) ** 2);
    s2000 += ciede2000(p[0]!, p[1]!, p[2]!, q[0]!, q[1]!, q[2]!);
  }
  return { deltaE76: s76 / n, deltaE2000: s2000 / n };
}
