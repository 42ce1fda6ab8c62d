/**
 * `runDataset`: the whole dataset run (DESIGN §5) — plan, resume state, worker pool, part assembly, run-level
 * files and the SHA-256 manifest. Layout and guarantees: docs/dataset-runs.md.
 *
 * Resume protocol (everything under RESULTS/.staging, every write atomic):
 *   pair staged  = `.staging/model=M/path=P/IIIIIIII.json` exists (block rows in the `.bin` staging file beside it);
 *   part done    = `.staging/done/model=M/path=P/part-NNNNN.json` exists (written after the part's files).
 * A killed run restarted with the same options skips done parts and staged pairs; files are rewritten only from
 * staged data, so the end result does not depend on where the kill happened.
 *
 * One writer per folder (and per shard): `.staging/run[.shard-K-of-N].lock` is held for the whole run, and
 * `.staging/folder.lock` for the few milliseconds of the options check, so two runs started together cannot both
 * pass it. A shard stages under `.staging/shard-K-of-N/` and touches only its own parts' files, so shards of one
 * run may write into one folder at the same time.
 */
import { mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BlindspotError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { acquireLock, type LockHandle } from '../store/lock.ts';
import { writeManifest } from '../store/manifest.ts';
import { writeImageRows } from '../store/parts.ts';
import { recordableDiagnoseOptions, resolveDiagnoseOptions, type DiagnoseOptions } from '../tier3/options.ts';
import { resolveRunBatteryOptions } from '../battery/run.ts';
import { columnsOfSet } from '../tier3/columns.ts';
import { effectiveWorkers, resolveRunOptions, type RunOptions } from './options.ts';
import { buildPlan, partName, partitionDir, shardParts, type PlannedPair, type PlannedPart } from './plan.ts';
import { createPairPool } from './pool.ts';
import type { AssembleJob, ImageRow, PairError, PairOutcome, PairTask } from './pair.ts';

export interface RunProgress {
  pairsDone: number;
  pairsTotal: number;
  pairsFailed: number;
  /** Pairs found already done (resumed), included in pairsDone. */
  pairsResumed: number;
  blocksDone: number;
}

export interface RunSummary {
  /** Pairs in this run (or shard). */
  pairs: number;
  ok: number;
  failed: number;
  /** Pairs taken from an earlier, interrupted run. */
  resumed: number;
  /** Block rows written. */
  blocks: number;
  /** Bytes of the block part files. */
  blockBytes: number;
  /** blockBytes / blocks. */
  bytesPerBlockRow: number;
  /** Files listed in the manifest. */
  files: number;
  /** True when the folder already held this finished run (nothing was done). */
  alreadyComplete: boolean;
  /** Manifest, run and error file names (relative to out). */
  manifest: string;
  errorsFile: string;
}

export interface RunHooks {
  onProgress?: (p: RunProgress) => void;
  /** Worker threads to use instead of options.workers (0 = inline, for tests). */
  inline?: boolean;
  /** Awaited just before the folder lock and the options check (tests start two runs there together). */
  beforeOptionsCheck?: () => Promise<void>;
}

/** Package version, recorded in run.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `.shard-2-of-4` or '' */
function shardSuffix(o: RunOptions): string {
  return o.shard ? `.shard-${o.shard.index}-of-${o.shard.count}` : '';
}

interface DoneMarker {
  rows: ImageRow[];
  errors: PairError[];
}

const pad8 = (n: number): string => String(n).padStart(8, '0');

/** This writer's staging folder: `.staging` for an unsharded run, `.staging/shard-K-of-N` for a shard. */
function stagingRoot(out: string, o: RunOptions): string {
  return o.shard ? join(out, '.staging', `shard-${o.shard.index}-of-${o.shard.count}`) : join(out, '.staging');
}
function stagingBase(stage: string, pair: PlannedPair): string {
  return join(stage, partitionDir(pair.model, pair.path), pad8(pair.imageIndex));
}
function doneMarkerPath(stage: string, part: PlannedPart): string {
  return join(stage, 'done', partitionDir(part.model, part.path), `${partName(part.part)}.json`);
}
function blockPartRel(part: PlannedPart): string {
  return `blocks/${partitionDir(part.model, part.path)}/${partName(part.part)}.parquet`;
}
function imagePartRel(part: PlannedPart): string {
  return `images/${partitionDir(part.model, part.path)}/${partName(part.part)}.parquet`;
}
function csvRel(pair: PlannedPair): string {
  return `csv/${partitionDir(pair.model, pair.path)}/${pair.image}.csv`;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Remove leftovers of killed atomic writes (`NAME.tmp-PID-N`) in the given folders: every one in `own` folders
 * (this writer's staging), and in shared folders only those of a file in `owned` (another shard may be writing
 * the others right now).
 */
async function removeTempFiles(dirs: Iterable<string>, own: (dir: string) => boolean, owned: ReadonlySet<string>): Promise<void> {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = /^(.*)\.tmp-\d+-\d+$/.exec(n);
      if (m && (own(dir) || owned.has(join(dir, m[1]!)))) await rm(join(dir, n), { force: true });
    }
  }
}

