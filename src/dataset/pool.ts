/**
 * A fixed pool of worker threads running pair tasks and part assemblies (worker.ts). Assemblies jump the queue,
 * so finished parts leave the staging area as soon as possible (bounded disk and memory). `size` 0 runs
 * everything inline on the calling thread (tests). Results come back in completion order; callers must not
 * depend on it.
 */
import type { Worker } from 'node:worker_threads';
import { MODULE_EXT, startModuleWorker } from '../util/worker.ts';
import { assemblePart, processPair, type AssembleJob, type PairOutcome, type PairTask } from './pair.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

export interface PairPool {
  runPair(task: PairTask): Promise<PairOutcome>;
  assemble(job: AssembleJob): Promise<void>;
  close(): Promise<void>;
}

/**
 * @param size Number of worker threads (0 = inline).
 */
export function createPairPool(size: number): PairPool {
  if (size === 0) return { runPair: processPair, assemble: assemblePart, close: async () => {} };
  const url = new URL(`./worker${MODULE_EXT}`, import.meta.url);
  interface Slot {
    worker: Worker;
    busy: boolean;
  }
  interface Pending {
    resolve: (o: PairOutcome | undefined) => void;
    reject: (e: Error) => void;
    slot: Slot | undefined;
  }
  const pending = new Map<number, Pending>();
  const queue: WorkerRequest[] = [];
  let nextId = 0;
  let failure: Error | undefined;
  const slots: Slot[] = [];

  const pump = (): void => {
    for (const slot of slots) {
      if (slot.busy || queue.length === 0) continue;
      const req = queue.shift()!;
      slot.busy = true;
      pending.get(req.id)!.slot = slot;
      slot.worker.postMessage(req);
    }
  };

  for (let i = 0; i < size; i++) {
    const worker = startModuleWorker(url);
    const slot: Slot = { worker, busy: false };
    worker.on('message', (msg: WorkerReply) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      slot.busy = false;
      if ('fatal' in msg) p.reject(new Error(`worker failed: ${msg.fatal}`));
      else p.resolve(msg.outcome);
      pump();
    });
    worker.on('error', (e) => {
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

  const submit = (make: (id: number) => WorkerRequest, urgent: boolean): Promise<PairOutcome | undefined> => {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, slot: undefined });
      if (urgent) queue.unshift(make(id));
      else queue.push(make(id));
      pump();
    });
  };

  return {
    runPair: (task) => submit((id) => ({ id, pair: task }), false) as Promise<PairOutcome>,
    assemble: async (job) => {
      await submit((id) => ({ id, assemble: job }), true);
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
