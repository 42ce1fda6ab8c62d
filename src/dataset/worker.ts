/** Worker-thread entry: runs pair tasks and part assemblies posted by the pool (pool.ts), one at a time. */
import { serveTasks } from '../util/workerPool.ts';
import { assemblePart, processPair, type PairOutcome } from './pair.ts';
import type { DatasetJob } from './pool.ts';

serveTasks<DatasetJob, PairOutcome | undefined>((job) =>
  'pair' in job ? processPair(job.pair) : assemblePart(job.assemble).then(() => undefined),
);
