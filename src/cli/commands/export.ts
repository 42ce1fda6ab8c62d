/**
 * `blindspot export RESULTS OUT`: one view of a results folder written flat (Parquet or CSV), with the derived
 * columns and labels the stored Parquet lacks (kappa, layer, regime, cause, attractor, se_max, ...), so pandas or
 * Polars read it without DuckDB or views.sql (docs/python.md).
 */
import { extname, resolve } from 'node:path';
import { BlindspotError } from '../../errors.ts';
import { parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary = 'Write one view (default: classified, every block with its labels) flat to Parquet or CSV for pandas/Polars';

const HELP = `Usage: blindspot export RESULTS OUT.parquet|OUT.csv [--view NAME] [--where "SQL condition"]

Writes one analysis view of RESULTS as a single flat file: Parquet (zstd) or CSV, by OUT's extension. The default
view, classified, is one row per block with every stored and derived column (kappa, r_ac, se_max, dmu_max, ...)
and the labels of both definitions (layer, regime, cause, attractor, single_axis, layer_published,
regime_published); model, path and image are plain string columns. Other views: the names \`blindspot sql\`
lists (images, headline, layer_counts, ...).

Options:
  --view NAME     the view to write (default classified)
  --where COND    keep the rows where COND holds, e.g. "model = 'esrgan' AND layer = 'Hidden'"
  -h, --help      this help

Example:
  blindspot export RESULTS blocks.parquet --where "layer = 'Hidden'"
  python -c "import pandas as pd; print(pd.read_parquet('blocks.parquet').groupby(['model', 'regime']).size())"

Exit codes: 0 ok, 2 usage error, not a results folder, or a bad view/condition (one line).`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, { view: { type: 'string' }, where: { type: 'string' } });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  const [dir, out] = positionals(parsed, ['results', 'out']) as [string, string];
  const ext = extname(out).toLowerCase();
  if (ext !== '.parquet' && ext !== '.csv') throw new BlindspotError('E_USAGE', `OUT must end in .parquet or .csv (got ${out})`);
  const view = typeof v.view === 'string' ? v.view : 'classified';
  const { openAnalysis } = await import('../../analysis/open.ts');
  const h = await openAnalysis(dir);
  try {
    // only a view the analysis defined (the name goes into SQL)
    const views = [...h.viewsSql.matchAll(/CREATE OR REPLACE VIEW (\w+) AS/g)].map((m) => m[1]!);
    if (!views.includes(view)) throw new BlindspotError('E_USAGE', `no view "${view}"; views: ${views.join(', ')}`);
    const where = typeof v.where === 'string' && v.where.trim() !== '' ? ` WHERE ${v.where}` : '';
    if (/;/.test(where)) throw new BlindspotError('E_USAGE', '--where is one condition (no ";")');
    const file = resolve(out).replaceAll("'", "''");
    const format = ext === '.csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet, COMPRESSION zstd';
    const order = ['classified', 'blocks', 'blocks_stored'].includes(view) ? ' ORDER BY model, path, image, "row", col' : '';
    try {
      // model/path come from Hive partitions; cast them to plain strings so readers see no categorical dictionary
      await h.connection.run(`COPY (SELECT * REPLACE (model::VARCHAR AS model, path::VARCHAR AS path) FROM ${view}${where}${order}) TO '${file}' (${format})`);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0]!;
      if (/Binder Error.*REPLACE/i.test(msg) || /not found in FROM clause/i.test(msg)) {
        await h.connection.run(`COPY (SELECT * FROM ${view}${where}) TO '${file}' (${format})`).catch((e2: unknown) => {
          throw new BlindspotError('E_USAGE', `export failed: ${(e2 as Error).message.split('\n')[0]}`);
        });
      } else throw new BlindspotError('E_USAGE', `export failed: ${msg}`);
    }
    const [row] = await (await h.connection.runAndReadAll(`SELECT count(*) FROM ${view}${where}`)).getRows();
    process.stdout.write(`wrote ${String(row?.[0] ?? '?')} rows of ${view} to ${resolve(out)}\n`);
    return 0;
  } finally {
    h.close();
  }
}
