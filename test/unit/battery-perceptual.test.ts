/**
 * LPIPS / CLIP plumbing on ONNX Runtime with stand-in models written by the project's ONNX writer (real LPIPS and
 * CLIP weights are user-supplied and not in the repository): an "LPIPS" that returns mean((a - b)^2) of its two
 * [-1, 1] inputs, and a "CLIP" whose embedding is the per-channel mean of its normalised input. They check the
 * input conventions and the null-when-absent rule, not the networks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOnnxModel } from '../../src/upscale/onnxWriter.ts';
import { greyImage } from '../../src/image/types.ts';
import { toGray8 } from '../../src/battery/gray8.ts';
import { clipInput, loadPerceptualModel, perceptualMetrics } from '../../src/battery/perceptual.ts';
import { fixture, runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'blindspot-perceptual-'));
const lpipsFile = join(dir, 'lpips.onnx');
const clipFile = join(dir, 'clip.onnx');
writeFileSync(
  lpipsFile,
  writeOnnxModel({
    name: 'mse-as-lpips',
    nodes: [
      { op: 'Sub', inputs: ['in0', 'in1'], outputs: ['d'] },
      { op: 'Mul', inputs: ['d', 'd'], outputs: ['d2'] },
      { op: 'ReduceMean', inputs: ['d2'], outputs: ['distance'], attributes: [{ name: 'keepdims', type: 'int', value: 1 }] },
    ],
    initializers: [],
    inputs: [
      { name: 'in0', shape: [1, 3, 'H', 'W'] },
      { name: 'in1', shape: [1, 3, 'H', 'W'] },
    ],
    outputs: [{ name: 'distance', shape: [1, 1, 1, 1] }],
  }),
);
writeFileSync(
  clipFile,
  writeOnnxModel({
    name: 'channel-mean-as-clip',
    nodes: [
      {
        op: 'ReduceMean',
        inputs: ['pixel_values'],
        outputs: ['image_embeds'],
        attributes: [
          { name: 'axes', type: 'ints', value: [2, 3] },
          { name: 'keepdims', type: 'int', value: 0 },
        ],
      },
    ],
    initializers: [],
    inputs: [{ name: 'pixel_values', shape: [1, 3, 224, 224] }],
    outputs: [{ name: 'image_embeds', shape: [1, 3] }],
  }),
);

const W = 40;
const H = 30;
const a = greyImage(W, H, Array.from({ length: W * H }, (_, i) => (i * 7) % 256));
const b = greyImage(W, H, Array.from({ length: W * H }, (_, i) => ((i * 7) % 256) ^ (i % 5)));

test('LPIPS input is RGB in [-1, 1], NCHW, full size: the stand-in returns mean((a-b)^2) of that scaling', async () => {
  const m = await loadPerceptualModel('lpips', lpipsFile);
  const ga = toGray8(a, 255);
  const gb = toGray8(b, 255);
  const r = await perceptualMetrics(ga, gb, { lpips: m });
  let s = 0;
  for (let i = 0; i < W * H; i++) s += (ga.gray[i]! / 127.5 - gb.gray[i]! / 127.5) ** 2;
  assert.ok(Math.abs(r.lpips! - s / (W * H)) < 1e-6, `${r.lpips} vs ${s / (W * H)}`);
  assert.equal(r.clip_similarity, null, 'no CLIP model: null, never 0');
});

test('CLIP: 224x224 normalised input, cosine of the embeddings (1 for the same image)', async () => {
  const m = await loadPerceptualModel('clip', clipFile);
  const ga = toGray8(a, 255);
  const same = await perceptualMetrics(ga, ga, { clip: m });
  assert.ok(Math.abs(same.clip_similarity! - 1) < 1e-6);
  assert.equal(same.lpips, null);
  const x = clipInput(ga);
  assert.equal(x.length, 3 * 224 * 224);
  // A mid-grey 8-bit level maps to (v/255 - mean_c) / std_c in every channel.
  const grey = toGray8(greyImage(W, H, new Array(W * H).fill(128)), 255);
  const g = clipInput(grey);
  assert.ok(Math.abs(g[0]! - (128 / 255 - 0.48145466) / 0.26862954) < 1e-6);
  assert.ok(Math.abs(g[224 * 224 * 2]! - (128 / 255 - 0.40821073) / 0.27577711) < 1e-6);
});

test('a model file that is missing or not ONNX is one coded line naming the file', async () => {
  await assert.rejects(loadPerceptualModel('lpips', join(dir, 'none.onnx')), (e: Error & { code?: string }) => e.code === 'E_UNREADABLE' && e.message.includes('none.onnx'));
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'not a model');
  await assert.rejects(loadPerceptualModel('clip', junk), (e: Error & { code?: string }) => e.code === 'E_CORRUPT' && e.message.startsWith(junk));
  await assert.rejects(loadPerceptualModel('lpips', clipFile), /needs 2 image inputs, this one has 1/);
});

test('blindspot metrics --json: lpips from --lpips, clip_similarity null without --clip', async () => {
  const r = await runCli(['metrics', '--json', '--lpips', lpipsFile, fixture('cxr/nih_00000001_000.png'), fixture('cxr/nih_00000001_000_box4_bicubic4.png')]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, number | null>;
  assert.ok(typeof j['lpips'] === 'number' && j['lpips'] > 0);
  assert.equal(j['clip_similarity'], null);
  assert.ok(Math.abs(j['delta_e2000']! - 0.6479288301773044) < 1e-9);
  const text = await runCli(['metrics', fixture('cxr/nih_00000001_000.png'), fixture('cxr/nih_00000001_000_box4_bicubic4.png')]);
  // the header names the files in argument order, GT first
  assert.equal(text.stdout.split('\n')[0], `GT ${fixture('cxr/nih_00000001_000.png')} vs test ${fixture('cxr/nih_00000001_000_box4_bicubic4.png')}`);
  assert.match(text.stdout, /clip_similarity +not computed/);
  assert.match(text.stdout, /delta_e2000 +0\.647929 +CIEDE2000/);
});
