/**
 * The reproduction table of docs/reproduction.md from analysed RESULTS folders: per configuration, the headline
 * (ROI, floors, display units; DESIGN §3c) beside the published definition (every block, no floor), with the
 * Silent share of Hidden Persistent, attractor shares, the border share of Visible Collapse, AC/DC Hidden counts and
 * the blind-spot magnitude. Run `blindspot analyze` on each folder first.
 *
 *   node --import tsx examples/reproduction-table.ts RESULTS [RESULTS ...]
 */
import { queryResults } from '../src/index.ts';

const pct = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '–');
const num = (v: unknown, d = 1): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');

export async function reproductionTable(dirs: string[]): Promise<string> {
  const out: string[] = [];
  out.push(
    '| results | model | path | T90 (ROI) | Hidden (ROI, floors) | AC / DC | Silent of Hidden Persistent | None / Single / Multi | Visible on border | se_max median (display levels) | ROI blocks blind at the floor | T90 published | Hidden published | Silent of Hidden Persistent, published (study: 95.30%) | None / Single / Multi, published |',
    '|---|---|---|---|---:|---|---:|---|---:|---:|---:|---|---:|---:|---|',
  );
  for (const dir of dirs) {
    const rows = await queryResults(dir, 'SELECT * FROM headline ORDER BY model, path');
    for (const r of rows) {
      out.push(
        `| ${dir.split('/').slice(-2).join('/')} | ${String(r.model)} | ${String(r.path)} | ${num(r.t90, 4)}${String(r.t90_source).startsWith('fallback') ? ' (fallback)' : ''} | ${String(r.hidden_blocks)} | ${String(r.hidden_ac_blocks)} / ${String(r.hidden_dc_blocks)} | ${pct(r.hidden_persistent_silent_share)} (${String(r.hidden_persistent_blocks)}) | ${pct(r.hidden_none_share)} / ${pct(r.hidden_single_share)} / ${pct(r.hidden_multi_share)} | ${pct(r.visible_border_share)} | ${num(r.se_max_median)} | ${pct(r.blind_at_floor_share)} | ${num(r.t90_published, 4)} | ${String(r.hidden_blocks_published)} | ${pct(r.hidden_persistent_silent_share_published)} (${String(r.hidden_persistent_blocks_published)}) | ${pct(r.hidden_none_share_published)} / ${pct(r.hidden_single_share_published)} / ${pct(r.hidden_multi_share_published)} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(await reproductionTable(process.argv.slice(2)));
}
