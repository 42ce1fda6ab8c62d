/**
 * Colour policies (MATLAB rgb2gray / rgb2ycbcr by hand), shave, the data-range policy and the exact error
 * messages of bad input (they are API).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlindspotError } from '../../src/errors.ts';
import { shave, toGreyPlanes } from '../../src/image/color.ts';
import { greyImage, type Image } from '../../src/image/types.ts';
import { msssim, resolveDataRange, resolveSsimOptions, ssim } from '../../src/ssim/index.ts';

function rgbImage(pixels: [number, number, number][], opts: Partial<Image> = {}): Image {
  return {
    width: pixels.length,
    height: 1,
    channels: 3,
    data: Float64Array.from(pixels.flat()),
    bitDepth: 8,
    isFloat: false,
    dataRange: 255,
    source: 'rgb.png',
    format: 'png',
    meta: {},
    warnings: [],
    ...opts,
  };
}

function throwsCoded(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BlindspotError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

// ---------- colour ----------

test('luma is MATLAB rgb2gray (0.298936021293775, 0.587043074451121, 0.114020904255103), rounded for uint8', () => {
  const px: [number, number, number][] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 200, 90],
    [255, 255, 255],
  ];
  const [plane] = toGreyPlanes(rgbImage(px), 'luma').planes;
  const expected = px.map(([r, g, b]) =>
    Math.round(0.298936021293775 * r + 0.587043074451121 * g + 0.114020904255103 * b),
  );
  assert.deepEqual(Array.from(plane!), expected);
  // 76.23, 149.70, 29.07, 130.67, 255.0 by hand:
  assert.deepEqual(expected, [76, 150, 29, 131, 255]);
});

test('luma is not rounded for float input', () => {
  const [plane] = toGreyPlanes(
    rgbImage([[0.5, 0.25, 1]], { isFloat: true, bitDepth: 32, dataRange: null }),
    'luma',
  ).planes;
  assert.ok(
    Math.abs(plane![0]! - (0.298936021293775 * 0.5 + 0.587043074451121 * 0.25 + 0.114020904255103)) < 1e-15,
  );
});

test('ycbcr-y is round(16 + (65.481 R + 128.553 G + 24.966 B)/255): black 16, white 235, red 81', () => {
  const [plane] = toGreyPlanes(
    rgbImage([
      [0, 0, 0],
      [255, 255, 255],
      [255, 0, 0],
      [12, 34, 56],
    ]),
    'ycbcr-y',
  ).planes;
  // 16 + (65.481*12 + 128.553*34 + 24.966*56)/255 = 16 + 6630.054/255 = 42.0002 -> 42
  assert.deepEqual(Array.from(plane!), [16, 235, 81, 42]);
});

test('per-channel gives the R, G and B planes; grey input passes through every policy', () => {
  const planes = toGreyPlanes(
    rgbImage([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    'per-channel',
  ).planes;
  assert.deepEqual(
    planes.map((p) => Array.from(p)),
    [
      [1, 4],
      [2, 5],
      [3, 6],
    ],
  );
  const grey = greyImage(2, 1, [7, 9]);
  for (const c of ['luma', 'ycbcr-y', 'per-channel'] as const) {
    assert.deepEqual(
      toGreyPlanes(grey, c).planes.map((p) => Array.from(p)),
      [[7, 9]],
    );
  }
});

test('shave(img, 2) keeps the interior (w-4)x(h-4) pixels in order', () => {
  const img = greyImage(
    6,
    5,
    Array.from({ length: 30 }, (_, i) => i),
  );
  const s = shave(img, 2);
  assert.equal(s.width, 2);
  assert.equal(s.height, 1);
  assert.deepEqual(Array.from(s.data), [14, 15]);
  throwsCoded(
    () => shave({ ...img, source: 'a.png' }, 3),
    'E_TOO_SMALL',
    'a.png: image is 6x5: shaving 3 pixels from each border leaves nothing',
  );
});

// ---------- data range ----------

test('data range: explicit wins; 8-bit -> 255; DICOM with bitsStored 12 -> 4095; 16-bit -> 65535 with a warning for 12-bit data', () => {
  const g8 = greyImage(2, 2, [0, 1, 2, 3]);
  assert.deepEqual(resolveDataRange(g8, g8), { dataRange: 255, warnings: [] });
  assert.equal(resolveDataRange(g8, g8, 100).dataRange, 100);
  const dicom: Image = {
    ...greyImage(2, 2, [0, 4000, 2, 3], { bitDepth: 16 }),
    format: 'dicom',
    meta: { bitsStored: 12 },
  };
  assert.deepEqual(resolveDataRange(dicom, dicom), { dataRange: 4095, warnings: [] });
  // Rescaled by the decoder (slope 2): its |slope|·(2^BitsStored-1) is kept.
  const rescaled: Image = { ...dicom, dataRange: 8190, meta: { bitsStored: 12, rescaled: true } };
  assert.equal(resolveDataRange(rescaled, rescaled).dataRange, 8190);
  const png16 = greyImage(2, 2, [0, 4000, 2, 3], { bitDepth: 16 });
  const r = resolveDataRange(png16, png16);
  assert.equal(r.dataRange, 65535);
  assert.deepEqual(r.warnings, [
    'data range: L = 65535 (16-bit) but no sample exceeds 4000 (12 bits); if the data are stored with fewer bits (e.g. 12-bit MR/CT) this inflates SSIM — pass --data-range 2^BitsStored-1 (4095 for 12-bit)',
  ]);
  const full16 = greyImage(2, 2, [0, 65535, 2, 3], { bitDepth: 16 });
  assert.deepEqual(resolveDataRange(full16, full16).warnings, []);
});

test('float input without a data range is E_NO_DATA_RANGE naming the file', () => {
  const f: Image = {
    ...greyImage(11, 11, new Array(121).fill(0.5), { dataRange: null, bitDepth: 32 }),
    isFloat: true,
    source: 'x.tif',
  };
  throwsCoded(
    () => ssim(f, f),
    'E_NO_DATA_RANGE',
    'x.tif: float samples have no natural data range; pass --data-range L (option dataRange)',
  );
  assert.equal(ssim(f, f, { dataRange: 1 }).mssim, 1);
});

test('a float test image (an upscaler\'s float TIFF) is scored on the GT\'s natural range, without a warning', () => {
  const gt: Image = { ...greyImage(11, 11, new Array(121).fill(100), { bitDepth: 16, dataRange: 16383 }), format: 'dicom', meta: { bitsStored: 14 } };
  const f: Image = { ...greyImage(11, 11, new Array(121).fill(100.5), { dataRange: null, bitDepth: 32 }), isFloat: true };
  assert.deepEqual(resolveDataRange(gt, f), { dataRange: 16383, warnings: [] });
  // ...while a float GT still needs an explicit range (E_NO_DATA_RANGE, next test).
});

// ---------- bad input ----------

test('size mismatch names both files', () => {
  const a = { ...greyImage(20, 20, new Array(400).fill(1)), source: 'gt.png' };
  const b = { ...greyImage(20, 19, new Array(380).fill(1)), source: 'sr.png' };
  throwsCoded(
    () => ssim(a, b),
    'E_SIZE_MISMATCH',
    'sr.png: size 20x19 does not match the ground truth gt.png (20x20)',
  );
});

test('an image smaller than the window is E_TOO_SMALL naming the window and the mode', () => {
  const a = { ...greyImage(10, 30, new Array(300).fill(1)), source: 'gt.png' };
  throwsCoded(
    () => ssim(a, a),
    'E_TOO_SMALL',
    'gt.png: image is 10x30, smaller than the 11x11 window of mode wang',
  );
  const one = { ...greyImage(1, 1, [3]), source: 'dot.png' };
  throwsCoded(
    () => ssim(one, one, { mode: 'skimage' }),
    'E_TOO_SMALL',
    'dot.png: image is 1x1, smaller than the 7x7 window of mode skimage',
  );
  const b = { ...greyImage(14, 14, new Array(196).fill(1)), source: 'gt.png' };
  throwsCoded(
    () => ssim(b, b, { shave: 2 }),
    'E_TOO_SMALL',
    'gt.png: image is 10x10 after shaving 2, smaller than the 11x11 window of mode wang',
  );
  throwsCoded(
    () => msssim(b, b),
    'E_TOO_SMALL',
    'gt.png: image is 14x14: MS-SSIM needs at least 176 pixels a side (5 scales of an 11x11 window)',
  );
});

test('NaN and Inf samples are E_NONFINITE naming the file and the sample', () => {
  const good = { ...greyImage(12, 12, new Array(144).fill(1)), source: 'gt.png' };
  const data = new Array(144).fill(1);
  data[12 * 3 + 5] = NaN;
  const bad = { ...greyImage(12, 12, data), source: 'sr.png' };
  throwsCoded(() => ssim(good, bad), 'E_NONFINITE', 'sr.png: sample at x=5, y=3 is NaN');
  const inf = { ...greyImage(12, 12, new Array(144).fill(Infinity)), source: 'gt.png' };
  throwsCoded(() => ssim(inf, good), 'E_NONFINITE', 'gt.png: sample at x=0, y=0 is Infinity');
});

test('NaN in an image claiming integer samples (not scanned up front) is still E_NONFINITE naming the sample', () => {
  const good: Image = { ...greyImage(12, 12, new Array(144).fill(1)), source: 'gt.png', format: 'png' };
  const data = new Array(144).fill(1);
  data[12 * 7 + 2] = NaN;
  const bad: Image = { ...greyImage(12, 12, data), source: 'sr.png', format: 'png' };
  throwsCoded(() => ssim(good, bad), 'E_NONFINITE', 'sr.png: sample at x=2, y=7 is NaN');
  const big = (src: string, v: number[]): Image => ({
    ...greyImage(180, 180, v),
    source: src,
    format: 'png',
  });
  const ones = new Array(180 * 180).fill(1);
  const withInf = [...ones];
  withInf[5] = Infinity;
  throwsCoded(
    () => msssim(big('gt.png', ones), big('sr.png', withInf)),
    'E_NONFINITE',
    'sr.png: sample at x=5, y=0 is Infinity',
  );
});

test('options: unknown keys and bad values are E_INVALID_OPTION naming the allowed values', () => {
  throwsCoded(
    () => resolveSsimOptions({ mode: 'fast' as never }),
    'E_INVALID_OPTION',
    'invalid mode: expected wang|matlab2009|skimage (default wang), got "fast"',
  );
  throwsCoded(
    () => resolveSsimOptions({ window: 7 } as never),
    'E_INVALID_OPTION',
    'unknown ssim option "window" (allowed: mode, dataRange, color, shave, K1, K2, maps, msssim)',
  );
  throwsCoded(
    () => resolveSsimOptions({ dataRange: 0 }),
    'E_INVALID_OPTION',
    'invalid dataRange: expected a finite number > 0, got 0',
  );
});

test('per-channel reports each channel and their mean; PSNR pools the squared error of all channels', () => {
  const w = 16;
  const h = 14;
  const px: [number, number, number][] = [];
  for (let i = 0; i < w * h; i++) px.push([(i * 7) % 256, (i * 13) % 256, (i * 29) % 256]);
  const gt: Image = { ...rgbImage(px), width: w, height: h };
  const test2: Image = { ...gt, data: gt.data.map((v, i) => Math.min(255, v + (i % 3) + 1)) };
  const r = ssim(gt, test2, { color: 'per-channel' });
  assert.equal(r.channels?.length, 3);
  const each = r.channels!.map((c) => c.mssim);
  assert.ok(Math.abs(r.mssim - (each[0]! + each[1]! + each[2]!) / 3) < 1e-15);
  // Squared errors: channel k adds (k+1)² except where clipped at 255.
  let sum = 0;
  for (let i = 0; i < gt.data.length; i++) sum += (gt.data[i]! - test2.data[i]!) ** 2;
  assert.ok(Math.abs(r.psnr - 10 * Math.log10(255 ** 2 / (sum / gt.data.length))) < 1e-12);
});
