/**
 * The DeepSSIM benchmark on the paper's protocol (benchmark.ts), over several seeds, on real brain MRI:
 * the 206 slices of /work/shared/data/medical/brain2d/128 (incl. the web-collected btd_* slices: local only,
 * never committed) and the MNI ICBM152 T1 and ANTsPy ch2 templates (group t1: same-level Similar across them)
 * and the nibabel example4d volume (its own group).
 *
 *   node --import tsx examples/deepssim-benchmark.ts [DATA_DIR] [OUT_DIR] [seeds=1,2,3,4,5] [deepssim=none|head|compact|compact-ms] [epochs]
 *
 * Writes OUT_DIR/benchmark.json and benchmark.md (default examples/output/deepssim-benchmark).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchmarkMarkdown, runMemorizationBenchmark, type EmbeddingMethod } from '../src/memorization/benchmark.ts';
import { deepSsimMethod, spatialDeepSsimMethod, untrainedBackboneMethod } from '../src/memorization/benchmethods.ts';

const data = process.argv[2] ?? '/work/shared/data/medical';
const out = process.argv[3] ?? 'examples/output/deepssim-benchmark';
const seeds = (process.argv[4] ?? '1,2,3,4,5').split(',').map(Number);
const deep = process.argv[5] ?? 'none';
const epochs = Number(process.argv[6] ?? 4);
const size = 128;

const methods: EmbeddingMethod[] = deep === 'spatial' ? [] : [untrainedBackboneMethod(size)];
if (deep === 'spatial') {
  const budget = Number(process.argv[6] ?? 150);
  methods.push(
    spatialDeepSsimMethod(`DeepSSIM spatial CNN from scratch (64x64, ${budget} s per seed)`, size, { size: 64, batchSize: 8, checkpointEvery: 25, timeBudgetS: budget, steps: 100000 }, (v) =>
      process.stderr.write(`  step ${v.step}: train MSE ${v.trainMse.toFixed(4)} validation MSE ${v.mse.toFixed(4)} Pearson ${v.pearson.toFixed(3)}\n`),
    ),
  );
} else if (deep === 'head') methods.push(deepSsimMethod(`DeepSSIM (MobileNetV2 frozen, head trained, ${epochs} epochs)`, { size, epochs, variantsPerImage: 4 }));
else if (deep !== 'none') methods.push(deepSsimMethod(`DeepSSIM (${deep}, from scratch, ${epochs} epochs)`, { size, epochs, backbone: deep as 'compact' }));

const t0 = performance.now();
let last = '';
const result = await runMemorizationBenchmark(
  {
    images: join(data, 'brain2d/128'),
    volumes: [
      `t1=${join(data, 'brain/mni_icbm152_t1_09a_converted.nii.gz')}`,
      `t1=${join(data, 'brain2d/orig/antspy_ch2.nii.gz')}`,
      `epi=${join(data, 'brain/nibabel_example4d.nii.gz')}`,
    ],
    seeds,
    size,
    baselines: deep !== 'spatial',
  },
  methods,
  (p) => {
    const line = `${p.phase}${p.seed !== undefined ? ` seed ${p.seed}` : ''}${p.method ? ` ${p.method}` : ''}`;
    if (line !== last) process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(0)} s: ${line}\n`);
    last = line;
  },
);
await mkdir(out, { recursive: true });
const md = benchmarkMarkdown(result);
await writeFile(join(out, 'benchmark.md'), md);
await writeFile(join(out, 'benchmark.json'), JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v), 2) + '\n');
process.stdout.write(md + `\n${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
