/** `blindspot verify RESULTS`: re-hash every file listed in the folder's MANIFEST*.sha256 files. */
import { parseFlags, positionals, wantsHelp } from '../args.ts';
import { createProgress } from '../progress.ts';
import { verify, verifyPassed } from '../../store/manifest.ts';

export const summary = 'Re-check a results folder against its SHA-256 manifest (missing, changed, extra files)';

const HELP = `Usage: blindspot verify RESULTS [--json]

Re-hashes every file listed in RESULTS/MANIFEST.sha256 (and the other manifests blindspot writes: one per shard,
analysis/MANIFEST.sha256) and names each missing, changed or extra file. Symbolic links and other non-regular
files (LINK) and manifests anywhere else, e.g. inside blocks/ (FOREIGN), fail the check: they are never followed
or trusted. The manifests are also checkable with \`cd RESULTS && sha256sum -c MANIFEST.sha256\`.

Options:
  --json        print the report as JSON on stdout
  -h, --help    this help

Exit codes: 0 all files match, 1 something is missing, changed or extra, 2 usage error or no manifest.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, { json: { type: 'boolean' } });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [dir] = positionals(parsed, ['results']);
  const json = parsed.values.json === true;
  let bar: ReturnType<typeof createProgress> | undefined;
  const report = await verify(dir!, (done, total) => {
    bar ??= createProgress('verify', total, { unit: 'files', quiet: json });
    bar.update(done);
  });
  bar?.finish();
  const passed = verifyPassed(report);
  if (json) {
    process.stdout.write(JSON.stringify(Object.assign({ passed }, report), null, 2) + '\n');
  } else {
    const lines: string[] = [];
    for (const p of report.missing) lines.push(`MISSING  ${p}`);
    for (const p of report.changed) lines.push(`CHANGED  ${p}`);
    for (const p of report.extra) lines.push(`EXTRA    ${p}`);
    for (const p of report.special) lines.push(`LINK     ${p}`);
    for (const p of report.foreign) lines.push(`FOREIGN  ${p}`);
    const more = (report.special.length ? `, ${report.special.length} link(s)/special` : '') + (report.foreign.length ? `, ${report.foreign.length} foreign manifest(s)` : '');
    lines.push(
      `${passed ? 'OK' : 'FAILED'}: ${report.ok} file(s) match; ${report.missing.length} missing, ${report.changed.length} changed, ${report.extra.length} extra${more} (${report.manifests.join(', ')})`,
    );
    process.stdout.write(lines.join('\n') + '\n');
  }
  return passed ? 0 : 1;
}
