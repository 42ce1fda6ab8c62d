/**
 * Gate check on GT-vs-GT controls (DESIGN §3b): on real chest X-rays, a re-encoded GT (JPEG quality 95 via sharp)
 * and a GT shifted by one pixel should fail almost no axis (target: < 1% of blocks fail any axis).
 *
 *   node --import tsx examples/tier3-gate-controls.ts [DIR] [--limit N]
 *
 * DIR defaults to ../shared/data/medical/cxr_nih/1024 (NIH ChestX-ray14, 1024x1024 8-bit). Prints, per control,
 * the share of blocks failing each axis and any axis, over all images, with the default options.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../src/image/read.ts';
import { greyImage, type Image } from '../src/image/types.ts';
import { diagnose } from '../src/tier3/diagnose.ts';
import type { DiagnoseOptions } from '../src/tier3/options.ts';

const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 20;
const dir =
  args.find((a, i) => !a.startsWith('--') && (limitAt < 0 || i !== limitAt + 1)) ??
  '../shared/data/medical/cxr_nih/1024';

async function jpegRoundTrip(img: Image, quality: number): Promise<Image> {
  const u8 = Buffer.from(Uint8Array.from(img.data));
  const jpg = await sharp(u8, { raw: { width: img.width, height: img.height, channels: 1 } })
    .jpeg({ quality })
    .toBuffer();
  const raw = await sharp(jpg).toColourspace('b-w').raw().toBuffer();
  return greyImage(img.width, img.height, raw, { source: `${img.source} (JPEG q${quality})` });
}

function shiftRight(img: Image, dx: number): Image {
  const { width: w, height: h } = img;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out[y * w + x] = img.data[y * w + Math.max(0, x - dx)]!;
  return greyImage(w, h, out, { source: `${img.source} (shifted ${dx}px)` });
}

const controls: [string, (img: Image) => Promise<Image> | Image][] = [
  ['JPEG q95', (img) => jpegRoundTrip(img, 95)],
  ['shift 1px', (img) => shiftRight(img, 1)],
];

export async function gateControls(files: string[], options: Partial<DiagnoseOptions> = {}) {
  const totals = controls.map(([name]) => ({
    name,
    blocks: 0,
    failing: [0, 0, 0, 0, 0, 0],
    any: 0,
    innerBlocks: 0,
    innerFailing: [0, 0, 0, 0, 0, 0],
    innerAny: 0,
  }));
  for (const f of files) {
    const gt = await readImage(f);
    for (const [ci, [, make]] of controls.entries()) {
      const r = diagnose(gt, await make(gt), options);
      const t = totals[ci]!;
      t.blocks += r.summary.published.all.blocks;
      t.any += r.summary.published.all.anyFailing;
      for (let a = 0; a < 6; a++) t.failing[a]! += r.summary.published.all.failing[a]!;
      t.innerBlocks += r.summary.published.nonBorder.blocks;
      t.innerAny += r.summary.published.nonBorder.anyFailing;
      for (let a = 0; a < 6; a++) t.innerFailing[a]! += r.summary.published.nonBorder.failing[a]!;
    }
  }
  return totals;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.png'))
    .sort()
    .slice(0, limit)
    .map((f) => join(dir, f));
  const totals = await gateControls(files);
  console.log(`${files.length} images from ${dir}, default gates`);
  console.log('control      blocks   A1     A2     A3     A4     A5     A6     any');
  for (const t of totals) {
    const p = (n: number) => `${((100 * n) / t.blocks).toFixed(2)}%`.padStart(7);
    console.log(
      `${t.name.padEnd(10)} ${String(t.blocks).padStart(8)} ${t.failing.map(p).join('')}${p(t.any)}`,
    );
    const q = (n: number) => `${((100 * n) / t.innerBlocks).toFixed(2)}%`.padStart(7);
    console.log(
      `${(t.name + ' (no border)').padEnd(10)} ${String(t.innerBlocks).padStart(8)} ${t.innerFailing.map(q).join('')}${q(t.innerAny)}`,
    );
  }
}
