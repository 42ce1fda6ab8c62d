/**
 * Upscaler throughput: images/s per model and path (notta, tta) for 512x512 and 1024x1024 outputs (x2 from a
 * 256/512 LR), per TensorFlow.js backend (wasm with SIMD vs cpu), plus the tile size. One real chest X-ray.
 *
 * Quick by default (about 2-3 minutes on 2 cores): networks are timed directly where one run takes seconds; slower
 * cells (TTA = 8 plain runs, 1024 outputs = 4x the pixels of 512, thick) are extrapolated from the measured
 * per-pixel rate of the same model and backend, and marked "est". `--full` measures every cell (slow: thick TTA at
 * 1024 is ~30 min). The cpu backend is timed on a 128x128 LR tile (it is ~10-30x slower) and extrapolated likewise.
 *
 *   npm run bench -- upscale            node --import tsx bench/upscale.ts [--full]
 */
import { readImage } from '../src/image/read.ts';
import type { Image } from '../src/image/types.ts';
import { initTf, tfInfo } from '../src/tf/backend.ts';
import { upscaleImage } from '../src/upscale/upscale.ts';
import type { UpscaleModelName } from '../src/upscale/models.ts';

const full = process.argv.includes('--full');
const CXR = new URL('../data/demo/cxr_nih/nih_00001734_000.png', import.meta.url).pathname;

function crop(im: Image, size: number): Image {
  // centre crop, tiled by mirroring when the source is smaller than `size`
  const d = new Float32Array(size * size);
  const x0 = Math.max(0, (im.width - size) >> 1);
  const y0 = Math.max(0, (im.height - size) >> 1);
  const mirror = (v: number, n: number) => {
    const p = v % (2 * n);
    return p < n ? p : 2 * n - 1 - p;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      d[y * size + x] = im.data[mirror(y0 + y, im.height) * im.width + mirror(x0 + x, im.width)]!;
    }
  }
  return { ...im, width: size, height: size, data: d };
}

/**
 * CPU seconds of one call (process.cpuUsage: user + system). On a shared machine wall time mostly measures the
 * neighbours; CPU time of this single-threaded work is what an idle core would take. Wall time is kept too.
 */
const wall: number[] = [];
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  const c = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(c);
  wall.push((performance.now() - t) / 1000);
  return (d.user + d.system) / 1e6;
}

interface Row {
  backend: string;
  model: string;
  path: string;
  output: number;
  seconds: number;
  wall: number | null;
  how: 'measured' | 'est';
}
const rows: Row[] = [];
const gt = await readImage(CXR);
const lr256 = crop(gt, 256);
const lr512 = crop(gt, 512);
const lr128 = crop(gt, 128);

// classical: always measured
for (const model of ['bicubic', 'lanczos3'] as const) {
  for (const lr of [lr256, lr512]) {
    await upscaleImage(lr, { model }); // warm-up
    const s = await time(() => upscaleImage(lr, { model }));
    const st = await time(() => upscaleImage(lr, { model, tta: true }));
    const [ws, wt] = wall.slice(-2);
    rows.push({
      backend: '-',
      model,
      path: 'notta',
      output: lr.width * 2,
      seconds: s,
      wall: ws!,
      how: 'measured',
    });
    rows.push({
      backend: '-',
      model,
      path: 'tta',
      output: lr.width * 2,
      seconds: st,
      wall: wt!,
      how: 'measured',
    });
  }
}

