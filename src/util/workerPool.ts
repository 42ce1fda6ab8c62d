/**
 * A fixed pool of worker threads, each running one task at a time (the dataset run's pairs and parts, the
 * upscaler's images). Tasks queue in order; urgent ones jump the queue. A task may carry an affinity key (the
 * dataset run's GT file): a free worker takes the next queued task of the key it ran last, else the first task
 * whose key no other worker holds, else the head, looking only at the first {@link AFFINITY_WINDOW} tasks — so the
 * tasks of one key run on one worker, where its per-key caches are. Results come back in completion order:
 * callers must not depend on it. A worker that dies fails its task and every later one.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { startModuleWorker } from './worker.ts';

/** What a worker posts back for a task: its result, or the stack of an error that is not a task outcome. */
export type TaskReply<R> = { id: number; outcome: R } | { id: number; fatal: string };

/** What the pool posts to a worker. */
export interface TaskRequest<T> {
  id: number;
  task: T;
}

/** How far into the queue a free worker looks for a task of its affinity key. */
export const AFFINITY_WINDOW = 256;

export interface TaskPool<T, R> {
  /** @param key affinity key (see above); undefined = none. */
  run(task: T, urgent?: boolean, key?: string): Promise<R>;
  close(): Promise<void>;
}

/**
 * @param url Worker module (it calls {@link serveTasks}); started through startModuleWorker (tsx from sources).
 * @param size Number of threads (>= 1).
 * @param label Names the pool in the error of a failed worker ("upscale worker failed: ...").
 */
export function createTaskPool<T, R>(url: URL, size: number, label: string): TaskPool<T, R> {
  interface Slot {
    worker: Worker;
    busy: boolean;
    /** Affinity key of the last keyed task this worker ran. */
    key: string | undefined;
  }
  interface Pending {
    resolve: (r: R) => void;
    reject: (e: Error) => void;
    slot: Slot | undefined;
  }
  const pending = new Map<number, Pending>();
  const queue: (TaskRequest<T> & { key: string | undefined })[] = [];
  const slots: Slot[] = [];
  let nextId = 0;
  let failure: Error | undefined;

  /** Index of the queued task `slot` runs next (the queue is not empty). */
  const pick = (slot: Slot): number => {
    if (queue[0]!.key === undefined) return 0;
    const end = Math.min(queue.length, AFFINITY_WINDOW);
    if (slot.key !== undefined) {
      for (let i = 0; i < end; i++) if (queue[i]!.key === slot.key) return i;
    }
    for (let i = 0; i < end; i++) {
      const k = queue[i]!.key;
      if (k === undefined || !slots.some((s) => s !== slot && s.key === k)) return i;
    }
    return 0;
  };
  let pumpScheduled = false;
  /** Pump after the caller's synchronous batch of keyed tasks is queued (so the first ones spread by key). */
  const schedulePump = (): void => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    queueMicrotask(() => {
      pumpScheduled = false;
      pump();
    });
  };
  const pump = (): void => {
    for (const slot of slots) {
      if (slot.busy || queue.length === 0) continue;
      const [{ id, task, key }] = queue.splice(pick(slot), 1) as [(typeof queue)[number]];
      slot.busy = true;
      if (key !== undefined) slot.key = key;
      pending.get(id)!.slot = slot;
      slot.worker.postMessage({ id, task } satisfies TaskRequest<T>);
    }
  };

  for (let i = 0; i < size; i++) {
    const slot: Slot = { worker: startModuleWorker(url), busy: false, key: undefined };
    slot.worker.on('message', (msg: TaskReply<R>) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      slot.busy = false;
      if ('fatal' in msg) p.reject(new Error(`${label} failed: ${msg.fatal}`));
      else p.resolve(msg.outcome);
      pump();
    });
    slot.worker.on('error', (e) => {
      failure = e;
      for (const [id, p] of pending) {
        if (p.slot === slot) {
          pending.delete(id);
          p.reject(e);
        }
      }
    });
    slots.push(slot);
  }

  return {
    run(task, urgent = false, key = undefined) {
      if (failure) return Promise.reject(failure);
      return new Promise<R>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject, slot: undefined });
        if (urgent) queue.unshift({ id, task, key: undefined });
        else queue.push({ id, task, key });
        if (key === undefined) pump();
        else schedulePump();
      });
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** Worker side of {@link createTaskPool}: answer every posted task with `handler`'s result (one at a time). */
export function serveTasks<T, R>(handler: (task: T) => Promise<R>): void {
  parentPort?.on('message', (msg: TaskRequest<T>) => {
    handler(msg.task).then(
      (outcome) => parentPort!.postMessage({ id: msg.id, outcome } satisfies TaskReply<R>),
      (e: unknown) => parentPort!.postMessage({ id: msg.id, fatal: (e as Error)?.stack ?? String(e) } satisfies TaskReply<R>),
    );
  });
}
