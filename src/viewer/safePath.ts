/**
 * Path-traversal defence for everything the viewer serves from disk. A request path is refused when its raw form
 * holds `..`, a backslash, NUL, or any percent-encoded dot, slash, backslash or percent (so double encoding such
 * as `%252e` never decodes into something else later); the decoded relative path must be plain segments, and the
 * real path of the file (symlinks resolved) must lie inside the real path of the root.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';

/** Why a request path was refused (HTTP status and a one-line reason). */
export interface Refusal {
  status: 400 | 403 | 404;
  reason: string;
}

const FORBIDDEN_RAW = /(\.\.|\\|\0|%2e|%2f|%5c|%25|%00)/i;

/** True when the raw (undecoded) URL path is acceptable at all; query strings are not part of `rawPath`. */
export function rawPathIsSafe(rawPath: string): boolean {
  return !FORBIDDEN_RAW.test(rawPath);
}

/**
 * Resolve `rawRel` (undecoded, relative to `root`, no leading slash) to a regular file inside `root`.
 * @returns the absolute real path, or a Refusal
 */
export async function resolveInside(root: string, rawRel: string): Promise<string | Refusal> {
  if (!rawPathIsSafe(rawRel)) return { status: 403, reason: 'path refused (traversal or encoded separator)' };
  let rel: string;
  try {
    rel = decodeURIComponent(rawRel);
  } catch {
    return { status: 400, reason: 'malformed path encoding' };
  }
  if (rel === '' || isAbsolute(rel) || rel.startsWith('/') || /^[a-zA-Z]:/.test(rel))
    return { status: 403, reason: 'absolute path refused' };
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return { status: 403, reason: 'path refused (empty, . or .. segment)' };
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(join(root, ...parts));
  } catch {
    return { status: 404, reason: 'not found' };
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep))
    return { status: 403, reason: 'path leaves the served folder' };
  try {
    if (!(await stat(real)).isFile()) return { status: 404, reason: 'not a file' };
  } catch {
    return { status: 404, reason: 'not found' };
  }
  return real;
}

export function isRefusal(v: string | Refusal): v is Refusal {
  return typeof v !== 'string';
}
