/**
 * Hostile inputs through the real CLI (issue 15, item 2): one line and exit 2 for a single pair, logged and
 * skipped inside `run` (which goes on with the other pairs, on 2 worker threads): an image under the 11x11 SSIM
 * window (was a RangeError in tier1Scalars, or SSIM 0 from a reused buffer), a PNG header claiming 16383x16383
 * (was 3 GB and 40 s per image), `/dev/zero` as input, `--out` that is a file for run and upscale (was a stack).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { fixture, runCli } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-hostile-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}
const hugePng = (): Buffer => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(16383, 0);
  ihdr.writeUInt32BE(16383, 4);
  ihdr[8] = 8;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(16384))), pngChunk('IEND', Buffer.alloc(0))]);
};

const tinyPng = (seed: number): Promise<Buffer> => {
  const px = Buffer.alloc(81);
  for (let i = 0; i < 81; i++) px[i] = (i * 37 + seed * 11) % 256;
  return sharp(px, { raw: { width: 9, height: 9, channels: 1 } }).png().toBuffer();
};

test('diagnose on a 9x9 pair: one line, exit 2 (was a RangeError stack)', async () => {
  const a = join(root, 'tiny_a.png');
  const b = join(root, 'tiny_b.png');
  writeFileSync(a, await tinyPng(1));
  writeFileSync(b, await tinyPng(2));
  const r = await runCli(['diagnose', a, b]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `blindspot diagnose: ${a}: image is 9x9, smaller than the 11x11 window of SSIM (wang)\n`);
});

test('run logs a 9x9 pair and a 16383x16383 PNG header in errors.jsonl and writes the good pairs (2 workers)', async () => {
  const gt = join(root, 'gt');
  const model = join(root, 'model');
  mkdirSync(gt);
  mkdirSync(model);
  for (const n of ['nih_00000001_000', 'nih_00000003_000']) {
    copyFileSync(fixture(`dataset/${n}.png`), join(gt, `${n}.png`));
    await sharp(fixture(`dataset/${n}.png`)).toColourspace('b-w').blur(1).png().toFile(join(model, `${n}.png`));
  }
  writeFileSync(join(gt, 'tiny.png'), await tinyPng(1));
  writeFileSync(join(model, 'tiny.png'), await tinyPng(2));
  writeFileSync(join(gt, 'huge.png'), hugePng());
  writeFileSync(join(model, 'huge.png'), hugePng());
  const out = join(root, 'R');
  const t0 = performance.now();
  const r = await runCli(['run', '--gt', gt, '--model', `m=${model}`, '--out', out, '--workers', '2', '--part-size', '2']);
  assert.ok(performance.now() - t0 < 20_000);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
  const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { image: string; code: string; reason: string });
  assert.deepEqual(errors.map((e) => [e.image, e.code]).sort(), [['huge', 'E_TOO_LARGE'], ['tiny', 'E_TOO_SMALL']]);
  assert.match(errors.find((e) => e.image === 'tiny')!.reason, /image is 9x9, smaller than the 11x11 window of SSIM \(wang\)$/);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { ok: number; failed: number };
  assert.deepEqual([run.ok, run.failed], [2, 2]);
});

test('/dev/zero as an input and --out that is a file: one line, exit 2', async () => {
  const png = fixture('dataset/nih_00000001_000.png');
  const z = await runCli(['ssim', '/dev/zero', png]);
  assert.equal(z.code, 2);
  assert.equal(z.stderr, 'blindspot ssim: /dev/zero: is not a regular file (a device, pipe or socket)\n');
  const file = join(root, 'not-a-folder');
  writeFileSync(file, 'x');
  const gt = join(root, 'gt1');
  mkdirSync(gt);
  copyFileSync(png, join(gt, 'a.png'));
  const r = await runCli(['run', '--gt', gt, '--model', `m=${gt}`, '--out', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `blindspot run: ${file}: is a file, not a folder\n`);
  // Any command: a file-system error a user fixes is one line naming the path (main.ts), not a stack.
  const u = await runCli(['upscale', '--in', gt, '--out', file, '--model', 'bicubic']);
  assert.equal(u.code, 2, u.stderr);
  assert.equal(u.stderr, `blindspot upscale: ${file}: already exists and is not a folder (mkdir)\n`);
});

test('a damaged Parquet part: sql and view print one E_CORRUPT line naming the file, exit 2 (was a stack)', async () => {
  const out = join(root, 'R'); // written by the run test above
  const part = join(out, 'blocks/model=m/path=notta/part-00000.parquet');
  writeFileSync(part, 'garbage');
  const want = `${part}: not a readable Parquet file (File '${part}' too small to be a Parquet file); run blindspot verify\n`;
  const [s, v] = await Promise.all([runCli(['sql', out, 'SELECT 1']), runCli(['view', out, '--port', '0'], { timeoutMs: 30_000 })]);
  assert.equal(s.code, 2, s.stderr);
  assert.equal(s.stderr, `blindspot sql: ${want}`);
  assert.equal(v.code, 2, v.stderr);
  assert.equal(v.stderr, `blindspot view: ${want}`);
});
