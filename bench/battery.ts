/**
 * Benchmark of the metric battery inside `blindspot run` (issue 20): the same N distinct 1024x1024 chest X-ray
 * GTs (../shared/data/medical/cxr_nih/1024, 1-channel grey) with `--paths K` outputs each (bicubic x0.5 down/up
 * with sharp, output k blurred a little more; models m0/notta, m0/tta, m1/notta, ...) run with the battery on and
 * off, alternating, each run in its own child process with the same workers. Prints wall and CPU seconds (the
 * child's threads together: steadier than wall time on a shared machine), and the steady state per pair (from the
 * second finished pair to the last: without process and worker start-up). With K > 1 the run's GT-affine dispatch
 * reuses each GT's decoded image, engine reference and battery statistics, as in a study run (8 outputs per GT).
 *
 *   node --import tsx bench/battery.ts --n 30 --workers 2 [--paths 1|2|4|8] [--reps 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SOURCE = fileURLToPath(new URL('../../shared/data/medical/cxr_nih/1024', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
    paths: { type: 'string', default: '1' },
    reps: { type: 'string', default: '2' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

async function generate(dir: string, n: number, paths: number): Promise<void> {
  const sharp = (await import('sharp')).default;
  const names = readdirSync(SOURCE).filter((f) => f.endsWith('.png')).sort();
  mkdirSync(join(dir, 'gt'), { recursive: true });
  for (let k = 0; k < paths; k++) mkdirSync(join(dir, `sr_${k}`), { recursive: true });
  for (let i = 0; i < n; i++) {
    const src = names[i % names.length]!;
    let img = sharp(join(SOURCE, src)).toColourspace('b-w');
    if (Math.floor(i / names.length) % 2 === 1) img = img.flop();
    const gt = await img.png().toBuffer();
    const name = `p${String(i).padStart(4, '0')}.png`;
    // Written as 1-channel grey like the outputs (a plain re-encode of a grey buffer makes 3-channel sRGB, which
    // sends the pair through the per-pixel colour path).
    await sharp(gt).toColourspace('b-w').png().toFile(join(dir, 'gt', name));
    const small = await sharp(gt).resize(512, 512, { kernel: 'cubic' }).toBuffer();
    for (let k = 0; k < paths; k++) {
      // Output k: the bicubic round trip, blurred a little more for each further output.
      const up = sharp(small).resize(1024, 1024, { kernel: 'cubic' });
      await (k === 0 ? up : up.blur(0.5 + 0.3 * k)).toColourspace('b-w').png().toFile(join(dir, `sr_${k}`, name));
    }
  }
}

if (values.child) {
  const { runDataset } = await import('../src/dataset/run.ts');
  const dir = values.dir!;
  const out = join(dir, `out-${values.child}-${process.pid}`);
  // Outputs 0, 1, 2, ... as models m0/notta, m0/tta, m1/notta, ...
  const models = Array.from({ length: Number(values.paths) }, (_, k) => ({
    name: `m${Math.floor(k / 2)}`,
    path: k % 2 === 0 ? ('notta' as const) : ('tta' as const),
    dir: join(dir, `sr_${k}`),
  }));
  const t = performance.now();
  // Steady state: from the second finished pair (both workers warm) to the last, wall and CPU.
  let first: { t: number; cpu: number; done: number } | undefined;
  let last: { t: number; cpu: number; done: number } | undefined;
  const mark = (done: number): { t: number; cpu: number; done: number } => {
    const c = process.cpuUsage();
    return { t: performance.now(), cpu: (c.user + c.system) / 1e6, done };
  };
  const hooks = {
    onProgress: (p: { pairsDone: number }): void => {
      if (p.pairsDone >= 2 && first === undefined) first = mark(p.pairsDone);
      else if (first !== undefined && p.pairsDone > first.done) last = mark(p.pairsDone);
    },
  };
  const s = await runDataset({
    gt: join(dir, 'gt'),
    models,
    out,
    workers: Number(values.workers),
    battery: values.child === 'off' ? null : {},
  } as Parameters<typeof runDataset>[0], hooks);
  const seconds = (performance.now() - t) / 1000;
  // CPU seconds of the whole child (worker threads included): on a shared machine the wall time depends on what
  // else runs, the CPU time much less.
  const u = process.cpuUsage();
  rmSync(out, { recursive: true, force: true });
  const steady =
    first && last ? { wall: (last.t - first.t) / 1000 / (last.done - first.done), cpu: (last.cpu - first.cpu) / (last.done - first.done) } : null;
  process.stdout.write(JSON.stringify({ seconds, cpu: (u.user + u.system) / 1e6, pairs: s.ok, steady }) + '\n');
} else {
  const n = Number(values.n);
  const dir = mkdtempSync(join(tmpdir(), 'bs-battery-bench-'));
  try {
    await generate(dir, n, Number(values.paths));
    const times: Record<string, number[]> = { off: [], on: [] };
    const cpu: Record<string, number[]> = { off: [], on: [] };
    const steadyWall: Record<string, number[]> = { off: [], on: [] };
    const steadyCpu: Record<string, number[]> = { off: [], on: [] };
    let pairs = 0;
    for (let rep = 0; rep < Number(values.reps); rep++) {
      for (const mode of ['off', 'on']) {
        const args = ['--import', 'tsx', SELF, '--child', mode, '--dir', dir, '--workers', String(values.workers), '--paths', String(values.paths)];
        const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`${mode} run failed: ${r.stderr}`);
        const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
          seconds: number;
          cpu: number;
          pairs: number;
          steady: { wall: number; cpu: number } | null;
        };
        times[mode]!.push(j.seconds);
        cpu[mode]!.push(j.cpu);
        if (j.steady) {
          steadyWall[mode]!.push(j.steady.wall);
          steadyCpu[mode]!.push(j.steady.cpu);
        }
        pairs = j.pairs;
      }
    }
    const best = (a: number[]): number => Math.min(...a);
    console.log(`battery in run: ${pairs} pairs (${n} GT x ${values.paths} path(s)), 1024x1024, ${values.workers} workers, ${values.reps} alternating reps`);
    const ms = (a: number[]): string => a.map((x) => (x * 1000).toFixed(0)).join(', ');
    console.log('| battery | wall s (each rep) | best pairs/s | CPU s (each rep) | steady wall ms/pair | steady CPU ms/pair |');
    console.log('|---|---|---|---|---|---|');
    for (const m of ['off', 'on']) {
      const cols = [times[m]!.map((s) => s.toFixed(1)).join(', '), (pairs / best(times[m]!)).toFixed(2), cpu[m]!.map((s) => s.toFixed(1)).join(', ')];
      console.log(`| ${m} | ${cols.join(' | ')} | ${ms(steadyWall[m]!)} | ${ms(steadyCpu[m]!)} |`);
    }
    const ratio = (k: Record<string, number[]>): string => (k.on!.length && k.off!.length ? (best(k.on!) / best(k.off!)).toFixed(2) + 'x' : 'n/a');
    console.log(`on / off (best of each): wall ${ratio(times)}, CPU ${ratio(cpu)}; steady state: wall ${ratio(steadyWall)}, CPU ${ratio(steadyCpu)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
