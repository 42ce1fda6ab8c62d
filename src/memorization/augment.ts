/**
 * Structure-preserving augmentations of DeepSSIM training (Scardace et al. 2025, arXiv:2509.16582): each drawn
 * independently per image of a pair with probability p (0.33): vertical flip, horizontal flip, rotation by an
 * angle uniform in [-0.17, 0.17] rad (bilinear, border padding, about the centre, same size), and gamma in
 * [0.5, 1.5] applied after min-max scaling (the range is restored afterwards). The SSIM target of a pair is
 * computed on the un-augmented planes, so the network learns to ignore these transforms.
 */
import type { Plane } from './plane.ts';
import { minMax } from './plane.ts';
import type { Rng } from './rng.ts';

/** Augmentation parameters; the defaults are the reference training settings. */
export interface AugmentOptions {
  /** Probability of each transform, drawn independently. Default 0.33. */
  p: number;
  /** Maximum rotation in radians (uniform in [-maxRotation, maxRotation]). Default 0.17. */
  maxRotation: number;
  /** Gamma range after min-max scaling. Default [0.5, 1.5]. */
  gammaRange: [number, number];
}

export const DEFAULT_AUGMENT_OPTIONS: Readonly<AugmentOptions> = Object.freeze({
  p: 0.33,
  maxRotation: 0.17,
  gammaRange: [0.5, 1.5] as [number, number],
});

/** What was applied to one image (for logs and tests). */
export interface AppliedAugmentation {
  vflip: boolean;
  hflip: boolean;
  /** Radians; 0 when no rotation was drawn. */
  rotation: number;
  /** 1 when no gamma was drawn. */
  gamma: number;
}

/** Draw one image's augmentation (four independent coin flips, then the parameters). */
export function drawAugmentation(rng: Rng, options: AugmentOptions = DEFAULT_AUGMENT_OPTIONS): AppliedAugmentation {
  const vflip = rng.next() < options.p;
  const hflip = rng.next() < options.p;
  const rotate = rng.next() < options.p;
  const rotation = rotate ? rng.uniform(-options.maxRotation, options.maxRotation) : 0;
  const doGamma = rng.next() < options.p;
  const gamma = doGamma ? rng.uniform(options.gammaRange[0], options.gammaRange[1]) : 1;
  return { vflip, hflip, rotation, gamma };
}

/** True when the augmentation changes nothing. */
export function isIdentity(a: AppliedAugmentation): boolean {
  return !a.vflip && !a.hflip && a.rotation === 0 && a.gamma === 1;
}

/**
 * Apply an augmentation to a plane, writing into `out` (a new array when omitted). Order as in the reference
 * pipeline: vertical flip, horizontal flip, rotation, gamma.
 */
export function applyAugmentation(p: Plane, a: AppliedAugmentation, out?: Float32Array): Plane {
  const { width: w, height: h } = p;
  const dst = out ?? new Float32Array(w * h);
  let src = p.data;
  if (a.vflip || a.hflip) {
    for (let y = 0; y < h; y++) {
      const sy = a.vflip ? h - 1 - y : y;
      for (let x = 0; x < w; x++) dst[y * w + x] = src[sy * w + (a.hflip ? w - 1 - x : x)]!;
    }
    src = dst;
  }
  if (a.rotation !== 0) {
    const rotated = rotatePlane(src, w, h, a.rotation);
    dst.set(rotated);
    src = dst;
  }
  if (src !== dst) dst.set(src);
  if (a.gamma !== 1) gammaInPlace(dst, a.gamma);
  return { width: w, height: h, data: dst };
}

/**
 * Rotate about the image centre by `angle` radians, bilinear, border (clamp-to-edge) padding, same size.
 */
export function rotatePlane(src: Float32Array, w: number, h: number, angle: number): Float32Array {
  const out = new Float32Array(w * h);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < h; y++) {
    const dy = y - cy;
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      // Inverse mapping: where does output (x, y) come from in the source?
      let sx = cos * dx + sin * dy + cx;
      let sy = -sin * dx + cos * dy + cy;
      sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = x0 + 1 < w ? x0 + 1 : x0;
      const y1 = y0 + 1 < h ? y0 + 1 : y0;
      const fx = sx - x0;
      const fy = sy - y0;
      const top = src[y0 * w + x0]! * (1 - fx) + src[y0 * w + x1]! * fx;
      const bottom = src[y1 * w + x0]! * (1 - fx) + src[y1 * w + x1]! * fx;
      out[y * w + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Gamma after min-max scaling, range restored: ((x - min) / range)^gamma * range + min. */
export function gammaInPlace(data: Float32Array, gamma: number): void {
  const { min, max } = minMax(data);
  const range = max - min;
  if (!(range > 0)) return;
  const inv = 1 / (range + 1e-7);
  for (let i = 0; i < data.length; i++) data[i] = Math.pow((data[i]! - min) * inv, gamma) * range + min;
}
