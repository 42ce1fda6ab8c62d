/**
 * Bad input and format detection: every message is one line naming the file (the text is API, checked exactly).
 * Detection is by content: the extension is a hint only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { readImage, resolveReadImageOptions, DEFAULT_READ_IMAGE_OPTIONS } from '../../src/image/read.ts';
import { sniffFormat } from '../../src/image/sniff.ts';
import { fixture } from '../helpers/cli.ts';
import { rejectsWith } from '../helpers/errors.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-errors-'));
const EXPECTED = 'PNG, JPEG, TIFF, WebP, GIF, BMP, DICOM or NIfTI-1/2';

function writeTmp(name: string, bytes: Buffer | string): string {
  const p = join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

test('missing file and directory are E_UNREADABLE; an empty file is E_CORRUPT', async () => {
  const missing = join(TMP, 'nope.png');
  await rejectsWith(readImage(missing), 'E_UNREADABLE', `${missing}: no such file`);
  const dir = join(TMP, 'adir.png');
  mkdirSync(dir);
  await rejectsWith(readImage(dir), 'E_UNREADABLE', `${dir}: is a directory, not an image file`);
  const empty = writeTmp('empty.dcm', Buffer.alloc(0));
  await rejectsWith(readImage(empty), 'E_CORRUPT', `${empty}: empty file`);
});

test('other kinds of file are E_UNSUPPORTED naming the kind; unknown content names the supported formats', async () => {
  const txt = writeTmp('notes.txt', 'hello, this is text\n');
  await rejectsWith(
    readImage(txt),
    'E_UNSUPPORTED',
    `${txt}: unrecognised file format (expected ${EXPECTED})`,
  );
  const pdf = writeTmp('scan.png', '%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n');
  await rejectsWith(
    readImage(pdf),
    'E_UNSUPPORTED',
    `${pdf}: PDF files are not supported (expected ${EXPECTED})`,
  );
  const zip = writeTmp('a.zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]));
  await rejectsWith(
    readImage(zip),
    'E_UNSUPPORTED',
    `${zip}: ZIP files are not supported (expected ${EXPECTED})`,
  );
  const j2k = writeTmp('a.jp2', Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]));
  await rejectsWith(
    readImage(j2k),
    'E_UNSUPPORTED',
    `${j2k}: JPEG 2000 files are not supported (expected ${EXPECTED})`,
  );
  const gz = writeTmp('data.csv.gz', gzipSync('a,b\n1,2\n'));
  await rejectsWith(
    readImage(gz),
    'E_UNSUPPORTED',
    `${gz}: gzip-compressed (not NIfTI) files are not supported (expected ${EXPECTED})`,
  );
  // A NIfTI-1 header of a .hdr/.img pair (magic ni1) without its .img.
  const hdr = Buffer.alloc(352);
  hdr.writeInt32LE(348, 0);
  hdr.write('ni1\0', 344, 'latin1');
  const pair = writeTmp('vol.hdr', hdr);
  await rejectsWith(readImage(pair), 'E_UNREADABLE', `${pair}: NIfTI .hdr/.img pair: the .img file is missing`);
});

test('garbage under an image extension is E_CORRUPT; truncated PNG and JPEG are E_CORRUPT', async () => {
  const garbage = writeTmp('photo.png', Buffer.from('this is not really a png file at all'));
  await rejectsWith(
    readImage(garbage),
    'E_CORRUPT',
    `${garbage}: not a valid PNG file (its signature is missing): corrupt or mislabelled`,
  );
  const png = readFileSync(fixture('medical/brain/mni_t1_axial_z104.png'));
  const cut = writeTmp('cut.png', png.subarray(0, 2000));
  await rejectsWith(readImage(cut), 'E_CORRUPT', `${cut}: PNG data is truncated or corrupt`);
  const head = writeTmp('head.png', png.subarray(0, 12));
  await rejectsWith(
    readImage(head),
    'E_CORRUPT',
    `${head}: PNG data is truncated or corrupt (cannot read the header)`,
  );
  const noise = { type: 'gaussian', mean: 128, sigma: 30 } as const;
  const jpeg = await sharp({
    create: { width: 128, height: 128, channels: 3, background: { r: 0, g: 0, b: 0 }, noise },
  })
    .jpeg()
    .toBuffer();
  const cutJ = writeTmp('cut.jpg', jpeg.subarray(0, jpeg.length >> 1));
  await rejectsWith(readImage(cutJ), 'E_CORRUPT', `${cutJ}: JPEG data is truncated or corrupt`);
  const dcm = writeTmp('junk.dcm', Buffer.from('not dicom either, no preamble, no DICM magic......'));
  await rejectsWith(
    readImage(dcm),
    'E_CORRUPT',
    `${dcm}: not a valid DICOM file (no DICM preamble, and not a readable raw data set with pixel data)`,
  );
});

test('content wins over the extension: a PNG named .jpg decodes as PNG with a warning', async () => {
  const p = writeTmp('really_png.jpg', readFileSync(fixture('medical/brain/mni_t1_axial_z104.png')));
  const img = await readImage(p);
  assert.equal(img.format, 'png');
  assert.equal(img.width, 197);
  assert.deepEqual(img.warnings, ['file name says JPEG but the content is PNG; decoded as PNG']);
  // DICOM with no extension at all.
  const d = writeTmp('IM0001', readFileSync(fixture('medical/dicom_small/MR_small.dcm')));
  assert.equal((await readImage(d)).format, 'dicom');
});

test('sniffFormat: magic bytes of each format (DICOM before TIFF: pydicom preambles start with II*)', () => {
  const at = (bytes: number[], offset = 0, size = 400): Uint8Array => {
    const b = new Uint8Array(size);
    b.set(bytes, offset);
    return b;
  };
  assert.deepEqual(sniffFormat(at([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), {
    kind: 'image',
    format: 'png',
  });
  assert.deepEqual(sniffFormat(at([0xff, 0xd8, 0xff, 0xe0])), { kind: 'image', format: 'jpeg' });
  assert.deepEqual(sniffFormat(at([0x4d, 0x4d, 0x00, 0x2a])), { kind: 'image', format: 'tiff' });
  assert.deepEqual(sniffFormat(at([...Buffer.from('GIF89a')])), { kind: 'image', format: 'gif' });
  assert.deepEqual(sniffFormat(at([...Buffer.from('RIFF\0\0\0\0WEBP')])), { kind: 'image', format: 'webp' });
  const dicom = at([0x49, 0x49, 0x2a, 0x00]);
  dicom.set(Buffer.from('DICM'), 128);
  assert.deepEqual(sniffFormat(dicom), { kind: 'image', format: 'dicom' });
  const bmp = at([...Buffer.from('BM')]);
  bmp[14] = 40;
  assert.deepEqual(sniffFormat(bmp), { kind: 'image', format: 'bmp' });
  assert.deepEqual(sniffFormat(at([...Buffer.from('BM')])), { kind: 'unknown' }); // 'BM' alone is not enough
  const nii = at([0x5c, 0x01, 0, 0]); // 348 little endian
  nii.set(Buffer.from('n+1\0'), 344);
  assert.deepEqual(sniffFormat(nii), { kind: 'image', format: 'nifti' });
  const niiBE = at([0, 0, 0x01, 0x5c]);
  niiBE.set(Buffer.from('n+1\0'), 344);
  assert.deepEqual(sniffFormat(niiBE), { kind: 'image', format: 'nifti' });
  const nii2 = at([0x1c, 0x02, 0, 0]); // 540 little endian
  assert.deepEqual(sniffFormat(nii2), { kind: 'unknown' }); // no magic
  nii2.set(Buffer.from('n+2\0'), 4);
  assert.deepEqual(sniffFormat(nii2), { kind: 'image', format: 'nifti' });
});

test('options: defaults are frozen; unknown keys and bad values are E_INVALID_OPTION with the allowed values', async () => {
  assert.ok(Object.isFrozen(DEFAULT_READ_IMAGE_OPTIONS));
  assert.deepEqual(resolveReadImageOptions(), { frame: 0, axis: 2, slice: null, volume: 0, rescale: false });
  assert.throws(() => resolveReadImageOptions({ axis: 3 as never }), {
    message: 'invalid axis: expected 0, 1 or 2 (default 2), got 3',
  });
  assert.throws(() => resolveReadImageOptions({ frame: -1 }), {
    message: 'invalid frame: expected an integer >= 0 (default 0), got -1',
  });
  assert.throws(() => resolveReadImageOptions({ slice: 1.5 }), {
    message: 'invalid slice: expected an integer >= 0 or null for the middle (default null), got 1.5',
  });
  assert.throws(() => resolveReadImageOptions({ rescale: 'yes' as never }), {
    message: 'invalid rescale: expected true or false (default false), got "yes"',
  });
  assert.throws(() => resolveReadImageOptions({ page: 1 } as never), {
    message: 'unknown readImage option "page" (allowed: frame, axis, slice, volume, rescale)',
  });
  // Options are checked before the file is touched.
  await rejectsWith(
    readImage(join(TMP, 'missing.png'), { volume: -2 }),
    'E_INVALID_OPTION',
    'invalid volume: expected an integer >= 0 (default 0), got -2',
  );
});

test('CLI flags map to readImage options; bad values name the flag', async () => {
  const { parseArgs } = await import('node:util');
  const { READ_IMAGE_FLAGS, readImageOptionsFromFlags } = await import('../../src/image/flags.ts');
  const { values } = parseArgs({
    args: ['--frame', '2', '--axis', '1', '--slice', '40', '--volume', '1', '--rescale'],
    options: READ_IMAGE_FLAGS,
  });
  assert.deepEqual(readImageOptionsFromFlags(values), {
    frame: 2,
    axis: 1,
    slice: 40,
    volume: 1,
    rescale: true,
  });
  assert.deepEqual(readImageOptionsFromFlags({}), {});
  assert.throws(() => readImageOptionsFromFlags({ axis: '3' }), {
    message: 'invalid --axis: expected 0, 1 or 2, got "3"',
  });
  assert.throws(() => readImageOptionsFromFlags({ frame: '-1' }), {
    message: 'invalid --frame: expected an integer >= 0, got "-1"',
  });
  assert.throws(() => readImageOptionsFromFlags({ slice: 'mid' }), {
    message: 'invalid --slice: expected an integer >= 0, got "mid"',
  });
});
