/** Worker-thread entry: runs pair tasks and part assemblies posted by the pool (pool.ts), one at a time. */
import { parentPort } from 'node:worker_threads';
import { assemblePart, processPair, type AssembleJob, type PairOutcome, type PairTask } from './pair.ts';

export type WorkerRequest = { id: number; pair: PairTask } | { id: number; assemble: AssembleJob };
export type WorkerReply = { id: number; outcome?: PairOutcome } | { id: number; fatal: string };

parentPort?.on('message', (msg: WorkerRequest) => {
  const work: Promise<PairOutcome | undefined> = 'pair' in msg ? processPair(msg.pair) : assemblePart(msg.assemble).then(() => undefined);
  work.then(
    (outcome) => parentPort!.postMessage({ id: msg.id, outcome } satisfies WorkerReply),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, fatal: (e as Error)?.stack ?? String(e) } satisfies WorkerReply),
  );
});
