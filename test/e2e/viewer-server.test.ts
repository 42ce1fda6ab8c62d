/**
 * The viewer's server on a real RESULTS folder (blindspot run over three NIH chest X-rays, two models x two
 * paths): API values checked against plain recomputations from the Parquet rows (tier3's regimeOf/layerOf/
 * damageOf/dominantFailingAxis, a type-7 quantile, the egg formula written out here), image bytes against the
 * source files, traversal refused over raw HTTP, loopback binding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DuckDBInstance } from '@duckdb/node-api';
import { startViewer, type ViewerHandle } from '../../src/viewer/server.ts';
import { buildViewerResults, type ViewerFixture } from './viewer-fixture.ts';
import { damageOf, dominantFailingAxis, layerOf, quantile, regimeOf } from '../../src/tier3/regimes.ts';
import { DEFAULT_DIAGNOSE_OPTIONS } from '../../src/tier3/options.ts';
import { runCli } from '../helpers/cli.ts';
import { openAnalysis, queryRows } from '../../src/analysis/open.ts';

let fx: ViewerFixture;
let viewer: ViewerHandle;
let raw: Record<string, unknown>[];

test.before(async () => {
  fx = await buildViewerResults();
  writeFileSync(join(fx.root, 'outside-secret.txt'), 'do not serve');
  symlinkSync(join(fx.root, 'outside-secret.txt'), join(fx.results, 'escape.txt'));
  viewer = await startViewer(fx.results);
  // Every block column through the analysis `blocks` view (stored facts + derived columns; the view itself is
  // checked against the block engine in run-dataset.test.ts).
  const h = await openAnalysis(fx.results);
  try {
    raw = await queryRows(h.connection, 'SELECT * FROM blocks ORDER BY model, path, image, "row", col');
  } finally {
    h.close();
  }
});
test.after(async () => {
  await viewer?.close();
  rmSync(fx.root, { recursive: true, force: true });
});

/** GET over raw HTTP: the path is sent exactly as written (fetch would normalise ".."). */
function get(path: string): Promise<{ status: number; body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: viewer.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          type: String(res.headers['content-type'] ?? ''),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
const getJson = async <T>(path: string): Promise<T> => {
  const r = await get(path);
  assert.equal(r.status, 200, `${path}: ${r.body.toString()}`);
  return JSON.parse(r.body.toString()) as T;
};

/** T10/T90 of a configuration (DESIGN §3c): non-border ROI blocks; T90 falls back to 0.99 below 1,000 of them. */
function configThresholds(model: unknown, path: unknown): { t10: number; t90: number } {
  const o = DEFAULT_DIAGNOSE_OPTIONS;
  const nb = raw.filter((r) => r.model === model && r.path === path && !r.is_border && r.in_roi).map((r) => Number(r.ssim_blk));
  const q90 = quantile(nb, 0.9);
  return { t10: quantile(nb, 0.1), t90: nb.length < o.minRoiBlocks || q90 >= 1 ? o.fallbackThreshold : q90 };
}

/** Hidden-type damage of a raw row with its pair's floors (data units, from images.parquet). */
function damageOfRow(r: Record<string, unknown>): { ac: boolean; dc: boolean } {
  const floors = { floorAc: Number(r.floor_ac), visibleAc: r.visible_ac === null ? Infinity : Number(r.visible_ac), floorDc: Number(r.floor_dc) };
  return damageOf(Number(r.se), Number(r.r_ac), Number(r.dmu), floors, DEFAULT_DIAGNOSE_OPTIONS.hiddenR);
}

/** Labels and egg position of every raw row, recomputed without the viewer's SQL. */
function reference() {
  const o = DEFAULT_DIAGNOSE_OPTIONS;
  const C2 = (0.03 * 255) ** 2;
  const configs = new Map<string, { t10: number; t90: number }>();
  for (const r of raw) if (!configs.has(`${r.model}/${r.path}`)) configs.set(`${r.model}/${r.path}`, configThresholds(r.model, r.path));
  const n = raw.length;
  const cols = {
    a1: new Float64Array(n),
    a2: new Float64Array(n),
    a3: new Float64Array(n),
    a4: new Float64Array(n),
    a5: new Float64Array(n),
    a6: new Float64Array(n),
    a4_log2_energy: new Float64Array(n),
    fail_mask: new Int32Array(n),
  };
  raw.forEach((r, i) => {
    for (const k of Object.keys(cols) as (keyof typeof cols)[]) cols[k][i] = Number(r[k]);
  });
  const dom = dominantFailingAxis(cols, n, o);
  const cone = Math.PI / 3;
  const axes = [0, 1, 2, 3, 4, 5].map((k) => [
    Math.sin(cone) * Math.cos((k * Math.PI) / 3),
    -Math.cos(cone),
    Math.sin(cone) * Math.sin((k * Math.PI) / 3),
  ]);
  return raw.map((r, i) => {
    const t = configs.get(`${r.model}/${r.path}`)!;
    const kappa = Number(r.kappa);
    const regime = regimeOf(Number(r.sx), kappa, t.t90, C2);
    const d = damageOfRow(r);
    const layer = layerOf(Number(r.ssim_blk), d.ac || d.dc, t.t10, t.t90);
    const sev = [1, 2, 3, 4, 5, 6].map((k) => Math.min(1, Math.max(0, Number(r[`sev${k}`]) || 0)));
    const maxSev = Math.max(...sev);
    const v = [0, 1 - maxSev, 0];
    sev.forEach((s, k) => axes[k]!.forEach((a, c) => (v[c] += s * a)));
    const norm = Math.hypot(v[0]!, v[1]!, v[2]!);
    const radius =
      regime === 0
        ? kappa > 0
          ? 0.45 * Math.min(1, Math.max(0, (Math.log10(kappa) + 6) / (6 + Math.log10(0.5)))) // log-spread yolk
          : 0
        : regime === 1
          ? 0.45 + 0.15 * Math.min(1, kappa / 0.5)
          : 0.6 + 0.4 * Math.min(1, Math.max(0, (kappa - 0.5) / 0.5));
    return {
      key: `${r.model}/${r.path}/${r.image}/${r.row}/${r.col}`,
      model: String(r.model),
      path: String(r.path),
      image: String(r.image),
      row: Number(r.row),
      col: Number(r.col),
      regime,
      layer,
      dom: dom[i]!,
      pos: v.map((x) => (radius * x) / norm),
      fail_mask: Number(r.fail_mask),
      inRoi: Boolean(r.in_roi),
    };
  });
}

test('binds 127.0.0.1 by default: the URL is loopback and a non-loopback address of this machine is refused', async () => {
  assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(viewer.host, '127.0.0.1');
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (external) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: external.address, port: viewer.port });
      s.on('connect', () => (s.destroy(), resolve(false)));
      s.on('error', () => resolve(true));
    });
    assert.ok(refused, `port ${viewer.port} answered on ${external.address}`);
  }
});

