/**
 * The automatic-ROI figure of docs/diagnose.md: each GT of a folder (grey images) with the blocks left out tinted
 * red and the label/marker pixels green, tiled three per row at 256 px.
 *
 *   node --import tsx examples/roi-figure.ts GT_DIR OUT.png [BLOCK]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../src/image/read.ts';
import { blockGrid } from '../src/tier3/blocks.ts';
import { autoRoiMask, blockRoi, ROI_LABEL } from '../src/tier3/roi.ts';

const TILE = 256;

async function tile(file: string, block: number): Promise<Buffer> {
  const im = await readImage(file);
  const { width: w, height: h } = im;
  const mask = autoRoiMask(im.data, w, h);
  const grid = blockGrid(w, h, block, block);
  const inRoi = blockRoi(mask, grid);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < w * h; i++) {
    if (im.data[i]! < lo) lo = im.data[i]!;
    if (im.data[i]! > hi) hi = im.data[i]!;
  }
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const g = hi > lo ? Math.round((255 * (im.data[i]! - lo)) / (hi - lo)) : 0;
      const br = Math.min(grid.gridRows - 1, Math.floor(y / grid.stride));
      const bc = Math.min(grid.gridCols - 1, Math.floor(x / grid.stride));
      const out = inRoi[br * grid.gridCols + bc] === 0;
      const o = 3 * i;
      if (mask.pixels[i] === ROI_LABEL) [rgb[o], rgb[o + 1], rgb[o + 2]] = [0, 230, 0];
      else if (out) [rgb[o], rgb[o + 1], rgb[o + 2]] = [Math.round(128 + g / 2), g >> 2, g >> 2];
      else rgb[o] = rgb[o + 1] = rgb[o + 2] = g;
    }
  }
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).resize(TILE, TILE, { fit: 'contain' }).png().toBuffer();
}

export async function roiFigure(gtDir: string, outFile: string, block = 8): Promise<number> {
  const files = readdirSync(gtDir).filter((f) => /\.(png|dcm|nii(\.gz)?)$/i.test(f)).sort();
  const tiles = await Promise.all(files.map((f) => tile(join(gtDir, f), block)));
  const cols = Math.min(3, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  await sharp({ create: { width: cols * TILE, height: rows * TILE, channels: 3, background: '#000' } })
    .composite(tiles.map((input, k) => ({ input, left: (k % cols) * TILE, top: Math.floor(k / cols) * TILE })))
    .png()
    .toFile(outFile);
  return tiles.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [gtDir, outFile, block] = process.argv.slice(2);
  if (!gtDir || !outFile) {
    process.stderr.write('usage: node --import tsx examples/roi-figure.ts GT_DIR OUT.png [BLOCK]\n');
    process.exit(2);
  }
  const n = await roiFigure(gtDir, outFile, block ? Number(block) : 8);
  process.stdout.write(`${outFile}: ${n} images\n`);
}
