/**
 * Viewer hardening (issue 15, item 3) on a real RESULTS folder and a real server, over raw sockets:
 * - a request whose Host header is not the bound address and port is refused (DNS rebinding), no Host too;
 * - gt_file/test_file values in a crafted images.parquet cannot leave the GT and model folders run.json names;
 * - /results files are streamed: a 400 MB file costs little memory (was read whole: +400 MB RSS).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { cpSync, copyFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { startViewer, type ViewerHandle } from '../../src/viewer/server.ts';
import { hostIsAllowed } from '../../src/viewer/safePath.ts';
import { buildViewerResults, type ViewerFixture } from './viewer-fixture.ts';

let fx: ViewerFixture;
let viewer: ViewerHandle;
test.before(async () => {
  fx = await buildViewerResults();
  viewer = await startViewer(fx.results);
});
test.after(async () => {
  await viewer?.close();
  rmSync(fx.root, { recursive: true, force: true });
});

/** Send `head` (request line + headers) over a raw socket; returns the status code. */
function rawStatus(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(head + '\r\n'));
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('end', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? -1)));
    s.on('error', reject);
  });
}

function get(port: number, path: string, onChunk?: (n: number) => void): Promise<{ status: number; body: string; length: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (onChunk ? onChunk(d.length) : (body += d.toString())));
      res.on('end', () => resolve({ status: res.statusCode ?? -1, body, length: res.headers['content-length'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('Host must be the bound address (or a loopback name) and port; other names, ports and no Host are refused', async () => {
  const p = viewer.port;
  const ask = (host: string | null) => rawStatus(p, `GET /api/meta HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n`);
  assert.equal(await ask(`127.0.0.1:${p}`), 200);
  assert.equal(await ask(`localhost:${p}`), 200);
  assert.equal(await ask(`evil.example:${p}`), 403);
  assert.equal(await ask(`localhost.evil.example:${p}`), 403);
  assert.equal(await ask(`127.0.0.1:${p + 1}`), 403);
  assert.equal(await ask('127.0.0.1'), 403);
  assert.equal(await rawStatus(p, 'GET /api/meta HTTP/1.0\r\n'), 403);
  // Other binds: the exact address; a wildcard bind takes IP literals only (rebinding needs a DNS name).
  assert.equal(hostIsAllowed('10.1.2.3:8080', '10.1.2.3', 8080), true);
  assert.equal(hostIsAllowed('localhost:8080', '10.1.2.3', 8080), false);
  assert.equal(hostIsAllowed('192.168.0.7:8080', '0.0.0.0', 8080), true);
  assert.equal(hostIsAllowed('[fe80::1]:8080', '::', 8080), true);
  assert.equal(hostIsAllowed('attacker.example:8080', '0.0.0.0', 8080), false);
  assert.equal(hostIsAllowed('[::1]:8080', '::1', 8080), true);
});

test('a crafted images.parquet cannot make the viewer read images outside the GT and model folders', async () => {
  const crafted = join(fx.root, 'CRAFTED');
  cpSync(fx.results, crafted, { recursive: true });
  const gtDir = join(fx.root, 'data', 'gt');
  // A real image one level above the GT folder: what a "../" gt_file would reach.
  copyFileSync(join(gtDir, 'nih_00000001_000.png'), join(fx.root, 'data', 'outside.png'));
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const file = join(crafted, 'images.parquet');
  await con.run(`COPY (SELECT * REPLACE (CASE image WHEN 'nih_00000001_000' THEN '../outside.png' WHEN 'nih_00000003_000' THEN '${join(fx.root, 'data', 'outside.png')}' ELSE gt_file END AS gt_file,
    CASE image WHEN 'nih_00000013_004' THEN '../gt/nih_00000013_004.png' ELSE test_file END AS test_file) FROM '${file}') TO '${file}.new' (FORMAT parquet)`);
  con.closeSync();
  renameSync(`${file}.new`, file);
  const v = await startViewer(crafted);
  try {
    const img = (image: string, which: string) => get(v.port, `/api/image.png?image=${image}&model=blur&path=notta&which=${which}`);
    const rel = await img('nih_00000001_000', 'gt');
    assert.equal(rel.status, 403, rel.body);
    assert.match(rel.body, /image file refused: path refused \(empty, \. or \.\. segment\)/);
    const abs = await img('nih_00000003_000', 'gt');
    assert.equal(abs.status, 403, abs.body);
    assert.match(abs.body, /absolute path refused/);
    assert.equal((await img('nih_00000013_004', 'test')).status, 403);
    assert.equal((await img('nih_00000013_004', 'gt')).status, 200); // its gt_file is untouched
  } finally {
    await v.close();
  }
  // The honest folder serves the same rows.
  assert.equal((await get(viewer.port, '/api/image.png?image=nih_00000001_000&model=blur&path=notta&which=gt')).status, 200);
});

test('/results files are streamed: a 400 MB file is served whole with little memory', async () => {
  const big = join(fx.results, 'analysis-big.bin');
  writeFileSync(big, '');
  truncateSync(big, 400 * 2 ** 20); // sparse: costs no disk
  try {
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    let received = 0;
    const r = await get(viewer.port, '/results/analysis-big.bin', (n) => {
      received += n;
      peak = Math.max(peak, process.memoryUsage().rss);
    });
    clearInterval(timer);
    assert.equal(r.status, 200);
    assert.equal(r.length, String(400 * 2 ** 20));
    assert.equal(received, 400 * 2 ** 20);
    assert.ok(peak - before < 150 * 2 ** 20, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MB`);
  } finally {
    rmSync(big);
  }
});
