/** `blindspot ssim` end to end: the JSON shape, the known answers through the CLI, --map, and bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT, fixture, runCli } from '../helpers/cli.ts';

const CAMERA = fixture('skimage/camera.png');
const NOISY = fixture('skimage/camera_noisy_seed5_sigma20.png');
const ART = join(REPO_ROOT, 'test/artifacts/ssim-cli');

function oneLineError(r: { code: number | null; stderr: string; stdout: string }): string {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
  return lines[0]!;
}

test('ssim --json prints one object with mssim, psnr, msssim, mode, dataRange, width, height (camera: 0.357964236236581)', async () => {
  const r = await runCli(['ssim', CAMERA, NOISY, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), [
    'mssim',
    'psnr',
    'msssim',
    'mode',
    'dataRange',
    'width',
    'height',
    'color',
    'shave',
    'warnings',
    'gt',
    'test',
  ]);
  assert.ok(Math.abs((j['mssim'] as number) - 0.357964236236581) <= 1e-9);
  assert.equal(j['mode'], 'wang');
  assert.equal(j['dataRange'], 255);
  assert.equal(j['width'], 512);
  assert.equal(j['height'], 512);
  assert.equal(typeof j['psnr'], 'number');
  assert.equal(typeof j['msssim'], 'number');
  assert.deepEqual(j['warnings'], []);
});

test('ssim --mode skimage --json gives scikit-image 0.3674518327910367 (1e-7)', async () => {
  const r = await runCli(['ssim', CAMERA, NOISY, '--mode', 'skimage', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Math.abs((JSON.parse(r.stdout).mssim as number) - 0.3674518327910367) <= 1e-7);
});

test('ssim --color per-channel --json adds channels [{channel, mssim, psnr, msssim}] whose mean is mssim', async () => {
  const r = await runCli([
    'ssim',
    fixture('set5/bird_HR.png'),
    fixture('set5/bird_bicubic_x4.png'),
    '--color',
    'per-channel',
    '--shave',
    '4',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    mssim: number;
    width: number;
    channels: { channel: string; mssim: number }[];
  };
  assert.deepEqual(
    j.channels.map((c) => c.channel),
    ['R', 'G', 'B'],
  );
  assert.ok(Math.abs(j.mssim - j.channels.reduce((s, c) => s + c.mssim, 0) / 3) < 1e-15);
  assert.equal(j.width, 288 - 8);
});

test('ssim on identical files: mssim exactly 1 and psnr null (infinite) in JSON; human summary says so', async () => {
  const r = await runCli(['ssim', CAMERA, CAMERA, '--json']);
  const j = JSON.parse(r.stdout);
  assert.equal(j.mssim, 1);
  assert.equal(j.msssim, 1);
  assert.equal(j.psnr, null);
  const h = await runCli(['ssim', CAMERA, CAMERA]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /SSIM {5}1\.000000/);
  assert.match(h.stdout, /PSNR {5}inf \(identical\)/);
});

test('ssim --map writes a PNG wider than the 502x502 map (legend) and tall enough for the title bar', async () => {
  await mkdir(ART, { recursive: true });
  const out = join(ART, 'camera-map.png');
  const r = await runCli(['ssim', CAMERA, NOISY, '--map', out]);
  assert.equal(r.code, 0, r.stderr);
  const meta = await sharp(await readFile(out)).metadata();
  assert.equal(meta.format, 'png');
  assert.ok(meta.width! > 502 && meta.height! > 502, `${meta.width}x${meta.height}`);
});

test('bad input: size mismatch exits 2 with one line naming both files', async () => {
  const line = oneLineError(await runCli(['ssim', CAMERA, fixture('set5/bird_HR.png')]));
  assert.equal(
    line,
    `blindspot ssim: ${fixture('set5/bird_HR.png')}: size 288x288 does not match the ground truth ${CAMERA} (512x512)`,
  );
});

test('bad input: a missing file exits 2 naming it', async () => {
  const line = oneLineError(await runCli(['ssim', CAMERA, '/nonexistent/x.png']));
  assert.equal(line, 'blindspot ssim: /nonexistent/x.png: no such file');
});

test('bad input: a corrupt file exits 2 naming it', async () => {
  await mkdir(ART, { recursive: true });
  const bad = join(ART, 'corrupt.png');
  await writeFile(bad, Buffer.from('this is not an image at all'));
  const line = oneLineError(await runCli(['ssim', bad, CAMERA]));
  assert.ok(line.startsWith(`blindspot ssim: ${bad}: `), line);
});

test('bad input: a 1-pixel image exits 2: smaller than the window', async () => {
  await mkdir(ART, { recursive: true });
  const dot = join(ART, 'dot.png');
  await sharp(Buffer.from([9]), { raw: { width: 1, height: 1, channels: 1 } })
    .png()
    .toFile(dot);
  const line = oneLineError(await runCli(['ssim', dot, dot]));
  assert.equal(line, `blindspot ssim: ${dot}: image is 1x1, smaller than the 11x11 window of mode wang`);
});

test('bad flags: unknown mode and negative shave exit 2 with one line', async () => {
  assert.equal(
    oneLineError(await runCli(['ssim', CAMERA, NOISY, '--mode', 'fast'])),
    'blindspot ssim: invalid --mode: expected wang|matlab2009|skimage, got "fast"',
  );
  assert.equal(
    oneLineError(await runCli(['ssim', CAMERA, NOISY, '--shave=-1'])),
    'blindspot ssim: invalid --shave: expected an integer >= 0, got "-1"',
  );
  assert.match(oneLineError(await runCli(['ssim', CAMERA])), /expected 2 argument\(s\) GT TEST, got 1/);
});

test('ssim --help exits 0 and lists every option', async () => {
  const r = await runCli(['ssim', '--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--mode', '--data-range', '--color', '--shave', '--map', '--json'])
    assert.ok(r.stdout.includes(flag), flag);
});