test('meta: four configurations whose T10/T90 are type-7 quantiles of non-border ROI ssim_blk, T90 0.99 below 1,000 blocks (1e-9)', async () => {
  const meta = await getJson<{
    configs: { model: string; path: string; blocks: number; t10: number; t90: number }[];
    columnSet: string;
  }>('/api/meta');
  assert.equal(meta.columnSet, 'full');
  assert.deepEqual(
    meta.configs.map((c) => `${c.model}/${c.path}:${c.blocks}`),
    ['blur/notta:432', 'blur/tta:432', 'jpeg/notta:432', 'jpeg/tta:432'],
  );
  for (const c of meta.configs) {
    const t = configThresholds(c.model, c.path);
    assert.ok(Math.abs(c.t10 - t.t10) < 1e-9 && Math.abs(c.t90 - t.t90) < 1e-9, JSON.stringify(c));
  }
});

test('blocks of one pair: regime, layer, dominant axis and egg position match the plain recomputation for all 144 blocks', async () => {
  const ref = reference();
  const layers = new Set<number>();
  let failing = 0;
  for (const [model, path, image] of [
    ['blur', 'notta', 'nih_00000001_000'],
    ['jpeg', 'tta', 'nih_00000013_004'],
  ] as const) {
    const b = await getJson<Record<string, unknown[]>>(
      `/api/blocks?image=${image}&model=${model}&path=${path}`,
    );
    const mine = ref.filter((r) => r.model === model && r.path === path && r.image === image);
    assert.equal(b.row!.length, 144);
    assert.equal(mine.length, 144);
    mine.forEach((r, i) => {
      assert.equal(b.row![i], r.row);
      assert.equal(b.col![i], r.col);
      assert.equal(b.regime![i], r.regime, `regime ${r.key}`);
      assert.equal(b.layer![i], r.layer, `layer ${r.key}`);
      assert.equal(b.dom![i], r.dom, `dom ${r.key}`);
      assert.equal(b.mask![i], r.fail_mask);
      for (const [c, k] of ['px', 'py', 'pz'].entries())
        assert.ok(Math.abs(Number(b[k]![i]) - r.pos[c]!) < 1e-6, `${k} ${r.key}`);
      layers.add(r.layer);
      if (r.dom > 0) failing++;
      assert.equal(b.y0![i], r.row * 8);
    });
  }
  assert.ok(
    layers.size >= 2 && failing > 0,
    `a non-trivial fixture: layers ${[...layers]}, ${failing} blocks with a failing axis`,
  );
});

