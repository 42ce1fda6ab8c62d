/**
 * Size caps of image input (issue 15, item 2): every decoder refuses a header that claims more pixels than the cap
 * before allocating (the checks below each finish in well under a second, where the same files used to take GBs),
 * gzip output is capped, non-regular files are refused, NIfTI sizes < 1 are corrupt, and the cap can be raised.
 * Hostile headers are made here by hand (PNG, BMP) or by patching the Rows/Columns of a real DICOM fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync, gunzipSync } from 'node:zlib';
import { readImage } from '../../src/image/read.ts';
import { BlindspotError } from '../../src/errors.ts';
import { fixture } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'bs-limits-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function rejects(p: Promise<unknown>, code: string, message: string): Promise<void> {
  const t0 = performance.now();
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BlindspotError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
  assert.ok(performance.now() - t0 < 2000, 'refused too slowly (allocated first?)');
}

async function withMaxPixels<T>(value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.BLINDSPOT_MAX_PIXELS;
  process.env.BLINDSPOT_MAX_PIXELS = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.BLINDSPOT_MAX_PIXELS;
    else process.env.BLINDSPOT_MAX_PIXELS = before;
  }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A valid-looking PNG whose IHDR claims width x height (8-bit grey) with one row of data. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + Math.min(width, 4096)))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const CAP = 'raise it with --max-pixels N or BLINDSPOT_MAX_PIXELS';

test('a 261-byte PNG claiming 16383x16383 is refused from its header (E_TOO_LARGE)', async () => {
  const file = join(dir, 'huge.png');
  writeFileSync(file, pngClaiming(16383, 16383));
  await rejects(readImage(file), 'E_TOO_LARGE', `${file}: image of 16383x16383 = 268402689 pixels is over the limit of 67108864 pixels (${CAP})`);
});

test('a DICOM whose Rows/Columns claim 65535x65535 is refused before any allocation (was a RangeError)', async () => {
  const bytes = Buffer.from(readFileSync(fixture('medical/dicom_small/MR_small.dcm')));
  // Explicit VR little endian: (0028,0010) Rows and (0028,0011) Columns, VR "US", length 2.
  for (const el of [0x10, 0x11]) {
    const tag = Buffer.from([0x28, 0x00, el, 0x00, 0x55, 0x53, 0x02, 0x00]);
    const at = bytes.indexOf(tag);
    assert.ok(at > 0, `tag (0028,00${el.toString(16)}) not found`);
    bytes.writeUInt16LE(65535, at + 8);
  }
  const file = join(dir, 'huge.dcm');
  writeFileSync(file, bytes);
  await rejects(readImage(file), 'E_TOO_LARGE', `${file}: image of 65535x65535 = 4294836225 pixels is over the limit of 67108864 pixels (${CAP})`);
});

test('a BMP header claiming 100000x100000 is refused (E_TOO_LARGE)', async () => {
  const h = Buffer.alloc(54 + 16);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(h.length, 2);
  h.writeUInt32LE(54, 10);
  h.writeUInt32LE(40, 14);
  h.writeInt32LE(100000, 18);
  h.writeInt32LE(-100000, 22); // top-down
  h.writeUInt16LE(1, 26);
  h.writeUInt16LE(24, 28);
  const file = join(dir, 'huge.bmp');
  writeFileSync(file, h);
  await rejects(readImage(file), 'E_TOO_LARGE', `${file}: image of 100000x100000 = 10000000000 pixels is over the limit of 67108864 pixels (${CAP})`);
});

test('gzip output and file size are capped at 16 bytes per allowed pixel; the cap is raised by BLINDSPOT_MAX_PIXELS', async () => {
  const nii = fixture('medical/brain/nibabel_example4d.nii.gz'); // 346 KB, inflates to 1.18 MB
  await withMaxPixels('40000', () =>
    rejects(readImage(nii), 'E_TOO_LARGE', `${nii}: gzip data inflates to more than 640000 bytes, the limit (16 per allowed pixel; ${CAP})`),
  );
  await withMaxPixels('20000', () => rejects(readImage(nii), 'E_TOO_LARGE', `${nii}: file of 346451 bytes is over the limit of 320000 bytes (16 per allowed pixel; ${CAP})`));
  const img = await withMaxPixels('100000', () => readImage(nii));
  assert.equal(img.width * img.height, 128 * 96);
  // The pixel cap itself, on a real 96x96 PNG: 9216 pixels pass at 9216 and not at 9215.
  const png = fixture('dataset/nih_00000001_000.png');
  assert.equal((await withMaxPixels('9216', () => readImage(png))).width, 96);
  await withMaxPixels('9215', () => rejects(readImage(png), 'E_TOO_LARGE', `${png}: image of 96x96 = 9216 pixels is over the limit of 9215 pixels (${CAP})`));
  await withMaxPixels('lots', () =>
    rejects(readImage(png), 'E_INVALID_OPTION', 'invalid --max-pixels / BLINDSPOT_MAX_PIXELS: expected a positive integer (default 67108864), got "lots"'),
  );
});

test('NIfTI with dim[2] = 0 is corrupt (was silently read as 1)', async () => {
  const raw = Buffer.from(gunzipSync(readFileSync(fixture('medical/brain/mni_icbm152_t1_09a_z103-105.nii.gz'))));
  raw.writeInt16LE(0, 40 + 2 * 2); // dim[2]
  const file = join(dir, 'dim0.nii');
  writeFileSync(file, raw);
  await rejects(readImage(file), 'E_CORRUPT', `${file}: NIfTI dim[2] = 0 is not a positive size`);
});

test('/dev/zero and a FIFO are refused at once as non-regular files (no unbounded read, no wait for a writer)', async () => {
  await rejects(readImage('/dev/zero'), 'E_UNREADABLE', '/dev/zero: is not a regular file (a device, pipe or socket)');
  const fifo = join(dir, 'pipe.png');
  execFileSync('mkfifo', [fifo]);
  await rejects(readImage(fifo), 'E_UNREADABLE', `${fifo}: is not a regular file (a device, pipe or socket)`);
});

test('a .dcm cut inside its preamble (which starts with a TIFF header) is a truncated DICOM, not "TIFF data is truncated"', async () => {
  const file = join(dir, 'cut.dcm');
  writeFileSync(file, readFileSync(fixture('medical/dicom_small/MR_small.dcm')).subarray(0, 100)); // preamble starts "II*\0"
  await rejects(readImage(file), 'E_CORRUPT', `${file}: DICOM data is truncated: 100 bytes, cut inside the 128-byte preamble (no "DICM" marker)`);
});
