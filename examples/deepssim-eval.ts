/**
 * The DeepSSIM benchmark on real brain MRI (fixed seed): 206 slices of /work/shared/data/medical/brain2d/128
 * (incl. the web-collected btd_* slices, used locally only, never committed) plus axial slices of the MNI ICBM152
 * T1, ANTsPy ch2 and nibabel example4d volumes, whose neighbouring slices are the natural "Similar" images.
 *
 *   node --import tsx examples/deepssim-eval.ts [DATA_DIR] [OUT_DIR] [trainableFrom] [epochs]
 *
 * Writes OUT_DIR/eval.json and eval.md (default examples/output/deepssim-eval).
 */
import { join } from 'node:path';
import { createProgress, type ProgressBar } from '../src/cli/progress.ts';
import { evalMarkdown, evaluateMemorization, writeEvalOutputs } from '../src/memorization/evaluate.ts';

const data = process.argv[2] ?? '/work/shared/data/medical';
const out = process.argv[3] ?? 'examples/output/deepssim-eval';
const trainableFrom = process.argv[4] ?? 'head';
const epochs = Number(process.argv[5] ?? 10);

let bar: { phase: string; bar: ProgressBar } | undefined;
const t0 = performance.now();
const result = await evaluateMemorization(
  {
    images: join(data, 'brain2d/128'),
    volumes: [
      join(data, 'brain/mni_icbm152_t1_09a_converted.nii.gz'),
      join(data, 'brain2d/orig/antspy_ch2.nii.gz'),
      join(data, 'brain/nibabel_example4d.nii.gz'),
    ],
    seed: 42,
    trainableFrom,
    epochs,
    // 4 augmented variants per training image keep the run within ~10 min on 2 shared cores.
    variantsPerImage: 4,
  },
  (p) => {
    const phase = p.phase === 'train' ? `epoch ${p.epoch}` : p.phase;
    if (p.phase === 'epoch') {
      process.stderr.write(`epoch ${p.record.epoch}: train MSE ${p.record.trainMse.toFixed(5)} validation MSE ${p.record.validationMse.toFixed(5)}\n`);
      return;
    }
    if (bar?.phase !== phase) {
      bar?.bar.finish();
      bar = { phase, bar: createProgress(phase, p.phase === 'train' ? p.steps : p.total, { lineIntervalMs: 15000 }) };
    }
    bar.bar.update(p.phase === 'train' ? p.step : p.done);
  },
);
bar?.bar.finish();
await writeEvalOutputs(out, result);
process.stdout.write(evalMarkdown(result));
process.stderr.write(`total ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
