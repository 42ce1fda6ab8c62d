/**
 * SHA-256 manifests in `sha256sum -c` format (DESIGN §4): one line per file, `HASH  relative/path`, sorted by path
 * (byte order), `/` separators, `\n` line ends. A manifest covers the files of its own folder tree; `verify` finds
 * every `MANIFEST*.sha256` under a results folder and reports each missing, changed or extra file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { BlindspotError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

export const MANIFEST_NAME = 'MANIFEST.sha256';
const MANIFEST_PATTERN = /^MANIFEST(\.[A-Za-z0-9_.-]+)?\.sha256$/;

/** True for a manifest file name (`MANIFEST.sha256`, `MANIFEST.shard-1-of-4.sha256`). */
export function isManifestName(name: string): boolean {
  return MANIFEST_PATTERN.test(name);
}

/** SHA-256 of a file, streamed (bounded memory). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Byte-order comparison (never locale). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every regular file under `root`, as sorted POSIX paths relative to `root`.
 * @param skip Called with each relative path (folders end with '/'); return true to leave it out.
 */
export async function listFiles(root: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  return (await listTree(root, skip)).files;
}

/**
 * Regular files and everything else (symbolic links, FIFOs, devices, sockets) under `root`, sorted POSIX paths
 * relative to `root`. Links are listed, never followed.
 */
export async function listTree(root: string, skip: (rel: string) => boolean = () => false): Promise<{ files: string[]; special: string[] }> {
  const files: string[] = [];
  const special: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs).split(sep).join(posix.sep);
      if (e.isDirectory()) {
        if (!skip(rel + '/')) await walk(abs);
      } else if (!skip(rel)) (e.isFile() ? files : special).push(rel);
    }
  }
  await walk(root);
  return { files: files.sort(compareCodeUnits), special: special.sort(compareCodeUnits) };
}

/** Folders whose files the analysis reads: a manifest inside them could bless files a run never wrote. */
const DATA_TREES = new Set(['blocks', 'images', 'csv']);

/**
 * True for a manifest a blindspot command writes: `MANIFEST*.sha256` at the top of the folder (the run, or one
 * per shard) or directly inside one other top-level folder (analysis/), never inside blocks/, images/ or csv/.
 */
export function isTrustedManifestPath(rel: string): boolean {
  if (!isManifestName(posix.basename(rel))) return false;
  const parts = rel.split('/');
  return parts.length === 1 || (parts.length === 2 && !DATA_TREES.has(parts[0]!));
}

/**
 * The text of a manifest for `entries` (path -> hash), sorted by path. A name holding a backslash, newline or
 * carriage return is written as GNU sha256sum does: the line starts with `\` and those become `\\`, `\n`, `\r`.
 */
export function formatManifest(entries: ReadonlyMap<string, string>): string {
  const paths = [...entries.keys()].sort(compareCodeUnits);
  return paths
    .map((p) => (/[\\\n\r]/.test(p) ? `\\${entries.get(p)}  ${p.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'))}\n` : `${entries.get(p)}  ${p}\n`))
    .join('');
}

/**
 * Parse `sha256sum` output (text mode `HASH  path` or binary mode `HASH *path`).
 * @throws BlindspotError E_CORRUPT naming the manifest and the first bad line.
 */
export function parseManifest(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const m = /^(\\?)([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new BlindspotError('E_CORRUPT', `line ${i + 1} is not "SHA256  path": ${JSON.stringify(line.slice(0, 80))}`, file);
    // A leading backslash: the name is escaped (sha256sum's \\, \n, \r).
    const p = m[1] ? m[3]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c)) : m[3]!;
    if (p.startsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new BlindspotError('E_CORRUPT', `line ${i + 1} names a path outside the manifest's folder: ${JSON.stringify(p.slice(0, 80))}`, file);
    }
    out.set(p, m[2]!);
  }
  return out;
}

/**
 * Hash `paths` (relative to `root`) and write `root/name` atomically.
 * @param root Folder the paths are relative to (where `sha256sum -c name` is run).
 * @param paths Relative POSIX paths.
 * @param name Manifest file name. Default `MANIFEST.sha256`.
 * @returns the entries written.
 */
export async function writeManifest(root: string, paths: readonly string[], name = MANIFEST_NAME): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const p of [...paths].sort(compareCodeUnits)) entries.set(p, await sha256File(join(root, p)));
  await writeFileAtomic(join(root, name), formatManifest(entries));
  return entries;
}

