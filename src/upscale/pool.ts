/**
 * Worker threads for upscaling: TF.js wasm runs single-threaded under Node, so images are spread over threads
 * (each loads its own TF.js and model weights once). `size` 0 runs tasks inline on the calling thread.
 * Output bytes do not depend on the thread that made them.
 */
import { MODULE_EXT } from '../util/worker.ts';
import { createTaskPool } from '../util/workerPool.ts';
import { runUpscaleTask, type UpscaleTask, type UpscaleTaskOutcome } from './task.ts';

export interface UpscalePool {
  size: number;
  run(task: UpscaleTask): Promise<UpscaleTaskOutcome>;
  close(): Promise<void>;
}

/** @param size worker threads (0 = inline on this thread). */
export function createUpscalePool(size: number): UpscalePool {
  if (size === 0) {
    // One task at a time: the folder loop hands every image over at once, and running them all together on one
    // thread held every decoded image in memory and finished none until the end (75 1024² X-rays: 1.3 GB and no
    // output for minutes).
    let queue: Promise<unknown> = Promise.resolve();
    const run = (task: UpscaleTask): Promise<UpscaleTaskOutcome> => {
      const next = queue.then(() => runUpscaleTask(task));
      queue = next.catch(() => undefined);
      return next;
    };
    return { size: 0, run, close: async () => {} };
  }
  const pool = createTaskPool<UpscaleTask, UpscaleTaskOutcome>(new URL(`./worker${MODULE_EXT}`, import.meta.url), size, 'upscale worker');
  return { size, run: (task) => pool.run(task), close: () => pool.close() };
}