/** Top-level run files and run keys in `out`: (name, fingerprint) of every run that wrote or is writing here. */
async function runsInFolder(out: string): Promise<{ name: string; fingerprint: unknown }[]> {
  const found: { name: string; fingerprint: unknown }[] = [];
  const scan = async (dir: string, pattern: RegExp, rel: string, get: (v: unknown) => unknown): Promise<void> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names.filter((x) => pattern.test(x)).sort()) {
      const v = await readJson<unknown>(join(dir, n)).catch(() => undefined);
      if (v !== undefined && get(v) !== undefined) found.push({ name: rel + n, fingerprint: get(v) });
    }
  };
  await scan(out, /^run(\.shard-\d+-of-\d+)?\.json$/, '', (v) => (v as { fingerprint?: unknown } | null)?.fingerprint ?? undefined);
  await scan(join(out, '.staging'), /^run-key(\.shard-\d+-of-\d+)?\.json$/, '.staging/', (v) => v);
  return found;
}

/** The fingerprint without the shard: shards (and an unsharded run) of the same options write the same parts. */
function withoutShard(fingerprint: unknown): string {
  if (fingerprint === null || typeof fingerprint !== 'object') return JSON.stringify(fingerprint);
  return JSON.stringify({ ...(fingerprint as Record<string, unknown>), shard: undefined });
}

/** One line for a folder the run cannot create or write (a file, read-only, full disk). */
function outFolderError(e: unknown, out: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const why: Record<string, string> = {
    EEXIST: 'is a file, not a folder',
    ENOTDIR: 'is a file, not a folder (or a parent is)',
    EACCES: 'cannot write here (permission denied)',
    EPERM: 'cannot write here (operation not permitted)',
    EROFS: 'cannot write here (read-only filesystem)',
    ENOSPC: 'no space left on the device; free some and run the same command again to resume',
    EDQUOT: 'disk quota exceeded; free some and run the same command again to resume',
  };
  return code !== undefined && why[code] !== undefined ? new BlindspotError('E_UNREADABLE', why[code], out) : e;
}

/** The error a pair gets before any decoding: no output file, or more than one. */
function discoveryError(pair: PlannedPair): PairError | undefined {
  const base = { image: pair.image, model: pair.model, path: pair.path, gt_file: pair.gtName };
  if (pair.masks !== null && pair.masks.length !== 1) {
    const reason = pair.masks.length === 0 ? `no mask file matches GT stem "${pair.image}"` : `${pair.masks.length} mask files match GT stem "${pair.image}" (ambiguous): ${pair.masks.join(', ')}`;
    return { ...base, test_file: pair.candidates[0] ?? null, code: pair.masks.length === 0 ? 'E_NOT_FOUND' : 'E_INVALID_OPTION', reason: `${pair.maskDir}: ${reason}` };
  }
  if (pair.candidates.length === 1) return undefined;
  if (pair.candidates.length === 0) {
    return { ...base, test_file: null, code: 'E_NOT_FOUND', reason: `${pair.testDir}: no output file matches GT stem "${pair.image}"` };
  }
  return {
    ...base,
    test_file: null,
    code: 'E_INVALID_OPTION',
    reason: `${pair.testDir}: ${pair.candidates.length} output files match GT stem "${pair.image}" (ambiguous): ${pair.candidates.join(', ')}`,
  };
}

