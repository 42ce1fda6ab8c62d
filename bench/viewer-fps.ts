/**
 * Frame rate of the viewer's 3D egg in headless Chromium (playwright-core, Debian's /usr/bin/chromium, WebGL on
 * SwiftShader = CPU rasterisation, so these are floors: a laptop GPU is far faster). Instances are synthetic
 * (`?bench=N`: deterministic random cells in the egg) and every frame is drawn (no render-on-demand). Peer: the
 * same page with 0 instances (egg wireframe, membrane, yolk, spokes only), measured in the same run.
 *
 *   node --import tsx bench/viewer-fps.ts [RESULTS] [--render points|quads] [--sizes 0,1000,10000,100000] [--seconds 5] [--width 1280 --height 800]
 */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHROMIUM, launchChromium } from '../test/helpers/chromium.ts';
import { startViewer } from '../src/viewer/server.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    render: { type: 'string' },
    sizes: { type: 'string' },
    seconds: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
  },
});
const sizes = (values.sizes ?? '0,1000,10000,100000').split(',').map(Number);
const seconds = Number(values.seconds ?? 5);
const width = Number(values.width ?? 1280);
const height = Number(values.height ?? 800);
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`viewer-fps: ${CHROMIUM} missing (apt-get install -y chromium); skipped\n`);
  process.exit(0);
}

let cleanup = (): void => undefined;
let results = positionals[0];
if (!results) {
  const { buildViewerResults } = await import('../test/e2e/viewer-fixture.ts');
  const fx = await buildViewerResults();
  results = fx.results;
  cleanup = () => rmSync(fx.root, { recursive: true, force: true });
}
const viewer = await startViewer(results);
const { context, profile } = await launchChromium({ width, height }, ['--disable-gpu-vsync', '--disable-frame-rate-limit']);
const page = context.pages()[0] ?? (await context.newPage());
const rows: { n: number; fps: number; msPerFrame: number }[] = [];
for (const n of sizes) {
  await page.goto(`${viewer.url}?bench=${n}&aa=0${values.render ? `&render=${values.render}` : ''}`);
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 120_000 });
  await page.waitForTimeout(1500); // warm-up: shader compile, first uploads
  const f0 = await page.evaluate(() => window.__viewer!.egg.frames);
  const t0 = Date.now();
  await page.waitForTimeout(seconds * 1000);
  const f1 = await page.evaluate(() => window.__viewer!.egg.frames);
  const fps = ((f1 - f0) * 1000) / (Date.now() - t0);
  const drawn = await page.evaluate(() => window.__viewer!.instanceCount());
  if (drawn !== n) throw new Error(`expected ${n} instances, drew ${drawn}`);
  rows.push({ n, fps, msPerFrame: 1000 / fps });
}
await context.close();
await viewer.close();
rmSync(profile, { recursive: true, force: true });
cleanup();

const peer = rows.find((r) => r.n === 0)?.fps;
const ua = (await import('node:os')).cpus()[0]?.model ?? 'cpu';
process.stdout.write(
  `viewer 3D frame rate (${values.render ?? 'points'}), headless Chromium + SwiftShader (CPU WebGL), ${width}x${height}, ${ua}\n\n`,
);
process.stdout.write('| instances | fps | ms/frame | fps / fps(egg only) |\n|---:|---:|---:|---:|\n');
for (const r of rows) {
  process.stdout.write(
    `| ${r.n} | ${r.fps.toFixed(1)} | ${r.msPerFrame.toFixed(1)} | ${peer ? (r.fps / peer).toFixed(2) : '–'} |\n`,
  );
}
