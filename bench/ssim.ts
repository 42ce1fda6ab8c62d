/**
 * SSIM speed on one 1024x1024 8-bit grey pair (bench/data, decoded once outside the timing), against the npm
 * peers measured in the same run: ssim.js `fast` and `original` (downsampling off, so they compute Wang's
 * valid-region Gaussian SSIM like ours) and image-ssim (8x8 non-overlapping windows: a different, cheaper
 * statistic, timed for context). The PNG decode of both files is the floor later stages are measured against.
 * Everything runs on one core (sharp's thread pool is set to 1).
 * Run: `npm run bench -- ssim`.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import imageSsim from 'image-ssim';
import sharp from 'sharp';
import { ssim as ssimJs } from 'ssim.js';
import { readImage } from '../src/image/read.ts';
import type { Image } from '../src/image/types.ts';
import { toGreyPlanes } from '../src/image/color.ts';
import { gaussianTaps, ssim, ssimMap } from '../src/ssim/index.ts';

const GT = fileURLToPath(new URL('./data/gt_1024_u8.png', import.meta.url));
const SR = fileURLToPath(new URL('./data/sr_1024_u8.png', import.meta.url));

sharp.concurrency(1);

interface Row {
  name: string;
  runs: number;
  /** Median wall-clock ms. */
  median: number;
  /** Median CPU ms of this process (user + system): steadier than wall time on a shared machine. */
  cpu: number;
  value: number | null;
  note: string;
}

function medianOf(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

async function timeIt<T>(
  runs: number,
  warmup: number,
  fn: () => T | Promise<T>,
): Promise<{ median: number; cpu: number; last: T }> {
  let last!: T;
  for (let i = 0; i < warmup; i++) last = await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = await fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { median: medianOf(wall), cpu: medianOf(cpu), last };
}

/** RGBA ImageData-like view of a grey image (ssim.js converts RGBA to grey itself; R = G = B keeps the value). */
function toRgba(img: Image): { data: Uint8ClampedArray; width: number; height: number } {
  const n = img.width * img.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const v = img.data[i]!;
    data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = v;
    data[4 * i + 3] = 255;
  }
  return { data, width: img.width, height: img.height };
}

const rows: Row[] = [];

const decode = await timeIt(9, 2, () => Promise.all([readImage(GT), readImage(SR)]));
const [gt, sr] = decode.last;
rows.push({
  name: 'decode both PNGs (sharp, 1 thread)',
  runs: 9,
  median: decode.median,
  cpu: decode.cpu,
  value: null,
  note: 'the floor',
});

const wang = await timeIt(21, 3, () => ssim(gt, sr, { mode: 'wang', msssim: false }));
const ours = wang.last.mssim;
rows.push({
  name: 'blindspot ssim, mode wang',
  runs: 21,
  median: wang.median,
  cpu: wang.cpu,
  value: ours,
  note: 'reference row',
});

const withMs = await timeIt(9, 1, () => ssim(gt, sr, { mode: 'wang' }));
rows.push({
  name: 'blindspot ssim, wang + MS-SSIM + PSNR',
  runs: 9,
  median: withMs.median,
  cpu: withMs.cpu,
  value: withMs.last.msssim,
  note: 'value: MS-SSIM',
});

const sk = await timeIt(9, 1, () => ssim(gt, sr, { mode: 'skimage', msssim: false }));
rows.push({
  name: 'blindspot ssim, mode skimage',
  runs: 9,
  median: sk.median,
  cpu: sk.cpu,
  value: sk.last.mssim,
  note: '7x7 uniform',
});

