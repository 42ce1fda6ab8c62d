/**
 * Long, resumable training of the spatial DeepSSIM encoder (src/memorization/spatial.ts) on exact-target pairs
 * of real brain MRI: the 2-D slices of brain2d/128 and the MNI T1, ch2 and example4d volumes (neighbour pairs);
 * 15% of the 2-D slices are held out for the fixed per-bin validation set. Rerun the same command to resume
 * from OUT_DIR/checkpoint (it stops at STEPS or after BUDGET seconds, at a checkpoint).
 *
 *   nice -n 10 node --import tsx examples/deepssim-train-spatial.ts [DATA_DIR] [OUT_DIR] [STEPS=20000] [SIZE=128] [BUDGET_S=0]
 *
 * Writes OUT_DIR/checkpoint/{state.json,weights.bin} (every 100 steps) and, at the end, OUT_DIR/model/
 * (model.json + weights.bin, a TF.js layers model: [n, SIZE, SIZE, 1] z-scored planes -> 128-d embedding)
 * and OUT_DIR/training.json (validation MSE and Pearson per SSIM bin at every checkpoint).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { loadVolumeStack } from '../src/memorization/benchset.ts';
import { readImageFolder } from '../src/memorization/folder.ts';
import { trainSpatialDeepSsim } from '../src/memorization/spatial.ts';
import { loadTf } from '../src/memorization/tfjs.ts';

const data = process.argv[2] ?? '/work/shared/data/medical';
const out = process.argv[3] ?? 'examples/output/deepssim-spatial';
const steps = Number(process.argv[4] ?? 20000);
const size = Number(process.argv[5] ?? 128);
const budget = Number(process.argv[6] ?? 0);

const folder = await readImageFolder(join(data, 'brain2d/128'), size);
const volumes = [];
for (const f of ['brain/mni_icbm152_t1_09a_converted.nii.gz', 'brain2d/orig/antspy_ch2.nii.gz', 'brain/nibabel_example4d.nii.gz']) {
  volumes.push((await loadVolumeStack(join(data, f), size, 'v')).slices);
}
// Every 7th slice of the sorted set validates (deterministic, spread over the sources).
const val = folder.planes.filter((_, i) => i % 7 === 0);
const train = folder.planes.filter((_, i) => i % 7 !== 0);
const tf = await loadTf();
const t0 = performance.now();
const r = await trainSpatialDeepSsim(tf, { images: train, volumes }, { images: val }, { size, steps, checkpointDir: join(out, 'checkpoint'), timeBudgetS: budget, seed: 42 }, (v) =>
  process.stderr.write(
    `${((performance.now() - t0) / 1000).toFixed(0)} s step ${v.step}: train MSE ${v.trainMse.toFixed(4)} validation MSE ${v.mse.toFixed(4)} Pearson ${v.pearson.toFixed(3)}\n`,
  ),
);
await mkdir(join(out, 'model'), { recursive: true });
await r.model.save({
  async save(a: TfTypes.io.ModelArtifacts): Promise<TfTypes.io.SaveResult> {
    await writeFile(join(out, 'model', 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
    await writeFile(join(out, 'model', 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  },
});
await writeFile(join(out, 'training.json'), JSON.stringify({ data: folder.dataHash, trainImages: train.length, validationImages: val.length, step: r.step, resumedFrom: r.resumedFrom, history: r.history }, null, 1) + '\n');
process.stdout.write(`step ${r.step} (resumed from ${r.resumedFrom}); wrote ${out}/model and training.json\n`);
