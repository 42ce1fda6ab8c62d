/**
 * DICOM decoding against independent references: the 16-bit PNG twins made by the data set's own Python decoder,
 * hand parses of the raw little-endian pixel bytes, an independent decode of the extracted JPEG, and synthetic
 * files written by the small DICOM writer below (independent of dicom-parser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import { readImage } from '../../src/image/read.ts';
import { BlindspotError } from '../../src/errors.ts';
import { fixture } from '../helpers/cli.ts';
import { rejectsWith } from '../helpers/errors.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-dicom-'));

/** Decode a PNG with sharp directly (not through readImage), as 16-bit grey samples. */
async function png16(path: string): Promise<{ width: number; height: number; data: Uint16Array }> {
  const { data, info } = await sharp(path)
    .toColourspace('grey16')
    .raw({ depth: 'ushort' })
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint16Array(data.buffer, data.byteOffset, info.width * info.height),
  };
}

/**
 * Tiny hand parse: the last (7FE0,0010) element of an explicit-VR little-endian file with a defined length.
 * Returns the byte offset of its value and its length.
 */
function pixelDataOffset(bytes: Buffer): { offset: number; length: number } {
  for (let i = bytes.length - 12; i >= 132; i--) {
    if (bytes[i] === 0xe0 && bytes[i + 1] === 0x7f && bytes[i + 2] === 0x10 && bytes[i + 3] === 0x00) {
      const vr = bytes.toString('latin1', i + 4, i + 6);
      if (vr === 'OW' || vr === 'OB') return { offset: i + 12, length: bytes.readUInt32LE(i + 8) };
    }
  }
  throw new Error('no pixel data');
}

// ---------------------------------------------------------------------------------------------------------------
// A minimal DICOM writer (PS3.5/PS3.10), enough for the variants tested here.
interface El {
  tag: number; // 0xGGGGEEEE
  vr: string;
  value: Buffer | string | number | number[];
}
type Syntax = 'explicit-le' | 'implicit-le' | 'explicit-be' | 'deflated';
const TS_UID: Record<Syntax, string> = {
  'explicit-le': '1.2.840.10008.1.2.1',
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-be': '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
};

function valueBytes(el: El, le: boolean): Buffer {
  const { vr, value } = el;
  if (Buffer.isBuffer(value)) return value.length % 2 ? Buffer.concat([value, Buffer.alloc(1)]) : value;
  if (vr === 'US') {
    const vals = Array.isArray(value) ? value : [value as number];
    const b = Buffer.alloc(2 * vals.length);
    vals.forEach((v, i) => (le ? b.writeUInt16LE(v, 2 * i) : b.writeUInt16BE(v, 2 * i)));
    return b;
  }
  let s = String(value);
  if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
  return Buffer.from(s, 'latin1');
}

function encodeElement(el: El, explicit: boolean, le: boolean): Buffer {
  const v = valueBytes(el, le);
  const group = el.tag >>> 16;
  const elem = el.tag & 0xffff;
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'OF'].includes(el.vr);
  const head = Buffer.alloc(explicit ? (long ? 12 : 8) : 8);
  const u16 = (x: number, at: number): number => (le ? head.writeUInt16LE(x, at) : head.writeUInt16BE(x, at));
  const u32 = (x: number, at: number): number => (le ? head.writeUInt32LE(x, at) : head.writeUInt32BE(x, at));
  u16(group, 0);
  u16(elem, 2);
  if (!explicit) u32(v.length, 4);
  else {
    head.write(el.vr, 4, 'latin1');
    if (long) u32(v.length, 8);
    else u16(v.length, 6);
  }
  return Buffer.concat([head, v]);
}

