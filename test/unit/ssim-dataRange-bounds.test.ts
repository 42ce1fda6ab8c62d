/**
 * An explicit data range must keep L^2 and (K L)^2 finite and non-zero (issue 15): `--data-range 1e308` used to
 * give SSIM NaN, exit 0, and "PSNR inf (identical)" for two different images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readImage } from '../../src/image/read.ts';
import { ssim } from '../../src/ssim/ssim.ts';
import { BlindspotError } from '../../src/errors.ts';
import { fixture } from '../helpers/cli.ts';

test('dataRange outside [1e-75, 1e75] is refused; at 1e75 SSIM and PSNR stay finite', async () => {
  const a = await readImage(fixture('dataset/nih_00000001_000.png'));
  const b = await readImage(fixture('dataset/nih_00000003_000.png'));
  for (const L of [1e308, 1e76, 1e-76]) {
    assert.throws(
      () => ssim(a, b, { dataRange: L }),
      (e: unknown) => e instanceof BlindspotError && e.code === 'E_INVALID_OPTION' && e.message === `invalid dataRange: expected a number in [1e-75, 1e75], got ${String(L)}`,
    );
  }
  const r = ssim(a, b, { dataRange: 1e75 });
  assert.ok(Number.isFinite(r.mssim) && r.mssim > 0.999, String(r.mssim)); // a huge L makes C1, C2 dominate: SSIM -> 1
  assert.ok(Number.isFinite(r.psnr) && r.psnr > 1400, String(r.psnr));
});
