/**
 * TensorFlow.js for DeepSSIM, loaded lazily (only `train`, `scan` and `eval` pay for it) through the shared
 * setup (src/tf/backend.ts): wasm backend found offline in node_modules, the missing wasm gradient kernels
 * registered, production mode.
 */
export type { Tf } from '../tf/backend.ts';
import type { Tf } from '../tf/backend.ts';

/** The initialised TensorFlow.js namespace (wasm backend), set up once per process. */
export async function loadTf(): Promise<Tf> {
  const { initTf } = await import('../tf/backend.ts');
  return initTf('wasm');
}
