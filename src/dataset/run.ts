/**
 * `runDataset`: the whole dataset run (DESIGN §5) — plan, resume state, worker pool, part assembly, run-level
 * files and the SHA-256 manifest. Layout and guarantees: docs/dataset-runs.md.
 *
 * Resume protocol (everything under RESULTS/.staging, every write atomic):
 *   pair staged  = `.staging/model=M/path=P/IIIIIIII.json` exists (block rows in the `.bin` staging file beside it);
 *   part done    = `.staging/done/model=M/path=P/part-NNNNN.json` exists (written after the part's files).
 * A killed run restarted with the same options skips done parts and staged pairs; files are rewritten only from
 * staged data, so the end result does not depend on where the kill happened.
 */
import { mkdir, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BlindspotError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { writeManifest } from '../store/manifest.ts';
import { writeImageRows } from '../store/parts.ts';
import { resolveDiagnoseOptions, type DiagnoseOptions } from '../tier3/options.ts';
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

function stagingBase(out: string, pair: PlannedPair): string {
  return join(out, '.staging', partitionDir(pair.model, pair.path), pad8(pair.imageIndex));
}
function doneMarkerPath(out: string, part: PlannedPart): string {
  return join(out, '.staging', 'done', partitionDir(part.model, part.path), `${partName(part.part)}.json`);
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

/** Remove leftovers of killed atomic writes (`NAME.tmp-PID-N`) in the given folders. */
async function removeTempFiles(dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) if (/\.tmp-\d+-\d+$/.test(n)) await rm(join(dir, n), { force: true });
  }
}

/** The error a pair gets before any decoding: no output file, or more than one. */
function discoveryError(pair: PlannedPair): PairError | undefined {
  if (pair.candidates.length === 1) return undefined;
  const base = { image: pair.image, model: pair.model, path: pair.path, gt_file: pair.gtName };
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
    diagnose,
  };
  const fingerprintText = JSON.stringify(fingerprint);
  await mkdir(out, { recursive: true });
  const keyFile = join(out, '.staging', `run-key${suffix}.json`);
  const runFile = join(out, names.run);

  // A finished run of the same options: nothing to do. Another run's files: refuse to mix.
  if (!existsSync(keyFile) && existsSync(runFile)) {
    const prev = await readJson<{ fingerprint?: unknown; pairs?: number; ok?: number; failed?: number; blocks?: number; blockBytes?: number }>(runFile);
    if (JSON.stringify(prev?.fingerprint) !== fingerprintText || !existsSync(join(out, names.manifest))) {
      throw new BlindspotError('E_USAGE', `holds a finished run with other options (${names.run}); choose another --out or delete it`, out);
    }
    const blocks = prev?.blocks ?? 0;
    return {
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
    };
  }
  const prevKey = await readJson<unknown>(keyFile);
  if (prevKey !== undefined && JSON.stringify(prevKey) !== fingerprintText) {
    throw new BlindspotError('E_USAGE', `holds an unfinished run with other options (.staging/run-key${suffix}.json); rerun it with its options, or choose another --out`, out);
  }
  await mkdir(dirname(keyFile), { recursive: true });
  if (prevKey === undefined) await writeFileAtomic(keyFile, fingerprintText);

  // Folders this run writes into; clear leftovers of killed atomic writes there.
  const dirs = new Set<string>([out, join(out, '.staging'), join(out, '.staging', 'done')]);
  for (const cfg of plan.configurations) {
    const p = partitionDir(cfg.name, cfg.path);
    for (const top of ['blocks', 'images', ...(o.csv ? ['csv'] : []), '.staging', '.staging/done']) dirs.add(join(out, top, p));
  }
  for (const d of dirs) if (d.includes('.staging') || d.startsWith(join(out, 'csv'))) await mkdir(d, { recursive: true });
  await removeTempFiles(dirs);

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
      const outcome = await readJson<PairOutcome>(`${stagingBase(out, pair)}.json`);
      if (!outcome) throw new Error(`internal: staged pair ${pair.image} of ${part.model}/${part.path} has no marker`);
      outcomes.push(outcome);
    }
    const ok = part.pairs.filter((_, i) => outcomes[i]!.ok);
    if (ok.length > 0) {
      await mkdir(dirname(join(out, blockPartRel(part))), { recursive: true });
      await mkdir(dirname(join(out, imagePartRel(part))), { recursive: true });
      const job: AssembleJob = {
        entries: ok.map((p) => ({ file: `${stagingBase(out, p)}.bin`, image: p.image })),
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
    await writeFileAtomic(doneMarkerPath(out, part), JSON.stringify(marker));
    for (const pair of part.pairs) {
      await rm(`${stagingBase(out, pair)}.bin`, { force: true });
      await rm(`${stagingBase(out, pair)}.json`, { force: true });
    }
  };

  const markers = new Map<PlannedPart, DoneMarker>();
  try {
    const work: Promise<void>[] = [];
    for (const part of parts) {
      const done = await readJson<DoneMarker>(doneMarkerPath(out, part));
      if (done) {
        for (const pair of part.pairs) {
          await rm(`${stagingBase(out, pair)}.bin`, { force: true });
          await rm(`${stagingBase(out, pair)}.json`, { force: true });
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
      for (const pair of part.pairs) {
        const base = stagingBase(out, pair);
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
        };
        work.push(
          pool.runPair(task).then(async (outcome) => {
            count(outcome, false);
            report();
            await pairDone();
          }),
        );
      }
      report();
    }
    await Promise.all(work);
  } finally {
    await pool.close();
  }

  // Run-level files, from the done markers (the same bytes whether or not the run was resumed).
  const errors: PairError[] = [];
  const rows: ImageRow[] = [];
  for (const part of parts) {
    const m = await readJson<DoneMarker>(doneMarkerPath(out, part));
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
  for (const part of parts) await rm(doneMarkerPath(out, part), { force: true });
  await rm(keyFile, { force: true });
  const stagingDirs = [...dirs].filter((d) => d.startsWith(join(out, '.staging')));
  for (const cfg of plan.configurations) {
    stagingDirs.push(join(out, '.staging', `model=${cfg.name}`), join(out, '.staging', 'done', `model=${cfg.name}`));
  }
  for (const d of stagingDirs.sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);

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

