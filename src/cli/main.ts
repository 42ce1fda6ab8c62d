/**
 * The `blindspot` command: a thin dispatcher. Each sub-command lives in `commands/<name>.ts`, is imported lazily
 * (so `blindspot ssim` does not load TensorFlow.js or DuckDB), turns flags into the library's options objects and
 * sets `process.exitCode`. User errors (BlindspotError) print one line and exit 2; anything else is a bug and
 * prints its stack (exit 1).
 */
import { isBlindspotError } from '../errors.ts';

export interface CommandModule {
  /** One line for the top-level help. */
  summary: string;
  /** Runs the command; returns the exit code (0 ok, 1 some items failed, 2 user error). */
  run(argv: string[]): Promise<number>;
}

/** Every sub-command, in help order; each is implemented by `commands/<name>.ts`. */
const COMMANDS = [
  'ssim',
  'metrics',
  'diagnose',
  'blindmap',
  'run',
  'verify',
  'analyze',
  'sql',
  'export',
  'upscale',
  'pipeline',
  'view',
  'anomaly',
  'memorization',
  'demo',
] as const;

// Sources run as .ts (tsx, tests), the build as .js.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

async function loadCommand(name: string): Promise<CommandModule | undefined> {
  if (!(COMMANDS as readonly string[]).includes(name)) return undefined;
  const url = new URL(`./commands/${name}${EXT}`, import.meta.url);
  try {
    return (await import(url.href)) as CommandModule;
  } catch (e) {
    // A command whose module is not written yet is reported as unknown, not as a crash.
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(url.pathname)) {
      return undefined;
    }
    throw e;
  }
}

async function topLevelHelp(): Promise<string> {
  const lines = ['Usage: blindspot <command> [options]', '', 'Commands:'];
  for (const name of COMMANDS) {
    const mod = await loadCommand(name);
    if (mod) lines.push(`  ${name.padEnd(14)}${mod.summary}`);
  }
  lines.push('', 'Every command takes --max-pixels N: the largest image decoded (default 67108864 = 8192^2; also', 'BLINDSPOT_MAX_PIXELS). Files and gzip streams are capped at 16 bytes per pixel of it.');
  lines.push('', 'Run `blindspot <command> --help` for the options of one command.');
  return lines.join('\n');
}

/** `--max-pixels N` works with every command: it sets the image size cap (src/image/limits.ts) and is removed. */
function takeMaxPixels(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--max-pixels' && i + 1 < argv.length) process.env.BLINDSPOT_MAX_PIXELS = argv[++i]!;
    else if (a.startsWith('--max-pixels=')) process.env.BLINDSPOT_MAX_PIXELS = a.slice('--max-pixels='.length);
    else out.push(a);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const args = takeMaxPixels(argv);
  // `blindspot help CMD` is `blindspot CMD --help`
  if (args[0] === 'help' && args.length > 1) args.splice(0, 2, args[1]!, '--help');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await topLevelHelp()) + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(pkg.version + '\n');
    return 0;
  }
  try {
    const mod = await loadCommand(name);
    if (!mod) {
      process.stderr.write(`blindspot: unknown command "${name}" (run blindspot --help)\n`);
      return 2;
    }
    return await mod.run(rest);
  } catch (e) {
    if (isBlindspotError(e)) {
      process.stderr.write(`blindspot ${name}: ${e.message}\n`);
      return 2;
    }
    const fsLine = fileSystemError(e);
    if (fsLine !== undefined) {
      process.stderr.write(`blindspot ${name}: ${fsLine}\n`);
      return 2;
    }
    throw e;
  }
}

/** Why a file-system call failed, for the errors a user fixes (a file where a folder goes, permissions, a full disk). */
const FS_REASONS: Record<string, string> = {
  EEXIST: 'already exists and is not a folder',
  ENOTDIR: 'a parent of this path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** One line for an environment error of the file system that names a path (`path: reason (syscall)`), else undefined. */
function fileSystemError(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | null;
  if (err === null || typeof err !== 'object' || typeof err.code !== 'string' || typeof err.path !== 'string') return undefined;
  const reason = FS_REASONS[err.code];
  return reason === undefined ? undefined : `${err.path}: ${reason} (${err.syscall ?? 'fs'})`;
}

// Run when executed directly (node src/cli/main.ts / dist/cli/main.js), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (invoked.endsWith('/cli/main.ts') || invoked.endsWith('/cli/main.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`blindspot: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
