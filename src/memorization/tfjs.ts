/**
 * TensorFlow.js for DeepSSIM, loaded lazily so that the rest of blindspot never pays for it. Uses the shared
 * `initTf()` (src/tf/backend.ts: wasm backend located offline, missing wasm gradient kernels registered) when
 * present; until then, a local wasm setup with the same effect for inference.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs');

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
let pending: Promise<Tf> | undefined;

/** The initialised TensorFlow.js namespace (wasm backend), set up once per process. */
export function loadTf(): Promise<Tf> {
  pending ??= init();
  return pending;
}

async function init(): Promise<Tf> {
  const shared = new URL(`../tf/backend${EXT}`, import.meta.url);
  try {
    const mod = (await import(shared.href)) as { initTf?: (backend?: 'wasm' | 'cpu') => Promise<Tf> };
    if (typeof mod.initTf === 'function') return await mod.initTf('wasm');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(join(dist, '/'));
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}
