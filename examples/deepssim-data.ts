/**
 * The data of the shipped DeepSSIM model (shared by examples/deepssim-train-spatial.ts and
 * examples/deepssim-ship.ts, so both see the same images in the same order):
 * - training side: the ANTsPy slices (Apache-2.0; not the web-collected btd_* or the CC-BY-SA msd_* ones) of the
 *   near-copy groups of brain2d/128 that `shippedModelSplit` assigns to training, minus any
 *   slice that is a copy of a benchmark volume slice (NCC >= 0.97 under the 8 dihedral transforms; this drops
 *   antspy_ch2_axial090, a slice of the ch2 template), the 75 NIH chest X-rays of cxr_nih/512, and the nibabel
 *   example4d volume (neighbour-slice pairs); every 7th image validates;
 * - never seen: the other brain2d groups and the MNI ICBM152 T1 and ANTsPy ch2 volumes (the benchmark's data).
 */
import { join } from 'node:path';
import { dihedral, loadVolumeStack, ncc } from '../src/memorization/benchset.ts';
import { readImageFolder } from '../src/memorization/folder.ts';
import { shippedModelSplit } from '../src/memorization/split.ts';

export const BENCHMARK_VOLUMES = ['brain/mni_icbm152_t1_09a_converted.nii.gz', 'brain2d/orig/antspy_ch2.nii.gz'];
export const TRAINING_VOLUME = 'brain/nibabel_example4d.nii.gz';
/** brain2d slices the shipped weights may be trained on (ANTsPy, Apache-2.0); see ../shared/data MANIFEST. */
export const SHIPPABLE = /^antspy_/;

export interface ShippedData {
  train: { file: string; plane: Float32Array }[];
  validation: { file: string; plane: Float32Array }[];
  volume: (Float32Array | null)[];
  /** brain2d names on the benchmark side. */
  benchNames: string[];
  /**
   * brain2d files on the training side of the split that were not trained on (btd_*, msd_*): near-copy groups of
   * trained slices live there, so benchmarks leave them out with the trained files.
   */
  trainingSideUnused: string[];
  droppedAsBenchmarkVolumeCopies: string[];
}

/** Side at which the split and the copy guard are computed (fixed: the split must not depend on the plane size). */
const SPLIT_SIZE = 64;

export async function shippedTrainingData(data: string, size: number): Promise<ShippedData> {
  const brain = await readImageFolder(join(data, 'brain2d/128'), size);
  const brainSplit = size === SPLIT_SIZE ? brain : await readImageFolder(join(data, 'brain2d/128'), SPLIT_SIZE);
  const cxr = await readImageFolder(join(data, 'cxr_nih/512'), size);
  const split = shippedModelSplit(brainSplit.names, brainSplit.planes);
  const benchSlices: Float32Array[] = [];
  for (const f of BENCHMARK_VOLUMES) for (const s of (await loadVolumeStack(join(data, f), SPLIT_SIZE, 'bench')).slices) if (s) benchSlices.push(s);
  const copies = split.train.filter((i) => benchSlices.some((s) => [0, 1, 2, 3, 4, 5, 6, 7].some((k) => ncc(dihedral(brainSplit.planes[i]!, SPLIT_SIZE, k), s) >= 0.97)));
  // Only slices whose terms allow shipping weights trained on them: the web-collected btd_* images (copyright
  // unclear: "local benchmarks only") and the CC-BY-SA msd_* slices stay on the benchmark side's pool or unused.
  const brainTrain = split.train.filter((i) => !copies.includes(i) && SHIPPABLE.test(brain.names[i]!));
  const volume = (await loadVolumeStack(join(data, TRAINING_VOLUME), size, 'epi')).slices;
  const pool = [...brainTrain.map((i) => ({ file: brain.files[i]!, plane: brain.planes[i]! })), ...cxr.files.map((file, i) => ({ file, plane: cxr.planes[i]! }))];
  return {
    train: pool.filter((_, i) => i % 7 !== 0),
    validation: pool.filter((_, i) => i % 7 === 0),
    volume,
    benchNames: split.bench.map((i) => brain.names[i]!),
    trainingSideUnused: split.train.filter((i) => !brainTrain.includes(i) && !copies.includes(i)).map((i) => brain.files[i]!),
    droppedAsBenchmarkVolumeCopies: copies.map((i) => brain.names[i]!),
  };
}