function writeDicom(
  elements: El[],
  syntax: Syntax = 'explicit-le',
  opts: { preamble?: boolean; tsUid?: string } = {},
): Buffer {
  const meta = encodeElement({ tag: 0x00020010, vr: 'UI', value: opts.tsUid ?? TS_UID[syntax] }, true, true);
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const explicit = syntax !== 'implicit-le';
  const le = syntax !== 'explicit-be';
  let body = Buffer.concat(sorted.map((e) => encodeElement(e, explicit, le)));
  if (syntax === 'deflated') body = deflateRawSync(body);
  if (opts.preamble === false) return body; // a bare data set (implicit VR LE by PS3.5 default)
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), meta, body]);
}

interface ImageSpec {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit?: number;
  signed?: boolean;
  photometric?: string;
  samplesPerPixel?: number;
  planar?: number;
  frames?: number;
  slope?: string;
  intercept?: string;
  /** Raw sample words as they go into the file (before masking). */
  samples: number[];
  bigEndianPixels?: boolean;
}

function imageElements(s: ImageSpec): El[] {
  const bytesPer = s.bitsAllocated / 8;
  const px = Buffer.alloc(s.samples.length * bytesPer);
  s.samples.forEach((v, i) => {
    if (bytesPer === 1) px.writeUInt8(v & 0xff, i);
    else if (s.bigEndianPixels) px.writeUInt16BE(v & 0xffff, 2 * i);
    else px.writeUInt16LE(v & 0xffff, 2 * i);
  });
  const els: El[] = [
    { tag: 0x00080060, vr: 'CS', value: 'OT' },
    { tag: 0x00280002, vr: 'US', value: s.samplesPerPixel ?? 1 },
    { tag: 0x00280004, vr: 'CS', value: s.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: s.rows },
    { tag: 0x00280011, vr: 'US', value: s.columns },
    { tag: 0x00280100, vr: 'US', value: s.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: s.bitsStored },
    { tag: 0x00280102, vr: 'US', value: s.highBit ?? s.bitsStored - 1 },
    { tag: 0x00280103, vr: 'US', value: s.signed ? 1 : 0 },
    { tag: 0x7fe00010, vr: bytesPer === 1 ? 'OB' : 'OW', value: px },
  ];
  if (s.planar !== undefined) els.push({ tag: 0x00280006, vr: 'US', value: s.planar });
  if (s.frames !== undefined) els.push({ tag: 0x00280008, vr: 'IS', value: String(s.frames) });
  if (s.slope !== undefined) els.push({ tag: 0x00281053, vr: 'DS', value: s.slope });
  if (s.intercept !== undefined) els.push({ tag: 0x00281052, vr: 'DS', value: s.intercept });
  return els;
}

