/**
 * High-frequency ratio (engine `analyze_frequency_domain`): the share of the 2-D DFT magnitude outside a centred
 * disc. With the spectrum fftshift-ed, centre (h//2, w//2) and radius r = min(h//2, w//2) // 3, low = sum of |F|
 * over (x - cw)^2 + (y - ch)^2 <= r^2, and ratio = (total - low) / total. Computed from a real-input 2-D FFT:
 * rows two at a time, then only the w//2 + 1 non-redundant columns, the rest by Hermitian symmetry (the disc is
 * symmetric and never reaches the Nyquist row or column).
 */
import { fft, fftColumnsPow2 } from './fft.ts';
import { scratch } from './scratch.ts';
import { halfSpectrumWasm, type HalfSpectrum } from './wasm/fftKernel.ts';

/** Disc radius of the engine's low band, and whether (dx, dy) lies in it. */
function discRadius(width: number, height: number): number {
  return Math.floor(Math.min(Math.floor(height / 2), Math.floor(width / 2)) / 3);
}

/**
 * The ratio from the WebAssembly half spectrum (power-of-two sides): its weighted total, minus the disc summed
 * here (the disc lies in columns 0..r < w/2, so every column there counts twice except column 0).
 */
function ratioFromHalfSpectrum(s: HalfSpectrum, width: number, height: number): number {
  const ch = Math.floor(height / 2);
  const r = discRadius(width, height);
  const r2 = r * r;
  let low = 0;
  for (let u = 0; u < height; u++) {
    const dy = u <= height - 1 - ch ? u : u - height;
    if (dy * dy > r2) continue;
    const o = u * s.cols;
    for (let k = 0; k * k + dy * dy <= r2; k++) {
      const a = s.re[o + k]!;
      const b = s.im[o + k]!;
      low += (k === 0 ? 1 : 2) * Math.sqrt(a * a + b * b);
    }
  }
  return (s.total - low) / s.total;
}

/**
 * High-frequency ratio of a grey plane (0..1); NaN for a constant-zero image.
 */
export function highFrequencyRatio(gray: ArrayLike<number>, width: number, height: number): number {
  const simd = gray instanceof Uint8Array ? halfSpectrumWasm(gray, width, height) : null;
  if (simd !== null) return ratioFromHalfSpectrum(simd, width, height);
  // Spectra in thread scratch (scratch.ts): every cell is written before it is read; nothing escapes.
  const half = Math.floor(width / 2) + 1;
  // Row spectra, columns 0..half-1, row-major (height x half).
  const specRe = scratch('fft.re', half * height, (k) => new Float64Array(k));
  const specIm = scratch('fft.im', half * height, (k) => new Float64Array(k));
  const re = new Float64Array(width);
  const im = new Float64Array(width);
  for (let y = 0; y < height; y += 2) {
    const two = y + 1 < height;
    const r0 = y * width;
    const r1 = r0 + width;
    for (let x = 0; x < width; x++) {
      re[x] = gray[r0 + x]!;
      im[x] = two ? gray[r1 + x]! : 0;
    }
    fft(re, im);
    const o0 = y * half;
    const o1 = o0 + half;
    for (let k = 0; k < half; k++) {
      const j = k === 0 ? 0 : width - k;
      // Z = A + iB with A, B real-input spectra: A = (Z[k] + conj Z[-k]) / 2, B = (Z[k] - conj Z[-k]) / 2i.
      const zr = re[k]!;
      const zi = im[k]!;
      const cr = re[j]!;
      const ci = -im[j]!;
      specRe[o0 + k] = (zr + cr) / 2;
      specIm[o0 + k] = (zi + ci) / 2;
      if (two) {
        specRe[o1 + k] = (zi - ci) / 2;
        specIm[o1 + k] = -(zr - cr) / 2;
      }
    }
  }
  // Column transforms: all columns at once for power-of-two heights, one column at a time otherwise.
  if ((height & (height - 1)) === 0) {
    fftColumnsPow2(specRe, specIm, height, half);
  } else {
    const cre = new Float64Array(height);
    const cim = new Float64Array(height);
    for (let k = 0; k < half; k++) {
      for (let y = 0; y < height; y++) {
        cre[y] = specRe[y * half + k]!;
        cim[y] = specIm[y * half + k]!;
      }
      fft(cre, cim);
      for (let y = 0; y < height; y++) {
        specRe[y * half + k] = cre[y]!;
        specIm[y * half + k] = cim[y]!;
      }
    }
  }
  const ch = Math.floor(height / 2);
  const cw = Math.floor(width / 2);
  const r = Math.floor(Math.min(ch, cw) / 3);
  const r2 = r * r;
  let total = 0;
  let low = 0;
  for (let u = 0; u < height; u++) {
    const dy = u <= height - 1 - ch ? u : u - height;
    const o = u * half;
    for (let k = 0; k < half; k++) {
      // Columns 1..(w-1)/2 stand for their mirror too; column 0 and the even-width Nyquist column for themselves.
      const weight = k === 0 || 2 * k === width ? 1 : 2;
      const a = specRe[o + k]!;
      const b = specIm[o + k]!;
      const mag = weight * Math.sqrt(a * a + b * b);
      total += mag;
      const dx = k <= width - 1 - cw ? k : k - width;
      if (dx * dx + dy * dy <= r2) low += mag;
    }
  }
  return (total - low) / total;
}
