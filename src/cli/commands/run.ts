/** `blindspot run`: block diagnostics over a dataset into a resumable, hashed RESULTS folder. */
import { BlindspotError } from '../../errors.ts';
import { READ_IMAGE_FLAGS, READ_IMAGE_FLAGS_HELP, readImageOptionsFromFlags } from '../../image/flags.ts';
import { choiceFlag, numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { createProgress, type ProgressBar } from '../progress.ts';
import { parseModelFlag, parseShard, readRunFile, type RunOptions } from '../../dataset/options.ts';
import { DEFINITION_FLAG_SPECS, definitionFlags } from './diagnose.ts';

export const summary = 'Diagnose every (GT, model output) pair of a dataset into Parquet + SHA-256 manifest (resumable)';

const HELP = `Usage: blindspot run --gt DIR --model NAME[:notta|:tta]=DIR [--model ...] --out RESULTS [options]
       blindspot run --run-file run.yaml [--out RESULTS] [options]

Pairs each GT image with each model's output by file stem (an output may carry a suffix after "_", "-", "." or
space: img_1_x2.png pairs with img_1.png; longest GT stem wins), runs the block engine on every pair over worker
threads, and writes RESULTS/ (blocks/model=NAME/path=notta|tta/part-NNNNN.parquet, images.parquet, errors.jsonl,
run.json, MANIFEST.sha256; layout in docs/dataset-runs.md). Killed runs resume with the same command and end
byte-identical to an uninterrupted run. One writer per folder (per shard): a run into a folder that another
live process is writing exits 2 (E_LOCKED); a lock left by a killed process on this host is taken over. Shards
of one run (same options, --shard K/N) may write into one folder at the same time.

Options:
  --gt DIR                 folder of ground-truth images
  --model NAME=DIR         the outputs of upscaler NAME (path notta; NAME:tta=DIR for its TTA outputs);
                           repeatable. NAME is the model column of the results, as upscale --model NAME
  --run-file FILE          JSON or YAML run file declaring gt, models (name, notta, tta) and options
  --out DIR                results folder (required unless the run file names one)
  --block N                block size in pixels (default 8)
  --mask-dir DIR           region-of-interest masks, one per GT stem (non-zero = inside); default: an automatic
                           ROI from each GT (air, collimator, burned-in labels left out; docs/diagnose.md)
  --roi auto|all           automatic ROI (default) or every block
  --display-width W        unit of grey-level thresholds and floors: auto (default: DICOM VOI window, else the
                           GT's p0.5..p99.5 over the ROI), data-range, or a number
  --floor F                AC damage floor, display grey levels (default 2, and >= 1.5x the GT's noise sd);
                           --floor 0 also drops the noise floor and the visibility rule
  --visible-ac V|off       texture errors >= V display levels count even where the GT has texture (default 4)
  --published              the published, floor-less definition (--roi all --display-width data-range --floor 0)
                           (analyze reports both definitions from any run; these flags set the stored facts)
  --columns core|full      block column set (default full). Parts store the measured columns only (30 bytes
                           per block row for full); the others (kappa, r_ac, l, c, s, ...) are derived by the
                           \`blocks\` view of blindspot sql / analyze
  --csv                    also write one CSV per pair under csv/
  --workers N              worker threads (default 0 = all cores)
  --shard K/N              run only shard K of N (parts whose index is K-1 mod N)
  --part-size N            images per part file (default 32)
  --json                   print the run summary as JSON on stdout
  --no-battery             leave out the published engine's metric battery (sharpness, noise, dE, local quality,
                           ...; docs/metrics.md), which is stored in images.parquet for every pair by default (it
                           makes a run take ~1.15-1.2x as long); its columns are then NULL
  --battery                the battery on (the default; also turns on a run file's battery: false)
  --lpips FILE             LPIPS (AlexNet) ONNX model for the battery's lpips column (implies --battery)
  --clip FILE              CLIP image-encoder ONNX model for clip_similarity (implies --battery)
  -h, --help               this help

${READ_IMAGE_FLAGS_HELP}
  (run file: image: { frame, axis, slice, volume, rescale }; the same for every GT and test image)

Exit codes: 0 all pairs done, 1 some pairs failed (see errors.jsonl), 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    gt: { type: 'string' },
    model: { type: 'string', multiple: true },
    'run-file': { type: 'string' },
    out: { type: 'string' },
    block: { type: 'string' },
    columns: { type: 'string' },
    csv: { type: 'boolean' },
    workers: { type: 'string' },
    shard: { type: 'string' },
    'part-size': { type: 'string' },
    json: { type: 'boolean' },
    'mask-dir': { type: 'string' },
    'no-battery': { type: 'boolean' },
    battery: { type: 'boolean' },
    lpips: { type: 'string' },
    clip: { type: 'string' },
    ...DEFINITION_FLAG_SPECS,
    ...READ_IMAGE_FLAGS,
  });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  if (parsed.positionals.length > 0) throw new BlindspotError('E_USAGE', `unexpected argument "${parsed.positionals[0]}" (see --help)`);

  const options: Partial<RunOptions> = typeof v['run-file'] === 'string' ? await readRunFile(v['run-file']) : {};
  if (typeof v.gt === 'string') options.gt = v.gt;
  const models = (v.model as string[] | undefined)?.map(parseModelFlag);
  if (models && models.length > 0) options.models = models;
  if (typeof v.out === 'string') options.out = v.out;
  const block = numberFlag(v, 'block', { min: 7, max: 4096, integer: true });
  if (block !== undefined) options.diagnose = { ...(options.diagnose ?? {}), blockSize: block };
  if (v.mask !== undefined) throw new BlindspotError('E_USAGE', 'run takes --mask-dir DIR (one mask per GT stem), not --mask');
  const definition = definitionFlags(v);
  if (Object.keys(definition).length > 0) options.diagnose = { ...(options.diagnose ?? {}), ...definition };
  if (typeof v['mask-dir'] === 'string') options.maskDir = v['mask-dir'];
  if (v['no-battery'] === true) {
    if (typeof v.lpips === 'string' || typeof v.clip === 'string') throw new BlindspotError('E_USAGE', '--no-battery turns LPIPS and CLIP off too: drop --lpips/--clip');
    options.battery = null;
  } else if (v.battery === true || typeof v.lpips === 'string' || typeof v.clip === 'string') {
    options.battery = { ...(options.battery ?? {}), ...(typeof v.lpips === 'string' ? { lpips: v.lpips } : {}), ...(typeof v.clip === 'string' ? { clip: v.clip } : {}) };
  }
  const image = readImageOptionsFromFlags(v);
  if (Object.keys(image).length > 0) options.image = { ...(options.image ?? {}), ...image };
  const columns = choiceFlag(v, 'columns', ['core', 'full'] as const);
  if (columns) options.columns = columns;
  if (v.csv === true) options.csv = true;
  const workers = numberFlag(v, 'workers', { min: 0, max: 256, integer: true });
  if (workers !== undefined) options.workers = workers;
  if (typeof v.shard === 'string') options.shard = parseShard(v.shard);
  const partSize = numberFlag(v, 'part-size', { min: 1, max: 100000, integer: true });
  if (partSize !== undefined) options.partSize = partSize;
  if (options.gt === undefined) throw new BlindspotError('E_USAGE', 'missing --gt DIR (or a run file with gt)');
  if (options.models === undefined) throw new BlindspotError('E_USAGE', 'missing --model NAME=DIR (or a run file with models)');
  if (options.out === undefined) throw new BlindspotError('E_USAGE', 'missing --out DIR');

  const json = v.json === true;
  const { runDataset } = await import('../../dataset/run.ts');
  let bar: ProgressBar | undefined;
  const start = performance.now();
  let firstBlocks = -1;
  const summaryOut = await runDataset(options, {
    onProgress(p) {
      bar ??= createProgress('run', p.pairsTotal, { unit: 'pairs', quiet: json });
      if (firstBlocks < 0) firstBlocks = p.blocksDone;
      const seconds = (performance.now() - start) / 1000;
      const bps = seconds > 0 ? (p.blocksDone - firstBlocks) / seconds : 0;
      bar.update(p.pairsDone, `${(bps / 1000).toFixed(1)}k blocks/s${p.pairsFailed ? `, ${p.pairsFailed} failed` : ''}${p.pairsResumed ? `, ${p.pairsResumed} resumed` : ''}`);
    },
  });
  bar?.finish();
  if (json) {
    process.stdout.write(JSON.stringify(summaryOut, null, 2) + '\n');
  } else if (summaryOut.alreadyComplete) {
    process.stdout.write(`${options.out}: already complete (${summaryOut.ok} pairs, ${summaryOut.failed} failed); see ${summaryOut.manifest}\n`);
  } else {
    process.stdout.write(
      `${summaryOut.ok}/${summaryOut.pairs} pairs ok, ${summaryOut.failed} failed${summaryOut.resumed ? ` (${summaryOut.resumed} resumed)` : ''}; ` +
        `${summaryOut.blocks} block rows, ${summaryOut.bytesPerBlockRow.toFixed(1)} bytes/row; ${summaryOut.files} files in ${summaryOut.manifest}` +
        (summaryOut.failed ? `; errors in ${summaryOut.errorsFile}` : '') +
        '\n',
    );
  }
  return summaryOut.failed > 0 ? 1 : 0;
}
