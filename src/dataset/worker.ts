/** Worker-thread entry: processes pair tasks posted by the pool (pool.ts) one at a time. */
import { parentPort } from 'node:worker_threads';
import { processPair, type PairTask } from './pair.ts';

export interface WorkerRequest {
  id: number;
  task: PairTask;
}
export type WorkerReply = { id: number; outcome: Awaited<ReturnType<typeof processPair>> } | { id: number; fatal: string };

parentPort?.on('message', (msg: WorkerRequest) => {
  processPair(msg.task).then(
    (outcome) => parentPort!.postMessage({ id: msg.id, outcome } satisfies WorkerReply),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, fatal: (e as Error)?.stack ?? String(e) } satisfies WorkerReply),
  );
});
