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
  return resolveFileInside(root, rel);
}

/**
 * Resolve a decoded relative path (e.g. a `gt_file` read from images.parquet, which a crafted results folder
 * controls) to a regular file whose real path lies inside the real path of `root`.
 * @returns the absolute real path, or a Refusal
 */
export async function resolveFileInside(root: string, rel: string): Promise<string | Refusal> {
  if (rel.includes('\\') || rel.includes('\0')) return { status: 403, reason: 'path refused (backslash or NUL)' };
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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);
const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\])$/;

/**
 * DNS-rebinding defence: a request's `Host` header must name the address the server is bound to, and its port.
 * A loopback bind also answers to `localhost`, `127.0.0.1` and `[::1]`; a wildcard bind (0.0.0.0, ::) answers to
 * any IP literal (a rebinding attack needs a DNS name). Anything else, or no Host at all, is refused.
 * @param hostHeader the raw Host header
 * @param boundHost the address or name given to listen()
 * @param port the port listened on
 */
export function hostIsAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (hostHeader === undefined) return false;
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(hostHeader.toLowerCase());
  if (!m || Number(m[2]) !== port) return false;
  const name = m[1]!;
  const bound = boundHost.toLowerCase().includes(':') && !boundHost.startsWith('[') ? `[${boundHost.toLowerCase()}]` : boundHost.toLowerCase();
  if (name === bound) return true;
  if (LOOPBACK.has(boundHost.toLowerCase()) || /^127\./.test(boundHost)) return LOOPBACK.has(name) || /^127\./.test(name);
  if (WILDCARD.has(boundHost.toLowerCase())) return IP_LITERAL.test(name);
  return false;
}
