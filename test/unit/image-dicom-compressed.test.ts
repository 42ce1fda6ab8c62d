/**
 * Compressed DICOM transfer syntaxes against known answers: pydicom's lossless encodings of MR_small.dcm must equal
 * the uncompressed twin sample for sample; RGB RLE must give the published colour bands; lossy files decode to the
 * documented size and depth within codec error of their twin. JPEG lossless is checked with files written here by
 * an independent encoder (test/helpers/dicom.ts), which also builds multi-fragment and multi-frame objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '../../src/image/read.ts';
import type { Image } from '../../src/image/types.ts';
import { fixture } from '../helpers/cli.ts';
import { rejectsWith } from '../helpers/errors.ts';
import {
  encapsulate,
  encodeJpegLossless,
  fragmentsOf,
  greyImageElements,
  writeDicomFile,
  type DicomElement,
} from '../helpers/dicom.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-dicomz-'));
const C = (name: string): string => fixture(`medical/dicom_compressed/${name}`);
const TWIN = fixture('medical/dicom_small/MR_small.dcm');

function maxAbsDiff(a: Image, b: Image): number {
  assert.equal(a.data.length, b.data.length);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** MR_small.dcm's raw 16-bit words, parsed by hand: the value of its (7FE0,0010) OW element (explicit VR LE). */
function twinWords(): Uint16Array {
  const f = readFileSync(TWIN);
  for (let i = 132; i + 12 <= f.length; i++) {
    if (f.readUInt32LE(i) === 0x00107fe0 && f.toString('latin1', i + 4, i + 6) === 'OW') {
      const len = f.readUInt32LE(i + 8);
      assert.equal(len, 8192);
      return new Uint16Array(f.buffer.slice(f.byteOffset + i + 12, f.byteOffset + i + 12 + len));
    }
  }
  throw new Error('no pixel data in MR_small.dcm');
}

test('lossless RLE, JPEG 2000 and JPEG-LS encodings of MR_small equal the uncompressed twin exactly', async () => {
  const twin = await readImage(TWIN);
  for (const [file, uid] of [
    ['MR_small_RLE.dcm', '1.2.840.10008.1.2.5'],
    ['MR_small_jp2klossless.dcm', '1.2.840.10008.1.2.4.90'],
    ['MR_small_jpeg_ls_lossless.dcm', '1.2.840.10008.1.2.4.80'],
  ] as const) {
    const img = await readImage(C(file));
    assert.equal(img.meta.transferSyntaxUID, uid);
    assert.deepEqual(
      [img.width, img.height, img.channels, img.bitDepth, img.dataRange],
      [64, 64, 1, 16, 65535],
    );
    assert.equal(maxAbsDiff(img, twin), 0, file);
    assert.deepEqual([...img.data], [...twin.data], file);
  }
});

test('RGB RLE 8-bit gives the published colour bands; 16-bit is 257 times the 8-bit file', async () => {
  const rgb = await readImage(C('SC_rgb_rle.dcm'));
  const rgb16 = await readImage(C('SC_rgb_rle_16bit.dcm'));
  assert.deepEqual([rgb.width, rgb.height, rgb.channels, rgb.dataRange], [100, 100, 3, 255]);
  assert.deepEqual([rgb16.channels, rgb16.bitDepth, rgb16.dataRange], [3, 16, 65535]);
  const bands = [
    [255, 0, 0],
    [255, 128, 128],
    [0, 255, 0],
    [128, 255, 128],
    [0, 0, 255],
    [128, 128, 255],
    [0, 0, 0],
    [64, 64, 64],
    [192, 192, 192],
    [255, 255, 255],
  ];
  bands.forEach((colour, b) => {
    const i = ((10 * b + 5) * 100 + 50) * 3;
    assert.deepEqual([...rgb.data.subarray(i, i + 3)], colour, `band ${b}`);
  });
  for (let i = 0; i < rgb.data.length; i++) assert.equal(rgb16.data[i], 257 * rgb.data[i]!);
  // The JPEG baseline (YBR_FULL) encoding of the same picture is within JPEG error.
  const jpeg = await readImage(C('SC_rgb_jpeg_dcmtk.dcm'));
  assert.ok(maxAbsDiff(jpeg, rgb) <= 8, `JPEG vs RLE max diff ${maxAbsDiff(jpeg, rgb)}`);
});