test('cells: block counts add up per configuration and per layer to the recomputed labels; no cell is empty', async () => {
  const cells = await getJson<{
    count: number;
    models: string[];
    paths: string[];
    model: number[];
    path: number[];
    layer: number[];
    n: number[];
    from: number[];
    to: number[];
  }>('/api/cells');
  assert.ok(cells.count > 10 && cells.count < 1728, `${cells.count} cells`);
  const got = new Map<string, number>();
  for (let i = 0; i < cells.count; i++) {
    assert.ok(cells.n[i]! >= 1);
    const k = `${cells.models[cells.model[i]!]}/${cells.paths[cells.path[i]!]}/${cells.layer[i]}`;
    got.set(k, (got.get(k) ?? 0) + cells.n[i]!);
    for (let c = 0; c < 3; c++)
      assert.ok(Math.abs(cells.from[3 * i + c]!) <= 1.0001 && Math.abs(cells.to[3 * i + c]!) <= 1.0001);
  }
  // The egg shows region-of-interest blocks only.
  const want = new Map<string, number>();
  for (const r of reference().filter((x) => x.inRoi))
    want.set(`${r.model}/${r.path}/${r.layer}`, (want.get(`${r.model}/${r.path}/${r.layer}`) ?? 0) + 1);
  assert.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
});

test('cell samples: blocks belong to the cell, min(n, N) of them, the same on every call', async () => {
  const cells = await getJson<{ id: number[]; n: number[] }>('/api/cells');
  const big = cells.id[cells.n.indexOf(Math.max(...cells.n))]!;
  const a = await getJson<{ cell: Record<string, unknown>; blocks: Record<string, unknown>[] }>(
    `/api/cells/${big}/samples?n=5`,
  );
  const b = await getJson<{ blocks: Record<string, unknown>[] }>(`/api/cells/${big}/samples?n=5`);
  assert.equal(a.blocks.length, Math.min(5, Number(a.cell.n)));
  assert.deepEqual(a.blocks, b.blocks);
  const ref = new Map(reference().map((r) => [r.key, r]));
  for (const blk of a.blocks) {
    const r = ref.get(`${blk.model}/${blk.path}/${blk.image}/${blk.row}/${blk.col}`)!;
    assert.equal(r.layer, a.cell.layer);
    assert.equal(r.regime, a.cell.regime);
    assert.equal(r.dom, a.cell.dom);
  }
  assert.equal((await get('/api/cells/999999/samples')).status, 404);
  assert.equal((await get('/api/cells/1/samples?n=0')).status, 400);
});

