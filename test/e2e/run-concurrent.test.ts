/**
 * Concurrent runs into one results folder (issue 15, item 1), on real child processes held at a barrier just
 * before the folder lock and the options check, then released together:
 * - other options (--part-size 2 vs 3): exactly one runs, the other is refused with one line (E_USAGE), every
 *   round; the folder holds the winner's complete run (verify passes, no .staging left);
 * - the same options: one runs, the other is refused (E_LOCKED) or finds the run complete; no stack, no .staging;
 * - two shards together: both finish and the union equals an unsharded run; a shard's start-up leaves the other
 *   shard's in-flight temporary files alone;
 * - a lock left by a process killed with kill -9 is taken over; a live owner's or another host's is refused.
 * Without the locks, the first case let both runs pass the check in every round we tried (see issue-15 note).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDataset, type BuiltDataset } from '../fixtures/dataset/buildDataset.ts';
import { parseModelFlag, type RunOptions } from '../../src/dataset/options.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { listFiles, sha256File, verify, verifyPassed } from '../../src/store/manifest.ts';
import { BlindspotError } from '../../src/errors.ts';

const CHILD = fileURLToPath(new URL('../helpers/runChild.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bs-concurrent-'));
let ds: BuiltDataset;
let base: Partial<RunOptions>;
test.before(async () => {
  ds = await buildDataset(join(root, 'data'));
  base = { gt: ds.gt, models: ds.modelFlags.map(parseModelFlag) };
});
test.after(() => rmSync(root, { recursive: true, force: true }));

interface ChildResult {
  ok: boolean;
  code?: string;
  message?: string;
  summary?: { pairs: number; ok: number; alreadyComplete: boolean };
}

/** A long-lived runChild.ts process, driven line by line. */
class Child {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly queue: string[] = [];
  private waiter: ((line: string) => void) | undefined;
  constructor() {
    this.proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: 'pipe' });
    this.proc.stderr.resume();
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w(line);
        } else this.queue.push(line);
      }
    });
  }
  send(line: string): void {
    this.proc.stdin.write(line + '\n');
  }
  line(): Promise<string> {
    const q = this.queue.shift();
    return q !== undefined ? Promise.resolve(q) : new Promise((r) => (this.waiter = r));
  }
  close(): Promise<unknown> {
    this.proc.stdin.end();
    return new Promise((r) => this.proc.on('close', r));
  }
}

/** Both children reach the barrier, then both are released at once. */
async function together(a: Child, optsA: Partial<RunOptions>, b: Child, optsB: Partial<RunOptions>): Promise<[ChildResult, ChildResult]> {
  a.send(JSON.stringify(optsA));
  b.send(JSON.stringify(optsB));
  assert.equal(await a.line(), 'ready');
  assert.equal(await b.line(), 'ready');
  a.send('go');
  b.send('go');
  return [JSON.parse(await a.line()) as ChildResult, JSON.parse(await b.line()) as ChildResult];
}

async function partHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await listFiles(dir)) if (f.startsWith('blocks/') || f.startsWith('images/')) out.set(f, await sha256File(join(dir, f)));
  return out;
}