function writeTmp(name: string, bytes: Buffer): string {
  const p = join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Real files

test('MR2_UNCI.dcm (12 of 16 bits stored) equals its 16-bit PNG twin sample for sample; L = 4095', async () => {
  const dcm = await readImage(fixture('medical/mr/MR2_UNCI.dcm'));
  const png = await png16(fixture('medical/mr/MR2_1024_u16.png'));
  assert.equal(dcm.width, 1024);
  assert.equal(dcm.height, 1024);
  assert.equal(dcm.channels, 1);
  assert.equal(dcm.bitDepth, 16);
  assert.equal(dcm.dataRange, 4095);
  assert.equal(dcm.isFloat, false);
  assert.equal(dcm.format, 'dicom');
  assert.equal(dcm.meta.bitsStored, 12);
  assert.equal(dcm.meta.bitsAllocated, 16);
  assert.equal(dcm.meta.highBit, 11);
  assert.equal(dcm.meta.pixelRepresentation, 0);
  assert.equal(dcm.meta.modality, 'MR');
  assert.equal(dcm.meta.photometricInterpretation, 'MONOCHROME2');
  assert.equal(dcm.meta.transferSyntaxUID, '1.2.840.10008.1.2.1');
  assert.equal(dcm.meta.rescaleSlope, 3.774114);
  assert.equal(dcm.meta.rescaleIntercept, 0.000061);
  assert.deepEqual(dcm.meta.windowCenter, [1000]);
  assert.deepEqual(dcm.meta.windowWidth, [2000]);
  assert.equal(png.width, 1024);
  let diff = 0;
  for (let i = 0; i < png.data.length; i++) if (dcm.data[i] !== png.data[i]) diff++;
  assert.equal(diff, 0);
});

test('693_UNCI.dcm (CT, 14-bit signed): max(stored, 0) equals CT693_512_u16_HUplus1024.png; stored = HU + 1024', async () => {
  const path = fixture('medical/ct/693_UNCI.dcm');
  const dcm = await readImage(path);
  const png = await png16(fixture('medical/ct/CT693_512_u16_HUplus1024.png'));
  assert.equal(dcm.width, 512);
  assert.equal(dcm.height, 512);
  assert.equal(dcm.bitDepth, 16);
  assert.equal(dcm.meta.bitsStored, 14);
  assert.equal(dcm.meta.pixelRepresentation, 1);
  assert.equal(dcm.dataRange, 2 ** 14 - 1);
  let diff = 0;
  let negatives = 0;
  for (let i = 0; i < png.data.length; i++) {
    const s = dcm.data[i]!;
    if (s < 0) negatives++;
    if (Math.max(s, 0) !== png.data[i]) diff++;
  }
  assert.equal(diff, 0);
  assert.ok(negatives > 0, 'the sign extension is exercised: some stored values are negative');
  // Independent check of the sign extension: 14-bit two's complement of the raw little-endian words.
  const bytes = readFileSync(path);
  const { offset, length } = pixelDataOffset(bytes);
  assert.equal(length, 512 * 512 * 2);
  for (const i of [0, 1000, 70000, 131072, 200000, 262143]) {
    const raw = bytes.readUInt16LE(offset + 2 * i) & 0x3fff;
    assert.equal(dcm.data[i], raw >= 0x2000 ? raw - 0x4000 : raw, `pixel ${i}`);
  }
  const hu = await readImage(path, { rescale: true });
  assert.equal(hu.meta.rescaled, true);
  assert.equal(hu.meta.rescaleType, 'HU');
  assert.equal(hu.dataRange, 16383); // |slope| * (2^14 - 1), slope 1
  for (let i = 0; i < hu.data.length; i += 997) assert.equal(hu.data[i], dcm.data[i]! - 1024);
});

test('CT_small / MR_small (16-bit signed): every sample equals the int16 little-endian words at PixelData', async () => {
  for (const [name, w, modality, intercept] of [
    ['CT_small.dcm', 128, 'CT', -1024],
    ['MR_small.dcm', 64, 'MR', 0],
  ] as const) {
    const path = fixture(`medical/dicom_small/${name}`);
    const img = await readImage(path);
    assert.equal(img.width, w);
    assert.equal(img.height, w);
    assert.equal(img.meta.modality, modality);
    assert.equal(img.meta.bitsStored, 16);
    assert.equal(img.meta.pixelRepresentation, 1);
    assert.equal(img.dataRange, 65535);
    const bytes = readFileSync(path);
    const { offset, length } = pixelDataOffset(bytes);
    assert.equal(length, w * w * 2);
    for (let i = 0; i < w * w; i++)
      assert.equal(img.data[i], bytes.readInt16LE(offset + 2 * i), `${name} pixel ${i}`);
    const res = await readImage(path, { rescale: true });
    assert.equal(res.data[5], bytes.readInt16LE(offset + 10) + intercept);
  }
});

test('JPEG-baseline SIIM chest DICOM: 1024x1024 8-bit, sane statistics, equals sharp decoding the extracted JPEG', async () => {
  const path = fixture('medical/cxr/siim_cr_chest_1024_jpegbaseline.dcm');
  const img = await readImage(path);
  assert.equal(img.width, 1024);
  assert.equal(img.height, 1024);
  assert.equal(img.channels, 1);
  assert.equal(img.bitDepth, 8);
  assert.equal(img.dataRange, 255);
  assert.equal(img.meta.transferSyntaxUID, '1.2.840.10008.1.2.4.50');
  assert.equal(img.meta.modality, 'CR');
  let sum = 0;
  let sum2 = 0;
  let min = 255;
  let max = 0;
  for (const v of img.data) {
    sum += v;
    sum2 += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / img.data.length;
  const sd = Math.sqrt(sum2 / img.data.length - mean * mean);
  assert.ok(mean > 40 && mean < 220, `mean ${mean}`);
  assert.ok(sd > 20, `sd ${sd}`);
  assert.ok(min <= 10 && max >= 240, `range ${min}..${max}`);
  // Independent extraction: walk the encapsulated items by hand (tag FFFE,E000 + 32-bit length) after PixelData.
  const bytes = readFileSync(path);
  let p = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42])); // (7FE0,0010) OB
  assert.ok(p > 0);
  assert.equal(bytes.readUInt32LE(p + 8), 0xffffffff); // undefined length: encapsulated
  p += 12;
  const items: Buffer[] = [];
  while (bytes.readUInt16LE(p) === 0xfffe && bytes.readUInt16LE(p + 2) === 0xe000) {
    const len = bytes.readUInt32LE(p + 4);
    items.push(bytes.subarray(p + 8, p + 8 + len));
    p += 8 + len;
  }
  const jpeg = Buffer.concat(items.slice(1)); // item 0 is the basic offset table
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
  const ref = await sharp(jpeg).greyscale().raw().toBuffer();
  assert.equal(ref.length, img.data.length);
  let diff = 0;
  for (let i = 0; i < ref.length; i++) if (ref[i] !== img.data[i]) diff++;
  assert.equal(diff, 0);
});