test('image PNGs decode to the pixels of the GT file and of the model output file', async () => {
  for (const [which, file] of [
    ['gt', join(fx.root, 'data/gt/nih_00000003_000.png')],
    ['test', join(fx.root, 'data/jpeg/nih_00000003_000.jpg')],
  ] as const) {
    const r = await get(`/api/image.png?image=nih_00000003_000&model=jpeg&path=notta&which=${which}`);
    assert.equal(r.status, 200);
    assert.equal(r.type, 'image/png');
    const served = await sharp(r.body).toColourspace('b-w').raw().toBuffer();
    const source = await sharp(file).toColourspace('b-w').raw().toBuffer();
    assert.ok(served.equals(source), `${which} pixels differ`);
  }
  assert.equal((await get('/api/image.png?image=nope&model=jpeg&path=notta&which=gt')).status, 404);
  assert.equal(
    (await get('/api/image.png?image=nih_00000003_000&model=jpeg&path=notta&which=x')).status,
    400,
  );
});

test('analysis: layer transition matrices (ROI blocks, as the report) equal the notta/tta join of the recomputed labels', async () => {
  const a = await getJson<{
    headline: Record<string, unknown>[];
    transitions: { model: string; layers: number[][]; axes: number[][][] }[];
  }>('/api/analysis');
  assert.equal(a.headline.length, 4);
  const ref = reference();
  const byKey = new Map(ref.map((r) => [r.key, r]));
  for (const t of a.transitions) {
    const m = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    const ax = [0, 1, 2, 3, 4, 5].map(() => [
      [0, 0],
      [0, 0],
    ]);
    for (const r of ref.filter((x) => x.model === t.model && x.path === 'notta' && x.inRoi)) {
      const o = byKey.get(`${r.model}/tta/${r.image}/${r.row}/${r.col}`)!;
      m[r.layer]![o.layer]!++;
      for (let k = 0; k < 6; k++) ax[k]![(r.fail_mask >> k) & 1]![(o.fail_mask >> k) & 1]!++;
    }
    assert.deepEqual(t.layers, m, t.model);
    assert.deepEqual(t.axes, ax, t.model);
  }
  assert.deepEqual(
    a.transitions.map((t) => t.model),
    ['blur', 'jpeg'],
  );
});

test('files inside RESULTS are served byte-identical; the app and its bundle load', async () => {
  const r = await get('/results/run.json');
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(readFileSync(join(fx.results, 'run.json'))));
  assert.equal((await get('/')).status, 200);
  const js = await get('/app/app.js');
  assert.equal(js.status, 200);
  assert.match(js.type, /javascript/);
});

test('refuses traversal: .., %2e%2e, %252e, encoded slashes, absolute paths, symlinks out of RESULTS', async () => {
  for (const p of [
    '/results/../package.json',
    '/results/../../../../etc/passwd',
    '/results/%2e%2e/%2e%2e/etc/passwd',
    '/results/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/results/%252e%252e/%252e%252e/etc/passwd',
    '/results/..%2f..%2fetc%2fpasswd',
    '/results/..%5c..%5cetc%5cpasswd',
    '/results//etc/passwd',
    '/results/%2fetc%2fpasswd',
    '/app/../../package.json',
    '/app/%2e%2e/%2e%2e/package.json',
    '/results/escape.txt',
  ]) {
    const r = await get(p);
    assert.ok(r.status === 403 || r.status === 400, `${p} -> ${r.status}`);
    assert.ok(!r.body.toString().includes('do not serve') && !r.body.toString().includes('root:'), p);
  }
});

