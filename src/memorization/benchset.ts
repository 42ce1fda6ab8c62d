/**
 * The labelled pairs of the DeepSSIM benchmark, built like the paper's protocol (Scardace et al. 2025,
 * arXiv:2509.16582; official evaluation scores one given (real, synthetic) pair at fixed thresholds):
 * - Duplicate: a training slice with reconstruction-like error (noise, blur, JPEG) whose un-augmented SSIM to
 *   the slice stays > 0.85 (redrawn until it does);
 * - Similar: a neighbouring slice of a training volume slice at a graded offset (3-8 mm), or the slice at the
 *   same relative level of another subject's volume; never a pixel blend;
 * - Different: held-out anatomy: a held-out 2-D slice paired with a training slice, or a slice of a training
 *   volume far outside the anchor band (>= 15% of the depth away) paired with the nearest anchor.
 * Every generated image then goes through the paper's test-time augmentation (each of vertical flip,
 * horizontal flip, rotation U(-0.1745, 0.1745) rad and gamma U(0.5, 1.5) with p = 0.8) and is z-scored again,
 * as a file read from disk would be. The un-augmented image is kept for the oracle.
 * Pure functions over planes (no I/O) except `loadVolumeStack`.
 */
import { readImage } from '../image/read.ts';
import { applyAugmentation, drawAugmentation, type AugmentOptions } from './augment.ts';
import { perturb, unitRange, type Perturbation } from './generate.ts';
import type { MemorizationLabel } from './metrics.ts';
import { meanStd, preparePlane, zScoreInPlace } from './plane.ts';
import { shuffled, type Rng } from './rng.ts';
import { ssimTarget } from './ssimTarget.ts';

/** The paper's test-time augmentation (official factory: each transform with p = 0.8). */
export const TEST_TIME_AUGMENT: Readonly<AugmentOptions> = Object.freeze({ p: 0.8, maxRotation: 0.1745, gammaRange: [0.5, 1.5] as [number, number] });

/** A volume as z-scored `size x size` axial planes, slice index = array index (blank slices are null). */
export interface VolumeStack {
  name: string;
  slices: (Float32Array | null)[];
  /** Slice thickness in mm (pixdim along z; 1 when unknown). */
  sliceMm: number;
  /** Volumes of one group (same modality, same space) give each other's same-level Similar slices. */
  group: string;
}

/** A named z-scored plane. */
export interface BenchImage {
  name: string;
  plane: Float32Array;
}

/** One labelled (real, generated) pair. `real` indexes the training set. */
export interface BenchPair {
  name: string;
  truth: MemorizationLabel;
  real: number;
  /** The generated image as scored (test-time augmented, z-scored). */
  generated: Float32Array;
  /** The generated image before test-time augmentation (the oracle's input). */
  clean: Float32Array;
  /** Training index of the image it was made from (Duplicates), else -1. */
  source: number;
  what: string;
}

/** The benchmark set of one seed. */
export interface BenchSet {
  train: BenchImage[];
  pairs: BenchPair[];
  heldOut: number;
  droppedNearCopies: number;
}

/** Set composition (all counts per seed). */
export interface BenchSetOptions {
  size: number;
  duplicates: number;
  similar: number;
  different: number;
  /** Share of the 2-D slice set in the training set. */
  trainShare: number;
  /** mm between training anchors of a volume (inside the 30-70% depth band). */
  anchorStepMm: number;
  /** Graded Similar offsets in mm (each at least one slice). */
  similarOffsetsMm: number[];
  /** Duplicate acceptance: un-augmented SSIM to the source above this. */
  duplicateMinSsim: number;
}

export const DEFAULT_BENCH_SET_OPTIONS: Readonly<BenchSetOptions> = Object.freeze({
  size: 128,
  duplicates: 50,
  similar: 50,
  different: 50,
  trainShare: 0.6,
  anchorStepMm: 20,
  similarOffsetsMm: [3, 4, 5, 6, 8],
  duplicateMinSsim: 0.85,
});