// ---------------------------------------------------------------------------------------------------------------
// Synthetic files (the writer above): each variant against the values written

test('MONOCHROME1 is inverted within the stored range so bright = dense (unsigned: 4095 - v; signed: -1 - v)', async () => {
  const samples = [0, 1, 100, 2048, 4094, 4095];
  const p = writeTmp(
    'mono1.dcm',
    writeDicom(
      imageElements({
        rows: 2,
        columns: 3,
        bitsAllocated: 16,
        bitsStored: 12,
        photometric: 'MONOCHROME1',
        samples,
      }),
    ),
  );
  const img = await readImage(p);
  assert.deepEqual(
    [...img.data],
    samples.map((v) => 4095 - v),
  );
  assert.equal(img.meta.inverted, true);
  assert.equal(img.meta.photometricInterpretation, 'MONOCHROME1');
  assert.equal(img.dataRange, 4095);
  const signedSamples = [0, 1, 0x7ff, 0x800, 0xfff]; // 12-bit two's complement: 0, 1, 2047, -2048, -1
  const ps = writeTmp(
    'mono1s.dcm',
    writeDicom(
      imageElements({
        rows: 1,
        columns: 5,
        bitsAllocated: 16,
        bitsStored: 12,
        signed: true,
        photometric: 'MONOCHROME1',
        samples: signedSamples,
      }),
    ),
  );
  const s = await readImage(ps);
  assert.deepEqual(
    [...s.data],
    [0, 1, 2047, -2048, -1].map((v) => -1 - v),
  );
});

test('BitsStored masks the bits above HighBit and sign-extends 12-bit signed data; HighBit 15 shifts', async () => {
  // Overlay garbage in bits 12-15 must be ignored.
  const raw = [0xf000 | 5, 0x1000 | 0xfff, 0x0800, 0x07ff];
  const u = await readImage(
    writeTmp(
      'mask.dcm',
      writeDicom(imageElements({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, samples: raw })),
    ),
  );
  assert.deepEqual([...u.data], [5, 4095, 2048, 2047]);
  const s = await readImage(
    writeTmp(
      'masks.dcm',
      writeDicom(
        imageElements({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 12, signed: true, samples: raw }),
      ),
    ),
  );
  assert.deepEqual([...s.data], [5, -1, -2048, 2047]);
  // HighBit 15 with 12 bits stored: the sample sits in bits 4..15.
  const h = await readImage(
    writeTmp(
      'high.dcm',
      writeDicom(
        imageElements({
          rows: 1,
          columns: 2,
          bitsAllocated: 16,
          bitsStored: 12,
          highBit: 15,
          samples: [0xabc0 | 0xf, 0x0010],
        }),
      ),
    ),
  );
  assert.deepEqual([...h.data], [0xabc, 1]);
  assert.equal(h.meta.highBit, 15);
});

