/**
 * `startViewer`: a local fastify server over one RESULTS folder. Routes (all GET):
 *   /                      the app (index.html); /app/<file> its bundle
 *   /api/meta              run, configurations and thresholds, column set, notices
 *   /api/cells             3D cells (columnar JSON, see ResultsStore.cells)
 *   /api/cells/:id/samples?n=N   a deterministic sample of the cell's blocks
 *   /api/images            images.parquet rows
 *   /api/blocks?image=&model=&path=   every block of one pair, with labels and egg positions
 *   /api/image.png?image=&model=&path=&which=gt|test   display PNG of the GT or the model output
 *   /api/analysis          headline table, transition matrices, analysis/summary.json when present
 *   /results/<file>        a file inside RESULTS (analysis/report.html, plots), traversal-checked
 * Image files are found only through images.parquet + run.json (GT dir, model dirs), and must resolve inside those
 * folders; no request names a path outside RESULTS or the app bundle. Every request must carry a Host header
 * naming the bound address and port (DNS-rebinding defence, safePath.ts `hostIsAllowed`). Files are streamed.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { BlindspotError, isBlindspotError } from '../errors.ts';
import { readImage } from '../image/read.ts';
import { ensureViewerBundle } from './bundle.ts';
import { displayWindow, toDisplayPng } from './displayPng.ts';
import { resolveViewerOptions, type ViewerOptions } from './options.ts';
import { ResultsStore } from './results.ts';
import { parquetReadError } from '../store/duckdbErrors.ts';
import { hostIsAllowed, isRefusal, rawPathIsSafe, resolveFileInside, resolveInside } from './safePath.ts';

export interface ViewerHandle {
  /** http://host:port/ */
  url: string;
  host: string;
  port: number;
  store: ResultsStore;
  /** Stop the server and close DuckDB. */
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.sql': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.parquet': 'application/octet-stream',
  '.csv': 'text/csv; charset=utf-8',
};

/** Tiny LRU of display PNGs. */
class PngCache {
  private readonly map = new Map<string, Buffer>();
  constructor(private readonly size: number) {}
  get(k: string): Buffer | undefined {
    const v = this.map.get(k);
    if (v) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: Buffer): void {
    if (this.size === 0) return;
    this.map.set(k, v);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }
}

function stringParam(q: unknown, name: string): string {
  const v = (q as Record<string, unknown>)[name];
  if (typeof v !== 'string' || v.length === 0)
    throw new BlindspotError('E_USAGE', `missing query parameter "${name}"`);
  return v;
}

/**
 * Start the viewer over `resultsDir`.
 * @param resultsDir a folder written by `blindspot run` (optionally with analysis/ from `blindspot analyze`)
 * @param options port (default 0 = free port), host (default 127.0.0.1), maxCells (100000), sampleSize (24),
 *   blockSample (null = automatic: all blocks up to 4M rows)
 * @returns the URL and a close function
 * @throws BlindspotError E_NOT_FOUND when the folder has no block table or the app bundle cannot be built;
 *   E_INVALID_OPTION for bad options
 * @example
 * const v = await startViewer('RESULTS');
 * console.log(v.url); // http://127.0.0.1:43817/
 * await v.close();
 */