test('lossy JPEG 2000 and JPEG-LS near-lossless decode to the documented size and depth', async () => {
  const j2k = await readImage(C('JPEG2000.dcm'));
  assert.deepEqual(
    [j2k.width, j2k.height, j2k.channels, j2k.bitDepth, j2k.meta.pixelRepresentation],
    [256, 1024, 1, 16, 1],
  );
  const ct = await readImage(C('693_J2KI.dcm'));
  assert.deepEqual(
    [ct.width, ct.height, ct.bitDepth, ct.dataRange, ct.meta.bitsStored],
    [512, 512, 16, 16383, 14],
  );
  const twin = await readImage(fixture('medical/ct/693_UNCI.dcm'));
  assert.ok(maxAbsDiff(ct, twin) <= 16, `693 J2K vs uncompressed max diff ${maxAbsDiff(ct, twin)}`);
  const nl = await readImage(C('JPEGLSNearLossless_16.dcm'));
  assert.deepEqual(
    [nl.width, nl.height, nl.bitDepth, nl.meta.transferSyntaxUID],
    [10, 50, 16, '1.2.840.10008.1.2.4.81'],
  );
});

test('12-bit JPEG extended: pydicom reference values within one count (IDCT rounding); the bad-SOS twin decodes the same', async () => {
  const img = await readImage(C('JPGExtended.dcm'));
  assert.deepEqual(
    [img.width, img.height, img.bitDepth, img.dataRange, img.meta.bitsStored],
    [256, 1024, 16, 4095, 12],
  );
  // pydicom's pixel reference for JPGE_16_12_1_0_1F_M2: arr[420, 140] == 244, arr[230, 120] == 95 (libjpeg's
  // integer IDCT); the float IDCT here gives 244 and 94.
  assert.ok(Math.abs(img.data[420 * 256 + 140]! - 244) <= 1, String(img.data[420 * 256 + 140]));
  assert.ok(Math.abs(img.data[230 * 256 + 120]! - 95) <= 1, String(img.data[230 * 256 + 120]));
  const bad = await readImage(C('JPEG-lossy.dcm'));
  assert.equal(maxAbsDiff(bad, img), 0);
});

