/** Display conversion of the viewer: 8-bit passes through, 16-bit/float windowed linearly (plain formula in the test). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { greyImage } from '../../src/image/types.ts';
import { displayWindow, toDisplayBytes, toDisplayPng } from '../../src/viewer/displayPng.ts';

test('8-bit grey samples pass through unchanged (window 0..255) and the PNG decodes to the same bytes', async () => {
  const data = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
  const img = greyImage(8, 8, data);
  assert.deepEqual(displayWindow(img), { lo: 0, hi: 255 });
  const { bytes, channels } = toDisplayBytes(img, displayWindow(img));
  assert.equal(channels, 1);
  assert.deepEqual([...bytes], data);
  const png = await toDisplayPng(img, displayWindow(img));
  assert.equal((await sharp(png).metadata()).channels, 1, 'a grey PNG, not RGB');
  const decoded = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([...decoded.data], data);
});

test('12-bit data in a 16-bit image is windowed from its own min..max: round(255 (v - lo) / (hi - lo))', () => {
  const data = [100, 4095, 2000, 100, 3000, 1234, 777, 4000, 100];
  const img = greyImage(3, 3, data, { bitDepth: 16, dataRange: 65535 });
  const win = displayWindow(img);
  assert.deepEqual(win, { lo: 100, hi: 4095 });
  const { bytes } = toDisplayBytes(img, win);
  assert.deepEqual(
    [...bytes],
    data.map((v) => Math.round((255 * (v - 100)) / (4095 - 100))),
  );
});

test('an output windowed with the GT window clamps to 0..255 (a brighter output saturates, it is not rescaled)', () => {
  const img = greyImage(2, 1, [0, 5000], { bitDepth: 16, dataRange: 65535 });
  assert.deepEqual([...toDisplayBytes(img, { lo: 100, hi: 4095 }).bytes], [0, 255]);
});