export async function startViewer(
  resultsDir: string,
  options?: Partial<ViewerOptions>,
): Promise<ViewerHandle> {
  const o = resolveViewerOptions(options);
  const dir = resolve(resultsDir);
  const bundleDir = await ensureViewerBundle();
  const store = await ResultsStore.open(dir, o.maxCells, o.blockSample).catch((e: unknown) => {
    throw parquetReadError(e, dir); // a damaged part file: one line, not DuckDB's stack
  });
  const run = store.meta.run ?? {};
  const gtDir = typeof run.gt === 'string' ? run.gt : null;
  const modelDirs = new Map<string, string>();
  for (const m of (run.models as { name: string; path: string; dir: string }[] | undefined) ?? [])
    modelDirs.set(`${m.name}\u0000${m.path}`, m.dir);
  const cache = new PngCache(o.imageCacheSize);

  const app = Fastify({ logger: false });
  let boundPort = -1; // set once listening; no request arrives before

  // A page on another site that rebinds its DNS name to 127.0.0.1 sends its own name as Host: refuse it.
  app.addHook('onRequest', async (req, reply) => {
    if (!hostIsAllowed(req.headers.host, o.host, boundPort)) {
      return reply.code(403).send({ error: `Host header refused: expected the address the viewer is bound to (${o.host}) and port ${boundPort}` });
    }
    return undefined;
  });

  // Refuse traversal before routing: the raw path (query excluded) may hold no "..", backslash or encoded dot,
  // slash, backslash or percent.
  app.addHook('onRequest', async (req, reply) => {
    const raw = req.raw.url ?? '/';
    const pathOnly = raw.split('?')[0]!;
    if (!rawPathIsSafe(pathOnly) || pathOnly.includes('//')) {
      return reply.code(403).send({ error: 'path refused (traversal or encoded separator)' });
    }
    return undefined;
  });

  app.setErrorHandler((err, _req, reply) => {
    if (isBlindspotError(err)) {
      const status =
        err.code === 'E_NOT_FOUND'
          ? 404
          : err.code === 'E_USAGE' || err.code === 'E_INVALID_OPTION'
            ? 400
            : 422;
      return reply.code(status).send({ error: err.message, code: err.code });
    }
    return reply.code(500).send({ error: (err as Error).message });
  });

  const sendFile = async (root: string, rel: string, reply: FastifyReply) => {
    const real = await resolveInside(root, rel);
    if (isRefusal(real)) return reply.code(real.status).send({ error: real.reason });
    const type = MIME[extname(real).toLowerCase()] ?? 'application/octet-stream';
    // Streamed: a 1.5 GB part file costs a 64 KB buffer, not 1.5 GB of memory (nor a 500 above 2 GiB).
    return reply
      .header('content-type', type)
      .header('content-length', (await stat(real)).size)
      .header('cache-control', 'no-cache')
      .send(createReadStream(real));
  };
  const rawRest = (req: FastifyRequest, prefix: string): string =>
    (req.raw.url ?? '').split('?')[0]!.slice(prefix.length);

  app.get('/', async (_req, reply) => sendFile(bundleDir, 'index.html', reply));
  app.get('/app/*', async (req, reply) => sendFile(bundleDir, rawRest(req, '/app/'), reply));
  app.get('/results/*', async (req, reply) => sendFile(dir, rawRest(req, '/results/'), reply));

  app.get('/api/meta', async () => ({
    dir: store.meta.dir,
    columnSet: store.meta.columnSet,
    configs: store.meta.configs,
    models: store.meta.models,
    paths: store.meta.paths,
    cellCount: store.meta.cellCount,
    radiusBins: store.meta.radiusBins,
    params: store.meta.params,
    hasAnalysis: store.meta.hasAnalysis,
    blockSample: store.meta.blockSample,
    notices: store.meta.notices,
    version: run.version ?? null,
    sampleSize: o.sampleSize,
  }));
  app.get('/api/cells', async () => store.cells());
  app.get('/api/cells/:id/samples', async (req) => {
    const id = Number((req.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 0)
      throw new BlindspotError('E_USAGE', 'cell id must be a non-negative integer');
    const nRaw = (req.query as Record<string, string>).n;
    const n = nRaw === undefined ? o.sampleSize : Number(nRaw);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new BlindspotError('E_USAGE', 'n must be an integer in 1..1000');
    return store.cellSample(id, n);
  });
  app.get('/api/images', async () => store.images());
  app.get('/api/blocks', async (req) =>
    store.imageBlocks(
      stringParam(req.query, 'image'),
      stringParam(req.query, 'model'),
      stringParam(req.query, 'path'),
    ),
  );
  app.get('/api/analysis', async () => store.analysis());
  app.get('/api/image.png', async (req, reply) => {
    const image = stringParam(req.query, 'image');
    const model = stringParam(req.query, 'model');
    const path = stringParam(req.query, 'path');
    const which = stringParam(req.query, 'which');
    if (which !== 'gt' && which !== 'test') throw new BlindspotError('E_USAGE', 'which must be gt or test');
    const key = `${image}\u0000${model}\u0000${path}\u0000${which}`;
    let png = cache.get(key);
    if (!png) {
      const row = await store.imageRow(image, model, path);
      if (!row || typeof row.gt_file !== 'string' || typeof row.test_file !== 'string') {
        throw new BlindspotError('E_NOT_FOUND', `no image row for "${image}" / ${model} / ${path}`);
      }
      const modelDir = modelDirs.get(`${model}\u0000${path}`);
      if (!gtDir || !modelDir)
        throw new BlindspotError('E_NOT_FOUND', 'run.json does not name the GT or model folder');
      // gt_file/test_file come from images.parquet: confine them to the folders run.json names.
      const gtFile = await resolveFileInside(gtDir, row.gt_file);
      const testFile = which === 'test' ? await resolveFileInside(modelDir, row.test_file) : '';
      for (const f of [gtFile, testFile]) if (isRefusal(f)) return reply.code(f.status).send({ error: `image file refused: ${f.reason}` });
      const gt = await readImage(gtFile as string);
      const win = displayWindow(gt);
      png = await toDisplayPng(which === 'gt' ? gt : await readImage(testFile as string), win);
      cache.set(key, png);
    }
    return reply.header('content-type', 'image/png').send(png);
  });

  try {
    await app.listen({ port: o.port, host: o.host });
  } catch (e) {
    store.close();
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `cannot listen on ${o.host}:${o.port} (${(e as Error).message})`,
    );
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  boundPort = port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${hostForUrl}:${port}/`,
    host: o.host,
    port,
    store,
    async close() {
      await app.close();
      store.close();
    },
  };
}
