/**
 * Worker threads for upscaling: TF.js wasm runs single-threaded under Node, so images are spread over threads
 * (each loads its own TF.js and model weights once). `size` 0 runs tasks inline on the calling thread.
 * Output bytes do not depend on the thread that made them.
 */
import type { Worker } from 'node:worker_threads';
import { MODULE_EXT, startModuleWorker } from '../util/worker.ts';
import { runUpscaleTask, type UpscaleTask, type UpscaleTaskOutcome } from './task.ts';
import type { UpscaleWorkerReply } from './worker.ts';

export interface UpscalePool {
  size: number;
  run(task: UpscaleTask): Promise<UpscaleTaskOutcome>;
  close(): Promise<void>;
}

/** @param size worker threads (0 = inline on this thread). */
export function createUpscalePool(size: number): UpscalePool {
  if (size === 0) return { size: 0, run: runUpscaleTask, close: async () => {} };
  const url = new URL(`./worker${MODULE_EXT}`, import.meta.url);
  interface Slot {
    worker: Worker;
    busy: boolean;
  }
  type Pending = { resolve: (o: UpscaleTaskOutcome) => void; reject: (e: Error) => void; slot?: Slot };
  const pending = new Map<number, Pending>();
  const queue: { id: number; task: UpscaleTask }[] = [];
  const slots: Slot[] = [];
  let nextId = 0;
  let failure: Error | undefined;

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
    const slot: Slot = { worker: startModuleWorker(url), busy: false };
    slot.worker.on('message', (msg: UpscaleWorkerReply) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      slot.busy = false;
      if ('fatal' in msg) p.reject(new Error(`upscale worker failed: ${msg.fatal}`));
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
    size,
    run(task) {
      if (failure) return Promise.reject(failure);
      return new Promise<UpscaleTaskOutcome>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        queue.push({ id, task });
        pump();
      });
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