// The kernel alone on float64 planes (what ssim() adds: colour copy, NaN scan, PSNR, wasm copies).
const xPlane = toGreyPlanes(gt, 'luma').planes[0]!;
const yPlane = toGreyPlanes(sr, 'luma').planes[0]!;
const taps = gaussianTaps(11, 1.5);
const consts = { C1: (0.01 * 255) ** 2, C2: (0.03 * 255) ** 2, covNorm: 1 };
const kWasm = await timeIt(
  21,
  3,
  () => ssimMap(xPlane, yPlane, 1024, 1024, taps, consts, { backend: 'wasm' }).mssim,
);
rows.push({
  name: 'kernel ssimMap only, wasm SIMD',
  runs: 21,
  median: kWasm.median,
  cpu: kWasm.cpu,
  value: kWasm.last,
  note: '',
});
const kJs = await timeIt(
  9,
  2,
  () => ssimMap(xPlane, yPlane, 1024, 1024, taps, consts, { backend: 'js' }).mssim,
);
rows.push({
  name: 'kernel ssimMap only, JavaScript',
  runs: 9,
  median: kJs.median,
  cpu: kJs.cpu,
  value: kJs.last,
  note: 'fallback',
});

const ga = toRgba(gt);
const sa = toRgba(sr);
const fast = await timeIt(5, 1, () => ssimJs(ga, sa, { ssim: 'fast', downsample: false }).mssim);
rows.push({
  name: 'ssim.js 3.5 fast (downsample off)',
  runs: 5,
  median: fast.median,
  cpu: fast.cpu,
  value: fast.last,
  note: '',
});
const original = await timeIt(3, 1, () => ssimJs(ga, sa, { ssim: 'original', downsample: false }).mssim);
rows.push({
  name: 'ssim.js 3.5 original (downsample off)',
  runs: 3,
  median: original.median,
  cpu: original.cpu,
  value: original.last,
  note: '',
});

const greyU8 = (img: Image) => ({
  data: Uint8Array.from(img.data),
  width: img.width,
  height: img.height,
  channels: 1,
});
const ig = greyU8(gt);
const is = greyU8(sr);
const iss = await timeIt(9, 1, () => imageSsim.compare(ig, is).ssim);
rows.push({
  name: 'image-ssim 0.2 (8x8 blocks, not Wang SSIM)',
  runs: 9,
  median: iss.median,
  cpu: iss.cpu,
  value: iss.last,
  note: 'different statistic',
});

const ref = wang.median;
const refCpu = wang.cpu;
const load = loadavg()[0]!;
const lines = [
  `1024x1024 8-bit grey pair (bench/data), Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores, ` +
    `load average ${load.toFixed(1)} at the end), one thread; medians of wall-clock and of process CPU time.`,
  '',
  '| method | runs | wall ms | CPU ms | wall / blindspot wang | CPU / blindspot wang | value | note |',
  '|---|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.runs} | ${r.median.toFixed(1)} | ${r.cpu.toFixed(1)} | ${(r.median / ref).toFixed(2)}x | ` +
      `${(r.cpu / refCpu).toFixed(2)}x | ${r.value === null ? '' : r.value.toFixed(9)} | ${r.note} |`,
  ),
  '',
  `Agreement with ssim.js: |fast - ours| = ${Math.abs(fast.last - ours).toExponential(2)}, ` +
    `|original - ours| = ${Math.abs(original.last - ours).toExponential(2)} (expected ~1e-6 or better).`,
  `Goals: blindspot wang >= 20x faster than ssim.js fast: ${(fast.median / ref).toFixed(1)}x wall, ` +
    `${(fast.cpu / refCpu).toFixed(1)}x CPU (${fast.cpu / refCpu >= 20 ? 'met' : 'NOT met'}); < 25 ms per pair: ` +
    `${ref.toFixed(1)} ms wall, ${refCpu.toFixed(1)} ms CPU (${refCpu < 25 ? 'met' : 'NOT met'}).`,
  load > cpus().length
    ? `Note: the machine was busy (load ${load.toFixed(1)} on ${cpus().length} cores): absolute times are inflated; ratios are measured in the same run.`
    : '',
];
process.stdout.write(lines.join('\n') + '\n');
