/** Worker threads that work both from the TypeScript sources (tsx) and from the compiled dist/. */
import { Worker } from 'node:worker_threads';

/** Extension of this build's modules: '.ts' when running from sources, '.js' in dist/. */
export const MODULE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * Start a worker on the module `url`. From sources (.ts) the worker first registers tsx's ESM loader itself: on
 * Node 20, `execArgv: ['--import', 'tsx']` does not apply to a worker's entry module (ERR_UNKNOWN_FILE_EXTENSION).
 */
export function startModuleWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  // tsx resolved here, by absolute URL: an eval worker resolves bare names from the cwd, which may be any folder
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}
