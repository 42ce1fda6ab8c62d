/**
 * Perturbations of the benchmark's "generated" images (benchset.ts uses noise, blur and JPEG re-encoding as
 * reconstruction-like error): each works on a [0, 1] min-max view of a plane.
 */
import sharp from 'sharp';
import { rotatePlane } from './augment.ts';
import { minMax, shiftPlane } from './plane.ts';
import type { Rng } from './rng.ts';

export const PERTURBATIONS = ['hflip', 'vflip', 'rotate', 'shift', 'gamma', 'noise', 'blur', 'jpeg'] as const;
export type Perturbation = (typeof PERTURBATIONS)[number];

/** Min-max a plane to [0, 1] (copy). */
export function unitRange(p: Float32Array): Float32Array {
  const { min, max } = minMax(p);
  const s = max > min ? 1 / (max - min) : 0;
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = (p[i]! - min) * s;
  return out;
}

function gaussianBlur(src: Float32Array, size: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const taps = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += taps[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < taps.length; i++) taps[i]! /= sum;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += taps[k + r]! * src[y * size + Math.min(size - 1, Math.max(0, x + k))]!;
      tmp[y * size + x] = acc;
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += taps[k + r]! * tmp[Math.min(size - 1, Math.max(0, y + k)) * size + x]!;
      out[y * size + x] = acc;
    }
  }
  return out;
}

async function jpegRoundTrip(src: Float32Array, size: number, quality: number): Promise<Float32Array> {
  const px = Buffer.alloc(src.length);
  for (let i = 0; i < src.length; i++) px[i] = Math.round(255 * Math.min(1, Math.max(0, src[i]!)));
  const jpg = await sharp(px, { raw: { width: size, height: size, channels: 1 } }).jpeg({ quality }).toBuffer();
  const { data } = await sharp(jpg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! / 255;
  return out;
}

/** Apply one perturbation with parameters drawn from `rng` to a [0, 1] plane. Returns a description. */
export async function perturb(unit: Float32Array, size: number, kind: Perturbation, rng: Rng): Promise<{ plane: Float32Array; what: string }> {
  switch (kind) {
    case 'hflip': {
      const out = new Float32Array(unit.length);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = unit[y * size + size - 1 - x]!;
      return { plane: out, what: 'hflip' };
    }
    case 'vflip': {
      const out = new Float32Array(unit.length);
      for (let y = 0; y < size; y++) out.set(unit.subarray((size - 1 - y) * size, (size - y) * size), y * size);
      return { plane: out, what: 'vflip' };
    }
    case 'rotate': {
      const a = rng.uniform(0.05, 0.17) * (rng.next() < 0.5 ? -1 : 1);
      return { plane: rotatePlane(unit, size, size, a), what: `rotate ${a.toFixed(3)} rad` };
    }
    case 'shift': {
      const dx = (2 + rng.int(5)) * (rng.next() < 0.5 ? -1 : 1);
      const dy = (2 + rng.int(5)) * (rng.next() < 0.5 ? -1 : 1);
      return { plane: shiftPlane(unit, size, dx, dy), what: `shift ${dx},${dy}` };
    }
    case 'gamma': {
      const g = rng.next() < 0.5 ? rng.uniform(0.6, 0.85) : rng.uniform(1.2, 1.6);
      const out = new Float32Array(unit.length);
      for (let i = 0; i < out.length; i++) out[i] = Math.pow(unit[i]!, g);
      return { plane: out, what: `gamma ${g.toFixed(2)}` };
    }
    case 'noise': {
      const s = rng.uniform(0.02, 0.05);
      const out = new Float32Array(unit.length);
      for (let i = 0; i < out.length; i++) out[i] = unit[i]! + s * rng.normal();
      return { plane: out, what: `noise ${s.toFixed(3)}` };
    }
    case 'blur': {
      const s = rng.uniform(0.6, 1.2);
      return { plane: gaussianBlur(unit, size, s), what: `blur ${s.toFixed(2)}` };
    }
    case 'jpeg': {
      const q = 30 + rng.int(51);
      return { plane: await jpegRoundTrip(unit, size, q), what: `jpeg q${q}` };
    }
  }
}
