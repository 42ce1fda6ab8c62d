/** `blindspot sql RESULTS "query"`: run SQL against the analysis views of a results folder. */
import { BlindspotError } from '../../errors.ts';
import { parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary = 'Run a SQL query against the DuckDB views of a results folder (table, --json or --csv)';

const HELP = `Usage: blindspot sql RESULTS "QUERY" [--json | --csv] [--unconfined]

Runs QUERY in DuckDB with the analysis views defined over RESULTS (see docs/dataset-runs.md): blocks (every
block column: the stored ones plus those derived from them), blocks_stored (the Parquet as stored), images,
params, thresholds, classified (one row per block with layer, regime, cause, attractor, single_axis), block_cube and
pair_cube (the class-combination counts the count views read), layer_counts,
regime_counts, attractor_counts, axis_shares, persistence, layer_transitions, axis_transitions, headline.
T10/T90 come from RESULTS/analysis/thresholds.parquet when \`blindspot analyze\` has run (fast), else they are
computed by the query.

Example:
  blindspot sql RESULTS "SELECT model, path, layer, count(*) FROM classified GROUP BY ALL ORDER BY ALL"

The query runs read-only and confined to RESULTS: one SELECT statement (also DESCRIBE, SHOW, SUMMARIZE, FROM ...);
files only under RESULTS (read_parquet('/abs/RESULTS/...') works, other paths do not); no COPY, ATTACH,
INSTALL, SET or CREATE; no network. --unconfined runs full DuckDB instead (any file, writes, several
statements): only for queries you wrote yourself.

Options:
  --json        rows as a JSON array of objects
  --csv         rows as CSV with a header
  --unconfined  no read-only confinement (full DuckDB: reads and writes any file, network extensions)
  -h, --help    this help

Exit codes: 0 ok, 2 usage error, not a results folder, or a SQL error (its first line is printed).`;

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : cell(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, { json: { type: 'boolean' }, csv: { type: 'boolean' }, unconfined: { type: 'boolean' } });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  const [dir, query] = positionals(parsed, ['results', 'query']);
  if (v.json && v.csv) throw new BlindspotError('E_USAGE', 'choose one of --json and --csv');
  const { openAnalysis } = await import('../../analysis/open.ts');
  const h = await openAnalysis(dir!);
  const { confineToResults } = await import('../../analysis/confine.ts');
  const confined = v.unconfined === true ? undefined : await confineToResults(h.connection, h.dir).catch((e: unknown) => {
    h.close();
    throw e;
  });
  try {
    let reader;
    if (confined) {
      reader = await confined.query(query!);
    } else {
      try {
        reader = await h.connection.runAndReadAll(query!);
      } catch (e) {
        throw new BlindspotError('E_USAGE', `SQL error: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const names = reader.columnNames();
    const rows = reader.getRows();
    if (v.json) {
      const objs = rows.map((r) => Object.fromEntries(r.map((x, i) => [names[i], typeof x === 'bigint' ? Number(x) : typeof x === 'object' && x !== null ? cell(x) : x])));
      process.stdout.write(JSON.stringify(objs, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n');
    } else if (v.csv) {
      process.stdout.write([names.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n');
    } else {
      const text = [names, ...rows.map((r) => r.map(cell))];
      const widths = names.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
      const line = (r: string[]): string => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
      process.stdout.write([line(names), widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1).map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n');
    }
  } finally {
    h.close();
    confined?.dispose();
  }
  return 0;
}
