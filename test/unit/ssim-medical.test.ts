/**
 * The data-range policy on real 12-bit data: the NEMA MR2 DICOM (BitsStored 12) and its 16-bit PNG twin (same
 * stored samples; fixtures from the image-input area, test/fixtures/medical/mr). The degraded test image is made
 * here: a 4x4 block mean, repeated back to full size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readImage } from '../../src/image/read.ts';
import type { Image } from '../../src/image/types.ts';
import { ssim } from '../../src/ssim/index.ts';
import { fixture } from '../helpers/cli.ts';

function blockMean4(img: Image): Image {
  const { width, height } = img;
  const data = new Float32Array(width * height);
  for (let by = 0; by < height; by += 4) {
    for (let bx = 0; bx < width; bx += 4) {
      let s = 0;
      for (let y = by; y < by + 4; y++) for (let x = bx; x < bx + 4; x++) s += img.data[y * width + x]!;
      const m = Math.round(s / 16);
      for (let y = by; y < by + 4; y++) for (let x = bx; x < bx + 4; x++) data[y * width + x] = m;
    }
  }
  return { ...img, data, source: `${img.source} (4x4 block mean)`, warnings: [] };
}

test('12-bit DICOM gets L = 4095 from BitsStored; its 16-bit PNG twin gets 65535, a warning, and an inflated SSIM', async () => {
  const dcm = await readImage(fixture('medical/mr/MR2_UNCI.dcm'));
  const png = await readImage(fixture('medical/mr/MR2_1024_u16.png'));
  assert.equal(dcm.meta['bitsStored'], 12);
  const atDicom = ssim(dcm, blockMean4(dcm), { msssim: false });
  assert.equal(atDicom.dataRange, 4095);
  assert.deepEqual(atDicom.warnings, []);
  const atPng = ssim(png, blockMean4(png), { msssim: false });
  assert.equal(atPng.dataRange, 65535);
  assert.equal(atPng.warnings.length, 1);
  assert.match(
    atPng.warnings[0]!,
    /^data range: L = 65535 \(16-bit\) but no sample exceeds \d+ \(\d+ bits\)/,
  );
  // A larger L shrinks the error terms relative to C1, C2: SSIM moves towards 1.
  assert.ok(atPng.mssim > atDicom.mssim + 0.005, `${atPng.mssim} vs ${atDicom.mssim}`);
  // Same stored samples: with --data-range 4095 the PNG twin scores exactly what the DICOM does.
  const pngAt4095 = ssim(png, blockMean4(png), { dataRange: 4095, msssim: false });
  assert.equal(pngAt4095.mssim, atDicom.mssim);
});
