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
  // Each output is ((0 + h_0) + h_1 + ...) / f² over the f rows, h_a = (0 + x_a0) + x_a1 + ... over the f columns,
  // the separable box filter's order, computed in registers with no intermediate plane. Columns whose window
  // lies inside the row are read directly; only the border ones go through `mirror`.
  const cols = new Int32Array(ow * f);
  for (let j = 0; j < ow; j++) for (let b = 0; b < f; b++) cols[j * f + b] = mirror(j * f - o + b, width);
  // Kept columns j in [jLo, jHi) have their whole window inside the row.
  const jLo = Math.ceil(o / f);
  const jHi = Math.max(jLo, Math.min(ow, Math.floor((width - f + o) / f) + 1));
  const out = new Float64Array(ow * oh);
  const inv = 1 / (f * f);
  const rows = new Int32Array(f);
  for (let i = 0; i < oh; i++) {
    for (let a = 0; a < f; a++) rows[a] = mirror(i * f - o + a, height) * width;
    const dst = i * ow;
    let jStart = 0;
    if (f === 2 && o === 0) {
      // MS-SSIM's factor: the interior columns unrolled (same additions, same order).
      const r0 = rows[0]!;
      const r1 = rows[1]!;
      for (let j = jLo; j < jHi; j++) {
        const c = 2 * j;
        out[dst + j] =
          (0 + (0 + data[r0 + c]! + data[r0 + c + 1]!) + (0 + data[r1 + c]! + data[r1 + c + 1]!)) * inv;
      }
      jStart = jHi; // jLo is 0 when o is 0
    }
    for (let j = jStart; j < ow; j++) {
      const inside = j >= jLo && j < jHi;
      const at = j * f - o;
      let s = 0;
      for (let a = 0; a < f; a++) {
        const src = rows[a]!;
        let h = 0;
        if (inside) for (let b = 0; b < f; b++) h += data[src + at + b]!;
        else for (let b = 0; b < f; b++) h += data[src + cols[j * f + b]!]!;
        s += h;
      }
      out[dst + j] = s * inv;
    }
  }
  return { data: out, width: ow, height: oh };
}

/** Wang's ssim.m factor: max(1, round_half_away(min(height, width) / 256)). */
export function matlab2009Factor(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 256));
}
