/**
 * `blindspot memorization train|scan|eval`: DeepSSIM (Scardace et al. 2025, arXiv:2509.16582) — learned SSIM
 * embeddings that find training images a generative model reproduced. A thin shell over src/memorization;
 * TensorFlow.js loads only inside the sub-commands.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BlindspotError } from '../../errors.ts';
import { createProgress, type ProgressBar } from '../progress.ts';
import { choiceFlag, numberFlag, parseFlags, wantsHelp, type Parsed } from '../args.ts';

export const summary = 'DeepSSIM: train learned-SSIM embeddings, scan generated images for memorized training images, benchmark';

const HELP = `Usage: blindspot memorization <train|scan|eval> [options]

DeepSSIM (Scardace et al. 2025, arXiv:2509.16582): an encoder whose cosine similarity predicts SSIM even when
images are flipped, rotated or re-windowed, used to find generated images that copy training images.

  train --images DIR [--size 128] [--epochs 10] [--out MODEL_DIR]     train a model on a folder of images
  scan  --train DIR --generated DIR [--encoder MODEL_DIR] [--k 5]     label each generated image's best match
                                                                      (default encoder: the shipped model)
  eval  --images DIR [--volume FILE]...                               benchmark on the paper's protocol

Run \`blindspot memorization <sub-command> --help\` for the options of one.`;

const TRAIN_HELP = `Usage: blindspot memorization train --images DIR [options]

Builds training pairs from the images (stratified over SSIM bins, plus self-pairs), computes their SSIM targets
(skimage defaults on z-scored images, data range of the first), trains the encoder with the reference
augmentations, and saves a TF.js model with a JSON card (data hash, options, validation MSE, Pearson/Spearman).

Options:
  --images DIR        training images (PNG/JPEG/TIFF/BMP/GIF/WebP; unreadable files are skipped and listed)
  --out MODEL_DIR     where to write model.json, weights.bin, card.json (default ./deepssim-model)
  --size N            square input side in pixels (default 128)
  --epochs N          epochs (default 10)
  --pairs N           training pairs per epoch (default 512)
  --backbone B        mobilenetv2 (default: nsfwjs's pretrained MobileNetV2, early layers frozen) | compact
  --trainable-from L  first trainable MobileNetV2 layer: head (default: only the head trains) | Conv_1 | block_N_expand
  --batch N           pairs per step (default 16)
  --seed N            seed of splits, pairs and augmentations (default 42)
  --json              print the model card as JSON
  -h, --help          show this help

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file).`;

const SCAN_HELP = `Usage: blindspot memorization scan --train DIR --generated DIR [--encoder MODEL_DIR] [options]

Embeds both folders, finds each generated image's k nearest training images by exact cosine similarity and
labels the best match: Duplicate (cosine > 0.85), Similar, Different (<= 0.60). Writes scan.csv, scan.json and
contact-sheet.html (flagged pairs side by side with their scores).

Options:
  --train DIR         training images
  --generated DIR     generated images
  --encoder MODEL_DIR the DeepSSIM encoder: a folder written by \`blindspot memorization train\` (default: the
                      shipped model, a 64x64 spatial CNN trained on brain MRI slices and chest X-rays; its
                      MODEL_CARD.md says on what and how well)
  --k N               neighbours reported per generated image (default 5)
  --duplicate T       Duplicate threshold (default 0.85)
  --similar T         Different/Similar threshold (default 0.60)
  --out DIR           output folder (default ./memorization-scan)
  --json              print the result summary as JSON
  -h, --help          show this help

Older spelling, still accepted: --model MODEL_DIR (alias of --encoder; elsewhere --model names an upscaler).

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file).`;

const EVAL_HELP = `Usage: blindspot memorization eval --images DIR [--volume [GROUP=]FILE]... [options]

The DeepSSIM benchmark on the paper's protocol, over several seeds (mean ± sd). Per seed the images are split
into a "training set" and held-out images; labelled (real, generated) pairs are built: Duplicate = a training
image with reconstruction-like error (noise, blur, JPEG) whose SSIM to it stays > 0.85; Similar = a neighbouring
slice (3-8 mm) of a volume anchor or the same level in another volume of its group; Different = a held-out image
or a far slice. Every generated image gets the paper's test-time augmentation (flips, rotation, gamma; p = 0.8).
Scored in the same run: the ORACLE (exact SSIM of the un-augmented pair: the ceiling), pixel SSIM, NCC, L2,
flip-invariant NCC and SSIM (best of the 8 flips/rotations), untrained MobileNetV2 features, and DeepSSIM.
Reported: per-pair macro-F1 at the fixed 0.85/0.60 thresholds (the paper's protocol), per-pair and best-match
macro-F1 with thresholds calibrated on a disjoint half, and source-found accuracy (best match = true source).

Options:
  --images DIR        2-D slices (PNG/JPEG/...), split per seed
  --volume SPEC       NIfTI volume, optionally GROUP=FILE (volumes of one group give same-level Similar pairs);
                      repeatable
  --encoder M         DeepSSIM to evaluate: "shipped" (default: the model inside the package), a model folder,
                      or "none". Images the model was trained on (its training-files.json) leave the pool, and a
                      volume it was trained on is refused.
  --train-seconds S   also train a spatial DeepSSIM per seed on that seed's training images for S seconds
  --seeds LIST        comma-separated seeds (default 1,2,3,4,5)
  --size N            benchmark side (default 128)
  --duplicates N      Duplicate pairs per seed (default 50); --similar N, --different N likewise
  --no-retrieval      skip the best-match protocol (faster)
  --no-baselines      score only the ORACLE and DeepSSIM (the pixel baselines measured in another run on the
                      same seeds; the ORACLE row then checks that the pairs are the same)
  --no-backbone       skip the untrained MobileNetV2 baseline
  --out DIR           write benchmark.json and benchmark.md there (default ./memorization-eval)
  --json              print the result as JSON
  -h, --help          show this help

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file).`;

function requireDir(values: Parsed['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new BlindspotError('E_USAGE', `--${name} DIR is required (see --help)`);
  return v;
}

/** A progress bar per phase name, created lazily and finished when the phase changes. */
function phaseBars(quiet: boolean): { update(phase: string, done: number, total: number, extra?: string): void; finish(): void } {
  let current: { phase: string; bar: ProgressBar } | undefined;
  return {
    update(phase, done, total, extra) {
      if (current?.phase !== phase) {
        current?.bar.finish();
        current = { phase, bar: createProgress(phase, total, { quiet, unit: 'items', lineIntervalMs: 5000 }) };
      }
      current.bar.update(done, extra);
    },
    finish() {
      current?.bar.finish();
      current = undefined;
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'train') return train(rest);
  if (sub === 'scan') return scan(rest);
  if (sub === 'eval') return evaluate(rest);
  throw new BlindspotError('E_USAGE', `unknown sub-command "${sub}" (train, scan or eval; see --help)`);
}

async function train(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    images: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string' },
    epochs: { type: 'string' },
    pairs: { type: 'string' },
    backbone: { type: 'string' },
    'trainable-from': { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  const v = parsed.values;
  if (wantsHelp(v, TRAIN_HELP)) return 0;
  const images = requireDir(v, 'images');
  const out = typeof v.out === 'string' ? v.out : 'deepssim-model';
  const { trainMemorizationModel } = await import('../../memorization/trainFolder.ts');
  const options: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) options[key] = value;
  };
  set('size', numberFlag(v, 'size', { min: 32, max: 512, integer: true }));
  set('epochs', numberFlag(v, 'epochs', { min: 1, max: 1000, integer: true }));
  set('pairsPerEpoch', numberFlag(v, 'pairs', { min: 2, integer: true }));
  set('batchSize', numberFlag(v, 'batch', { min: 2, max: 256, integer: true }));
  set('seed', numberFlag(v, 'seed', { min: 0, integer: true }));
  set('backbone', choiceFlag(v, 'backbone', ['mobilenetv2', 'compact'] as const));
  set('trainableFrom', typeof v['trainable-from'] === 'string' ? v['trainable-from'] : undefined);
  const bars = phaseBars(false);
  const card = await trainMemorizationModel(images, out, options, (p) => {
    if (p.phase === 'read') {
      if (p.skipped) process.stderr.write(`skipped ${p.skipped.file}: ${p.skipped.reason}\n`);
      bars.update('reading', p.done, p.total);
    } else if (p.phase === 'targets') bars.update('SSIM targets', p.done, p.total);
    else if (p.phase === 'bank') bars.update('augmentation bank', p.done, p.total);
    else if (p.phase === 'train') bars.update(`epoch ${p.epoch}/${p.epochs}`, p.step, p.steps, `loss ${p.loss.toFixed(4)}`);
    else if (p.phase === 'epoch') {
      bars.finish();
      process.stderr.write(
        `epoch ${p.record.epoch}: train MSE ${p.record.trainMse.toFixed(5)}  validation MSE ${p.record.validationMse.toFixed(5)}${p.best ? '  (best)' : ''}\n`,
      );
    }
  });
  bars.finish();
  if (v.json) process.stdout.write(JSON.stringify(card, null, 2) + '\n');
  else {
    process.stdout.write(
      `model written to ${resolve(out)}\n` +
        `  ${card.training.trainImages} training / ${card.training.validationImages} validation images, best epoch ${card.training.bestEpoch}\n` +
        `  validation MSE ${card.validation.mse.toFixed(5)} (untrained ${card.training.initialValidationMse.toFixed(5)}), ` +
        `Pearson ${card.validation.pearson.toFixed(3)}, Spearman ${card.validation.spearman.toFixed(3)} with SSIM\n`,
    );
  }
  return 0;
}

