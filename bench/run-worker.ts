/** Worker for bench/run.ts floors: decode only, or decode + the run's diagnose engine (no store), one pair per message. */
import { parentPort } from 'node:worker_threads';
import { readImage } from '../src/image/read.ts';
import { loadEngine } from '../src/dataset/engine.ts';

parentPort?.on('message', (msg: { id: number; gt: string; test: string; mode: 'decode' | 'diagnose' }) => {
  (async () => {
    const gt = await readImage(msg.gt);
    const test = await readImage(msg.test);
    let blocks = 0;
    // The run's own engine (reused buffers), without the store.
    if (msg.mode === 'diagnose') blocks = (await loadEngine()).diagnose(gt, test, {}).blockCount;
    return blocks;
  })().then(
    (blocks) => parentPort!.postMessage({ id: msg.id, blocks }),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, error: String(e) }),
  );
});
