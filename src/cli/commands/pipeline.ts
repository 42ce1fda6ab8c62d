/** `blindspot pipeline`: GT -> each upscaler x {notta, tta} -> run -> analyze, resumable. */
import { BlindspotError } from '../../errors.ts';
import { choiceFlag, numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { createProgress, type ProgressBar } from '../progress.ts';
import { UPSCALE_MODEL_NAMES } from '../../upscale/models.ts';
import {
  DEFAULT_PIPELINE_OPTIONS,
  runPipeline,
  type PipelinePath,
  type PipelineProgress,
} from '../../upscale/pipeline.ts';
import type { UpscaleModelName } from '../../upscale/models.ts';

export const summary = 'The whole study: GT -> upscalers x {notta, tta} -> run -> analyze (resumable)';

const D = DEFAULT_PIPELINE_OPTIONS;
const HELP = `Usage: blindspot pipeline --gt DIR --out DIR [--models a,b,c] [--paths notta,tta] [--scale 2]
                          [--tile N] [--backend auto|onnx|tfjs|wasm|cpu] [--intensity range|minmax] [--workers N]
                          [--columns core|full] [--no-analyze] [--json]

For every model and path: GT -> MATLAB bicubic 1/scale -> model (plain, or x8 dihedral TTA) -> PNG at GT size in
OUT/upscaled/<model>/<path>/ (existing outputs are kept, so an interrupted pipeline resumes); then
\`blindspot run\` into OUT/results (block table, per-image table, SHA-256 manifest) and \`blindspot analyze\`
(OUT/results/analysis: report.md, report.html, summary.json, plots).

Options:
  --gt DIR            folder of ground-truth images (required)
  --out DIR           output folder (required)
  --models LIST       comma-separated upscalers (default ${D.models.join(',')}); any of
                      ${UPSCALE_MODEL_NAMES.join(', ')}, or your onnx:FILE / ncnn:DIR
  --paths LIST        notta,tta (default both)
  --scale N           integer scale (default ${D.scale})
  --tile N            network tile size in LR pixels, 0 = none (default ${D.tile})
  --backend NAME      auto (default: ONNX Runtime for Real-ESRGAN, TF.js wasm for ESRGAN), onnx, tfjs = wasm, cpu
  --intensity MODE    network input mapping: range (default) or minmax (see blindspot upscale --help)
  --workers N         worker threads for the run stage, 0 = all cores (default 0)
  --columns SET       block columns: full (default) or core
  --no-analyze        stop after the run stage
  --json              print the result as JSON on stdout
  -h, --help          this help

Exit codes: 0 done, 1 some images or pairs failed (see the error logs), 2 usage error.`;

function list(raw: unknown, name: string): string[] | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new BlindspotError('E_USAGE', `--${name} needs a comma-separated list`);
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    gt: { type: 'string' },
    out: { type: 'string' },
    models: { type: 'string' },
    paths: { type: 'string' },
    scale: { type: 'string' },
    tile: { type: 'string' },
    backend: { type: 'string' },
    intensity: { type: 'string' },
    workers: { type: 'string' },
    columns: { type: 'string' },
    'no-analyze': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  if (parsed.positionals.length > 0)
    throw new BlindspotError('E_USAGE', `unexpected argument "${parsed.positionals[0]}" (see --help)`);
  if (typeof v.gt !== 'string' || typeof v.out !== 'string') {
    throw new BlindspotError('E_USAGE', '--gt DIR and --out DIR are required (see --help)');
  }
  const json = v.json === true;
  let bar: ProgressBar | undefined;
  let barKey = '';
  const onProgress = (p: PipelineProgress): void => {
    if (p.stage === 'upscale') {
      const key = `${p.model}/${p.path}`;
      if (key !== barKey) {
        bar?.finish();
        barKey = key;
        bar = createProgress(`[${p.step}/${p.steps}] upscale ${p.model} ${p.path}`, p.total, {
          unit: 'images',
          quiet: json,
        });
      }
      if (p.done > 0) bar!.update(p.done, p.file);
    } else if (p.stage === 'run') {
      if (barKey !== 'run') {
        bar?.finish();
        barKey = 'run';
        bar = createProgress('run', p.progress.pairsTotal, { unit: 'pairs', quiet: json });
      }
      bar!.update(p.progress.pairsDone);
    } else {
      bar?.finish();
      bar = undefined;
      barKey = 'analyze';
      if (!json) process.stderr.write('analyze ...\n');
    }
  };
  const result = await runPipeline(
    {
      gt: v.gt,
      out: v.out,
      models: list(v.models, 'models') as UpscaleModelName[] | undefined,
      paths: list(v.paths, 'paths') as PipelinePath[] | undefined,
      scale: numberFlag(v, 'scale', { min: 2, max: 8, integer: true }),
      tile: numberFlag(v, 'tile', { min: 0, integer: true }),
      backend: ((b) => (b === 'tfjs' ? 'wasm' : b))(choiceFlag(v, 'backend', ['auto', 'onnx', 'tfjs', 'wasm', 'cpu'] as const)),
      intensity: choiceFlag(v, 'intensity', ['range', 'minmax'] as const),
      workers: numberFlag(v, 'workers', { min: 0, integer: true }),
      columns: choiceFlag(v, 'columns', ['core', 'full'] as const),
      analyze: v['no-analyze'] !== true,
    },
    onProgress,
  );
  bar?.finish();
  const failedImages = result.upscaled.reduce((n, u) => n + u.failed.length, 0);
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    const lines = result.upscaled.map(
      (u) =>
        `  ${u.model.padEnd(14)} ${u.path.padEnd(6)} ${u.written} written, ${u.kept} kept, ${u.failed.length} failed, ${u.seconds.toFixed(1)} s`,
    );
    lines.push(
      `run: ${result.run.ok}/${result.run.pairs} pairs, ${result.run.blocks} blocks -> ${result.results}`,
      `time: upscale ${result.seconds.upscale.toFixed(1)} s, run ${result.seconds.run.toFixed(1)} s, analyze ${result.seconds.analyze.toFixed(1)} s`,
    );
    if (result.analysisFiles.length) lines.push(`report: ${result.results}/analysis/report.html`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return failedImages > 0 || result.run.failed > 0 ? 1 : 0;
}
