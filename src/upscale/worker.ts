/** Worker-thread entry: runs upscale tasks (task.ts) posted by pool.ts, one at a time. */
import { parentPort } from 'node:worker_threads';
import { runUpscaleTask, type UpscaleTask, type UpscaleTaskOutcome } from './task.ts';

export interface UpscaleWorkerRequest {
  id: number;
  task: UpscaleTask;
}
export type UpscaleWorkerReply = { id: number; outcome: UpscaleTaskOutcome } | { id: number; fatal: string };

parentPort?.on('message', (msg: UpscaleWorkerRequest) => {
  runUpscaleTask(msg.task).then(
    (outcome) => parentPort!.postMessage({ id: msg.id, outcome } satisfies UpscaleWorkerReply),
    (e: unknown) =>
      parentPort!.postMessage({
        id: msg.id,
        fatal: (e as Error)?.stack ?? String(e),
      } satisfies UpscaleWorkerReply),
  );
});
