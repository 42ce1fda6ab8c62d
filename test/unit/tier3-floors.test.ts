/**
 * DESIGN §3c on analytic blocks and real images: the blind-spot bounds se_max/dmu_max are exact for the SSIM
 * identity, the floors keep sub-grey-level noise out of Hidden Collapse while real damage is still caught, the
 * region of interest follows user masks and hand-marked X-ray blocks, and a 12-bit MR pair gets its VOI display
 * scale and no silent degenerate threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { greyImage, type Image } from '../../src/image/types.ts';
import { readImage } from '../../src/image/read.ts';
import { diagnose, type DiagnoseResult } from '../../src/tier3/diagnose.ts';
import { dmuMax, seMax, voiWindow } from '../../src/tier3/reference.ts';
import { autoRoiMask, blockRoi } from '../../src/tier3/roi.ts';
import { blockGrid } from '../../src/tier3/blocks.ts';
import { damageOf, layerOf, LAYER_HIDDEN, LAYER_INTACT, LAYERS, regimeOf, REGIME_SILENT } from '../../src/tier3/regimes.ts';
import { imresizeBicubic } from '../../src/upscale/imresize.ts';

const DEMO = join(import.meta.dirname, '../../data/demo/cxr_nih');
const MR = join(import.meta.dirname, '../fixtures/medical/mr/MR2_UNCI.dcm');

/** Seeded uniform [0, 1) and standard normal draws (the same images on every run). */
function rng(seed: number): { u: () => number; n: () => number } {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { u, n: () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()) };
}

/** Block (row, col) of `cols` as a number. */
const at = (r: DiagnoseResult, name: string, row: number, col: number): number => Number(r.columns[name]![row * r.gridCols + col]);

/** The floored layer of block k, as the summary counts it. */
function flooredLayer(r: DiagnoseResult, k: number): number {
  const c = r.columns;
  const t = r.summary.floored.thresholds;
  const d = damageOf(Number(c.se![k]), Number(c.r_ac![k]), Number(c.dmu![k]), r.reference.floors, r.options.hiddenR);
  return layerOf(Number(c.ssim_blk![k]), d.ac || d.dc, t.visible, t.hidden);
}

test('se_max(T) is the exact bound of the SSIM identity: an uncorrelated texture error just under it keeps SSIM >= T, just over it does not', () => {
  // 12-bit data (L = 4095, C2 = 15,093): the bound is ~12 units, far above a 2-level floor of a 600-unit window.
  const L = 4095;
  const C2 = (0.03 * L) ** 2;
  const T = 0.99;
  const W = 64;
  for (const sxGt of [0, 10]) {
    const bound = seMax(sxGt, T, C2);
    // the bound solves 1 - se^2 / (2 sx^2 + se^2 + C2) = T (the AC factor with sy^2 = sx^2 + se^2)
    assert.ok(Math.abs(1 - bound ** 2 / (2 * sxGt ** 2 + bound ** 2 + C2) - T) < 1e-12);
    const x = new Float64Array(W * W);
    const y = new Float64Array(W * W);
    for (let j = 0; j < W; j++) {
      for (let i = 0; i < W; i++) {
        // GT: flat 1000, or vertical stripes +-sx (+,+,-,-); error: a +-s checkerboard, orthogonal to both
        const v = 1000 + (((i >> 1) & 1) === 0 ? sxGt : -sxGt);
        x[j * W + i] = v;
        const block = (j >> 3) * 8 + (i >> 3);
        const s = block === 18 ? 0.98 * bound : block === 21 ? 1.02 * bound : 0;
        y[j * W + i] = v + (((i + j) & 1) === 0 ? s : -s);
      }
    }
    const gt = greyImage(W, W, x, { bitDepth: 16, dataRange: L });
    const test = greyImage(W, W, y, { bitDepth: 16, dataRange: L });
    const r = diagnose(gt, test, { dataRange: L, hiddenThreshold: T, visibleThreshold: 0.5, displayWidth: 600, roi: 'all' });
    assert.equal(at(r, 'sx', 2, 2), sxGt);
    assert.ok(Math.abs(at(r, 'se', 2, 2) - 0.98 * bound) < 1e-9, 'se is the planted error');
    assert.ok(at(r, 'ssim', 2, 2) >= T && at(r, 'ssim', 2, 5) < T, `whole-block SSIM ${at(r, 'ssim', 2, 2)} / ${at(r, 'ssim', 2, 5)}`);
    // DESIGN §3c: the error is 5 display levels (unit 600/255), above the 2-level floor: Hidden AC just under the
    // bound (on ssim_blk, the published local SSIM, which the 7x7 windows put slightly lower), Gray just over it.
    const under = flooredLayer(r, 2 * 8 + 2);
    const over = flooredLayer(r, 2 * 8 + 5);
    assert.equal(LAYERS[under], 'Hidden', `sx ${sxGt}: under the bound`);
    assert.equal(LAYERS[over], 'Gray', `sx ${sxGt}: over the bound`);
    if (sxGt === 0) assert.equal(regimeOf(0, at(r, 'kappa', 2, 2), T, C2), REGIME_SILENT, 'a flat block is Silent');
    assert.ok(Math.abs(r.summary.blindSpot.seMax.median - seMax(sxGt, T, C2) / (600 / 255)) < 1e-9, 'the map reports the bound in display levels');
  }
});