/**
 * Run the block diagnostics over a dataset and write the RESULTS folder (docs/dataset-runs.md).
 *
 * @param partial Run options (see {@link RunOptions}); `gt`, `models` and `out` are required.
 * @param hooks onProgress (called after each pair), inline (no worker threads).
 * @returns counts, bytes per block row, the manifest name.
 * @throws BlindspotError for bad options or folders (before any work), or E_USAGE when `out` holds a run with
 *   other options. Bad pairs do not throw: they are listed in errors.jsonl and counted in `failed`.
 */
export async function runDataset(partial: Partial<RunOptions>, hooks: RunHooks = {}): Promise<RunSummary> {
  const o = resolveRunOptions(partial);
  const diagnose = resolveDiagnoseOptions(o.diagnose as Partial<DiagnoseOptions>);
  const plan = await buildPlan(o);
  const parts = shardParts(plan.parts, o.shard);
  const suffix = shardSuffix(o);
  const names = { run: `run${suffix}.json`, errors: `errors${suffix}.jsonl`, manifest: `MANIFEST${suffix}.sha256` };
  const out = o.out;
  const fingerprint = {
    version: packageVersion(),
    gt: o.gt,
    gtFiles: plan.gtImages.map((g) => g.name),
    models: plan.configurations,
    columns: o.columns,
    csv: o.csv,
    partSize: o.partSize,
    shard: o.shard,
    maskDir: o.maskDir,
    diagnose: recordableDiagnoseOptions(diagnose),
    // Only when set, so runs without image options keep their fingerprint.
    ...(Object.keys(o.image).length > 0 ? { image: o.image } : {}),
    // Only when on, so runs without it (--no-battery, or made before it existed) keep the fingerprint they had.
    ...(o.battery !== null ? { battery: o.battery } : {}),
  };
  const ctx: RunContext = {
    o,
    hooks,
    plan,
    parts,
    suffix,
    names,
    out,
    diagnose,
    fingerprint,
    fingerprintText: JSON.stringify(fingerprint),
    keyFile: join(out, '.staging', `run-key${suffix}.json`),
    runFile: join(out, names.run),
  };
  try {
    await mkdir(out, { recursive: true });
    if (!(await stat(out)).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (e) {
    throw outFolderError(e, out);
  }
  await hooks.beforeOptionsCheck?.();
  let writer: LockHandle | undefined;
  try {
    const claim = await claimFolder(ctx);
    if ('summary' in claim) return claim.summary;
    writer = claim.writer;
    return await executeRun(ctx);
  } catch (e) {
    throw outFolderError(e, out);
  } finally {
    await writer?.release();
    await rmdir(join(out, '.staging')).catch(() => undefined); // fails while resume state or other writers' files are there
  }
}

interface RunContext {
  o: RunOptions;
  hooks: RunHooks;
  plan: Awaited<ReturnType<typeof buildPlan>>;
  parts: PlannedPart[];
  suffix: string;
  names: { run: string; errors: string; manifest: string };
  out: string;
  diagnose: DiagnoseOptions;
  fingerprint: Record<string, unknown> & { version: string };
  fingerprintText: string;
  keyFile: string;
  runFile: string;
}

/**
 * The options check, under `.staging/folder.lock` (so two runs started together cannot both pass it): refuse a
 * folder holding runs of other options, return a finished run of these options, else take this writer's lock
 * (refused while another live process holds it) and write the run key.
 */
async function claimFolder(ctx: RunContext): Promise<{ writer: LockHandle } | { summary: RunSummary }> {
  const { o, suffix, names, out, fingerprint, fingerprintText, keyFile, runFile } = ctx;
  const folderLock = await acquireLock(join(out, '.staging', 'folder.lock'), { folder: out, held: 'another blindspot run is starting here', waitMs: 30_000 });
  try {
    for (const other of await runsInFolder(out)) {
      if (other.name === names.run || other.name === `.staging/run-key${suffix}.json`) continue;
      if (withoutShard(other.fingerprint) !== withoutShard(fingerprint)) {
        throw new BlindspotError('E_USAGE', `holds a run with other options (${other.name}); use the same options (only --shard may differ), or choose another --out`, out);
      }
    }
    // A finished run of the same options: nothing to do. Another run's files: refuse to mix.
    if (!existsSync(keyFile) && existsSync(runFile)) {
      const prev = await readJson<{ fingerprint?: unknown; pairs?: number; ok?: number; failed?: number; blocks?: number; blockBytes?: number }>(runFile);
      if (JSON.stringify(prev?.fingerprint) !== fingerprintText || !existsSync(join(out, names.manifest))) {
        throw new BlindspotError('E_USAGE', `holds a finished run with other options (${names.run}); choose another --out or delete it`, out);
      }
      const blocks = prev?.blocks ?? 0;
      return {
        summary: {
          pairs: prev?.pairs ?? 0,
          ok: prev?.ok ?? 0,
          failed: prev?.failed ?? 0,
          resumed: prev?.pairs ?? 0,
          blocks,
          blockBytes: prev?.blockBytes ?? 0,
          bytesPerBlockRow: blocks > 0 ? (prev?.blockBytes ?? 0) / blocks : 0,
          files: 0,
          alreadyComplete: true,
          manifest: names.manifest,
          errorsFile: names.errors,
        },
      };
    }
    const prevKey = await readJson<unknown>(keyFile);
    if (prevKey !== undefined && JSON.stringify(prevKey) !== fingerprintText) {
      throw new BlindspotError('E_USAGE', `holds an unfinished run with other options (.staging/run-key${suffix}.json); rerun it with its options, or choose another --out`, out);
    }
    const what = o.shard ? `another blindspot run of shard ${o.shard.index}/${o.shard.count} is writing here` : 'another blindspot run is writing here';
    const writer = await acquireLock(join(out, '.staging', `run${suffix}.lock`), { folder: out, held: what });
    try {
      if (prevKey === undefined) await writeFileAtomic(keyFile, fingerprintText);
    } catch (e) {
      await writer.release();
      throw e;
    }
    return { writer };
  } finally {
    await folderLock.release();
  }
}

/** The run itself, under this writer's lock. */
async function executeRun(ctx: RunContext): Promise<RunSummary> {
  const { o, hooks, plan, parts, names, out, diagnose, fingerprint, keyFile, runFile } = ctx;
  const stage = stagingRoot(out, o);

  // Folders this run writes into; clear leftovers of killed atomic writes there: all of them in this writer's
  // staging folders, only those of this writer's files in the shared ones.
  const dirs = new Set<string>([out, join(out, '.staging'), stage, join(stage, 'done')]);
  // (`.staging` itself is shared: other writers' keys and locks live there.)
  const ownDirs = new Set<string>(o.shard ? [stage, join(stage, 'done')] : [join(stage, 'done')]);
  for (const cfg of plan.configurations) {
    const p = partitionDir(cfg.name, cfg.path);
    for (const top of ['blocks', 'images', ...(o.csv ? ['csv'] : [])]) dirs.add(join(out, top, p));
    for (const d of [join(stage, p), join(stage, 'done', p)]) {
      dirs.add(d);
      ownDirs.add(d);
    }
  }
  for (const d of dirs) if (d.startsWith(stage) || d.startsWith(join(out, 'csv'))) await mkdir(d, { recursive: true });
  const owned = new Set<string>([keyFile, runFile, join(out, names.errors), join(out, names.manifest), join(out, 'images.parquet')]);
  for (const part of parts) {
    owned.add(join(out, blockPartRel(part))).add(join(out, imagePartRel(part)));
    if (o.csv) for (const pair of part.pairs) owned.add(join(out, csvRel(pair)));
  }
  if (o.shard) owned.delete(join(out, 'images.parquet'));
  await removeTempFiles(dirs, (d) => ownDirs.has(d), owned);

  const total = parts.reduce((s, p) => s + p.pairs.length, 0);
  const progress: RunProgress = { pairsDone: 0, pairsTotal: total, pairsFailed: 0, pairsResumed: 0, blocksDone: 0 };
  const report = (): void => hooks.onProgress?.({ ...progress });
  const count = (outcome: PairOutcome, resumed: boolean): void => {
    progress.pairsDone += 1;
    if (resumed) progress.pairsResumed += 1;
    if (outcome.ok) progress.blocksDone += outcome.row.blocks;
    else progress.pairsFailed += 1;
  };

  const pool = createPairPool(hooks.inline ? 0 : Math.min(effectiveWorkers(o), Math.max(1, total)));

  const commitPart = async (part: PlannedPart): Promise<void> => {
    const outcomes: PairOutcome[] = [];
    for (const pair of part.pairs) {
      const outcome = await readJson<PairOutcome>(`${stagingBase(stage, pair)}.json`);
      if (!outcome) throw new Error(`internal: staged pair ${pair.image} of ${part.model}/${part.path} has no marker`);
      outcomes.push(outcome);
    }
    const ok = part.pairs.filter((_, i) => outcomes[i]!.ok);
    if (ok.length > 0) {
      await mkdir(dirname(join(out, blockPartRel(part))), { recursive: true });
      await mkdir(dirname(join(out, imagePartRel(part))), { recursive: true });
      const job: AssembleJob = {
        entries: ok.map((p) => ({ file: `${stagingBase(stage, p)}.bin`, image: p.image })),
        columns: o.columns,
        blocksFile: join(out, blockPartRel(part)),
        imagesFile: join(out, imagePartRel(part)),
        rows: outcomes.flatMap((x) => (x.ok ? [x.row] : [])),
      };
      await pool.assemble(job);
    }
    const marker: DoneMarker = {
      rows: outcomes.flatMap((x) => (x.ok ? [x.row] : [])),
      errors: outcomes.flatMap((x) => (x.ok ? [] : [x.error])),
    };
    await writeFileAtomic(doneMarkerPath(stage, part), JSON.stringify(marker));
    for (const pair of part.pairs) {
      await rm(`${stagingBase(stage, pair)}.bin`, { force: true });
      await rm(`${stagingBase(stage, pair)}.json`, { force: true });
    }
  };

  const markers = new Map<PlannedPart, DoneMarker>();
  try {
    const work: Promise<void>[] = [];
    const open: { part: PlannedPart; pairDone: () => Promise<void> }[] = [];
    for (const part of parts) {
      const done = await readJson<DoneMarker>(doneMarkerPath(stage, part));
      if (done) {
        for (const pair of part.pairs) {
          await rm(`${stagingBase(stage, pair)}.bin`, { force: true });
          await rm(`${stagingBase(stage, pair)}.json`, { force: true });
        }
        for (const row of done.rows) count({ ok: true, row }, true);
        for (const error of done.errors) count({ ok: false, error }, true);
        report();
        continue;
      }
      let remaining = part.pairs.length;
      const pairDone = async (): Promise<void> => {
        remaining -= 1;
        if (remaining === 0) await commitPart(part);
      };
      open.push({ part, pairDone });
    }
    // Pairs go out image-major across the configurations of one part number (parts are sorted by part number
    // first), each with its GT file as affinity key: all outputs of one GT then run on one worker, where its
    // decoded GT, the engine's GT reference and the battery's GT statistics are cached. Results do not depend on
    // the order (every file is assembled from the staged pairs in plan order).
    const queue: { pair: PlannedPair; pairDone: () => Promise<void> }[] = [];
    for (let g = 0; g < open.length; ) {
      let e = g;
      while (e < open.length && open[e]!.part.part === open[g]!.part.part) e++;
      const longest = Math.max(...open.slice(g, e).map((o) => o.part.pairs.length));
      for (let i = 0; i < longest; i++) {
        for (let k = g; k < e; k++) {
          const pair = open[k]!.part.pairs[i];
          if (pair) queue.push({ pair, pairDone: open[k]!.pairDone });
        }
      }
      g = e;
    }
    // Tasks are handed to the pool in one synchronous pass after the staging checks, so the pool sees them all
    // before it assigns the first (it assigns keyed tasks on the next microtask).
    const tasks: { task: PairTask; pairDone: () => Promise<void> }[] = [];
    for (const { pair, pairDone } of queue) {
      const base = stagingBase(stage, pair);
      const staged = await readJson<PairOutcome>(`${base}.json`);
      if (staged) {
        count(staged, true);
        work.push(pairDone());
        continue;
      }
      const early = discoveryError(pair);
      if (early) {
        const outcome: PairOutcome = { ok: false, error: early };
        await writeFileAtomic(`${base}.json`, JSON.stringify(outcome) + '\n');
        count(outcome, false);
        work.push(pairDone());
        continue;
      }
      const testName = pair.candidates[0]!;
      const task: PairTask = {
        image: pair.image,
        model: pair.model,
        path: pair.path,
        gtName: pair.gtName,
        gtFile: pair.gtFile,
        testName,
        testFile: join(pair.testDir, testName),
        stagingBase: base,
        csvFile: o.csv ? join(out, csvRel(pair)) : null,
        columns: o.columns,
        diagnose: o.diagnose,
        read: o.image,
        maskFile: pair.masks === null ? null : join(pair.maskDir!, pair.masks[0]!),
        battery: o.battery,
      };
      tasks.push({ task, pairDone });
    }
    for (const { task, pairDone } of tasks) {
      work.push(
        pool.runPair(task).then(async (outcome) => {
          count(outcome, false);
          report();
          await pairDone();
        }),
      );
    }
    report();
    await Promise.all(work);
  } finally {
    await pool.close();
  }

  // Run-level files, from the done markers (the same bytes whether or not the run was resumed).
  const errors: PairError[] = [];
  const rows: ImageRow[] = [];
  for (const part of parts) {
    const m = await readJson<DoneMarker>(doneMarkerPath(stage, part));
    if (!m) throw new Error(`internal: part ${partName(part.part)} of ${part.model}/${part.path} not committed`);
    markers.set(part, m);
    errors.push(...m.errors);
    rows.push(...m.rows);
  }
  const files: string[] = [];
  let blockBytes = 0;
  for (const part of parts) {
    if (markers.get(part)!.rows.length === 0) continue;
    files.push(blockPartRel(part), imagePartRel(part));
    blockBytes += (await stat(join(out, blockPartRel(part)))).size;
    if (o.csv) {
      const okImages = new Set(markers.get(part)!.rows.map((r) => r.image));
      for (const pair of part.pairs) if (okImages.has(pair.image)) files.push(csvRel(pair));
    }
  }
  await writeFileAtomic(join(out, names.errors), errors.map((e) => JSON.stringify(e) + '\n').join(''));
  files.push(names.errors);
  if (!o.shard) {
    const sorted = [...rows].sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await writeImageRows(sorted as unknown as Record<string, unknown>[], join(out, 'images.parquet'));
    files.push('images.parquet');
  }
  const blocks = rows.reduce((s, r) => s + r.blocks, 0);
  const runJson = {
    tool: 'blindspot run',
    version: fingerprint.version,
    gt: o.gt,
    models: plan.configurations,
    columns: o.columns,
    // stored: in the Parquet parts; the others are derived in the `blocks` view (src/store/blockView.ts).
    blockColumns: columnsOfSet(o.columns).map((s) => ({ name: s.name, storage: s.storage, stored: !s.derived, description: s.description })),
    csv: o.csv,
    partSize: o.partSize,
    shard: o.shard,
    diagnose,
    battery: o.battery === null ? null : resolveRunBatteryOptions(o.battery),
    pairs: total,
    ok: rows.length,
    failed: errors.length,
    blocks,
    blockBytes,
    bytesPerBlockRow: blocks > 0 ? blockBytes / blocks : 0,
    unmatched: plan.unmatched,
    parquet: 'zstd, Parquet v2 encodings, 122880-row row groups (DuckDB, single thread)',
    fingerprint,
  };
  await writeFileAtomic(runFile, JSON.stringify(runJson, null, 2) + '\n');
  files.push(names.run);
  await writeManifest(out, files, names.manifest);

  // Clear this run's resume state (other shards' state in the same folder stays): files, then empty folders.
  for (const part of parts) await rm(doneMarkerPath(stage, part), { force: true });
  await rm(keyFile, { force: true });
  const stagingDirs = [...ownDirs];
  for (const cfg of plan.configurations) stagingDirs.push(join(stage, `model=${cfg.name}`), join(stage, 'done', `model=${cfg.name}`));
  for (const d of stagingDirs.sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
  // `.staging` itself goes once the last writer has released its lock (runDataset).

  return {
    pairs: total,
    ok: rows.length,
    failed: errors.length,
    resumed: progress.pairsResumed,
    blocks,
    blockBytes,
    bytesPerBlockRow: blocks > 0 ? blockBytes / blocks : 0,
    files: files.length,
    alreadyComplete: false,
    manifest: names.manifest,
    errorsFile: names.errors,
  };
}