test('RGB with PlanarConfiguration 0 (interleaved) and 1 (planes) decode to the same interleaved RGB', async () => {
  const rgb = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]; // 4 pixels
  const planes = [10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120];
  const base = {
    rows: 2,
    columns: 2,
    bitsAllocated: 8,
    bitsStored: 8,
    photometric: 'RGB',
    samplesPerPixel: 3,
  };
  const a = await readImage(
    writeTmp('rgb0.dcm', writeDicom(imageElements({ ...base, planar: 0, samples: rgb }))),
  );
  const b = await readImage(
    writeTmp('rgb1.dcm', writeDicom(imageElements({ ...base, planar: 1, samples: planes }))),
  );
  assert.equal(a.channels, 3);
  assert.deepEqual([...a.data], rgb);
  assert.deepEqual([...b.data], rgb);
  assert.equal(b.meta.planarConfiguration, 1);
});

test('multi-frame: frame picks the frame; out of range is E_INVALID_OPTION naming the file and the count', async () => {
  const samples = Array.from({ length: 3 * 4 }, (_, i) => i * 100);
  const p = writeTmp(
    'frames.dcm',
    writeDicom(imageElements({ rows: 2, columns: 2, bitsAllocated: 16, bitsStored: 16, frames: 3, samples })),
  );
  assert.deepEqual([...(await readImage(p)).data], [0, 100, 200, 300]);
  const f2 = await readImage(p, { frame: 2 });
  assert.deepEqual([...f2.data], [800, 900, 1000, 1100]);
  assert.equal(f2.meta.frame, 2);
  assert.equal(f2.meta.numberOfFrames, 3);
  await rejectsWith(
    readImage(p, { frame: 3 }),
    'E_INVALID_OPTION',
    `${p}: invalid frame: expected an integer in 0..2 (the file has 3 frames), got 3`,
  );
});

test('implicit VR LE, explicit VR BE, deflated and a bare data set without preamble give the same samples', async () => {
  const samples = [0, 1, 255, 256, 1000, 4095];
  const spec = { rows: 2, columns: 3, bitsAllocated: 16, bitsStored: 12, samples };
  for (const syntax of ['explicit-le', 'implicit-le', 'deflated'] as const) {
    const img = await readImage(writeTmp(`ts-${syntax}.dcm`, writeDicom(imageElements(spec), syntax)));
    assert.deepEqual([...img.data], samples, syntax);
    assert.equal(img.meta.transferSyntaxUID, TS_UID[syntax]);
  }
  const be = await readImage(
    writeTmp('ts-be.dcm', writeDicom(imageElements({ ...spec, bigEndianPixels: true }), 'explicit-be')),
  );
  assert.deepEqual([...be.data], samples);
  assert.equal(be.meta.transferSyntax, 'Explicit VR Big Endian');
  const bare = await readImage(
    writeTmp('bare.dcm', writeDicom(imageElements(spec), 'implicit-le', { preamble: false })),
  );
  assert.deepEqual([...bare.data], samples);
});

test('rescale gives slope * stored + intercept and scales the data range by |slope|', async () => {
  const p = writeTmp(
    'rescale.dcm',
    writeDicom(
      imageElements({
        rows: 1,
        columns: 3,
        bitsAllocated: 16,
        bitsStored: 12,
        slope: '0.5',
        intercept: '-100',
        samples: [0, 200, 4095],
      }),
    ),
  );
  const stored = await readImage(p);
  assert.deepEqual([...stored.data], [0, 200, 4095]);
  assert.equal(stored.meta.rescaleSlope, 0.5);
  assert.equal(stored.meta.rescaleIntercept, -100);
  const r = await readImage(p, { rescale: true });
  assert.deepEqual([...r.data], [-100, 0, 1947.5]);
  assert.equal(r.dataRange, 2047.5);
});

