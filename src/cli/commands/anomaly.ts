/**
 * `blindspot anomaly`: the Anomaly Score (AS, 2-D KS between the (complexity, vulnerability) sets of real and
 * generated images) and AS-i per image. A thin shell over src/anomaly (TF.js loads only when this runs).
 */
import { BlindspotError } from '../../errors.ts';
import { choiceFlag, numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { createProgress, type ProgressBar } from '../progress.ts';

export const summary =
  'Anomaly Score of generated vs real images (complexity, vulnerability, 2-D KS) and AS-i per image';

const HELP = `Usage: blindspot anomaly --real DIR --generated DIR [options]
       blindspot anomaly --images DIR [options]

Anomaly Score (Hwang, Lee & Lee, CVPR 2024, arXiv:2312.10634). For every image: complexity C (mean angle of the
feature trajectory along a random unit-norm direction, 11 points), vulnerability V (feature shift under an
L-inf PGD attack, eps 8/255, step 2/255, 10 steps) and AS-i = V / C (lower = more natural). With --real and
--generated: AS = the 2-D Kolmogorov-Smirnov statistic between the two (C, V) point sets (lower = closer to
real), with its p-value; below n1*n2/(n1+n2) = 20 a warning and a permutation p are added, and a set needs at
least 2 images. Cost: ~2.2 s of one CPU core per image with MobileNetV2, ~27 s with InceptionV3 (docs/anomaly.md).

Options:
  --real DIR            folder of real images
  --generated DIR       folder of generated images
  --images DIR          AS-i of one folder alone (instead of --real/--generated)
  --extractor E         mobilenet_v2 (default; nsfwjs MobileNetV2, 1280-d pooled features) | inception_v3
                        (nsfwjs InceptionV3, 2048-d; ~6x slower) | dinov2:FILE (the paper's DINOv2 ViT-S/14,
                        384-d CLS token at 224², from the model.safetensors of Hugging Face facebook/dinov2-small,
                        downloaded by you; nothing is fetched) | a folder with a TF.js model.json taking [0,1]
                        images (optional card.json: {"name", "inputSize", "channels", "outputLayer"}; e.g. a
                        DeepSSIM encoder folder)
  --n N                 at most N images per folder, first in file-name order (default: all)
  --seed S              seed of the noise directions and PGD starts (default 0)
  --official-compat     use the official code's PGD update (it descends the loss; the paper's attack ascends)
  --batch B             images per PGD batch (default 4)
  --backend B           wasm (default) | cpu
  --out DIR             write scores.csv, scatter.svg/.png, ranking.html, result.json (default anomaly-report)
  --json                print the result as JSON on stdout
  -h, --help            show this help

Exit codes: 0 ok, 2 bad input (one line naming the file or option).`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    real: { type: 'string' },
    generated: { type: 'string' },
    images: { type: 'string' },
    extractor: { type: 'string' },
    n: { type: 'string' },
    seed: { type: 'string' },
    'official-compat': { type: 'boolean' },
    batch: { type: 'string' },
    backend: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (wantsHelp(parsed.values, HELP)) return 0;
  if (parsed.positionals.length > 0)
    throw new BlindspotError('E_USAGE', `unexpected argument "${parsed.positionals[0]}" (see --help)`);
  const v = parsed.values;
  const real = v['real'] as string | undefined;
  const generated = v['generated'] as string | undefined;
  const images = v['images'] as string | undefined;
  if (images !== undefined && (real !== undefined || generated !== undefined)) {
    throw new BlindspotError('E_USAGE', 'give either --images DIR or --real DIR --generated DIR, not both');
  }
  if (images === undefined && (real === undefined || generated === undefined)) {
    throw new BlindspotError('E_USAGE', 'need --real DIR and --generated DIR (or --images DIR); see --help');
  }
  const json = v['json'] === true;
  const options = {
    extractor: v['extractor'] as string | undefined,
    n: numberFlag(v, 'n', { min: 0, integer: true }),
    seed: numberFlag(v, 'seed', { integer: true }),
    officialCompat: v['official-compat'] === true,
    batchSize: numberFlag(v, 'batch', { min: 1, max: 64, integer: true }),
    backend: choiceFlag(v, 'backend', ['wasm', 'cpu'] as const),
  };
  const outDir = (v['out'] as string | undefined) ?? 'anomaly-report';
  const bars = new Map<string, ProgressBar>();
  const onProgress = (p: { set: string; done: number; total: number }) => {
    let bar = bars.get(p.set);
    if (!bar) {
      bar = createProgress(`anomaly ${p.set}`, p.total, { unit: 'images', quiet: json });
      bars.set(p.set, bar);
    }
    bar.update(p.done);
    if (p.done === p.total) bar.finish();
  };
  const { listImages, createAnomalySession, asFromSets } = await import('../../anomaly/score.ts');
  const { writeAnomalyReport } = await import('../../anomaly/report.ts');
  const { resolveAnomalyOptions } = await import('../../anomaly/options.ts');
  const o = resolveAnomalyOptions(
    Object.fromEntries(Object.entries(options).filter(([, x]) => x !== undefined)),
  );
  // List (and so check) the folders before loading TF.js.
  const lists =
    images !== undefined
      ? [await listImages(images, o.n)]
      : [await listImages(real!, o.n), await listImages(generated!, o.n)];
  // AS needs 2 images per set: refuse before loading TF.js (asFromSets checks again after skipped images).
  if (images === undefined) {
    for (const [i, label] of ['real', 'generated'].entries()) {
      if (lists[i]!.length < 2)
        throw new BlindspotError(
          'E_TOO_SMALL',
          `AS needs at least 2 ${label} images, got 1`,
          i ? generated : real,
        );
    }
  }
  const session = await createAnomalySession(o);
  const report = (msg: string) => {
    if (!json) process.stderr.write(msg + '\n');
  };
  try {
    const labels = images !== undefined ? ['images'] : ['real', 'generated'];
    const sets = [];
    for (const [i, items] of lists.entries()) {
      // the bar starts when the set does (the first report comes after a whole batch: a bar created then
      // would show thousands of images/s and "done in 00:00")
      bars.set(labels[i]!, createProgress(`anomaly ${labels[i]}`, items.length, { unit: 'images', quiet: json }));
      const scores = await session.score(items, labels[i]!, onProgress);
      for (const e of scores.errors) process.stderr.write(`blindspot anomaly: skipped ${e.message}\n`);
      sets.push({ label: labels[i]!, scores });
    }
    const as =
      sets.length === 2 ? asFromSets(sets[0]!.scores, sets[1]!.scores, real, generated, o.seed) : undefined;
    if (as?.warning) process.stderr.write(`blindspot anomaly: warning: ${as.warning}\n`);
    if (sets.every((s) => s.scores.images.length === 0))
      throw new BlindspotError('E_EMPTY', 'no image could be scored', images);
    const files = await writeAnomalyReport(outDir, {
      sets,
      extractor: session.extractor,
      seed: o.seed,
      officialCompat: o.officialCompat,
      ...(as ? { as } : {}),
      extra: { settings: session.settings, passesPerImage: session.passes },
    });
    report(`wrote ${files.join(', ')}`);
    const ex = session.extractor;
    if (json) {
      const out = {
        ...(as ? { ...as } : {}),
        sets: Object.fromEntries(
          sets.map((s) => [s.label, { images: s.scores.images, errors: s.scores.errors }]),
        ),
        extractor: ex,
        seed: o.seed,
        officialCompat: o.officialCompat,
        out: outDir,
      };
      process.stdout.write(JSON.stringify(out) + '\n');
    } else {
      const lines: string[] = [];
      if (as)
        lines.push(
          `AS = ${as.as.toFixed(4)}  (2-D KS D, p = ${as.p.toPrecision(4)}` +
            (as.pPermutation !== undefined ? `, permutation p = ${as.pPermutation.toPrecision(4)}` : '') +
            '; lower = closer to real)',
        );
      for (const s of sets) {
        const asi = s.scores.images.map((i) => i.asi).filter(Number.isFinite);
        const mean = asi.reduce((a, b) => a + b, 0) / Math.max(1, asi.length);
        lines.push(
          `  ${s.label}: ${s.scores.images.length} image(s), mean AS-i ${mean.toPrecision(4)}${s.scores.errors.length ? `, ${s.scores.errors.length} skipped` : ''}`,
        );
      }
      lines.push(
        `  extractor ${ex.name} (sha256 ${ex.sha256.slice(0, 16)}…), seed ${o.seed}${o.officialCompat ? ', official-compat PGD' : ''}`,
      );
      lines.push(`  report: ${outDir}/ranking.html`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  } finally {
    session.dispose();
  }
}