async function scan(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    train: { type: 'string' },
    generated: { type: 'string' },
    encoder: { type: 'string' },
    k: { type: 'string' },
    duplicate: { type: 'string' },
    similar: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  }, { model: 'encoder' });
  const v = parsed.values;
  if (wantsHelp(v, SCAN_HELP)) return 0;
  const trainDir = requireDir(v, 'train');
  const generatedDir = requireDir(v, 'generated');
  const { SHIPPED_MODEL_DIR } = await import('../../memorization/store.ts');
  const modelDir = typeof v.encoder === 'string' && v.encoder !== '' ? v.encoder : SHIPPED_MODEL_DIR;
  const out = typeof v.out === 'string' ? v.out : 'memorization-scan';
  const options: Record<string, number> = {};
  const k = numberFlag(v, 'k', { min: 1, max: 1000, integer: true });
  const dup = numberFlag(v, 'duplicate', { min: -1, max: 1 });
  const sim = numberFlag(v, 'similar', { min: -1, max: 1 });
  if (k !== undefined) options['k'] = k;
  if (dup !== undefined) options['duplicate'] = dup;
  if (sim !== undefined) options['similar'] = sim;
  const { scanMemorization } = await import('../../memorization/scan.ts');
  const { writeScanOutputs } = await import('../../memorization/report.ts');
  const bars = phaseBars(false);
  const result = await scanMemorization(trainDir, generatedDir, modelDir, options, (p) => bars.update(`${p.phase} ${p.set}`, p.done, p.total));
  bars.finish();
  for (const s of result.skipped) process.stderr.write(`skipped ${s.file}: ${s.reason}\n`);
  const { train, generated, ...plain } = result;
  const files = await writeScanOutputs(out, plain, train, generated);
  if (v.json) {
    process.stdout.write(JSON.stringify({ counts: plain.counts, files, matches: plain.matches.map((m) => ({ generated: m.generated, label: m.label, best: m.neighbours[0] })) }, null, 2) + '\n');
  } else {
    const c = plain.counts;
    process.stdout.write(`${plain.generatedImages} generated vs ${plain.trainImages} training images: ${c.Duplicate} Duplicate, ${c.Similar} Similar, ${c.Different} Different\n`);
    for (const m of plain.matches.filter((x) => x.label === 'Duplicate')) {
      process.stdout.write(`  Duplicate  ${m.generated} ~ ${m.neighbours[0]!.train}  cosine ${m.neighbours[0]!.cosine.toFixed(4)}\n`);
    }
    process.stdout.write(`wrote ${files.join(', ')}\n`);
  }
  return 0;
}

