/**
 * Decode speed of `readImage` against sharp's own raw decode of the same data, measured in the same run.
 * The peer is the floor: readImage adds format sniffing, options and the copy into a Float32Array.
 * Run: `npm run bench -- image` (or `node --import tsx bench/image.ts`). Medians of 21 runs after 3 warm-ups.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { readImage } from '../src/image/read.ts';

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
const GT = here('data/gt_1024_u8.png');
const MR_DCM = here('../test/fixtures/medical/mr/MR2_UNCI.dcm');
const MR_PNG = here('../test/fixtures/medical/mr/MR2_1024_u16.png');
const CXR_DCM = here('../test/fixtures/medical/cxr/siim_cr_chest_1024_jpegbaseline.dcm');
const NII = here('../test/fixtures/medical/brain/nibabel_example4d.nii.gz');

async function median(f: () => Promise<unknown>, runs = 21): Promise<number> {
  for (let i = 0; i < 3; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[runs >> 1]!;
}

sharp.concurrency(1); // one core, as the SSIM benchmark
const rows: [string, number, string, number][] = [];
async function pair(
  label: string,
  ours: () => Promise<unknown>,
  peerLabel: string,
  peer: () => Promise<unknown>,
): Promise<void> {
  rows.push([label, await median(ours), peerLabel, await median(peer)]);
}

await pair(
  'readImage gt_1024_u8.png',
  () => readImage(GT),
  'sharp grey raw uint8 (same file)',
  () => sharp(GT).toColourspace('b-w').raw().toBuffer(),
);
await pair(
  'readImage gt_1024_u8.png',
  () => readImage(GT),
  'sharp grey raw float32 (same output type)',
  () => sharp(GT).toColourspace('b-w').raw({ depth: 'float' }).toBuffer(),
);
await pair(
  'readImage MR2_UNCI.dcm (1024², 12-bit)',
  () => readImage(MR_DCM),
  'sharp raw MR2_1024_u16.png (same samples)',
  () => sharp(MR_PNG).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer(),
);
// The JPEG stream inside the DICOM (one fragment: SOI .. EOI), cut out once outside the timing.
const cxr = await readFile(CXR_DCM);
const jpeg = cxr.subarray(
  cxr.indexOf(Buffer.from([0xff, 0xd8, 0xff])),
  cxr.lastIndexOf(Buffer.from([0xff, 0xd9])) + 2,
);
await pair(
  'readImage SIIM JPEG-baseline .dcm (1024²)',
  () => readImage(CXR_DCM),
  'sharp raw of its JPEG stream',
  () => sharp(jpeg).greyscale().raw().toBuffer(),
);
const nii = await readFile(NII);
await pair(
  'readImage example4d.nii.gz (one slice)',
  () => readImage(NII),
  'gunzip of the same file',
  async () => gunzipSync(nii),
);

process.stdout.write(
  `machine: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, node ${process.version}, sharp ${sharp.versions.sharp ?? '?'} (concurrency 1)\n\n`,
);
process.stdout.write('| blindspot | median ms | peer | median ms | ratio |\n|---|---:|---|---:|---:|\n');
for (const [a, ta, b, tb] of rows)
  process.stdout.write(`| ${a} | ${ta.toFixed(2)} | ${b} | ${tb.toFixed(2)} | ${(ta / tb).toFixed(2)} |\n`);
