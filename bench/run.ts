/**
 * Benchmark of `blindspot run` (issue 8): N distinct 1024x1024 chest-X-ray pairs made from the 75 NIH images in
 * ../shared/data/medical/cxr_nih/1024 (flips, shifts, re-crops; each through a real bicubic x0.5 down/up
 * degradation), then, each phase in its own child process (so peak RSS is per phase), with the same workers:
 *   decode    decode GT + test only (the floor the issue names),
 *   diagnose  decode + block engine, no store (the compute floor),
 *   run       the full `runDataset` (decode, engine, Parquet staging, part assembly, images/errors/run.json,
 *             manifest).
 * Prints pairs/s, blocks/s, peak RSS, bytes per block row, the ratios run/decode and run/diagnose, and a
 * projection of the published 5,004 images x 4 models x 2 paths run on this machine.
 *
 *   npm run bench:run -- --n 100 [--workers 0] [--columns full|core] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const SOURCE = fileURLToPath(new URL('../../shared/data/medical/cxr_nih/1024', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    workers: { type: 'string', default: '0' },
    columns: { type: 'string', default: 'full' },
    keep: { type: 'boolean', default: false },
    phase: { type: 'string' },
    dir: { type: 'string' },
  },
});
const workers = Number(values.workers) || availableParallelism();

interface PhaseResult {
  phase: string;
  seconds: number;
  pairs: number;
  blocks: number;
  maxRssMiB: number;
  bytesPerBlockRow?: number;
}

/** Make N distinct GT images and their degraded outputs. */
async function generate(dir: string, n: number): Promise<void> {
  const sharp = (await import('sharp')).default;
  const names = readdirSync(SOURCE).filter((f) => f.endsWith('.png')).sort();
  mkdirSync(join(dir, 'gt'), { recursive: true });
  mkdirSync(join(dir, 'bicubic'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const src = names[i % names.length]!;
    const v = Math.floor(i / names.length); // variant: 0 as is, then flips, shifts, re-crops
    let img = sharp(join(SOURCE, src)).toColourspace('b-w');
    if (v % 2 === 1) img = img.flop();
    if (v % 4 >= 2) img = img.flip();
    if (v >= 4) {
      const off = 8 * (v % 8) + 4;
      const size = 1024 - 2 * off;
      const buf = await img.png().toBuffer();
      img = sharp(buf).extract({ left: off + ((v * 7) % off), top: off, width: size - ((v * 7) % off), height: size }).resize(1024, 1024, { kernel: 'lanczos3' }).toColourspace('b-w');
    }
    const gtPng = await img.png().toBuffer();
    const stem = `cxr_${String(i).padStart(5, '0')}`;
    await sharp(gtPng).toColourspace('b-w').png().toFile(join(dir, 'gt', `${stem}.png`));
    const small = await sharp(gtPng).resize(512, 512, { kernel: 'cubic' }).toBuffer();
    await sharp(small).resize(1024, 1024, { kernel: 'cubic' }).toColourspace('b-w').png().toFile(join(dir, 'bicubic', `${stem}_LR_bicubic_x0.50.png`));
  }
}

/** decode / diagnose floors with the same worker count. */
async function floor(dir: string, mode: 'decode' | 'diagnose'): Promise<PhaseResult> {
  const gts = readdirSync(join(dir, 'gt')).sort();
  const url = new URL('./run-worker.ts', import.meta.url);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  const pool = Array.from({ length: workers }, () => new Worker(boot, { eval: true }));
  let next = 0;
  let blocks = 0;
  // Warm-up: each worker loads its modules first (not timed; the run phase pays its own start-up).
  await Promise.all(
    pool.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('message', () => resolve());
          w.postMessage({ id: -1, gt: join(dir, 'gt', gts[0]!), test: join(dir, 'bicubic', gts[0]!.replace('.png', '_LR_bicubic_x0.50.png')), mode: 'decode' });
        }),
    ),
  );
  const start = performance.now();
  await Promise.all(
    pool.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const send = (): void => {
            if (next >= gts.length) return resolve();
            const g = gts[next++]!;
            w.postMessage({ id: next, gt: join(dir, 'gt', g), test: join(dir, 'bicubic', g.replace('.png', '_LR_bicubic_x0.50.png')), mode });
          };
          w.on('message', (m: { blocks?: number; error?: string }) => {
            if (m.error) return reject(new Error(m.error));
            blocks += m.blocks ?? 0;
            send();
          });
          send();
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(pool.map((w) => w.terminate()));
  return { phase: mode, seconds, pairs: gts.length, blocks, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function runPhase(dir: string): Promise<PhaseResult> {
  const { runDataset } = await import('../src/dataset/run.ts');
  const out = join(dir, 'RESULTS');
  rmSync(out, { recursive: true, force: true });
  const start = performance.now();
  const s = await runDataset({
    gt: join(dir, 'gt'),
    models: [{ name: 'bicubic', path: 'notta', dir: join(dir, 'bicubic') }],
    out,
    workers,
    columns: values.columns as 'full' | 'core',
  });
  const seconds = (performance.now() - start) / 1000;
  return { phase: 'run', seconds, pairs: s.ok, blocks: s.blocks, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytesPerBlockRow: s.bytesPerBlockRow };
}

async function main(): Promise<void> {
  if (values.phase) {
    const r = values.phase === 'run' ? await runPhase(values.dir!) : await floor(values.dir!, values.phase as 'decode' | 'diagnose');
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const n = Number(values.n);
  const dir = mkdtempSync(join(tmpdir(), 'bs-bench-run-'));
  try {
    const g0 = performance.now();
    await generate(dir, n);
    process.stderr.write(`generated ${n} pairs in ${((performance.now() - g0) / 1000).toFixed(1)} s (${dir})\n`);
    const results: PhaseResult[] = [];
    for (const phase of ['decode', 'diagnose', 'run']) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--phase', phase, '--dir', dir, '--workers', String(workers), '--columns', String(values.columns)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (child.status !== 0) throw new Error(`phase ${phase} failed: ${child.stderr}`);
      results.push(JSON.parse(child.stdout.trim().split('\n').pop()!) as PhaseResult);
    }
    const [dec, diag, run] = results as [PhaseResult, PhaseResult, PhaseResult];
    const pps = run.pairs / run.seconds;
    const projection = 5004 * 8 / pps;
    const lines = [
      `blindspot run benchmark: ${n} pairs of 1024x1024 8-bit chest X-rays (bicubic x0.5 down/up), ${workers} workers, --columns ${values.columns}`,
      `machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}`,
      '',
      '| phase | seconds | pairs/s | blocks/s | peak RSS MiB |',
      '|---|---|---|---|---|',
      ...results.map((r) => `| ${r.phase} | ${r.seconds.toFixed(1)} | ${(r.pairs / r.seconds).toFixed(2)} | ${Math.round((r.pairs ? r.blocks || r.pairs * 16384 : 0) / r.seconds)} | ${r.maxRssMiB.toFixed(0)} |`),
      '',
      `run / decode-only: ${(run.seconds / dec.seconds).toFixed(2)}x; run / (decode + diagnose): ${(run.seconds / diag.seconds).toFixed(2)}x (store overhead ${(100 * (run.seconds / diag.seconds - 1)).toFixed(0)}%)`,
      `block table: ${run.bytesPerBlockRow?.toFixed(1)} bytes/row (zstd, Parquet v2)`,
      `projection, 5,004 images x 4 models x 2 paths = 40,032 pairs at ${pps.toFixed(2)} pairs/s: ${(projection / 3600).toFixed(1)} h; ` +
        `${((run.bytesPerBlockRow ?? 0) * 40032 * 16384 / 1e9).toFixed(0)} GB of block files`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
