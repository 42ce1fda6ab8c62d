/**
 * The dataset run's worker threads (worker.ts): pair tasks and part assemblies. Assemblies jump the queue, so
 * finished parts leave the staging area as soon as possible (bounded disk and memory). `size` 0 runs everything
 * inline on the calling thread (tests). Results come back in completion order; callers must not depend on it.
 */
import { MODULE_EXT } from '../util/worker.ts';
import { createTaskPool } from '../util/workerPool.ts';
import { assemblePart, processPair, type AssembleJob, type PairOutcome, type PairTask } from './pair.ts';

/** One job for a worker: a pair to diagnose, or a part to assemble. */
export type DatasetJob = { pair: PairTask } | { assemble: AssembleJob };

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
  const pool = createTaskPool<DatasetJob, PairOutcome | undefined>(new URL(`./worker${MODULE_EXT}`, import.meta.url), size, 'worker');
  return {
    // The GT file is the affinity key: the outputs of one GT run on one worker (its GT caches hit).
    runPair: async (task) => (await pool.run({ pair: task }, false, task.gtFile))!,
    assemble: async (job) => {
      await pool.run({ assemble: job }, true);
    },
    close: () => pool.close(),
  };
}