export interface VerifyReport {
  /** The manifests checked, relative to the folder. */
  manifests: string[];
  /** Number of files listed and unchanged (a count, not a verdict: see `passed`). */
  ok: number;
  /** The verdict: nothing missing, changed, extra, special or foreign (= verifyPassed(report)). */
  passed: boolean;
  /** Listed but absent. */
  missing: string[];
  /** Listed but with another hash. */
  changed: string[];
  /** Present but listed in no manifest (manifests themselves and `.staging/` excluded). */
  extra: string[];
  /** Symbolic links, FIFOs, devices (never followed; a run writes none, but analysis would read through them). */
  special: string[];
  /** `MANIFEST*.sha256` files where no blindspot command writes one (inside blocks/, images/, csv/ or deeper): not trusted. */
  foreign: string[];
}

/** True when nothing is missing, changed or extra. */
export function verifyPassed(r: VerifyReport): boolean {
  return r.missing.length === 0 && r.changed.length === 0 && r.extra.length === 0 && r.special.length === 0 && r.foreign.length === 0;
}

/**
 * Re-check the `MANIFEST*.sha256` files of `dir` (top level and analysis-like subfolders, see
 * {@link isTrustedManifestPath}): each covers the files of its own folder tree. Symbolic links and other
 * non-regular files, and manifests anywhere else, are reported and fail the check.
 * @param dir A results folder.
 * @param onProgress Called after each file hashed, with (done, total).
 * @throws BlindspotError E_NOT_FOUND when `dir` is not a folder or holds no manifest; E_CORRUPT for a bad manifest.
 */
export async function verify(dir: string, onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new BlindspotError('E_NOT_FOUND', 'not a folder', dir);
  const tree = await listTree(dir, (rel) => rel === '.staging/');
  const all = tree.files;
  const foreign = all.filter((p) => isManifestName(posix.basename(p)) && !isTrustedManifestPath(p));
  const manifests = all.filter(isTrustedManifestPath);
  if (manifests.length === 0) throw new BlindspotError('E_NOT_FOUND', `no ${MANIFEST_NAME} found`, dir);
  const expected = new Map<string, string>();
  for (const m of manifests) {
    const base = posix.dirname(m);
    const entries = parseManifest(await readFile(join(dir, m), 'utf8'), join(dir, m));
    for (const [p, h] of entries) expected.set(base === '.' ? p : `${base}/${p}`, h);
  }
  const present = new Set(all);
  const report: VerifyReport = { manifests, ok: 0, passed: false, missing: [], changed: [], extra: [], special: tree.special, foreign };
  const listed = [...expected.keys()].sort(compareCodeUnits);
  let done = 0;
  for (const p of listed) {
    if (!present.has(p)) report.missing.push(p);
    else if ((await sha256File(join(dir, p))) !== expected.get(p)) report.changed.push(p);
    else report.ok += 1;
    onProgress?.(++done, listed.length);
  }
  for (const p of all) if (!expected.has(p) && !isTrustedManifestPath(p) && !foreign.includes(p)) report.extra.push(p);
  report.passed = verifyPassed(report);
  return report;
}

/**
 * Before analysis reads `blocks/**` and `images/**` (globs): refuse symbolic links and special files there, and,
 * when the folder has a run manifest, any part file no trusted manifest lists (a file the run did not write, or
 * a shard still running), so the analysis reads exactly what the manifests list. Nothing is hashed (that is
 * `verify`'s job); this costs one directory walk.
 * @param dir A results folder.
 * @throws BlindspotError E_CORRUPT naming the first such file and pointing to `blindspot verify`.
 */
export async function checkPartsListed(dir: string): Promise<void> {
  const listed = new Set<string>();
  let haveManifest = false;
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort(compareCodeUnits)) {
    if (!isManifestName(name)) continue;
    haveManifest = true;
    for (const p of parseManifest(await readFile(join(dir, name), 'utf8'), join(dir, name)).keys()) listed.add(p);
  }
  for (const top of ['blocks', 'images']) {
    const st = await lstat(join(dir, top)).catch(() => undefined);
    if (st === undefined) continue;
    if (!st.isDirectory()) throw new BlindspotError('E_CORRUPT', `${top} is not a folder (a link?); run blindspot verify`, dir);
    const tree = await listTree(join(dir, top));
    if (tree.special.length > 0) throw new BlindspotError('E_CORRUPT', `${top}/${tree.special[0]} is a symbolic link or special file, which a run never writes; run blindspot verify`, dir);
    if (!haveManifest) continue;
    const unlisted = tree.files.find((f) => !listed.has(`${top}/${f}`));
    if (unlisted !== undefined) {
      throw new BlindspotError('E_CORRUPT', `${top}/${unlisted} is listed in no MANIFEST*.sha256 (not written by the finished run, or a shard still running); run blindspot verify`, dir);
    }
  }
}