const NETWORKS: UpscaleModelName[] = ['esrgan-slim', 'esrgan-medium', 'esrgan-thick'];
const facts: string[] = [];
for (const backend of ['wasm', 'cpu'] as const) {
  await initTf(backend);
  const info = await tfInfo();
  facts.push(
    `${backend}: tfjs ${info.version}, backend ${info.backend}` +
      (info.backend === 'wasm' ? `, SIMD ${info.wasmSimd}, threads ${info.wasmThreads}` : ''),
  );
  for (const model of NETWORKS) {
    // probe: a 128x128 LR (256x256 output), after one warm-up run that also loads the weights
    await upscaleImage(crop(gt, 32), { model, backend });
    const probe = await time(() => upscaleImage(lr128, { model, backend }));
    const perPixel = probe / (256 * 256);
    for (const lr of [lr256, lr512]) {
      const out = lr.width * 2;
      const direct = full || (backend === 'wasm' && perPixel * out * out < 12);
      const s = direct ? await time(() => upscaleImage(lr, { model, backend })) : perPixel * out * out;
      rows.push({
        backend,
        model,
        path: 'notta',
        output: out,
        seconds: s,
        wall: direct ? wall.at(-1)! : null,
        how: direct ? 'measured' : 'est',
      });
      const directTta = full;
      const st = directTta ? await time(() => upscaleImage(lr, { model, backend, tta: true })) : 8 * s;
      rows.push({
        backend,
        model,
        path: 'tta',
        output: out,
        seconds: st,
        wall: directTta ? wall.at(-1)! : null,
        how: directTta && direct ? 'measured' : 'est',
      });
    }
    if (backend === 'cpu') break; // cpu: slim only (the ratio is what matters)
  }
}

// tile size (wasm, esrgan-medium, 512x512 output)
await initTf('wasm');
const tileRows: string[] = [];
for (const tile of [0, 64, 128, 256]) {
  const s = await time(() => upscaleImage(lr256, { model: 'esrgan-medium', tile }));
  tileRows.push(`| ${tile === 0 ? 'none' : tile} | ${s.toFixed(2)} |`);
}

const fmt = (r: Row) =>
  `| ${r.backend} | ${r.model} | ${r.path} | ${r.output}x${r.output} | ${r.seconds.toFixed(r.seconds < 1 ? 3 : 1)} | ${(1 / r.seconds).toFixed(r.seconds > 10 ? 4 : 2)} | ${r.wall === null ? '-' : r.wall.toFixed(r.wall < 1 ? 3 : 1)} | ${r.how} |`;
process.stdout.write(
  [
    `Upscaler throughput, x2 from bicubic-downscaled NIH chest X-ray, one process, ${full ? 'all cells measured' : 'quick mode'}`,
    ...facts.map((f) => `- ${f}`),
    '',
    'CPU s/image = user+system CPU seconds of the call (what one idle core takes); images/s = per core;',
    'wall s = elapsed time in this run (inflated when the machine is shared). est = extrapolated (see header).',
    '',
    '| backend | model | path | output | CPU s/image | images/s/core | wall s | how |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(fmt),
    '',
  ].join('\n') + '\n',
);
const slim = (b: string) =>
  rows.find((r) => r.backend === b && r.model === 'esrgan-slim' && r.path === 'notta' && r.output === 512)!;
const ratio = slim('cpu').seconds / slim('wasm').seconds;
// the demo configuration: 6 images 512x512, {slim, medium, bicubic} x {notta, tta}
const demoCpu =
  6 *
  rows
    .filter((r) => (r.backend === 'wasm' || r.model === 'bicubic') && r.output === 512)
    .filter((r) => ['esrgan-slim', 'esrgan-medium', 'bicubic'].includes(r.model))
    .reduce((a, r) => a + r.seconds, 0);
process.stdout.write(
  `Demo upscale stage (6 x 512x512, slim + medium + bicubic, notta + tta): ${demoCpu.toFixed(0)} CPU s -> ` +
    `~${(demoCpu / 2 / 60).toFixed(1)} min on 2 idle cores with 2 worker threads\n\n`,
);
process.stdout.write(
  `wasm vs cpu (esrgan-slim, 512x512 output): wasm is ${ratio.toFixed(1)}x faster -> default backend: ${ratio > 1 ? 'wasm' : 'cpu'}\n\n` +
    [
      'Tile size (wasm, esrgan-medium, 512x512 output, overlap 16):',
      '',
      '| tile | CPU s/image |',
      '|---|---|',
      ...tileRows,
    ].join('\n') +
    '\n',
);
