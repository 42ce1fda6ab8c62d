/**
 * MATLAB-style box downsampling used by Wang's ssim.m (2009) and msssim.m: `imfilter(img, ones(f)/f², 'symmetric',
 * 'same')` followed by `img(1:f:end, 1:f:end)`. MATLAB centres an even kernel at index floor((f+1)/2) (1-based),
 * so output sample p averages x[p-o .. p-o+f-1] with o = floor((f-1)/2); samples outside the image mirror
 * symmetrically (x[-1] = x[0]). Keeps every f-th sample starting at 0: ceil(n/f) per axis.
 */

/** A plane with its size. */
export interface Plane {
  data: Float64Array;
  width: number;
  height: number;
}

/** Symmetric (half-sample) mirror of index i into [0, n). */
function mirror(i: number, n: number): number {
  let j = i;
  // Loop handles windows wider than the image (tiny inputs); one reflection is the common case.
  while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - 1 - j;
  return j;
}

/**
 * f x f box filter with symmetric borders and MATLAB's kernel centre, then keep every f-th sample.
 * @param f integer factor >= 1 (1 returns a copy)
 */
export function boxDownsample(
  data: Float64Array | Float32Array,
  width: number,
  height: number,
  f: number,
): Plane {
  const ow = Math.ceil(width / f);
  const oh = Math.ceil(height / f);
  const o = Math.floor((f - 1) / 2);
  // Horizontal sums at the kept columns, for every input row.
  const tmp = new Float64Array(ow * height);
  const cols = new Int32Array(ow * f);
  for (let j = 0; j < ow; j++) for (let b = 0; b < f; b++) cols[j * f + b] = mirror(j * f - o + b, width);
  for (let r = 0; r < height; r++) {
    const src = r * width;
    for (let j = 0; j < ow; j++) {
      let s = 0;
      for (let b = 0; b < f; b++) s += data[src + cols[j * f + b]!]!;
      tmp[r * ow + j] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  const inv = 1 / (f * f);
  for (let i = 0; i < oh; i++) {
    for (let a = 0; a < f; a++) {
      const src = mirror(i * f - o + a, height) * ow;
      for (let j = 0; j < ow; j++) out[i * ow + j] += tmp[src + j]!;
    }
    for (let j = 0; j < ow; j++) out[i * ow + j] *= inv;
  }
  return { data: out, width: ow, height: oh };
}

/** Wang's ssim.m factor: max(1, round_half_away(min(height, width) / 256)). */
export function matlab2009Factor(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 256));
}
