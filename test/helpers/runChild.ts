/**
 * A `runDataset` child process for the concurrency tests: it loads once, then for each stdin line (JSON run
 * options) prints `ready`, waits for a `go` line at the barrier (just before the folder lock and the options
 * check), runs, and prints one JSON line: `{ok: true, summary}` or `{ok: false, code, message}` (stack for bugs).
 */
import { createInterface } from 'node:readline';
import { runDataset } from '../../src/dataset/run.ts';
import { isBlindspotError } from '../../src/errors.ts';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async (): Promise<string | undefined> => (await lines.next()).value as string | undefined;
for (;;) {
  const job = await next();
  if (job === undefined) break;
  let result: unknown;
  try {
    const summary = await runDataset(JSON.parse(job), {
      inline: true,
      async beforeOptionsCheck() {
        process.stdout.write('ready\n');
        await next(); // the barrier
      },
    });
    result = { ok: true, summary };
  } catch (e) {
    result = isBlindspotError(e) ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'BUG', message: String((e as Error).stack) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}
