/**
 * High-frequency ratio (engine `analyze_frequency_domain`): the share of the 2-D DFT magnitude outside a centred
 * disc. With the spectrum fftshift-ed, centre (h//2, w//2) and radius r = min(h//2, w//2) // 3, low = sum of |F|
 * over (x - cw)^2 + (y - ch)^2 <= r^2, and ratio = (total - low) / total. Computed from a real-input 2-D FFT:
 * rows two at a time, then only the w//2 + 1 non-redundant columns, the rest by Hermitian symmetry (the disc is
 * symmetric and never reaches the Nyquist row or column).
 */
import { fft } from './fft.ts';

/**
 * High-frequency ratio of a grey plane (0..1); NaN for a constant-zero image.
 */
export function highFrequencyRatio(gray: ArrayLike<number>, width: number, height: number): number {
  const half = Math.floor(width / 2) + 1;
  // Row spectra, columns 0..half-1, stored column-major for the column pass.
  const colRe = new Float64Array(half * height);
  const colIm = new Float64Array(half * height);
  const re = new Float64Array(width);
  const im = new Float64Array(width);
  for (let y = 0; y < height; y += 2) {
    const two = y + 1 < height;
    for (let x = 0; x < width; x++) {
      re[x] = gray[y * width + x]!;
      im[x] = two ? gray[(y + 1) * width + x]! : 0;
    }
    fft(re, im);
    for (let k = 0; k < half; k++) {
      const j = k === 0 ? 0 : width - k;
      // Z = A + iB with A, B real-input spectra: A = (Z[k] + conj Z[-k]) / 2, B = (Z[k] - conj Z[-k]) / 2i.
      const zr = re[k]!;
      const zi = im[k]!;
      const cr = re[j]!;
      const ci = -im[j]!;
      colRe[k * height + y] = (zr + cr) / 2;
      colIm[k * height + y] = (zi + ci) / 2;
      if (two) {
        colRe[k * height + y + 1] = (zi - ci) / 2;
        colIm[k * height + y + 1] = -(zr - cr) / 2;
      }
    }
  }
  const ch = Math.floor(height / 2);
  const cw = Math.floor(width / 2);
  const r = Math.floor(Math.min(ch, cw) / 3);
  const r2 = r * r;
  let total = 0;
  let low = 0;
  for (let k = 0; k < half; k++) {
    const cre = colRe.subarray(k * height, (k + 1) * height);
    const cim = colIm.subarray(k * height, (k + 1) * height);
    fft(cre, cim);
    // Columns 1..(w-1)/2 stand for their mirror too; column 0 and the even-width Nyquist column for themselves.
    const weight = k === 0 || 2 * k === width ? 1 : 2;
    const dx = k <= width - 1 - cw ? k : k - width;
    for (let u = 0; u < height; u++) {
      const a = cre[u]!;
      const b = cim[u]!;
      const mag = Math.sqrt(a * a + b * b);
      total += weight * mag;
      const dy = u <= height - 1 - ch ? u : u - height;
      if (dx * dx + dy * dy <= r2) low += weight * mag;
    }
  }
  return (total - low) / total;
}
