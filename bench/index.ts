/**
 * `npm run bench`: runs every bench/*.ts file (except this one) in turn, each in its own Node process so one
 * benchmark's JIT state and heap do not colour the next. `npm run bench -- ssim` runs only files whose name
 * contains "ssim". Helper modules that are not benchmarks (worker scripts, shared code) are skipped when their
 * name starts with `_` or ends with `-worker.ts`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.d.ts'))
  .filter((f) => !f.startsWith('_') && !f.endsWith('-worker.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  process.stderr.write(
    `bench: no benchmark files${filters.length ? ` matching ${filters.join(', ')}` : ''}\n`,
  );
  process.exitCode = 2;
}
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n## bench/${f}\n\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${here}${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench: bench/${f} exited with ${r.status ?? r.signal}\n`);
  }
}
if (failed > 0) process.exitCode = 1;
