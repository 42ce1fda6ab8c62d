/**
 * The viewer app in Debian's Chromium (playwright-core, SwiftShader WebGL) on a real RESULTS folder: no console
 * errors, a non-blank WebGL canvas, filters that change the drawn instance count by exactly the number of cells
 * they exclude (counted here from /api/cells), play animating notta -> tta, clicking a cell opening its sampled
 * blocks, the image view's synchronised zoom and block panel. Screenshots go to test/artifacts/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/chromium.ts';
import { startViewer, type ViewerHandle } from '../../src/viewer/server.ts';
import { buildViewerResults, type ViewerFixture } from './viewer-fixture.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const skip = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium): browser tests skipped`;
if (skip) process.stderr.write(`viewer-browser: ${skip}\n`);

let fx: ViewerFixture;
let viewer: ViewerHandle;
let context: BrowserContext;
let page: Page;
let profile: string;
const consoleErrors: string[] = [];

interface Cells {
  count: number;
  id: number[];
  n: number[];
  layer: number[];
  border: number[];
}

test.before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  fx = await buildViewerResults();
  viewer = await startViewer(fx.results);
  ({ context, profile } = await launchChromium({ width: 1200, height: 760 }));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(viewer.url);
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
});
test.after(async () => {
  await context?.close();
  await viewer?.close();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const instanceCount = async () =>
  Number(await page.locator('#egg-canvas').getAttribute('data-instance-count'));
const cells = async (): Promise<Cells> => page.evaluate(async () => (await fetch('/api/cells')).json());

/** Raw RGB pixels of a PNG screenshot. */
async function pixels(png: Buffer): Promise<{ data: Buffer; n: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, n: info.width * info.height };
}

test('the app loads with no console errors and draws one instance per cell', { skip }, async () => {
  const c = await cells();
  assert.equal(await instanceCount(), c.count);
  assert.deepEqual(consoleErrors, []);
});

test(
  'the WebGL canvas renders non-blank pixels: coloured cells over the dark background',
  { skip },
  async () => {
    await page.waitForTimeout(500);
    const shot = await page.locator('#egg-canvas').screenshot();
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-egg.png') });
    const { data, n } = await pixels(shot);
    let nonBackground = 0;
    let saturated = 0;
    for (let i = 0; i < n; i++) {
      const r = data[3 * i]!;
      const g = data[3 * i + 1]!;
      const b = data[3 * i + 2]!;
      if (Math.abs(r - 14) + Math.abs(g - 17) + Math.abs(b - 23) > 30) nonBackground++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 90) saturated++;
    }
    assert.ok(nonBackground > 0.02 * n, `${nonBackground} of ${n} pixels differ from the background`);
    assert.ok(saturated > 300, `${saturated} strongly coloured pixels (the cells)`);
  },
);

test('the default camera shows all seven labels (A1..A6, None) inside the canvas, none covering another', { skip }, async () => {
  const boxes = await page.evaluate(() => window.__viewer!.egg.labelBoxes());
  const rect = (await page.locator('#egg-canvas').boundingBox())!;
  assert.deepEqual(boxes.map((b) => b.text).sort(), ['A1 luminance', 'A2 contrast', 'A3 structure', 'A4 edges', 'A5 high frequency', 'A6 residual', 'None (no damage)']);
  for (const b of boxes) {
    // drawn after the cells without depth test: a spoke pointing away (A5 before) is not hidden behind the cells
    assert.ok(b.onTop, `${b.text} is drawn on top`);
    assert.ok(b.x0 >= rect.x && b.x1 <= rect.x + rect.width && b.y0 >= rect.y && b.y1 <= rect.y + rect.height, `${b.text} in view: ${JSON.stringify(b)}`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      const overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
      assert.ok(!overlap, `${a.text} and ${b.text} overlap`);
    }
  }
});

test('filters change the drawn instance count to the number of cells they keep', { skip }, async () => {
  const c = await cells();
  const keep = (f: (i: number) => boolean) => Array.from({ length: c.count }, (_, i) => i).filter(f).length;
  await page.locator('input[data-filter="layer"][data-value="0"]').uncheck();
  assert.equal(
    await instanceCount(),
    keep((i) => c.layer[i] !== 0),
  );
  await page.locator('#f-border').uncheck();
  assert.equal(
    await instanceCount(),
    keep((i) => c.layer[i] !== 0 && c.border[i] === 0),
  );
  assert.ok((await instanceCount()) < c.count);
  await page.locator('#f-border').check();
  await page.locator('input[data-filter="layer"][data-value="0"]').check();
  assert.equal(await instanceCount(), c.count);
});