test('the DCT decoder behind 12-bit JPEG matches libjpeg (sharp) within one count on 8-bit grey JPEGs', async () => {
  const { default: sharp } = await import('sharp');
  const png = fixture('medical/brain/mni_t1_axial_z104.png');
  for (const quality of [40, 95]) {
    const jpeg = await sharp(png).toColourspace('b-w').jpeg({ quality, mozjpeg: false }).toBuffer();
    const ref = await sharp(jpeg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    // 8-bit samples in 16-bit cells take the DCT decoder (BitsAllocated 8 would go to sharp).
    const { width, height } = ref.info;
    const els: (DicomElement & { encapsulated?: boolean })[] = [
      ...greyImageElements({ rows: height, columns: width, bitsAllocated: 16, bitsStored: 8, signed: false }),
      { tag: 0x7fe00010, vr: 'OB', value: encapsulate([[jpeg]], false), encapsulated: true },
    ];
    const p = join(TMP, `q${quality}.dcm`);
    writeFileSync(p, writeDicomFile(els, '1.2.840.10008.1.2.4.51'));
    const img = await readImage(p);
    let max = 0;
    let differ = 0;
    for (let i = 0; i < ref.data.length; i++) {
      const d = Math.abs(img.data[i]! - ref.data[i]!);
      max = Math.max(max, d);
      if (d > 0) differ++;
    }
    assert.ok(max <= 1, `quality ${quality}: max diff ${max}`);
    assert.ok(differ < 0.02 * ref.data.length, `quality ${quality}: ${differ} samples differ`);
  }
});

function mrFile(tsUid: string, frames: Buffer[][], bot: boolean, name: string): string {
  const els: (DicomElement & { encapsulated?: boolean })[] = [
    ...greyImageElements({
      rows: 64,
      columns: 64,
      bitsAllocated: 16,
      bitsStored: 16,
      signed: true,
      frames: frames.length,
    }),
    { tag: 0x7fe00010, vr: 'OB', value: encapsulate(frames, bot), encapsulated: true },
  ];
  const p = join(TMP, name);
  writeFileSync(p, writeDicomFile(els, tsUid));
  return p;
}

test('JPEG lossless (.57 and .70) written by an independent encoder decodes to MR_small exactly', async () => {
  const twin = await readImage(TWIN);
  const jpeg = encodeJpegLossless(twinWords(), 64, 64, 16);
  for (const uid of ['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70']) {
    const img = await readImage(mrFile(uid, [[jpeg]], false, `ll-${uid}.dcm`));
    assert.equal(maxAbsDiff(img, twin), 0, uid);
  }
});

test('multi-fragment frames and multi-frame objects: basic offset table, fragment per frame, EOI markers', async () => {
  const twin = await readImage(TWIN);
  const j2k = fragmentsOf(readFileSync(C('MR_small_jp2klossless.dcm')))[0]!;
  const jls = fragmentsOf(readFileSync(C('MR_small_jpeg_ls_lossless.dcm')))[0]!;
  const rle = fragmentsOf(readFileSync(C('MR_small_RLE.dcm')))[0]!;
  const ll = encodeJpegLossless(twinWords(), 64, 64, 16);
  const split = (b: Buffer, n: number): Buffer[] => {
    const step = 2 * Math.ceil(b.length / n / 2);
    return Array.from({ length: n }, (_, i) => b.subarray(i * step, Math.min(b.length, (i + 1) * step)));
  };
  const cases: [string, string, Buffer[][], boolean][] = [
    ['j2k one frame in 3 fragments', '1.2.840.10008.1.2.4.90', [split(j2k, 3)], false],
    [
      'jpeg-ls 3 frames, 2 fragments each, offset table',
      '1.2.840.10008.1.2.4.80',
      [split(jls, 2), split(jls, 2), split(jls, 2)],
      true,
    ],
    ['rle 2 frames, one fragment each, no table', '1.2.840.10008.1.2.5', [[rle], [rle]], false],
    [
      'jpeg lossless 2 frames, 2 fragments each, no table (EOI)',
      '1.2.840.10008.1.2.4.70',
      [split(ll, 2), split(ll, 2)],
      false,
    ],
  ];
  for (const [what, uid, frames, bot] of cases) {
    const p = mrFile(uid, frames, bot, `${what.replace(/\W+/g, '_')}.dcm`);
    for (let f = 0; f < frames.length; f++) {
      const img = await readImage(p, { frame: f });
      assert.equal(img.meta.numberOfFrames, frames.length, what);
      assert.equal(maxAbsDiff(img, twin), 0, `${what}, frame ${f}`);
    }
    await rejectsWith(
      readImage(p, { frame: frames.length }),
      'E_INVALID_OPTION',
      `${p}: invalid frame: expected an integer in 0..${frames.length - 1} (the file has ${frames.length} frame${frames.length === 1 ? '' : 's'}), got ${frames.length}`,
    );
  }
});

test('corrupt codestreams are one-line E_CORRUPT errors', async () => {
  const jls = fragmentsOf(readFileSync(C('MR_small_jpeg_ls_lossless.dcm')))[0]!;
  const bad = mrFile('1.2.840.10008.1.2.4.80', [[Buffer.from(jls.subarray(0, 40))]], false, 'bad-jls.dcm');
  await assert.rejects(
    readImage(bad),
    (e: Error & { code?: string }) => e.code === 'E_CORRUPT' && !e.message.includes('\n'),
  );
  const rle = mrFile('1.2.840.10008.1.2.5', [[Buffer.alloc(64)]], false, 'bad-rle.dcm');
  await rejectsWith(
    readImage(rle),
    'E_CORRUPT',
    `${rle}: DICOM RLE frame has 0 segments, expected 2 (1 samples x 2 bytes)`,
  );
});

test('VOI: window arrays and the first VOI LUT Sequence item are in meta', async () => {
  const lutItem = (els: Buffer[]): Buffer => {
    const body = Buffer.concat(els);
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  const short = (tag: number, vr: string, v: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    h.write(vr, 4, 'latin1');
    h.writeUInt16LE(v.length, 6);
    return Buffer.concat([h, v]);
  };
  const us = (vals: number[]): Buffer => {
    const b = Buffer.alloc(2 * vals.length);
    vals.forEach((v, i) => b.writeUInt16LE(v, 2 * i));
    return b;
  };
  const item = lutItem([
    short(0x00283002, 'US', us([4, 100, 12])), // 4 entries, first stored value 100, 12 bits
    short(0x00283003, 'LO', Buffer.from('SOFT TISSUE ')),
    short(0x00283006, 'US', us([0, 1000, 3000, 4095])),
  ]);
  const p = join(TMP, 'voi.dcm');
  writeFileSync(
    p,
    writeDicomFile(
      [
        ...greyImageElements({ rows: 1, columns: 2, bitsAllocated: 16, bitsStored: 12, signed: false }),
        { tag: 0x00281050, vr: 'DS', value: [40, 300] },
        { tag: 0x00281051, vr: 'DS', value: [400, 1500] },
        { tag: 0x00283010, vr: 'SQ', value: item },
        { tag: 0x7fe00010, vr: 'OW', value: us([5, 6]) },
      ],
      '1.2.840.10008.1.2.1',
    ),
  );
  const img = await readImage(p);
  assert.deepEqual(img.meta.windowCenter, [40, 300]);
  assert.deepEqual(img.meta.windowWidth, [400, 1500]);
  assert.deepEqual(img.meta.voiLut, {
    first: 100,
    bits: 12,
    data: [0, 1000, 3000, 4095],
    explanation: 'SOFT TISSUE',
  });
  assert.deepEqual([...img.data], [5, 6]);
});
