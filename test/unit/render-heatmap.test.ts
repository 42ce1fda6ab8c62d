import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { renderHeatmapPng, renderCategoricalPng } from '../../src/render/heatmap.ts';
import { colormapLut } from '../../src/render/palette.ts';

const ART = new URL('../artifacts/', import.meta.url);

test('viridis LUT ends at the published end colours #440154 and #fde725', () => {
  const lut = colormapLut('viridis');
  assert.deepEqual([...lut.subarray(0, 3)], [0x44, 0x01, 0x54]);
  assert.deepEqual([...lut.subarray(255 * 3, 256 * 3)], [0xfd, 0xe7, 0x25]);
});

test('heatmap PNG: grid upsampled to image size, min cell gets the first colour, max the last', async () => {
  // 2x2 grid -> 64x64 raster: each cell is a 32x32 square.
  const png = await renderHeatmapPng([0, 1, 0.5, Number.NaN], 2, 2, { outWidth: 64, outHeight: 64, title: 't', legendLabel: 'SSIM' });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.ok(info.width >= 64 + 100 && info.height >= 64 + 52, 'image plus title bar and legend');
  const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
  const top = 52; // title bar height
  assert.deepEqual(px(5, top + 5), [0x44, 0x01, 0x54]);
  assert.deepEqual(px(40, top + 5), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(px(40, top + 40), [255, 255, 255], 'NaN cell without underlay stays white');
  mkdirSync(ART, { recursive: true });
  writeFileSync(new URL('render-heatmap.png', ART), png);
});

test('categorical PNG over an underlay blends colour and grey at the given opacity', async () => {
  const under = { data: new Float64Array(16 * 16).fill(100), width: 16, height: 16, min: 0, max: 200 };
  const png = await renderCategoricalPng([0, 1, -1, 1], 2, 2, {
    categories: [
      { name: 'Silent', color: [200, 0, 0] },
      { name: 'Responsive', color: [0, 0, 200] },
    ],
    outWidth: 16,
    outHeight: 16,
    underlay: under,
    opacity: 0.5,
  });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
  const g = 127.5; // 100 on [0, 200] -> 127.5
  assert.deepEqual(px(2, 52 + 2), [Math.round(g * 0.5 + 100), Math.round(g * 0.5), Math.round(g * 0.5)]);
  assert.deepEqual(px(2, 52 + 10), [Math.round(g), Math.round(g), Math.round(g)], 'label -1 shows only the underlay');
});
