/**
 * Every image in the curated data set decodes to the dimensions, depth and format its MANIFEST.md states (the
 * manifest was made with independent Python decoders). Runs only where ../shared/data sits beside the repo (the
 * developers' machines and CI); the committed fixtures cover the same decoders without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readImage } from '../../src/image/read.ts';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const MANIFEST = `${DATA}MANIFEST.md`;
const skip = existsSync(MANIFEST) ? false : 'needs ../shared/data (not part of the repository)';

interface Row {
  file: string;
  dims: string;
  depth: string;
}

function manifestRows(): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(MANIFEST, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | file | bytes | dims | depth / format | ... : data rows start with a relative path
    if (cells.length < 9 || !/^[a-z0-9]+\/.+\.[A-Za-z.]+$/.test(cells[1]!)) continue;
    rows.push({ file: cells[1]!, dims: cells[3]!, depth: cells[4]! });
  }
  return rows;
}

test(
  'every manifest image decodes to the manifest dims, bit depth, channels and DICOM/NIfTI facts',
  { skip },
  async () => {
    const rows = manifestRows().filter((r) => !r.file.endsWith('.raw')); // headerless: no format to detect
    assert.ok(rows.length >= 60, `${rows.length} rows`);
    const checked: string[] = [];
    for (const row of rows) {
      const img = await readImage(DATA + row.file);
      const what = `${row.file} (${row.dims}, ${row.depth})`;
      if (row.depth.includes('NIfTI-1')) {
        const dims = row.dims.split('x').map(Number);
        assert.deepEqual(img.meta.dims, dims, what);
        assert.equal(img.meta.datatype, row.depth.split(' ')[0], what);
        checked.push(row.file);
        continue;
      }
      const [w, h] = row.dims.split('x').map(Number);
      assert.equal(img.width, w, what);
      assert.equal(img.height, h, what);
      const dicom = /^(\d+) alloc\/(\d+) stored, (\w+), PixRep=(\d), (\w+), TS=([\d.]+)$/.exec(row.depth);
      if (dicom) {
        const [, alloc, stored, photometric, pixRep, modality, ts] = dicom;
        assert.equal(img.format, 'dicom', what);
        assert.equal(img.meta.bitsAllocated, Number(alloc), what);
        assert.equal(img.meta.bitsStored, Number(stored), what);
        assert.equal(img.meta.photometricInterpretation, photometric, what);
        assert.equal(img.meta.pixelRepresentation, Number(pixRep), what);
        assert.equal(img.meta.modality, modality, what);
        assert.equal(img.meta.transferSyntaxUID, ts, what);
        assert.equal(img.channels, photometric === 'RGB' ? 3 : 1, what);
        assert.equal(img.dataRange, 2 ** Number(stored) - 1, what);
      } else {
        const bits = Number(/^(\d+)-bit/.exec(row.depth)?.[1]);
        assert.equal(img.bitDepth, bits, what);
        assert.equal(img.dataRange, 2 ** bits - 1, what);
        const grey = /gray|x1/.test(row.depth);
        assert.equal(img.channels, grey ? 1 : 3, what);
      }
      checked.push(row.file);
    }
    assert.equal(checked.length, rows.length);
  },
);

test(
  'full ICBM152 volume: axial slice 104 flipped upside down equals mni_t1_axial_z104.png',
  { skip },
  async () => {
    const img = await readImage(`${DATA}medical/brain/mni_icbm152_t1_09a_converted.nii.gz`, { slice: 104 });
    const png = await sharp(`${DATA}medical/brain/mni_t1_axial_z104.png`)
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    let diff = 0;
    for (let y = 0; y < 233; y++)
      for (let x = 0; x < 197; x++) if (img.data[y * 197 + x] !== png[(232 - y) * 197 + x]) diff++;
    assert.equal(diff, 0);
  },
);

test('US1_UNCI RGB ultrasound DICOM equals its interleaved RGB bytes at PixelData', { skip }, async () => {
  const path = `${DATA}medical/dicom_small/US1_UNCI_rgb_ultrasound.dcm`;
  const img = await readImage(path);
  const bytes = readFileSync(path);
  const n = 640 * 480 * 3;
  // Explicit VR LE (7FE0,0010) OB/OW with a 32-bit length, value right after.
  const at = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  assert.equal(bytes.readUInt32LE(at + 8), n);
  let diff = 0;
  for (let i = 0; i < n; i++) if (img.data[i] !== bytes[at + 12 + i]) diff++;
  assert.equal(diff, 0);
});