test('two runs with other options started together: one runs, the other gets one line (E_USAGE), in each of 6 rounds', async () => {
  const a = new Child();
  const b = new Child();
  try {
    for (let round = 0; round < 6; round++) {
      const out = join(root, `diff-${round}`);
      const [ra, rb] = await together(a, { ...base, out, partSize: 2 }, b, { ...base, out, partSize: 3 });
      const results = [ra, rb];
      const winners = results.filter((r) => r.ok);
      const losers = results.filter((r) => !r.ok);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`);
      assert.equal(losers[0]!.code, 'E_USAGE', JSON.stringify(losers[0]));
      assert.match(losers[0]!.message!, /holds (a|an unfinished) run with other options/);
      assert.equal(winners[0]!.summary!.ok, 12);
      const v = await verify(out);
      assert.ok(verifyPassed(v), JSON.stringify(v));
      assert.equal(existsSync(join(out, '.staging')), false);
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { ok: number; partSize: number };
      assert.equal(run.ok, 12);
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('two runs with the same options started together: one runs, the other is refused (E_LOCKED) or finds it complete', async () => {
  const a = new Child();
  const b = new Child();
  try {
    for (let round = 0; round < 3; round++) {
      const out = join(root, `same-${round}`);
      const results = await together(a, { ...base, out, partSize: 2 }, b, { ...base, out, partSize: 2 });
      const ran = results.filter((r) => r.ok && !r.summary!.alreadyComplete);
      assert.equal(ran.length, 1, JSON.stringify(results));
      for (const r of results) {
        if (r.ok) continue;
        assert.equal(r.code, 'E_LOCKED', JSON.stringify(r));
        assert.match(r.message!, /^.*: another blindspot run is writing here \(pid \d+ on host .+, since .+; lock file \.staging\/run\.lock\); wait for it to finish, or delete that file if that process is gone$/);
      }
      assert.ok(verifyPassed(await verify(out)));
      assert.equal(existsSync(join(out, '.staging')), false);
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('shards 1/2 and 2/2 started together into one folder both finish; the union equals the unsharded parts', async () => {
  const reference = join(root, 'ALL');
  await runDataset({ ...base, out: reference, partSize: 1 }, { inline: true });
  const want = await partHashes(reference);
  const a = new Child();
  const b = new Child();
  try {
    for (let round = 0; round < 2; round++) {
      const out = join(root, `shards-${round}`);
      const [r1, r2] = await together(a, { ...base, out, partSize: 1, shard: { index: 1, count: 2 } }, b, { ...base, out, partSize: 1, shard: { index: 2, count: 2 } });
      assert.ok(r1.ok && r2.ok, JSON.stringify([r1, r2]));
      assert.deepEqual(await partHashes(out), want);
      assert.ok(verifyPassed(await verify(out)));
      assert.equal(existsSync(join(out, '.staging')), false);
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("a shard's start-up leaves another shard's in-flight temporary files alone (and clears its own)", async () => {
  const out = join(root, 'tmpfiles');
  // Sorted parts (part, model, path) dealt round-robin: blur/notta parts go to shard 1/2, blur/tta ones to 2/2.
  for (const p of ['notta', 'tta']) mkdirSync(join(out, `blocks/model=blur/path=${p}`), { recursive: true });
  const theirs = join(out, 'blocks/model=blur/path=notta/part-00000.parquet.tmp-99999-1');
  const mine = join(out, 'blocks/model=blur/path=tta/part-00000.parquet.tmp-99999-2');
  writeFileSync(theirs, 'in flight');
  writeFileSync(mine, 'left by a killed run');
  await runDataset({ ...base, out, partSize: 1, shard: { index: 2, count: 2 } }, { inline: true });
  assert.equal(existsSync(theirs), true, "shard 2 removed shard 1's temporary file");
  assert.equal(existsSync(mine), false);
});

test('a lock left by a killed process is taken over; a live owner or another host is refused with one line', async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  const out = join(root, 'stale');
  mkdirSync(join(out, '.staging'), { recursive: true });
  const lock = join(out, '.staging', 'run.lock');
  writeFileSync(lock, JSON.stringify({ pid: deadPid, host: hostname(), started: '2026-01-01T00:00:00.000Z' }));
  const s = await runDataset({ ...base, out, partSize: 2 }, { inline: true });
  assert.equal(s.ok, 12);
  assert.equal(existsSync(join(out, '.staging')), false);

  for (const [owner, what] of [
    [{ pid: process.ppid, host: hostname(), started: '2026-01-01T00:00:00.000Z' }, `pid ${process.ppid} on host ${hostname()}`],
    [{ pid: deadPid, host: 'elsewhere.example', started: '2026-01-01T00:00:00.000Z' }, `pid ${deadPid} on host elsewhere.example`],
  ] as const) {
    const busy = join(root, `busy-${owner.host}`);
    mkdirSync(join(busy, '.staging'), { recursive: true });
    writeFileSync(join(busy, '.staging', 'run.lock'), JSON.stringify(owner));
    await assert.rejects(
      runDataset({ ...base, out: busy, partSize: 2 }, { inline: true }),
      (e: unknown) =>
        e instanceof BlindspotError &&
        e.code === 'E_LOCKED' &&
        e.message ===
          `${busy}: another blindspot run is writing here (${what}, since 2026-01-01T00:00:00.000Z; lock file .staging/run.lock); wait for it to finish, or delete that file if that process is gone`,
    );
    // Refused before writing anything: no run key, the lock untouched.
    assert.equal(existsSync(join(busy, '.staging', 'run-key.json')), false);
    assert.deepEqual(JSON.parse(readFileSync(join(busy, '.staging', 'run.lock'), 'utf8')), owner);
  }
});