test('a brightness shift under dmu_max(T) in a bright block is Hidden DC; just over it, SSIM sees it', () => {
  const T = 0.99;
  const C1 = (0.01 * 255) ** 2;
  const mx = 200;
  const bound = dmuMax(mx, T, C1);
  // the bound solves 1 - d^2 / (mx^2 + (mx - d)^2 + C1) = T (a darkening, the smaller root)
  assert.ok(Math.abs(1 - bound ** 2 / (mx ** 2 + (mx - bound) ** 2 + C1) - T) < 1e-12);
  assert.ok(bound > 25 && bound < 28, `${bound} grey levels at mean 200 (DESIGN §3c: ~28)`);
  const W = 64;
  const x = new Float64Array(W * W);
  const y = new Float64Array(W * W);
  for (let j = 0; j < W; j++) {
    for (let i = 0; i < W; i++) {
      const v = mx + (((i >> 1) & 1) === 0 ? 5 : -5);
      x[j * W + i] = v;
      const block = (j >> 3) * 8 + (i >> 3);
      y[j * W + i] = v - (block === 27 ? 0.97 * bound : block === 36 ? 1.03 * bound : 0);
    }
  }
  const r = diagnose(greyImage(W, W, x), greyImage(W, W, y), { hiddenThreshold: T, visibleThreshold: 0.5, displayWidth: 'data-range', roi: 'all' });
  assert.ok(at(r, 'ssim', 3, 3) >= T && at(r, 'ssim', 4, 4) < T);
  const k = 3 * 8 + 3;
  const d = damageOf(Number(r.columns.se![k]), Number(r.columns.r_ac![k]), Number(r.columns.dmu![k]), r.reference.floors, 1);
  assert.deepEqual(d, { ac: false, dc: true });
  assert.equal(flooredLayer(r, k), LAYER_HIDDEN);
  assert.equal(LAYERS[flooredLayer(r, 4 * 8 + 4)], 'Gray');
  assert.equal(r.summary.floored.all.layers.hiddenDc, 1);
});

/** GT + zero-mean Gaussian noise of sd 0.5, re-quantised to integers (sub-grey-level noise). */
function requantised(gt: Image, seed: number): Image {
  const g = rng(seed);
  const d = Float64Array.from(gt.data, (v) => Math.min(255, Math.max(0, Math.round(v + 0.5 * g.n()))));
  return { ...gt, data: d, source: `${gt.source} + noise` };
}