test(
  'play animates every cell from its notta to its tta position; moving cells get paths, still ones are dimmed',
  { skip },
  async (t) => {
    // the cells that move (independently, from /api/cells) are the ones the app counts and draws paths for
    const c = await cells();
    const raw = (await page.evaluate(async () => (await fetch('/api/cells')).json())) as { from: number[]; to: number[] };
    let moving = 0;
    for (let i = 0; i < c.count; i++) {
      if (Math.hypot(raw.to[3 * i]! - raw.from[3 * i]!, raw.to[3 * i + 1]! - raw.from[3 * i + 1]!, raw.to[3 * i + 2]! - raw.from[3 * i + 2]!) > 0.02) moving++;
    }
    assert.equal(Number(await page.locator('#egg-canvas').getAttribute('data-moving')), moving);
    assert.match(await page.locator('#move-note').innerText(), new RegExp(`^${moving} of ${c.count} cells move`));
    const before = await page.locator('#egg-canvas').screenshot();
    await page.click('#play');
    await page.waitForFunction(() => {
      const t = Number(document.querySelector('#egg-canvas')!.getAttribute('data-t'));
      return t > 0.05 && t < 0.95;
    });
    await page.waitForFunction(
      () => document.querySelector('#egg-canvas')!.getAttribute('data-t') === '1.000',
      null,
      { timeout: 30_000 },
    );
    await page.waitForTimeout(200);
    const after = await page.locator('#egg-canvas').screenshot();
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-egg-tta.png') });
    const a = await pixels(before);
    const b = await pixels(after);
    assert.equal(a.n, b.n);
    let changed = 0;
    for (let i = 0; i < a.n; i++) {
      if (
        Math.abs(a.data[3 * i]! - b.data[3 * i]!) +
          Math.abs(a.data[3 * i + 1]! - b.data[3 * i + 1]!) +
          Math.abs(a.data[3 * i + 2]! - b.data[3 * i + 2]!) >
        40
      )
        changed++;
    }
    t.diagnostic(`${changed} of ${a.n} canvas pixels (${((100 * changed) / a.n).toFixed(1)}%) change between notta and tta; ${moving} of ${c.count} cells move`);
    // was 1.6% of the pixels on the demo before paths and dimming (issue 16)
    assert.ok(changed > 0.04 * a.n, `${changed} pixels changed between notta and tta`);
    await page.locator('#t-slider').fill('0');
  },
);

test(
  'clicking a cell opens its panel with min(n, 24) sampled blocks; a sample opens its block on the image',
  { skip },
  async () => {
    const c = await cells();
    // The biggest cell is drawn largest; click its centre.
    const big = c.n.indexOf(Math.max(...c.n));
    const at = await page.evaluate((i) => window.__viewer!.egg.screenOf(i), big);
    assert.ok(at);
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('#egg-tooltip:not([hidden])');
    assert.match(await page.locator('#egg-tooltip').innerText(), /blocks in \d+ image/);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#cell-panel table#samples');
    const id = Number(await page.locator('#cell-panel').getAttribute('data-cell'));
    const n = c.n[c.id.indexOf(id)]!;
    assert.equal(await page.locator('#cell-panel tr.sample').count(), Math.min(24, n));
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-egg-cell.png') });
    const first = page.locator('#cell-panel tr.sample').first();
    const [, row, col] = (await first.locator('td').allInnerTexts()).map((s) => s.trim());
    await first.click();
    await page.waitForSelector('#block-panel:not([hidden])');
    assert.equal(await page.locator('#block-panel').getAttribute('data-row'), row);
    assert.equal(await page.locator('#block-panel').getAttribute('data-col'), col);
    assert.equal(await page.evaluate(() => window.__viewer!.egg.highlightVisible), true);
  },
);

test(
  'image view: GT and output share zoom/pan, clicking the centre opens block (6, 6) with all axes and l/c/s',
  { skip },
  async () => {
    await page.click('nav button[data-tab=image]');
    await page.selectOption('#sel-config', 'blur/notta');
    await page.waitForFunction(() => window.__viewer?.imageReady === true);
    const gt = page.locator('#img-gt');
    const box = (await gt.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4);
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(100);
    const vGt = await gt.getAttribute('data-view');
    assert.notEqual(vGt, null);
    assert.equal(await page.locator('#img-test').getAttribute('data-view'), vGt, 'zoom is synchronised');
    await page.dblclick('#img-gt'); // fit again (its clicks may open the block panel, which narrows the canvases)
    await page.waitForSelector('#block-panel:not([hidden])');
    await page.waitForTimeout(200);
    const fitted = (await gt.boundingBox())!;
    await page.mouse.click(fitted.x + fitted.width / 2, fitted.y + fitted.height / 2);
    await page.waitForSelector('#block-panel:not([hidden])');
    assert.equal(await page.locator('#block-panel').getAttribute('data-row'), '6');
    assert.equal(await page.locator('#block-panel').getAttribute('data-col'), '6');
    const text = await page.locator('#block-panel').innerText();
    for (const label of [
      'A1 luminance',
      'A2 contrast',
      'A3 structure',
      'A4 edges',
      'A5 high frequency',
      'A6 residual',
      'ssim_blk',
      'l (whole block)',
      'cs_blk',
    ]) {
      assert.ok(text.includes(label), `panel lacks ${label}`);
    }
    await page.selectOption('#sel-overlay', 'layer');
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-image.png') });
    // the difference view carries no overlay (it would hide the difference); the GT keeps it
    const saturated = async (sel: string) => {
      const { data, n } = await pixels(await page.locator(sel).screenshot());
      let k = 0;
      for (let i = 0; i < n; i++) if (Math.max(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!) - Math.min(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!) > 40) k++;
      return k / n;
    };
    await page.selectOption('#sel-right', 'diff');
    assert.equal(await page.locator('#img-test').getAttribute('data-showing'), 'diff');
    assert.match(await page.locator('#test-caption').innerText(), /^Difference \|output − GT\| ×4, blur \/ notta: black = identical/);
    const left = await saturated('#img-gt');
    const right = await saturated('#img-test');
    assert.ok(left > 0.005 && right < 0.002, `coloured pixels: GT ${left}, difference ${right} (only the selected block's outline)`);
    await page.selectOption('#sel-right', 'flicker');
    await page.waitForFunction(() => document.querySelector('#img-test')!.getAttribute('data-showing') === 'gt', null, { timeout: 3000 });
    assert.match(await page.locator('#test-caption').innerText(), /^Flicker every 0.5 s: .*\(now: GT\)/);
    await page.selectOption('#sel-right', 'test');
    await page.click('nav button[data-tab=tables]');
    await page.waitForSelector('#headline tr:nth-child(5)');
    await page.screenshot({ path: join(ARTIFACTS, 'viewer-tables.png') });
    assert.deepEqual(consoleErrors, []);
  },
);
