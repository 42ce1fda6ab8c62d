/**
 * Block-engine speed on the 1024x1024 8-bit bench pair (bench/data; 16,384 blocks of 8x8): the full Tier-3 kernel
 * (`diagnoseBlocks`: ssim_blk with l/cs, whole-block moments, l/c/s, six axes with Sobel and Laplacian fields,
 * gates, severities: every column), as generated WebAssembly SIMD (the default) and as JavaScript (the reference;
 * both give the same doubles), against image-ssim's plain 8x8 non-overlapping block SSIM on the same pair, in the
 * same run, interleaved so that machine load hits all alike. Also `diagnose()` end to end (kernel + Tier-1 SSIM
 * wang, MS-SSIM, PSNR + summaries). Images are decoded once outside the timing; one thread. Times are per call:
 * the median of 7 calls per round, then the minimum and median over rounds; ratios are of process CPU time.
 * Run: `npm run bench -- tier3` (`-- --rounds N`).
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import imageSsim from 'image-ssim';
import sharp from 'sharp';
import { toGreyPlanes } from '../src/image/color.ts';
import { readImage } from '../src/image/read.ts';
import { allocateBlockColumns } from '../src/tier3/columns.ts';
import { blockGrid, createDiagnoseScratch, diagnoseBlocks } from '../src/tier3/blocks.ts';
import { diagnose } from '../src/tier3/diagnose.ts';
import { resolveDiagnoseOptions } from '../src/tier3/options.ts';

sharp.concurrency(1);

const GT = fileURLToPath(new URL('./data/gt_1024_u8.png', import.meta.url));
const SR = fileURLToPath(new URL('./data/sr_1024_u8.png', import.meta.url));

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Median wall and process-CPU milliseconds of `runs` calls after `warmup` calls. */
function timeIt<T>(runs: number, warmup: number, fn: () => T): { wall: number; cpu: number; last: T } {
  let last!: T;
  for (let i = 0; i < warmup; i++) last = fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu), last };
}

const [gt, sr] = await Promise.all([readImage(GT), readImage(SR)]);
const x = toGreyPlanes(gt, 'luma').planes[0]!;
const y = toGreyPlanes(sr, 'luma').planes[0]!;
const options = { ...resolveDiagnoseOptions(), dataRange: 255 };
const grid = blockGrid(gt.width, gt.height, 8, 8);
const columns = allocateBlockColumns(grid.blockCount);
const scratch = createDiagnoseScratch(gt.width, 8);
const ig = { data: Uint8Array.from(gt.data), width: gt.width, height: gt.height, channels: 1 };
const is = { data: Uint8Array.from(sr.data), width: sr.width, height: sr.height, channels: 1 };

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 7;

// The first wasm call compiles the kernel for this width (and runs V8's baseline code until it tiers up).
const tCold = performance.now();
diagnoseBlocks(x, y, gt.width, gt.height, options, columns, scratch, 'wasm');
const cold = { wall: performance.now() - tCold };

// Interleave the contenders so that machine load affects all alike.
type Runs = { wall: number; cpu: number }[];
const wasmRuns: Runs = [];
const jsRuns: Runs = [];
const peerRuns: Runs = [];
let peerValue = NaN;
for (let round = 0; round < ROUNDS; round++) {
  const warm = round === 0 ? 5 : 1;
  wasmRuns.push(timeIt(7, warm, () => diagnoseBlocks(x, y, gt.width, gt.height, options, columns, scratch, 'wasm')));
  jsRuns.push(timeIt(7, warm, () => diagnoseBlocks(x, y, gt.width, gt.height, options, columns, scratch, 'js')));
  const p = timeIt(7, warm, () => imageSsim.compare(ig, is, 8).ssim);
  peerValue = p.last;
  peerRuns.push(p);
}
const summarize = (runs: Runs) => ({
  wall: median(runs.map((r) => r.wall)),
  cpu: median(runs.map((r) => r.cpu)),
  wallMin: Math.min(...runs.map((r) => r.wall)),
  cpuMin: Math.min(...runs.map((r) => r.cpu)),
});
const kernelWasm = summarize(wasmRuns);
const kernelJs = summarize(jsRuns);
const peer = summarize(peerRuns);
// Fresh and reused-buffer calls alternate over rounds (GC work from one must not land in the other's timing).
const reusedBuffers = {};
const fullRuns: ReturnType<typeof timeIt<ReturnType<typeof diagnose>>>[] = [];
const reusedRuns: typeof fullRuns = [];
for (let round = 0; round < 5; round++) {
  fullRuns.push(timeIt(3, round === 0 ? 2 : 0, () => diagnose(gt, sr)));
  reusedRuns.push(timeIt(3, round === 0 ? 2 : 0, () => diagnose(gt, sr, {}, reusedBuffers)));
}
const medianOf = (runs: typeof fullRuns) => ({ ...summarize(runs), last: runs[0]!.last });
const full = medianOf(fullRuns);
const fullReused = medianOf(reusedRuns);

let meanBlk = 0;
const blk = columns.ssim_blk as Float64Array;
for (let k = 0; k < grid.blockCount; k++) meanBlk += blk[k]!;
meanBlk /= grid.blockCount;

const n = grid.blockCount;
const perSec = (ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
type Row = readonly [string, ReturnType<typeof summarize>, string, string];
const rows: Row[] = [
  ['blindspot diagnoseBlocks, WebAssembly SIMD (default)', kernelWasm, meanBlk.toFixed(6), 'mean ssim_blk (7x7 windows in each block); every Tier-3 column'],
  ['blindspot diagnoseBlocks, JavaScript (BLINDSPOT_BLOCK_KERNEL=js)', kernelJs, meanBlk.toFixed(6), 'the same doubles'],
  ['image-ssim 0.2 compare, 8x8 windows', peer, peerValue.toFixed(6), 'mean of plain 8x8 block SSIM'],
  ['blindspot diagnose() end to end', full, full.last.summary.tier1.ssim.toFixed(6), 'kernel + SSIM wang + MS-SSIM + PSNR + summaries; value: SSIM'],
  ['blindspot diagnose() with reused buffers', fullReused, fullReused.last.summary.tier1.ssim.toFixed(6), 'as a dataset worker calls it (columns and scratch allocated once)'],
];
const lines = [
  `1024x1024 8-bit grey pair (bench/data), ${n} blocks of 8x8, Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ` +
    `(${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}), one thread; ${ROUNDS} interleaved rounds ` +
    '(5 for diagnose()); per call: median (min) over rounds of wall-clock and process CPU time.',
  '',
  '| method | wall ms | CPU ms | blocks/s per core (CPU, median) | image-ssim CPU time / this | value | note |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...rows.map(
    ([name, t, value, note]) =>
      `| ${name} | ${t.wall.toFixed(1)} (${t.wallMin.toFixed(1)}) | ${t.cpu.toFixed(1)} (${t.cpuMin.toFixed(1)}) | ${perSec(t.cpu)} | ` +
      `${(peer.cpu / t.cpu).toFixed(2)}x | ${value} | ${note} |`,
  ),
  '',
  `WebAssembly kernel vs JavaScript kernel (CPU, medians): ${(kernelJs.cpu / kernelWasm.cpu).toFixed(2)}x faster; ` +
    `vs image-ssim: ${(peer.cpu / kernelWasm.cpu).toFixed(2)}x faster (minimums: ${(peer.cpuMin / kernelWasm.cpuMin).toFixed(2)}x). ` +
    `First wasm call (compiles the kernel for this width): ${cold.wall.toFixed(1)} ms wall.`,
];
process.stdout.write(lines.join('\n') + '\n');