async function evaluate(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    images: { type: 'string' },
    volume: { type: 'string', multiple: true },
    encoder: { type: 'string' },
    'train-seconds': { type: 'string' },
    seeds: { type: 'string' },
    size: { type: 'string' },
    duplicates: { type: 'string' },
    similar: { type: 'string' },
    different: { type: 'string' },
    'no-retrieval': { type: 'boolean' },
    'no-baselines': { type: 'boolean' },
    'no-backbone': { type: 'boolean' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  const v = parsed.values;
  if (wantsHelp(v, EVAL_HELP)) return 0;
  const images = requireDir(v, 'images');
  const options: Record<string, unknown> = { images, volumes: (v.volume as string[] | undefined) ?? [], retrieval: v['no-retrieval'] !== true, baselines: v['no-baselines'] !== true };
  const size = numberFlag(v, 'size', { min: 32, max: 512, integer: true }) ?? 128;
  options['size'] = size;
  for (const key of ['duplicates', 'similar', 'different'] as const) {
    const n = numberFlag(v, key, { min: 2, max: 1e5, integer: true });
    if (n !== undefined) options[key] = n;
  }
  if (typeof v.seeds === 'string') {
    const seeds = v.seeds.split(',').map((x) => Number(x.trim()));
    if (seeds.some((x) => !Number.isInteger(x) || x < 0)) throw new BlindspotError('E_USAGE', `--seeds must be comma-separated integers >= 0, got "${v.seeds}"`);
    options['seeds'] = seeds;
  }
  const trainSeconds = numberFlag(v, 'train-seconds', { min: 1, max: 1e6 });
  const { benchmarkMarkdown, runMemorizationBenchmark } = await import('../../memorization/benchmark.ts');
  const { modelMethod, spatialDeepSsimMethod, untrainedBackboneMethod } = await import('../../memorization/benchmethods.ts');
  const { SHIPPED_MODEL_DIR, modelTrainingFiles } = await import('../../memorization/store.ts');
  const methods = v['no-backbone'] === true ? [] : [untrainedBackboneMethod(size)];
  const model = typeof v.encoder === 'string' ? v.encoder : 'shipped';
  if (model !== 'none') {
    const dir = model === 'shipped' ? SHIPPED_MODEL_DIR : model;
    methods.push(modelMethod(model === 'shipped' ? 'DeepSSIM, shipped model' : `DeepSSIM, model ${dir}`, dir, size));
    options['exclude'] = (await modelTrainingFiles(dir)).map((f) => f.sha256);
  }
  if (trainSeconds !== undefined) {
    methods.push(spatialDeepSsimMethod(`DeepSSIM spatial CNN trained per seed (64x64, ${trainSeconds} s)`, size, { size: 64, batchSize: 8, checkpointEvery: 25, timeBudgetS: trainSeconds, steps: 1e6 }));
  }
  const bars = phaseBars(false);
  const result = await runMemorizationBenchmark(options, methods, (p) => bars.update(`${p.phase}${p.seed !== undefined ? ` seed ${p.seed}` : ''}${p.method ? ` ${p.method}` : ''}`, p.done, p.total));
  bars.finish();
  const out = typeof v.out === 'string' ? v.out : 'memorization-eval';
  const md = benchmarkMarkdown(result);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'benchmark.md'), md);
  await writeFile(join(out, 'benchmark.json'), JSON.stringify(result, (_k, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toFixed(6)) : x), 2) + '\n');
  process.stdout.write(v.json ? JSON.stringify(result, null, 2) + '\n' : md + `\nwrote ${resolve(out)}/benchmark.json and benchmark.md\n`);
  return 0;
}
