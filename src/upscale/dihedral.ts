/**
 * The eight symmetries of the square (dihedral group D4) on interleaved images, for the x8 self-ensemble
 * (test-time augmentation) of Timofte et al., "Seven ways to improve example-based single image super
 * resolution", CVPR 2016, doi:10.1109/CVPR.2016.206 — as used by EDSR, SwinIR and Real-ESRGAN.
 *
 * Transform k (0..7): first a horizontal flip when k >= 4, then k % 4 quarter turns clockwise.
 * `dihedralInverse(., k)` undoes `dihedral(., k)`. Pure index arithmetic, one output allocation per call.
 */

/** A transformed image: samples and the (possibly swapped) size. */
export interface Planar {
  data: Float32Array;
  width: number;
  height: number;
}

/** Number of dihedral transforms. */
export const DIHEDRAL_COUNT = 8;

/** Where output pixel (x, y) of transform k reads from in the w x h source (row-major pixel index). */
function sourceIndex(k: number, x: number, y: number, w: number, h: number): number {
  const flip = k >= 4;
  const rot = k % 4;
  // Undo the rotation: find the coordinate (sx, sy) in the flipped source.
  let sx: number, sy: number;
  switch (rot) {
    case 0:
      sx = x;
      sy = y;
      break;
    case 1: // 90° clockwise: output is h wide, w high; out(x, y) = in(y, h - 1 - x)
      sx = y;
      sy = h - 1 - x;
      break;
    case 2: // 180°
      sx = w - 1 - x;
      sy = h - 1 - y;
      break;
    default: // 270° clockwise: out(x, y) = in(w - 1 - y, x)
      sx = w - 1 - y;
      sy = x;
      break;
  }
  if (flip) sx = w - 1 - sx;
  return sy * w + sx;
}

/**
 * Apply dihedral transform k to an interleaved image (`channels` samples per pixel).
 * @param k 0..7 (k >= 4: horizontal flip first; then k % 4 clockwise quarter turns)
 */
export function dihedral(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  k: number,
): Planar {
  const swap = k % 2 === 1;
  const ow = swap ? height : width;
  const oh = swap ? width : height;
  const out = new Float32Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const s = sourceIndex(k, x, y, width, height) * channels;
      const o = (y * ow + x) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = data[s + c]!;
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * The inverse of `dihedral(., k)`: maps a transformed image (of size `width` x `height`) back.
 * Flips and the half turn are their own inverses; a quarter turn's inverse is the opposite quarter turn
 * (with a flip, F·R^r is an involution, so it is its own inverse too).
 */
export function inverseDihedralIndex(k: number): number {
  if (k >= 4) return k; // flip then rotate = a reflection: self-inverse
  return (4 - k) % 4;
}

/** Undo dihedral transform k (see `inverseDihedralIndex`). */
export function dihedralInverse(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  k: number,
): Planar {
  return dihedral(data, width, height, channels, inverseDihedralIndex(k));
}
