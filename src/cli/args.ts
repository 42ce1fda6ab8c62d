/** Flag parsing shared by the sub-commands: node's parseArgs with one-line, coded errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BlindspotError, invalidOption } from '../errors.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/**
 * Parse `argv` against `flags` (a `help` flag is added). Unknown flags are a usage error.
 * @param aliases older spellings still accepted, old name -> current name (`{ in: 'gt' }`): `--in X` and
 *   `--in=X` read as `--gt X`; the values object only ever has the current name.
 */
export function parseFlags(argv: string[], flags: FlagSpec, aliases: Readonly<Record<string, string>> = {}): Parsed {
  // a negative number after a value flag (`--data-range -5`) is its value, not an option (node's parseArgs calls
  // it "ambiguous"): pass it as --flag=-5 so the flag's own check names the valid range
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') {
      joined.push(...argv.slice(i));
      break;
    }
    const m = /^--([\w-]+)(=.*)?$/.exec(argv[i]!);
    const a = m && Object.hasOwn(aliases, m[1]!) ? `--${aliases[m[1]!]}${m[2] ?? ''}` : argv[i]!;
    const next = argv[i + 1];
    if (/^--[\w-]+$/.test(a) && flags[a.slice(2)]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options: { help: { type: 'boolean', short: 'h' }, ...flags },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec((e as Error).message);
    if (unknown) throw new BlindspotError('E_USAGE', unknownOptionMessage(unknown[1]!, [...Object.keys(flags), ...Object.keys(aliases), 'help']));
    throw new BlindspotError('E_USAGE', (e as Error).message.split('\n')[0]!);
  }
}

/** "unknown option --data-rnge (did you mean --data-range?)": the closest flag within a third of its length. */
export function unknownOptionMessage(given: string, names: readonly string[]): string {
  const bare = given.replace(/^-+/, '').split('=')[0]!;
  let best = '';
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(bare, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  const hint = bestD <= Math.max(1, Math.floor(bare.length / 3)) ? ` (did you mean --${best}?)` : ' (see --help)';
  return `unknown option ${given.split('=')[0]}${hint}`;
}

/** Edit distance with adjacent swaps counted once (optimal string alignment; flag names are short). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** A number flag, checked against [min, max]; undefined when absent. */
export function numberFlag(
  values: Parsed['values'],
  name: string,
  range: { min?: number; max?: number; integer?: boolean } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const { min = -Infinity, max = Infinity, integer = false } = range;
  // Number.MIN_VALUE as a lower bound means "> 0": say so instead of printing 5e-324
  const lower = min === Number.MIN_VALUE ? ' > 0' : min > -Infinity ? ` >= ${min}` : '';
  const expected = `${integer ? 'an integer' : 'a number'}${lower}${max < Infinity ? ` <= ${max}` : ''}`;
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw invalidOption(`--${name}`, expected, raw);
  }
  return v;
}

/** A string flag restricted to `allowed`; undefined when absent. */
export function choiceFlag<T extends string>(values: Parsed['values'], name: string, allowed: readonly T[]): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw invalidOption(`--${name}`, allowed.join('|'), raw);
  }
  return raw as T;
}

/** Print help and return true when --help was given. */
export function wantsHelp(values: Parsed['values'], help: string): boolean {
  if (values.help) {
    process.stdout.write(help.trimEnd() + '\n');
    return true;
  }
  return false;
}

/** Exactly `n` positionals, or a usage error naming what is missing. */
export function positionals(parsed: Parsed, names: string[]): string[] {
  if (parsed.positionals.length !== names.length) {
    throw new BlindspotError(
      'E_USAGE',
      `expected ${names.length} argument(s) ${names.map((n) => n.toUpperCase()).join(' ')}, got ${parsed.positionals.length} (see --help)`,
    );
  }
  return parsed.positionals;
}
