/**
 * `diagnose(gt, test)` on a real pair (NIH chest X-ray and its box4/bicubic4 twin): Tier-1 values equal the SSIM
 * core's, Tier-2 statistics equal plain recomputations from the columns, and ssim_blk of real blocks equals an
 * in-test scikit-image-default SSIM of the patch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readImage } from '../../src/image/read.ts';
import { greyImage, type Image } from '../../src/image/types.ts';
import { ssim } from '../../src/ssim/index.ts';
import { diagnose, type DiagnoseResult } from '../../src/tier3/diagnose.ts';
import { fixture } from '../helpers/cli.ts';
import { skimagePatchSsim } from '../helpers/skimagePatch.ts';

let cached: { gt: Image; test: Image; r: DiagnoseResult } | undefined;
async function nihPair() {
  if (!cached) {
    const gt = await readImage(fixture('cxr/nih_00000001_000.png'));
    const t = await readImage(fixture('cxr/nih_00000001_000_box4_bicubic4.png'));
    cached = { gt, test: t, r: diagnose(gt, t) };
  }
  return cached;
}


function walkNumbers(o: unknown, path: string, visit: (v: number, path: string) => void): void {
  if (typeof o === 'number') visit(o, path);
  else if (o && typeof o === 'object')
    for (const [k, v] of Object.entries(o)) walkNumbers(v, `${path}.${k}`, visit);
}

test('NIH chest X-ray pair: 64x64 blocks of 8 for 512x512, Tier-1 SSIM and PSNR equal ssim() exactly, summaries finite', async () => {
  const { gt, test: t, r } = await nihPair();
  assert.equal(r.gridRows, 64);
  assert.equal(r.gridCols, 64);
  assert.equal(r.blockCount, 4096);
  const s = ssim(gt, t);
  assert.equal(r.summary.tier1.ssim, s.mssim);
  assert.equal(r.summary.tier1.psnr, s.psnr);
  assert.ok(
    r.summary.tier1.msssim !== null && r.summary.tier1.msssim > 0.9 && r.summary.tier1.msssim <= 1,
    `msssim ${r.summary.tier1.msssim}`,
  );
  // Every figure is finite, except a share of Hidden blocks where a definition finds none (0 / 0).
  walkNumbers(r.summary, 'summary', (v, p) => {
    if (/\.hiddenSilentShare$/.test(p) && Number.isNaN(v)) {
      const group = p.split('.').slice(1, -1).reduce((o: any, k) => o[k], r.summary); // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(group.layers.hidden, 0, `${p} is NaN with Hidden blocks`);
    } else assert.ok(Number.isFinite(v), `${p} = ${v}`);
  });
  assert.equal(r.options.dataRange, 255);
  assert.equal(r.options.blockSize, 8);
});

test('NIH pair: ssim_blk of real blocks equals scikit-image default SSIM of the patch (1e-12)', async () => {
  const { gt, test: t, r } = await nihPair();
  const ssimBlk = r.columns.ssim_blk as Float64Array;
  for (const k of [0, 63, 64 * 20 + 17, 64 * 52 + 59, 64 * 33 + 30, 4095]) {
    const row = Math.floor(k / 64),
      col = k % 64;
    const ref = skimagePatchSsim(gt.data, t.data, 512, col * 8, row * 8, 8, 255).ssim;
    assert.ok(Math.abs(ssimBlk[k]! - ref) <= 1e-12, `block (${row},${col}): ${ssimBlk[k]} vs ${ref}`);
  }
});

test('NIH pair: block-SSIM mean/std/min/argmin, T90 (type-7 p90) and failing counts equal plain recomputations', async () => {
  const { r } = await nihPair();
  const v = Array.from(r.columns.ssim_blk as Float64Array);
  const border = r.columns.is_border as Uint8Array;
  const mask = r.columns.fail_mask as Int32Array;
  for (const [name, keep] of [
    ['all', () => true],
    ['nonBorder', (k: number) => !border[k]],
  ] as const) {
    const idx = v.map((_, k) => k).filter((k) => keep(k));
    const vals = idx.map((k) => v[k]!);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    const g = r.summary.published[name];
    assert.equal(g.blocks, vals.length);
    assert.ok(Math.abs(g.ssimBlk.mean - mean) <= 1e-12, `${name} mean`);
    assert.ok(Math.abs(g.ssimBlk.std - std) <= 1e-12, `${name} std`);
    const min = Math.min(...vals);
    assert.equal(g.ssimBlk.min, min);
    const kMin = idx.find((k) => v[k] === min)!;
    assert.deepEqual(g.ssimBlk.argmin, {
      row: Math.floor(kMin / 64),
      col: kMin % 64,
      ring: Math.min(Math.floor(kMin / 64), kMin % 64, 63 - Math.floor(kMin / 64), 63 - (kMin % 64)),
    });
    for (let a = 0; a < 6; a++)
      assert.equal(g.failing[a], idx.filter((k) => mask[k]! & (1 << a)).length, `${name} A${a + 1}`);
    assert.equal(g.anyFailing, idx.filter((k) => mask[k]! !== 0).length);
    assert.equal(g.regimes.silent + g.regimes.membrane + g.regimes.responsive, g.blocks);
    assert.equal(g.layers.visible + g.layers.hidden + g.layers.gray + g.layers.intact, g.blocks);
  }
  // T90 = numpy.percentile(non-border ssim_blk, 90) (linear interpolation between order statistics)
  const inner = v.filter((_, k) => !border[k]).sort((a, b) => a - b);
  const h = (inner.length - 1) * 0.9;
  const p90 =
    inner[Math.floor(h)]! + (h - Math.floor(h)) * (inner[Math.floor(h) + 1]! - inner[Math.floor(h)]!);
  assert.equal(r.summary.published.thresholds.hidden, p90);
  assert.equal(r.summary.published.thresholds.hiddenSource, 'pair');
  // Silent share with T = p90: sx^2 < C2 (1 - T)/T, counted plainly
  const C2 = (0.03 * 255) ** 2;
  const sx = r.columns.sx as Float64Array;
  const silent = v.filter((_, k) => sx[k]! ** 2 < (C2 * (1 - p90)) / p90).length;
  assert.equal(r.summary.published.all.regimes.silent, silent);
});

test('RGB input is diagnosed on its luma plane (MATLAB rgb2gray weights, rounded)', () => {
  const w = 24,
    h = 16;
  const rgb = (seed: number) => {
    const d = new Float64Array(w * h * 3);
    for (let i = 0; i < d.length; i++) d[i] = (i * seed * 7919 + (i % 13) * 31) % 256;
    return {
      width: w,
      height: h,
      channels: 3,
      data: d,
      bitDepth: 8,
      isFloat: false,
      dataRange: 255,
      source: '',
      format: 'raw' as const,
      meta: {},
      warnings: [],
    };
  };
  const a = rgb(3),
    b = rgb(5);
  const luma = (img: ReturnType<typeof rgb>) => {
    const out = new Float64Array(w * h);
    for (let p = 0; p < w * h; p++) {
      const v =
        0.298936021293775 * img.data[3 * p]! +
        0.587043074451121 * img.data[3 * p + 1]! +
        0.114020904255103 * img.data[3 * p + 2]!;
      out[p] = Math.round(v);
    }
    return greyImage(w, h, out);
  };
  const r1 = diagnose(a, b);
  const r2 = diagnose(luma(a), luma(b));
  assert.deepEqual(r1.columns.ssim_blk, r2.columns.ssim_blk);
  assert.deepEqual(r1.columns.a5, r2.columns.a5);
});

test('bad input: size mismatch names the file; float data without a data range is refused', () => {
  const a = greyImage(16, 16, new Float64Array(256), { source: 'gt.png' });
  const b = greyImage(16, 8, new Float64Array(128), { source: 'sr.png' });
  assert.throws(() => diagnose(a, b), {
    code: 'E_SIZE_MISMATCH',
    message: 'sr.png: size 16x8 does not match the ground truth gt.png (16x16)',
  });
  const f = {
    ...greyImage(16, 16, new Float64Array(256), { source: 'f.tif' }),
    isFloat: true,
    dataRange: null,
  };
  assert.throws(() => diagnose(f, f), { code: 'E_NO_DATA_RANGE' });
  assert.equal(diagnose(f, f, { dataRange: 1 }).options.dataRange, 1);
  assert.throws(
    () =>
      diagnose(
        greyImage(6, 6, new Float64Array(36), { source: 's.png' }),
        greyImage(6, 6, new Float64Array(36)),
      ),
    { code: 'E_TOO_SMALL' },
  );
});
