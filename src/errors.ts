/**
 * Coded errors. A `BlindspotError` is a *user* error (bad input, bad option): the CLI prints its one-line
 * message and exits with code 2, never a stack trace. Anything else is a bug and is printed with its stack.
 * The message text is API: tests check it verbatim.
 */

export type ErrorCode =
  | 'E_INVALID_OPTION' // an option value outside its allowed set or range
  | 'E_UNREADABLE' // file missing or not readable
  | 'E_CORRUPT' // file readable but its content does not decode
  | 'E_UNSUPPORTED' // a format or variant we do not decode
  | 'E_SIZE_MISMATCH' // GT and test differ in size or channels
  | 'E_TOO_SMALL' // image smaller than the window / block
  | 'E_NONFINITE' // NaN or Inf samples
  | 'E_NO_DATA_RANGE' // float input without an explicit data range
  | 'E_EMPTY' // empty folder or empty set
  | 'E_NOT_FOUND' // a result, model or file that should exist does not
  | 'E_TOO_LARGE' // input over a size cap (pixels, decompressed bytes), refused before allocation
  | 'E_LOCKED' // another process holds the results folder's lock
  | 'E_USAGE'; // CLI usage error (unknown flag, missing argument)

export class BlindspotError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, if any (already part of `message`). */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, file?: string) {
    super(file !== undefined ? `${file}: ${message}` : message);
    this.name = 'BlindspotError';
    this.code = code;
    this.file = file;
  }
}

export function isBlindspotError(e: unknown): e is BlindspotError {
  return e instanceof BlindspotError;
}

/** One wording for every bad option: `invalid <name>: expected <expected>, got <actual>`. */
export function invalidOption(name: string, expected: string, actual: unknown): BlindspotError {
  return new BlindspotError('E_INVALID_OPTION', `invalid ${name}: expected ${expected}, got ${formatValue(actual)}`);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Merge `partial` over `defaults`, rejecting unknown keys. Range checks stay with each caller.
 * @throws BlindspotError E_INVALID_OPTION naming the unknown key and the allowed ones.
 */
export function mergeOptions<T extends object>(defaults: Readonly<T>, partial: Partial<T> | undefined, what: string): T {
  const out = { ...defaults } as T;
  if (partial === undefined) return out;
  for (const [k, v] of Object.entries(partial)) {
    if (!Object.hasOwn(defaults, k)) { // not `in`: toString, constructor, __proto__ are not options
      throw new BlindspotError(
        'E_INVALID_OPTION',
        `unknown ${what} option "${k}" (allowed: ${Object.keys(defaults).join(', ')})`,
      );
    }
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