async function jpeg95(gt: Image): Promise<Image> {
  const raw = Buffer.from(Uint8Array.from(gt.data));
  const buf = await sharp(raw, { raw: { width: gt.width, height: gt.height, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
  const { data } = await sharp(buf).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { ...gt, data: Float64Array.from(data), source: `${gt.source} JPEG q95` };
}

const CONTROL_IMAGES = ['nih_00000001_000.png', 'nih_00013125_000.png'];

test('controls on real X-rays: sub-grey-level noise and JPEG q95 give < 0.1% Hidden ROI blocks with the floors', async () => {
  for (const f of CONTROL_IMAGES) {
    const gt = await readImage(join(DEMO, f));
    for (const [name, test] of [
      ['requantised', requantised(gt, 7)],
      ['JPEG q95', await jpeg95(gt)],
    ] as const) {
      const r = diagnose(gt, test);
      const fl = r.summary.floored.all;
      const share = fl.layers.hidden / fl.blocks;
      process.stdout.write(`# ${f} ${name}: Hidden floored ${fl.layers.hidden}/${fl.blocks} ROI blocks, published ${r.summary.published.all.layers.hidden}/${r.summary.published.all.blocks}\n`);
      assert.ok(share < 0.001, `${f} ${name}: ${fl.layers.hidden} of ${fl.blocks} ROI blocks Hidden`);
    }
  }
});

test('real damage is still caught: texture of sd 3 in the flattest tissue and a 20-level brightening of bright tissue are damage above the floors, never Intact', async () => {
  for (const f of CONTROL_IMAGES) {
    const gt = await readImage(join(DEMO, f));
    const ref = diagnose(gt, gt);
    // The damage goes into a JPEG q95 copy, so that T10/T90 come from a realistic block-SSIM distribution (against
    // an otherwise identical image every changed block would fall below T10 = 1).
    const base = await jpeg95(gt);
    const { inRoi } = ref.reference;
    const cols = ref.gridCols;
    const candidates = [...Array(ref.blockCount).keys()].filter((k) => inRoi[k] && Number(ref.columns.ring![k]) > 0);
    const sx = (k: number) => Number(ref.columns.sx![k]);
    const mx = (k: number) => Number(ref.columns.mx![k]);
    const flat = [...candidates].sort((a, b) => sx(a) - sx(b) || a - b).slice(0, 40);
    const bright = candidates.filter((k) => mx(k) <= 230 && !flat.includes(k)).sort((a, b) => mx(b) - mx(a) || a - b).slice(0, 40);
    const y = Float64Array.from(base.data);
    const perturb = (k: number, fn: (v: number, i: number, j: number) => number) => {
      const r0 = Math.floor(k / cols) * 8;
      const c0 = (k % cols) * 8;
      for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) y[(r0 + j) * gt.width + c0 + i] = fn(y[(r0 + j) * gt.width + c0 + i]!, i, j);
    };
    for (const k of flat) perturb(k, (v, i, j) => v + (((i + j) & 1) === 0 ? 3 : -3));
    for (const k of bright) perturb(k, (v) => v + 20);
    const r = diagnose(gt, { ...gt, data: y });
    const c = r.columns;
    for (const [what, list, cause] of [
      ['texture sd 3', flat, 'ac'],
      ['brightness +20', bright, 'dc'],
    ] as const) {
      const layers = list.map((k) => LAYERS[flooredLayer(r, k)]);
      process.stdout.write(`# ${f} ${what}: ${JSON.stringify(Object.fromEntries(LAYERS.map((l) => [l, layers.filter((x) => x === l).length])))}\n`);
      // every planted error is damage above the floors (so Hidden or Gray wherever SSIM does not already call it
      // Visible), and none is Intact
      for (const k of list) {
        const d = damageOf(Number(c.se![k]), Number(c.r_ac![k]), Number(c.dmu![k]), r.reference.floors, 1);
        assert.ok(d[cause], `${f} ${what}: block ${k} not ${cause.toUpperCase()} damage (se ${c.se![k]}, dmu ${c.dmu![k]})`);
        assert.notEqual(flooredLayer(r, k), LAYER_INTACT);
      }
    }
  }
});

const rect = (r0: number, r1: number, c0: number, c1: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push([r, c]);
  return out;
};

test('ROI: a user mask excludes exactly its zero blocks, from thresholds and counts', () => {
  const W = 64;
  const rnd = rng(3);
  const x = Float64Array.from({ length: W * W }, () => Math.round(40 + 180 * rnd.u()));
  const y = Float64Array.from(x, (v) => Math.min(255, v + Math.round(6 * rnd.n())));
  const mask = new Float64Array(W * W);
  const inside = new Set<number>();
  for (let k = 0; k < 64; k++) if (k % 3 !== 0) inside.add(k);
  for (let j = 0; j < W; j++) for (let i = 0; i < W; i++) if (inside.has((j >> 3) * 8 + (i >> 3))) mask[j * W + i] = 255;
  const r = diagnose(greyImage(W, W, x), greyImage(W, W, y), { roi: greyImage(W, W, mask) });
  const inRoi = r.columns.in_roi as Uint8Array;
  for (let k = 0; k < 64; k++) assert.equal(inRoi[k], inside.has(k) ? 1 : 0, `block ${k}`);
  assert.equal(r.summary.floored.all.blocks, inside.size);
  assert.equal(r.summary.published.all.blocks, 64);
  assert.equal(r.summary.reference.roi.source, 'user');
  // a mask of the wrong size is one line naming it
  assert.throws(() => diagnose(greyImage(W, W, x), greyImage(W, W, y), { roi: greyImage(8, 8, new Float64Array(64), { source: 'm.png' }) }), {
    message: 'm.png: mask is 8x8 but the ground truth is 64x64',
  });
});

test('ROI: the automatic mask on two bundled X-rays leaves out the hand-marked black corners and burned-in letters and keeps the anatomy', async () => {
  // Block lists marked by hand on 3x enlargements with the 8x8 grid drawn (64x64 blocks per 512x512 image).
  const cases = {
    // black air in both upper corners; the "L" marker (and "LFT") at the top right
    'nih_00000001_000.png': {
      out: [...rect(0, 2, 1, 10), ...rect(0, 2, 46, 56), ...rect(0, 3, 58, 60)],
      in: [...rect(20, 40, 12, 20), ...rect(20, 40, 40, 50), ...rect(30, 50, 26, 36), ...rect(0, 3, 28, 33)],
    },
    // dark upper corners; "R" with "GV" printed over the right shoulder; "AP" and "PORTABLE" over the abdomen
    'nih_00013125_000.png': {
      out: [...rect(0, 2, 0, 8), ...rect(0, 2, 54, 63), ...rect(18, 20, 3, 4), ...rect(59, 59, 38, 40), ...rect(59, 59, 43, 49)],
      in: [...rect(20, 40, 12, 20), ...rect(20, 40, 40, 50), ...rect(30, 50, 26, 36)],
    },
  };
  for (const [f, c] of Object.entries(cases)) {
    const im = await readImage(join(DEMO, f));
    const g = blockGrid(im.width, im.height, 8, 8);
    const roi = blockRoi(autoRoiMask(im.data, im.width, im.height), g);
    const wrongIn = c.out.filter(([r, col]) => roi[r * g.gridCols + col] === 1);
    const wrongOut = c.in.filter(([r, col]) => roi[r * g.gridCols + col] === 0);
    assert.deepEqual(wrongIn, [], `${f}: hand-marked outside blocks left inside`);
    assert.deepEqual(wrongOut, [], `${f}: hand-marked anatomy left out`);
  }
});

test('12-bit MR DICOM pair: the display scale is the VOI window (WW 2000 / slope 3.774 = 530 units), occupancy and degenerate T90 are warned about', async () => {
  const gt = await readImage(MR);
  const lr = imresizeBicubic(gt.data, gt.width, gt.height, 1, { scale: 0.25 });
  const up = imresizeBicubic(lr.data, lr.width, lr.height, 1, { width: gt.width, height: gt.height }, { integerMax: 4095 });
  const r = diagnose(gt, { ...gt, data: up.data, source: 'MR2 bicubic x4' });
  const voi = voiWindow(gt.meta)!;
  assert.equal(r.summary.reference.display.source, 'voi');
  assert.ok(Math.abs(r.summary.reference.display.width - 2000 / 3.774114) < 1e-9);
  assert.equal(r.summary.reference.display.width, voi.width);
  assert.equal(r.summary.dataRange, 4095);
  assert.ok(r.warnings.some((w) => /occupies .*% of L = 4095/.test(w)), r.warnings.join(' | '));
  // The published T90 over every block is 1 (air fills the top decile): said, never silent.
  assert.equal(r.summary.published.thresholds.hidden, 1);
  assert.ok(r.warnings.some((w) => w.startsWith('published definition: T90 = 1')));
  // The floored T90 over the ROI is a real quantile below 1, and finds Hidden damage inside the anatomy.
  const t = r.summary.floored.thresholds;
  assert.ok(t.hidden < 1 && (t.hiddenSource === 'pair' || r.warnings.some((w) => w.startsWith('hidden threshold'))));
  assert.ok(r.summary.floored.all.layers.hidden > 0 && r.summary.published.all.layers.hidden === 0);
  // An explicit window overrides the VOI one.
  const r2 = diagnose(gt, gt, { displayWidth: 600 });
  assert.equal(r2.summary.reference.display.width, 600);
  assert.equal(r2.summary.reference.display.source, 'option');
});