test('blindspot view --help exits 0; a folder without results exits 2 with a one-line message', async () => {
  const help = await runCli(['view', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: blindspot view RESULTS/);
  const bad = await runCli(['view', join(fx.root, 'data')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^blindspot view: .*data: no blocks\/model=NAME\/path=\.\.\.\/\*\.parquet here/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('blockSample 0.5 keeps about half of the block positions, the same positions on notta and tta', async () => {
  const { ResultsStore } = await import('../../src/viewer/results.ts');
  const store = await ResultsStore.open(fx.results, 100000, 0.5);
  try {
    const c = (await store.cells()) as unknown as {
      count: number;
      models: string[];
      paths: string[];
      model: number[];
      path: number[];
      n: number[];
    };
    const per = new Map<string, number>();
    for (let i = 0; i < c.count; i++) {
      const k = `${c.models[c.model[i]!]}/${c.paths[c.path[i]!]}`;
      per.set(k, (per.get(k) ?? 0) + c.n[i]!);
    }
    for (const m of ['blur', 'jpeg']) {
      assert.equal(per.get(`${m}/notta`), per.get(`${m}/tta`), m);
      const n = per.get(`${m}/notta`)!;
      assert.ok(n > 0.35 * 432 && n < 0.65 * 432, `${m}: ${n} of 432`);
    }
    assert.ok(store.meta.notices.some((s) => s.includes('50.0% hash sample')));
  } finally {
    store.close();
  }
});

test('a core-column run gives the same layers, regimes and failing axes, with a notice about A4 missing a criterion', async () => {
  const { runDataset } = await import('../../src/dataset/run.ts');
  const { parseModelFlag } = await import('../../src/dataset/options.ts');
  const { ResultsStore } = await import('../../src/viewer/results.ts');
  const data = join(fx.root, 'data');
  const core = join(fx.root, 'RESULTS-core');
  await runDataset(
    {
      gt: join(data, 'gt'),
      models: [`blur=${join(data, 'blur')}`, `blur:tta=${join(data, 'blur_tta')}`].map(parseModelFlag),
      out: core,
      columns: 'core',
    },
    { inline: true },
  );
  const store = await ResultsStore.open(core, 100000);
  try {
    assert.equal(store.meta.columnSet, 'core');
    assert.ok(store.meta.notices.some((s) => s.includes('core column set')));
    const ref = reference().filter(
      (r) => r.model === 'blur' && r.path === 'tta' && r.image === 'nih_00000003_000',
    );
    const b = await store.imageBlocks('nih_00000003_000', 'blur', 'tta');
    assert.deepEqual(
      b.layer,
      ref.map((r) => r.layer),
    );
    assert.deepEqual(
      b.regime,
      ref.map((r) => r.regime),
    );
    // The core set stores the kernel's fail_mask: the same failing axes as the full run.
    assert.deepEqual(
      b.mask,
      ref.map((r) => r.fail_mask),
    );
  } finally {
    store.close();
  }
});

test('analysis/thresholds.parquet, when present, supplies T10/T90 and the layers follow them', async () => {
  const { cpSync, mkdirSync } = await import('node:fs');
  const { ResultsStore } = await import('../../src/viewer/results.ts');
  const dir = join(fx.root, 'RESULTS-analysed');
  cpSync(fx.results, dir, { recursive: true });
  mkdirSync(join(dir, 'analysis'), { recursive: true });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run(
    `COPY (SELECT *, t10 AS t10_published, t90 AS t90_published FROM (VALUES ('blur', 'notta', 0.9::DOUBLE, 0.99::DOUBLE), ('blur', 'tta', 0.95, 0.995), ('jpeg', 'notta', 0.8, 0.97), ('jpeg', 'tta', 0.85, 0.98)) v(model, path, t10, t90))
     TO '${join(dir, 'analysis', 'thresholds.parquet')}' (FORMAT parquet)`,
  );
  con.closeSync();
  const store = await ResultsStore.open(dir, 100000);
  try {
    assert.deepEqual(
      store.meta.configs.map((c) => [c.model, c.path, c.t10, c.t90]),
      [
        ['blur', 'notta', 0.9, 0.99],
        ['blur', 'tta', 0.95, 0.995],
        ['jpeg', 'notta', 0.8, 0.97],
        ['jpeg', 'tta', 0.85, 0.98],
      ],
    );
    const rows = raw.filter(
      (r) => r.model === 'jpeg' && r.path === 'notta' && r.image === 'nih_00000001_000',
    );
    const want = rows.map((r) => {
      const d = damageOfRow(r);
      return layerOf(Number(r.ssim_blk), d.ac || d.dc, 0.8, 0.97);
    });
    assert.deepEqual((await store.imageBlocks('nih_00000001_000', 'jpeg', 'notta')).layer, want);
    assert.ok(store.meta.notices.some((s) => s.includes('analysis/thresholds.parquet')));
  } finally {
    store.close();
  }
});
