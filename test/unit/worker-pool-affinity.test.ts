/**
 * The worker pool's affinity keys (src/util/workerPool.ts): the dataset run keys each pair by its GT file so that
 * all outputs of one GT run on one worker (its GT caches hit). Real worker threads, tasks that keep them busy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTaskPool } from '../../src/util/workerPool.ts';

const WORKER = new URL('../fixtures/pool/threadWorker.ts', import.meta.url);

test('tasks of one key run on one worker (the last key may be shared: no worker idles); unkeyed urgent tasks still run', async () => {
  const pool = createTaskPool<{ ms: number }, number>(WORKER, 2, 'test worker');
  try {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    // Queued image-major, as the dataset run does: a1 a2 a3 a4 b1 b2 ...
    const runs = keys.flatMap((k) => [0, 1, 2, 3].map(() => pool.run({ ms: 15 }, false, k).then((thread) => ({ k, thread }))));
    const urgent = pool.run({ ms: 1 }, true);
    const done = await Promise.all(runs);
    assert.equal(typeof (await urgent), 'number');
    // When only tasks of a held key are left, a free worker takes one rather than idle: the last key may split.
    for (const k of keys.slice(0, -1)) {
      const threads = new Set(done.filter((d) => d.k === k).map((d) => d.thread));
      assert.equal(threads.size, 1, `key ${k} ran on threads ${[...threads].join(', ')}`);
    }
    assert.equal(new Set(done.map((d) => d.thread)).size, 2, 'both workers were used');
  } finally {
    await pool.close();
  }
});

test('without keys the pool stays first-in first-out over both workers', async () => {
  const pool = createTaskPool<{ ms: number }, number>(WORKER, 2, 'test worker');
  try {
    const threads = await Promise.all([0, 1, 2, 3, 4, 5].map(() => pool.run({ ms: 10 })));
    assert.equal(new Set(threads).size, 2);
  } finally {
    await pool.close();
  }
});
