/** `blindspot analyze RESULTS`: DuckDB views, report.md/html, summary.json and plots under RESULTS/analysis. */
import { choiceFlag, numberFlag, parseFlags, positionals, wantsHelp } from '../args.ts';
import type { AnalyzeOptions } from '../../analysis/options.ts';

export const summary = 'Analyse a results folder: T10/T90, layers, regimes, attractors, persistence, report + plots';

const HELP = `Usage: blindspot analyze RESULTS [options]

Opens RESULTS/blocks/** and RESULTS/images/** with DuckDB (the union of all shards, no merge step), defines the
analysis views (thresholds, classified, layer_counts, regime_counts, attractor_counts, axis_shares, persistence,
layer_transitions, axis_transitions, headline) and writes RESULTS/analysis/: views.sql, params.json,
thresholds.parquet, summary.json, report.md, report.html (self-contained), plots/*.svg, MANIFEST.sha256.

Options (defaults: docs/method.md and the run's block options in run.json):
  --t10-quantile Q       T10, the Visible threshold, is this quantile of each configuration's block SSIM
                         (non-border ROI blocks; default 0.1)
  --t90-quantile Q       T90, the Hidden threshold, is this quantile (default 0.9); diagnose takes a fixed
                         T90 for one pair with --t90 T
  --hidden-r R           AC hidden damage: r_ac >= R (default 1)
  --hidden-dmu D         DC hidden damage: |dmu| >= D, 8-bit scale (default 8)
  --kappa-membrane K     Membrane regime below this kappa (default 0.5)
  --bins N               histogram bins (default 40)
  --pattern-thresholds T percentile (default: per-run quantiles, as the engine) | fixed (its example values) for
                         the 26-pattern hallucination screen (docs/metrics.md)
  --pattern-local-quality S
                         patch (default: 64x64 local_quality_*) | block (the run's blk_*) for the screen and LFV
  --json                 print summary.json's headline and thresholds on stdout
  -h, --help             this help

Older spellings, still accepted: --visible-quantile Q (alias of --t10-quantile), --hidden-quantile Q (alias of
--t90-quantile).

Exit codes: 0 ok, 2 usage error or not a results folder.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    't10-quantile': { type: 'string' },
    't90-quantile': { type: 'string' },
    'hidden-r': { type: 'string' },
    'hidden-dmu': { type: 'string' },
    'kappa-membrane': { type: 'string' },
    bins: { type: 'string' },
    'pattern-thresholds': { type: 'string' },
    'pattern-local-quality': { type: 'string' },
    json: { type: 'boolean' },
  }, { 'visible-quantile': 't10-quantile', 'hidden-quantile': 't90-quantile' });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  const [dir] = positionals(parsed, ['results']);
  const o: Partial<AnalyzeOptions> = {};
  const set = <K extends keyof AnalyzeOptions>(k: K, x: number | undefined): void => {
    if (x !== undefined) o[k] = x as AnalyzeOptions[K];
  };
  set('visibleQuantile', numberFlag(v, 't10-quantile', { min: 0, max: 1 }));
  set('hiddenQuantile', numberFlag(v, 't90-quantile', { min: 0, max: 1 }));
  set('hiddenR', numberFlag(v, 'hidden-r', { min: 0 }));
  set('hiddenDmu', numberFlag(v, 'hidden-dmu', { min: 0 }));
  set('kappaMembrane', numberFlag(v, 'kappa-membrane', { min: 0, max: 1 }));
  set('histogramBins', numberFlag(v, 'bins', { min: 2, max: 1000, integer: true }));
  const thresholds = choiceFlag(v, 'pattern-thresholds', ['percentile', 'fixed'] as const);
  if (thresholds) o.patternThresholds = thresholds;
  const localQuality = choiceFlag(v, 'pattern-local-quality', ['patch', 'block'] as const);
  if (localQuality) o.patternLocalQuality = localQuality;
  const { analyze } = await import('../../analysis/analyze.ts');
  const { parquetReadError } = await import('../../store/duckdbErrors.ts');
  const r = await analyze(dir!, o).catch((e: unknown) => {
    throw parquetReadError(e, dir!); // a damaged part file: one line, not DuckDB's stack
  });
  if (v.json === true) {
    process.stdout.write(JSON.stringify({ thresholds: r.summary.thresholds, headline: r.summary.headline }, null, 2) + '\n');
  } else {
    process.stdout.write(`wrote ${r.files.length} files to ${dir}/analysis (report.md, report.html, summary.json, plots/)\n`);
  }
  return 0;
}
