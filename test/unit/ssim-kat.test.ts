/**
 * Known answers from published implementations (DESIGN §6): scikit-image's own test values and Wang's MATLAB
 * ssim_index on Set5 x4 bicubic (Y of rgb2ycbcr, shave 4). Fixtures and provenance: test/fixtures/{skimage,set5}.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readImage } from '../../src/image/read.ts';
import { ssim } from '../../src/ssim/index.ts';
import { fixture } from '../helpers/cli.ts';

function near(actual: number, expected: number, tol: number): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `expected ${expected} ± ${tol}, got ${actual} (diff ${actual - expected})`,
  );
}

const camera = () => readImage(fixture('skimage/camera.png'));
const cameraNoisy = () => readImage(fixture('skimage/camera_noisy_seed5_sigma20.png'));

test('matches scikit-image structural_similarity defaults on camera vs cam_noisy: 0.3674518327910367 (1e-7)', async () => {
  const r = ssim(await camera(), await cameraNoisy(), { mode: 'skimage', dataRange: 255 });
  near(r.mssim, 0.3674518327910367, 1e-7);
  assert.equal(r.mapWidth, 512 - 6);
});

test('matches skimage gaussian_weights / population covariance (Wang) on camera vs cam_noisy: 0.357964236236581 (1e-9)', async () => {
  const r = ssim(await camera(), await cameraNoisy(), { mode: 'wang' });
  near(r.mssim, 0.357964236236581, 1e-9);
  assert.equal(r.dataRange, 255);
  // And the IPOL imdiff reference 0.357959 to 3 decimals.
  assert.equal(r.mssim.toFixed(3), (0.357959).toFixed(3));
});

const SET5: Record<string, number> = {
  baby: 0.8563395352156495,
  bird: 0.872722828692442,
  butterfly: 0.7367743661636035,
  head: 0.7530610402438404,
  woman: 0.83151266800968,
};

for (const [name, expected] of Object.entries(SET5)) {
  test(`matches Wang ssim_index on Set5 ${name} x4 bicubic (ycbcr-y, shave 4): ${expected} (1e-9)`, async () => {
    const gt = await readImage(fixture(`set5/${name}_HR.png`));
    const sr = await readImage(fixture(`set5/${name}_bicubic_x4.png`));
    const r = ssim(gt, sr, { color: 'ycbcr-y', shave: 4, mode: 'wang' });
    near(r.mssim, expected, 1e-9);
    assert.equal(r.width, gt.width - 8);
    assert.equal(r.height, gt.height - 8);
  });
}

test('matches the PSNR of Set5 baby x4 bicubic on the shaved Y channel: 31.77105278339007 dB (1e-6)', async () => {
  const gt = await readImage(fixture('set5/baby_HR.png'));
  const sr = await readImage(fixture('set5/baby_bicubic_x4.png'));
  near(ssim(gt, sr, { color: 'ycbcr-y', shave: 4 }).psnr, 31.77105278339007, 1e-6);
});