test('transfer syntaxes without a decoder are E_UNSUPPORTED naming UID and name', async () => {
  const els = imageElements({ rows: 1, columns: 1, bitsAllocated: 8, bitsStored: 8, samples: [1] });
  const supported =
    'implicit/explicit VR little endian, explicit VR big endian, deflated, JPEG baseline, JPEG extended, JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K, RLE';
  const mpeg = writeTmp('mpeg2.dcm', writeDicom(els, 'explicit-le', { tsUid: '1.2.840.10008.1.2.4.100' }));
  await rejectsWith(
    readImage(mpeg),
    'E_UNSUPPORTED',
    `${mpeg}: DICOM transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2 Main Profile / Main Level) is not supported (supported: ${supported})`,
  );
  const odd = writeTmp('odd.dcm', writeDicom(els, 'explicit-le', { tsUid: '1.2.3.4.5' }));
  await rejectsWith(
    readImage(odd),
    'E_UNSUPPORTED',
    `${odd}: DICOM transfer syntax 1.2.3.4.5 (unknown transfer syntax) is not supported (supported: ${supported})`,
  );
});

test('truncated pixel data, missing pixel data and palette colour give exact one-line errors', async () => {
  const full = readFileSync(fixture('medical/dicom_small/MR_small.dcm'));
  const cut = writeTmp('MR_small_cut.dcm', full.subarray(0, full.length - 1000));
  const found = full.length - 1000 - pixelDataOffset(full).offset;
  assert.equal(found, 7330);
  await rejectsWith(
    readImage(cut),
    'E_CORRUPT',
    `${cut}: DICOM pixel data is truncated: frame 0 needs 8192 bytes, found 7330`,
  );
  const noPixels = writeTmp('nopix.dcm', writeDicom([{ tag: 0x00080060, vr: 'CS', value: 'SR' }]));
  await rejectsWith(
    readImage(noPixels),
    'E_UNSUPPORTED',
    `${noPixels}: DICOM file has no pixel data (7FE0,0010): not an image`,
  );
  const pal = writeTmp(
    'pal.dcm',
    writeDicom(
      imageElements({
        rows: 1,
        columns: 1,
        bitsAllocated: 8,
        bitsStored: 8,
        photometric: 'PALETTE COLOR',
        samples: [1],
      }),
    ),
  );
  await rejectsWith(
    readImage(pal),
    'E_UNSUPPORTED',
    `${pal}: DICOM photometric interpretation PALETTE COLOR with 1 samples per pixel is not supported (MONOCHROME1, MONOCHROME2, RGB, 8-bit YBR_FULL, YBR_* in JPEG, YBR_ICT/RCT in JPEG 2000)`,
  );
  const header = writeTmp('header_only.dcm', full.subarray(0, 200));
  await assert.rejects(
    readImage(header),
    (e: unknown) => e instanceof BlindspotError && e.code === 'E_CORRUPT' && !e.message.includes('\n'),
  );
});

/** Encapsulated pixel data (PS3.5 A.4): offset table item, one fragment per frame, sequence delimiter. */
function encapsulated(frames: Buffer[], withOffsetTable: boolean, splitFrames = false): Buffer {
  const item = (data: Buffer): Buffer => {
    const padded = data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data;
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(padded.length, 4);
    return Buffer.concat([h, padded]);
  };
  // splitFrames: each frame in two fragments (the reader must then find frame starts itself).
  const fragments = splitFrames
    ? frames.flatMap((f) => [item(f.subarray(0, 20)), item(f.subarray(20))])
    : frames.map(item);
  const table = Buffer.alloc(withOffsetTable ? 4 * frames.length : 0);
  let offset = 0;
  fragments.forEach((f, i) => {
    if (withOffsetTable) table.writeUInt32LE(offset, 4 * i);
    offset += f.length;
  });
  const head = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([head, item(table), ...fragments, end]);
}

