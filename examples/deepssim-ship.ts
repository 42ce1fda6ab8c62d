/**
 * Package the trained spatial DeepSSIM encoder (examples/deepssim-train-spatial.ts) as the shipped model folder
 * models/deepssim-spatial/: model.json + weights.bin, card.json (read by `memorization scan`/`eval`),
 * training-files.json (every file the model saw, SHA-256) and training.json (validation history).
 * It also measures, on a fixed validation set of the training side (20 pairs per SSIM bin, both images
 * augmented at p = 0.8 as the benchmark's test-time augmentation), the MSE to SSIM of a single embedding and of
 * embeddings averaged over the 4 flips or the 8 flips/90° rotations. The shipped inference is exactly
 * flip-invariant by design (a flipped copy of a training image is a copy the scan must find, and the test-time
 * augmentation flips): of the two averaging groups, the one with the lower validation MSE (validation data only,
 * never the benchmark). The single-embedding numbers are reported next to it.
 *
 *   node --import tsx examples/deepssim-ship.ts [DATA_DIR] [TRAIN_OUT=out/i18-spatial] [MODEL_DIR=models/deepssim-spatial]
 *
 * Prints the validation table (Markdown) for MODEL_CARD.md.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { applyAugmentation, drawAugmentation } from '../src/memorization/augment.ts';
import { TEST_TIME_AUGMENT } from '../src/memorization/benchset.ts';
import { embedPlanes, type EmbeddingAverage } from '../src/memorization/embed.ts';
import { mse, pearson, spearman } from '../src/memorization/metrics.ts';
import { createPairSampler } from '../src/memorization/pairSampler.ts';
import { halveTo, zScoreInPlace } from '../src/memorization/plane.ts';
import { createRng } from '../src/memorization/rng.ts';
import { MODEL_CARD_FORMAT, MODEL_CARD_VERSION, type ModelCard } from '../src/memorization/store.ts';
import { loadLayersModelFromDir } from '../src/tf/backend.ts';
import { loadTf } from '../src/memorization/tfjs.ts';
import { shippedTrainingData } from './deepssim-data.ts';

const data = process.argv[2] ?? '/work/shared/data/medical';
const trainOut = process.argv[3] ?? 'out/i18-spatial';
const dir = process.argv[4] ?? 'models/deepssim-spatial';

const training = JSON.parse(await readFile(join(trainOut, 'training.json'), 'utf8')) as {
  dataHash: string;
  trainImages: number;
  validationImages: number;
  size: number;
  sampleSize: number;
  step: number;
  wallS: number;
  history: { step: number; mse: number; pearson: number; perBin: [number, number, number][] }[];
};
const state = JSON.parse(await readFile(join(trainOut, 'checkpoint', 'state.json'), 'utf8')) as { options: Record<string, unknown> };
const size = training.size;
const sampleSize = training.sampleSize;
const d = await shippedTrainingData(data, sampleSize);
const tf = await loadTf();
const model = await loadLayersModelFromDir(tf, join(trainOut, 'model'));

// Fixed validation pairs: 20 per bin from the validation images, each side test-time augmented (then z-scored).
const sampler = createPairSampler({ images: d.validation.map((v) => v.plane) }, { size: sampleSize }, 20261202);
const pairs = sampler.perBin(20);
const rng = createRng(7);
const aug = (p: Float32Array) => halveTo(zScoreInPlace(applyAugmentation({ width: sampleSize, height: sampleSize, data: p }, drawAugmentation(rng, TEST_TIME_AUGMENT)).data), sampleSize, size);
const a = pairs.map((p) => aug(p.a));
const b = pairs.map((p) => aug(p.b));
const target = pairs.map((p) => p.target);
const edges = sampler.options.edges;

async function measure(average: EmbeddingAverage) {
  const ea = await embedPlanes(tf, model, a, 32, undefined, average);
  const eb = await embedPlanes(tf, model, b, 32, undefined, average);
  const cos = pairs.map((_, i) => {
    let s = 0;
    for (let j = 0; j < ea.dim; j++) s += ea.embeddings[i * ea.dim + j]! * eb.embeddings[i * eb.dim + j]!;
    return s;
  });
  const perBin = edges.slice(0, -1).map((lo, bin) => {
    const idx = pairs.map((p, i) => (p.bin === bin ? i : -1)).filter((i) => i >= 0);
    return { lo, hi: edges[bin + 1]!, n: idx.length, mse: mse(idx.map((i) => cos[i]!), idx.map((i) => target[i]!)), meanPred: idx.reduce((s, i) => s + cos[i]!, 0) / Math.max(1, idx.length) };
  });
  return { mse: mse(cos, target), pearson: pearson(cos, target), spearman: spearman(cos, target), perBin };
}
const measured = { none: await measure('none'), flips: await measure('flips'), dihedral: await measure('dihedral') };
const average = measured.dihedral.mse < measured.flips.mse ? 'dihedral' : 'flips';
const chosen = measured[average];

await mkdir(dir, { recursive: true });
await copyFile(join(trainOut, 'model', 'model.json'), join(dir, 'model.json'));
await copyFile(join(trainOut, 'model', 'weights.bin'), join(dir, 'weights.bin'));
// The training side of the split that was not trained on goes with the list: benchmarks leave it out too.
const filesList = JSON.parse(await readFile(join(trainOut, 'training-files.json'), 'utf8')) as Record<string, unknown>;
const benchmarkExclude = await Promise.all(
  d.trainingSideUnused.map(async (file) => ({ file: relative(data, file), sha256: createHash('sha256').update(await readFile(file)).digest('hex') })),
);
await writeFile(join(dir, 'training-files.json'), JSON.stringify({ ...filesList, benchmarkExclude }, null, 1) + '\n');
await writeFile(join(dir, 'training.json'), JSON.stringify({ ...training, shipValidation: measured }, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v), 1) + '\n');
const card: ModelCard = {
  format: MODEL_CARD_FORMAT,
  version: MODEL_CARD_VERSION,
  method: 'DeepSSIM (Scardace et al. 2025, arXiv:2509.16582), spatial variant: compact 1-channel CNN trained from scratch on exact-target pairs; cosine of L2-normalised embeddings regressed on skimage SSIM',
  backbone: 'spatial',
  size,
  ssimSize: sampleSize,
  channels: 1,
  embeddingDim: (model.outputs[0]!.shape as number[])[1]!,
  preprocessing: `grey (BT.601 luma), padded to a square with the image minimum, triangle-filter resize to ${sampleSize}x${sampleSize}, z-scored per image, then 2x2 means down to ${size}x${size} and z-scored again`,
  training: {
    dataHash: training.dataHash,
    filesList: 'training-files.json',
    trainImages: training.trainImages,
    validationImages: training.validationImages,
    steps: training.step,
    pairsPerStep: Number(state.options['batchSize']),
    wallSeconds: Math.round(training.wallS),
    options: state.options,
  },
  validation: { mse: chosen.mse, pearson: chosen.pearson, spearman: chosen.spearman, pairs: pairs.length, binCounts: chosen.perBin.map((x) => x.n) },
  thresholds: { duplicate: 0.85, similar: 0.6 },
  inference: { average },
};
await writeFile(join(dir, 'card.json'), JSON.stringify(card, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v), 2) + '\n');

const f = (x: number) => x.toFixed(4);
const lines = [
  `Validation: ${pairs.length} pairs (20 per SSIM bin) from the ${d.validation.length} validation images, both sides test-time augmented (p = 0.8).`,
  '',
  `| | MSE | Pearson | Spearman |`,
  `|---|---|---|---|`,
  `| single embedding | ${f(measured.none.mse)} | ${f(measured.none.pearson)} | ${f(measured.none.spearman)} |`,
  `| mean over the 4 flips (identity, horizontal, vertical, both) | ${f(measured.flips.mse)} | ${f(measured.flips.pearson)} | ${f(measured.flips.spearman)} |`,
  `| mean over the 8 flips/90° rotations | ${f(measured.dihedral.mse)} | ${f(measured.dihedral.pearson)} | ${f(measured.dihedral.spearman)} |`,
  '',
  `Shipped inference: mean over the ${average === 'flips' ? '4 flips' : '8 dihedral transforms'}. Per SSIM bin (shipped inference, then single embedding):`,
  '',
  '| SSIM bin | pairs | MSE | mean predicted cosine | MSE, single embedding | mean predicted cosine, single |',
  '|---|---|---|---|---|---|',
  ...chosen.perBin.map((x, i) => {
    const one = measured.none.perBin[i]!;
    return `| ${x.lo < 0 ? '< 0.5' : `[${x.lo.toFixed(2)}, ${x.hi.toFixed(2)}${x.hi >= 1 ? ']' : ')'}`} | ${x.n} | ${f(x.mse)} | ${f(x.meanPred)} | ${f(one.mse)} | ${f(one.meanPred)} |`;
  }),
];
process.stdout.write(lines.join('\n') + '\n');
