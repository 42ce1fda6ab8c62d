/**
 * Exclusive lock files for results folders (docs/dataset-runs.md#one-writer-per-folder). A lock is a small JSON
 * file `{pid, host, started}` created with `link()` from a complete temporary file, so it either exists whole or
 * not at all (safe on local filesystems and NFS). A lock whose owner was on this host and is no longer alive is
 * stale (a run killed with kill -9) and is taken over; a lock from another host is never guessed about.
 */
import { hostname } from 'node:os';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BlindspotError } from '../errors.ts';
import { tempPathFor } from './atomic.ts';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
}

export interface LockHandle {
  readonly file: string;
  /** Remove the lock (only if it is still ours). */
  release(): Promise<void>;
}

/** False only when the process is known to be gone (ESRCH); EPERM means it exists under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** True when `owner` ran on this host and is gone. */
export function lockIsStale(owner: LockOwner): boolean {
  return owner.host === hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
}

/** Create `file` holding `owner` iff it does not exist (link() fails with EEXIST otherwise). */
async function tryCreate(file: string, owner: LockOwner): Promise<boolean> {
  const tmp = tempPathFor(file);
  await writeFile(tmp, JSON.stringify(owner) + '\n');
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Remove a stale lock under a second lock (`FILE.break`), re-reading it there, so two processes that both saw the
 * same stale owner cannot remove each other's fresh lock.
 */
async function breakStale(file: string, seen: LockOwner): Promise<void> {
  const breaker = `${file}.break`;
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  if (!(await tryCreate(breaker, me))) {
    const other = await readOwner(breaker);
    if (other !== 'unreadable' && other !== undefined && lockIsStale(other)) await rm(breaker, { force: true });
    return; // someone else is breaking it; the caller retries
  }
  try {
    const now = await readOwner(file);
    if (now !== undefined && now !== 'unreadable' && now.pid === seen.pid && now.host === seen.host && now.started === seen.started) {
      await rm(file, { force: true });
    }
  } finally {
    await rm(breaker, { force: true });
  }
}

export interface AcquireLockOptions {
  /** Milliseconds to keep retrying while a live process holds the lock (0 = refuse at once). */
  waitMs?: number;
  /** The folder named in error messages. */
  folder: string;
  /** What the lock guards, for the message ("another blindspot run is writing here"). */
  held: string;
}

/**
 * Take the lock `file` (creating its folder), taking over a stale one.
 * @throws BlindspotError E_LOCKED naming the owner (pid, host, time) and the lock file when a live process (or a
 *   process on another host) holds it after `waitMs`.
 */
export async function acquireLock(file: string, o: AcquireLockOptions): Promise<LockHandle> {
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const deadline = Date.now() + (o.waitMs ?? 0);
  await mkdir(dirname(file), { recursive: true });
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(file, me);
    } catch (e) {
      // A finishing run may remove the (empty) lock folder between our mkdir and link.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(dirname(file), { recursive: true });
      continue;
    }
    if (created) {
      return {
        file,
        async release() {
          const now = await readOwner(file);
          if (now !== undefined && now !== 'unreadable' && now.pid === me.pid && now.started === me.started) await rm(file, { force: true });
        },
      };
    }
    const owner = await readOwner(file);
    if (owner === undefined) continue; // released meanwhile
    if (owner !== 'unreadable' && lockIsStale(owner)) {
      await breakStale(file, owner);
      continue;
    }
    if (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      continue;
    }
    const who = owner === 'unreadable' ? 'an unreadable lock' : `pid ${owner.pid} on host ${owner.host}, since ${owner.started}`;
    throw new BlindspotError(
      'E_LOCKED',
      `${o.held} (${who}; lock file ${basename(dirname(file))}/${basename(file)}); wait for it to finish, or delete that file if that process is gone`,
      o.folder,
    );
  }
}
