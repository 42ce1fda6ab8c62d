/** `blindspot view RESULTS`: the local web viewer (3D Shell–Membrane–Yolk egg, image overlays, tables). */
import { spawn } from 'node:child_process';
import { BlindspotError } from '../../errors.ts';
import { numberFlag, parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary =
  'Open a results folder in the browser: 3D Shell-Membrane-Yolk egg, image overlays, tables';

const HELP = `Usage: blindspot view RESULTS [--port N] [--host ADDR] [--open] [--sample F] [--json]

Starts a local web server over RESULTS (written by \`blindspot run\`, optionally \`blindspot analyze\`) and prints
its URL. Stop it with Ctrl-C. The server binds 127.0.0.1 unless --host says otherwise: results may hold patient
images, so think before exposing it. It serves only files inside RESULTS and the images that run.json names.

Options:
  --port N       TCP port (default 0 = any free port)
  --host ADDR    interface to bind (default 127.0.0.1)
  --open         open the URL in the default browser
  --sample F     build the 3D cells from a fraction F in (0, 1] of block positions (hash-chosen, the same on
                 both paths). Tables and image overlays still use every block. Default: every block up to 4M block
                 rows, above that the fraction that keeps about 4M (the app says so)
  --json         print {"url": ...} as JSON instead of a sentence
  -h, --help     this help

Exit codes: 0 stopped normally, 2 usage error or no results in the folder.`;

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () =>
      process.stderr.write(`blindspot view: could not open a browser; open ${url} yourself\n`),
    );
    child.unref();
  } catch {
    process.stderr.write(`blindspot view: could not open a browser; open ${url} yourself\n`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    open: { type: 'boolean' },
    sample: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [dir] = positionals(parsed, ['results']);
  const port = numberFlag(parsed.values, 'port', { min: 0, max: 65535, integer: true });
  const sample = numberFlag(parsed.values, 'sample', { min: 1e-6, max: 1 });
  const host = parsed.values.host;
  if (host !== undefined && (typeof host !== 'string' || host === ''))
    throw new BlindspotError('E_USAGE', '--host needs an address');
  const { startViewer } = await import('../../viewer/server.ts');
  const viewer = await startViewer(dir!, {
    ...(port !== undefined ? { port } : {}),
    ...(typeof host === 'string' ? { host } : {}),
    ...(sample !== undefined ? { blockSample: sample } : {}),
  });
  if (parsed.values.json === true) process.stdout.write(JSON.stringify({ url: viewer.url }) + '\n');
  else process.stdout.write(`blindspot viewer on ${viewer.url} (Ctrl-C to stop)\n`);
  for (const n of viewer.store.meta.notices) process.stderr.write(`blindspot view: note: ${n}\n`);
  if (parsed.values.open === true) openBrowser(viewer.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void viewer.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
