/**
 * Long, resumable training of the shipped spatial DeepSSIM encoder (src/memorization/spatial.ts) on exact-target
 * pairs, on the data of examples/deepssim-data.ts (split so the model can be benchmarked honestly: the
 * benchmark's images and volumes are never seen).
 * Every 7th training-side image validates (fixed per-bin set). Rerun the same command to resume from
 * OUT_DIR/checkpoint (it stops at STEPS or after BUDGET_S seconds, at a checkpoint).
 *
 *   nice -n 5 node --import tsx examples/deepssim-train-spatial.ts [DATA_DIR] [OUT_DIR] [STEPS=20000] [SIZE=64] [BUDGET_S=0] [SAMPLE_SIZE=128]
 *
 * SIZE is the network's input side; pairs are made, augmented and their SSIM computed at SAMPLE_SIZE and halved
 * to SIZE (so the network learns the SSIM of SAMPLE_SIZE images).
 *
 * Writes OUT_DIR/checkpoint/{state.json,weights.bin} (every 100 steps) and, at the end, OUT_DIR/model/
 * (model.json + weights.bin, a TF.js layers model: [n, SIZE, SIZE, 1] z-scored planes -> 128-d embedding),
 * OUT_DIR/training.json (validation MSE and Pearson per SSIM bin at every checkpoint, wall time) and
 * OUT_DIR/training-files.json (every file the model saw, with its SHA-256, and the data hash over them).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { trainSpatialDeepSsim } from '../src/memorization/spatial.ts';
import { loadTf } from '../src/memorization/tfjs.ts';
import { BENCHMARK_VOLUMES, shippedTrainingData, TRAINING_VOLUME } from './deepssim-data.ts';

const data = process.argv[2] ?? '/work/shared/data/medical';
const out = process.argv[3] ?? 'examples/output/deepssim-spatial';
const steps = Number(process.argv[4] ?? 20000);
const size = Number(process.argv[5] ?? 64);
const budget = Number(process.argv[6] ?? 0);
const sampleSize = Number(process.argv[7] ?? 128);

const d = await shippedTrainingData(data, sampleSize);
const { train, validation: val } = d;
const pool = [...d.train, ...d.validation];
const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');
const seen = await Promise.all([...pool.map((p) => p.file), join(data, TRAINING_VOLUME)].map(async (f) => ({ file: relative(data, f), sha256: await sha(f) })));
seen.sort((a, b) => a.file.localeCompare(b.file));
const dataHash = createHash('sha256').update(seen.map((s) => `${s.file}\0${s.sha256}\n`).join('')).digest('hex');
await mkdir(out, { recursive: true });
await writeFile(
  join(out, 'training-files.json'),
  JSON.stringify({ dataHash, droppedAsBenchmarkVolumeCopies: d.droppedAsBenchmarkVolumeCopies, neverSeen: [...d.benchNames.map((n) => `brain2d/128/${n}`), ...BENCHMARK_VOLUMES], files: seen }, null, 1) + '\n',
);
process.stderr.write(`training ${train.length} images + ${TRAINING_VOLUME}, validation ${val.length}; data hash ${dataHash.slice(0, 16)}; dropped as copies of benchmark volumes: ${d.droppedAsBenchmarkVolumeCopies.join(', ') || 'none'}\n`);

const tf = await loadTf();
const t0 = performance.now();
const r = await trainSpatialDeepSsim(
  tf,
  { images: train.map((p) => p.plane), volumes: [d.volume] },
  { images: val.map((p) => p.plane) },
  { size, sampleSize, steps, batchSize: 16, learningRate: 1e-3, learningRateFinal: 3e-5, checkpointDir: join(out, 'checkpoint'), timeBudgetS: budget, seed: 42 },
  (v) => process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(0)} s step ${v.step}: train MSE ${v.trainMse.toFixed(4)} validation MSE ${v.mse.toFixed(4)} Pearson ${v.pearson.toFixed(3)}\n`),
);
const wallS = (performance.now() - t0) / 1000;
await mkdir(join(out, 'model'), { recursive: true });
await r.model.save({
  async save(a: TfTypes.io.ModelArtifacts): Promise<TfTypes.io.SaveResult> {
    await writeFile(join(out, 'model', 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
    await writeFile(join(out, 'model', 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  },
});
const prev = JSON.parse(await readFile(join(out, 'training.json'), 'utf8').catch(() => '{}')) as { wallS?: number };
await writeFile(
  join(out, 'training.json'),
  JSON.stringify({ dataHash, trainImages: train.length, validationImages: val.length, size, sampleSize, step: r.step, resumedFrom: r.resumedFrom, wallS: (r.resumedFrom > 0 ? (prev.wallS ?? 0) : 0) + wallS, history: r.history }, null, 1) + '\n',
);
process.stdout.write(`step ${r.step} (resumed from ${r.resumedFrom}); wrote ${out}/model, training.json, training-files.json\n`);