test('JPEG-baseline multi-frame (with and without offset table) and colour YBR_FULL_422 frames decode', async () => {
  const grey = (v: number): Promise<Buffer> =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: { r: v, g: v, b: v } } })
      .toColourspace('b-w')
      .jpeg({ quality: 100 })
      .toBuffer();
  const frames = [await grey(50), await grey(200)];
  for (const [bot, split] of [
    [false, false],
    [true, false],
    [false, true],
  ] as const) {
    const header = imageElements({
      rows: 8,
      columns: 8,
      bitsAllocated: 8,
      bitsStored: 8,
      frames: 2,
      samples: [],
    }).filter((e) => e.tag !== 0x7fe00010);
    const file = Buffer.concat([
      writeDicom(header, 'explicit-le', { tsUid: '1.2.840.10008.1.2.4.50' }),
      encapsulated(frames, bot, split),
    ]);
    const p = writeTmp(`jpeg2-${bot}-${split}.dcm`, file);
    const f0 = await readImage(p);
    const f1 = await readImage(p, { frame: 1 });
    assert.equal(f1.channels, 1);
    assert.ok(
      [...f0.data].every((v) => Math.abs(v - 50) <= 1),
      `frame 0, offset table ${bot}`,
    );
    assert.ok(
      [...f1.data].every((v) => Math.abs(v - 200) <= 1),
      `frame 1, offset table ${bot}`,
    );
  }
  const colour = await sharp({
    create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 60 } },
  })
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const header = imageElements({
    rows: 8,
    columns: 8,
    bitsAllocated: 8,
    bitsStored: 8,
    samplesPerPixel: 3,
    photometric: 'YBR_FULL_422',
    planar: 0,
    samples: [],
  }).filter((e) => e.tag !== 0x7fe00010);
  const p = writeTmp(
    'jpeg-ybr.dcm',
    Buffer.concat([
      writeDicom(header, 'explicit-le', { tsUid: '1.2.840.10008.1.2.4.50' }),
      encapsulated([colour], false),
    ]),
  );
  const c = await readImage(p);
  assert.equal(c.channels, 3);
  for (let i = 0; i < c.data.length; i += 3) {
    assert.ok(
      Math.abs(c.data[i]! - 200) <= 2 &&
        Math.abs(c.data[i + 1]! - 30) <= 2 &&
        Math.abs(c.data[i + 2]! - 60) <= 2,
    );
  }
});

test('uncompressed YBR_FULL converts to RGB within 1 level of the colours encoded with the forward PS3.3 equations', async () => {
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 200, 77, 128, 128, 128, 250, 240, 5];
  const ybr: number[] = [];
  for (let i = 0; i < rgb.length; i += 3) {
    const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
    const clamp = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
    ybr.push(
      clamp(0.299 * r + 0.587 * g + 0.114 * b),
      clamp(-0.1687 * r - 0.3313 * g + 0.5 * b + 128),
      clamp(0.5 * r - 0.4187 * g - 0.0813 * b + 128),
    );
  }
  const base = {
    rows: 2,
    columns: 3,
    bitsAllocated: 8,
    bitsStored: 8,
    samplesPerPixel: 3,
    photometric: 'YBR_FULL',
  };
  const img = await readImage(
    writeTmp('ybr.dcm', writeDicom(imageElements({ ...base, planar: 0, samples: ybr }))),
  );
  assert.equal(img.channels, 3);
  assert.equal(img.meta.photometricInterpretation, 'YBR_FULL');
  for (let i = 0; i < rgb.length; i++)
    assert.ok(Math.abs(img.data[i]! - rgb[i]!) <= 1, `sample ${i}: ${img.data[i]} vs ${rgb[i]}`);
});