/** Read the axial slices of a NIfTI volume between 5% and 95% of its depth as z-scored planes. */
export async function loadVolumeStack(file: string, size: number, group: string, name = file.replace(/^.*\//, '')): Promise<VolumeStack> {
  const first = await readImage(file, { axis: 2 });
  const dims = (first.meta['dims'] as number[] | undefined) ?? [first.width, first.height, 1];
  const pix = first.meta['pixdim'] as number[] | undefined;
  const nz = dims[2] ?? 1;
  const slices: (Float32Array | null)[] = new Array<Float32Array | null>(nz).fill(null);
  for (let z = Math.floor(nz * 0.05); z < Math.ceil(nz * 0.95); z++) {
    const img = await readImage(file, { axis: 2, slice: z });
    slices[z] = meanStd(img.data).std > 0 ? preparePlane(img, size).data : null;
  }
  // NIfTI pixdim[0] is qfac; [1..3] are the voxel sizes. Tolerate readers that drop qfac.
  const mm = pix && pix.length >= 4 ? Math.abs(pix[3]!) : pix?.[2] ?? 1;
  return { name, slices, sliceMm: mm > 0 ? mm : 1, group };
}

/** Exact SSIM target (skimage mode, data range of the real image) on z-scored planes. */
export function pairSsim(real: Float32Array, generated: Float32Array, size: number): number {
  return ssimTarget(real, generated, size, size);
}

/** Test-time augmentation of one generated plane (then z-scored). */
export function testTimeAugment(plane: Float32Array, size: number, rng: Rng, aug: AugmentOptions = TEST_TIME_AUGMENT): { plane: Float32Array; what: string } {
  const a = drawAugmentation(rng, aug);
  const out = applyAugmentation({ width: size, height: size, data: plane }, a).data;
  zScoreInPlace(out);
  const parts = [a.vflip ? 'vflip' : '', a.hflip ? 'hflip' : '', a.rotation !== 0 ? `rot ${a.rotation.toFixed(3)}` : '', a.gamma !== 1 ? `gamma ${a.gamma.toFixed(2)}` : ''];
  return { plane: out, what: parts.filter(Boolean).join(' ') || 'none' };
}

const RECONSTRUCTION_ERRORS: readonly Perturbation[] = ['noise', 'blur', 'jpeg'];

/** A reconstruction-like copy of a plane (1-2 of noise, blur, JPEG), z-scored. */
async function reconstructionCopy(plane: Float32Array, size: number, rng: Rng): Promise<{ plane: Float32Array; what: string }> {
  const count = 1 + rng.int(2);
  const kinds = shuffled(RECONSTRUCTION_ERRORS, rng).slice(0, count);
  let unit = unitRange(plane);
  const what: string[] = [];
  for (const k of RECONSTRUCTION_ERRORS) {
    if (!kinds.includes(k)) continue;
    const r = await perturb(unit, size, k, rng);
    unit = r.plane;
    what.push(r.what);
  }
  return { plane: zScoreInPlace(unit), what: what.join(' + ') };
}

/** Pearson correlation of two planes. */
export function ncc(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n;
  const mb = sb / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Anchor slice indices of a volume for this seed: every `step` slices inside 30-70% of the depth, random phase. */
function anchorsOf(v: VolumeStack, stepMm: number, rng: Rng): number[] {
  const nz = v.slices.length;
  const step = Math.max(2, Math.round(stepMm / v.sliceMm));
  const lo = Math.floor(nz * 0.3);
  const hi = Math.ceil(nz * 0.7);
  const out: number[] = [];
  for (let z = lo + rng.int(step); z < hi; z += step) if (v.slices[z]) out.push(z);
  return out;
}

/**
 * Build one seed's benchmark set.
 * @param folder the 2-D slice set (split by image into training and held-out)
 * @param volumes training volumes (anchor slices join the training set)
 */
export async function buildBenchSet(folder: readonly BenchImage[], volumes: readonly VolumeStack[], o: BenchSetOptions, rng: Rng): Promise<BenchSet> {
  const { size } = o;
  const order = shuffled(folder, rng);
  const nTrain = Math.round(order.length * o.trainShare);
  const train: BenchImage[] = order.slice(0, nTrain);
  const folderTrain = train.length;
  const anchors: { v: number; z: number; index: number }[] = [];
  volumes.forEach((v, vi) => {
    for (const z of anchorsOf(v, o.anchorStepMm, rng)) {
      anchors.push({ v: vi, z, index: train.length });
      train.push({ name: `${v.name}#z${z}`, plane: v.slices[z]! });
    }
  });
  // Web-collected slice sets hold near-copies: a held-out image that nearly equals a training image is not Different.
  const candidates = order.slice(nTrain);
  const heldOut = candidates.filter((h) => !train.some((t) => ncc(t.plane, h.plane) >= 0.95));
  const pairs: BenchPair[] = [];
  const add = (truth: MemorizationLabel, real: number, clean: Float32Array, source: number, what: string) => {
    const t = testTimeAugment(clean, size, rng);
    pairs.push({ name: `${truth.slice(0, 3).toLowerCase()}_${pairs.length}`, truth, real, generated: t.plane, clean, source, what: `${what}; TTA ${t.what}` });
  };

  // Duplicates: redraw the error until the un-augmented SSIM stays above the acceptance level.
  const dupSources = shuffled(train.map((_, i) => i), rng);
  for (let k = 0, made = 0; made < o.duplicates && k < dupSources.length * 4; k++) {
    const src = dupSources[k % dupSources.length]!;
    for (let attempt = 0; attempt < 8; attempt++) {
      const c = await reconstructionCopy(train[src]!.plane, size, rng);
      if (pairSsim(train[src]!.plane, c.plane, size) > o.duplicateMinSsim) {
        add('Duplicate', src, c.plane, src, c.what);
        made++;
        break;
      }
    }
  }

  // Similar: graded neighbours of anchors, and the same relative level in another volume.
  const anchorSet = new Set(anchors.map((a) => `${a.v}:${a.z}`));
  for (let k = 0; pairs.length < o.duplicates + o.similar && anchors.length > 0 && k < o.similar * 20; k++) {
    const a = anchors[rng.int(anchors.length)]!;
    const vol = volumes[a.v]!;
    const peers = volumes.map((v, i) => (i !== a.v && v.group === vol.group ? i : -1)).filter((i) => i >= 0);
    const other = peers.length > 0 && rng.next() < 0.3 ? peers[rng.int(peers.length)]! : -1;
    if (other >= 0) {
      const ov = volumes[other]!;
      const z = Math.round((a.z / vol.slices.length) * ov.slices.length);
      const plane = ov.slices[z];
      if (!plane || anchorSet.has(`${other}:${z}`)) continue;
      add('Similar', a.index, plane, -1, `${ov.name}#z${z}, same level as ${vol.name}#z${a.z}`);
      continue;
    }
    const mm = o.similarOffsetsMm[rng.int(o.similarOffsetsMm.length)]!;
    const dz = Math.max(1, Math.round(mm / vol.sliceMm)) * (rng.next() < 0.5 ? -1 : 1);
    const plane = vol.slices[a.z + dz];
    if (!plane || anchorSet.has(`${a.v}:${a.z + dz}`)) continue;
    add('Similar', a.index, plane, -1, `${vol.name}#z${a.z + dz}, ${dz > 0 ? '+' : ''}${dz} slices from the anchor`);
  }

  // Different: held-out 2-D slices against a training 2-D slice; far slices of a volume against its nearest anchor.
  const fromVolumes = anchors.length > 0 ? Math.floor(o.different / 2) : 0;
  const held = shuffled(heldOut, rng);
  for (let i = 0; i < o.different - fromVolumes && held.length > 0; i++) {
    const h = held[i % held.length]!;
    add('Different', rng.int(Math.max(1, folderTrain)), h.plane, -1, `held-out ${h.name}`);
  }
  for (let k = 0, made = 0; made < fromVolumes && k < fromVolumes * 20; k++) {
    const vi = rng.int(volumes.length);
    const v = volumes[vi]!;
    const nz = v.slices.length;
    const low = rng.next() < 0.5;
    const z = low ? Math.floor(nz * (0.08 + 0.07 * rng.next())) : Math.ceil(nz * (0.85 + 0.07 * rng.next())) - 1;
    const plane = v.slices[z];
    const own = anchors.filter((a) => a.v === vi);
    if (!plane || own.length === 0) continue;
    const nearest = own.reduce((b, a) => (Math.abs(a.z - z) < Math.abs(b.z - z) ? a : b));
    add('Different', nearest.index, plane, -1, `${v.name}#z${z}, far from the anchor ${nearest.z}`);
    made++;
  }
  return { train, pairs, heldOut: heldOut.length, droppedNearCopies: candidates.length - heldOut.length };
}

/** The 8 dihedral transforms of a square plane (k = 0 is the identity; 1-3 rotations; 4-7 mirrored). */
export function dihedral(src: Float32Array, size: number, k: number): Float32Array {
  const out = new Float32Array(src.length);
  const n = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sx = x;
      let sy = y;
      // Rotate (x, y) by k * 90 degrees, mirror first for k >= 4.
      if (k >= 4) sx = n - sx;
      for (let r = 0; r < k % 4; r++) [sx, sy] = [sy, n - sx];
      out[y * size + x] = src[sy * size + sx]!;
    }
  }
  return out;
}
