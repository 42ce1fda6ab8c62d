/**
 * PNG, JPEG, TIFF, WebP, GIF and BMP decoding. References: hand parses of uncompressed files (TIFF strip, BMP
 * rows, GIF colour table), and images encoded in the test from samples known beforehand (lossless formats must
 * give them back exactly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage } from '../../src/image/read.ts';
import { fixture } from '../helpers/cli.ts';
import { rejectsWith } from '../helpers/errors.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-formats-'));

function writeTmp(name: string, bytes: Buffer): string {
  const p = join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

/** Encode known samples with sharp (raw input -> format); 1-2 channels are written as grey (+ alpha). */
function encode(samples: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 2 | 3 | 4) {
  const img = sharp(samples, { raw: { width, height, channels } });
  return channels <= 2 && samples instanceof Uint8Array ? img.toColourspace('b-w') : img;
}

const RGB_6PX = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 200, 100, 50, 7, 7, 7]);

// ---------------------------------------------------------------------------------------------------------------
// PNG

test('8-bit grey PNG: 1 channel, L = 255, samples equal sharp grey decode', async () => {
  const path = fixture('medical/brain/mni_t1_axial_z104.png');
  const img = await readImage(path);
  assert.equal(img.format, 'png');
  assert.equal(img.width, 197);
  assert.equal(img.height, 233);
  assert.equal(img.channels, 1);
  assert.equal(img.bitDepth, 8);
  assert.equal(img.dataRange, 255);
  assert.equal(img.isFloat, false);
  assert.equal(img.data.constructor, Float32Array);
  const ref = await sharp(path).toColourspace('b-w').raw().toBuffer();
  assert.deepEqual([...img.data], [...ref]);
});

test('16-bit PNGs keep exact samples above 255: grey (1 channel) and RGB (3 channels), L = 65535', async () => {
  const grey = Uint16Array.from([0, 1, 255, 256, 4095, 65535]);
  const p = writeTmp('g16.png', await encode(grey, 3, 2, 1).toColourspace('grey16').png().toBuffer());
  const g = await readImage(p);
  assert.equal(g.channels, 1);
  assert.equal(g.bitDepth, 16);
  assert.equal(g.dataRange, 65535);
  assert.deepEqual([...g.data], [...grey]);
  const rgb = Uint16Array.from([1, 2, 3, 60000, 5, 65535, 300, 400, 500, 0, 0, 0]);
  const q = writeTmp('rgb16.png', await encode(rgb, 2, 2, 3).toColourspace('rgb16').png().toBuffer());
  const c = await readImage(q);
  assert.equal(c.channels, 3);
  assert.equal(c.bitDepth, 16);
  assert.deepEqual([...c.data], [...rgb]);
  // The real 16-bit twin of MR2: 1 channel, 12-bit content in a 16-bit file.
  const mr = await readImage(fixture('medical/mr/MR2_1024_u16.png'));
  assert.equal(mr.channels, 1);
  assert.equal(mr.bitDepth, 16);
  assert.equal(mr.dataRange, 65535);
  let max = 0;
  for (const v of mr.data) max = Math.max(max, v);
  assert.equal(max, 600);
});

test('RGB PNG is 3 channels; RGBA and grey+alpha drop alpha and record it', async () => {
  const p = writeTmp('rgb.png', await encode(RGB_6PX, 3, 2, 3).png().toBuffer());
  const rgb = await readImage(p);
  assert.equal(rgb.channels, 3);
  assert.deepEqual([...rgb.data], [...RGB_6PX]);
  assert.equal(rgb.meta.alphaDropped, undefined);
  const rgba = Uint8Array.from([1, 2, 3, 255, 4, 5, 6, 0, 7, 8, 9, 128, 10, 11, 12, 1]);
  const a = await readImage(writeTmp('rgba.png', await encode(rgba, 2, 2, 4).png().toBuffer()));
  assert.equal(a.channels, 3);
  assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(a.meta.alphaDropped, true);
  assert.deepEqual(a.warnings, ['alpha channel dropped']);
  const ga = Uint8Array.from([10, 255, 20, 0, 30, 9, 40, 100]);
  const g = await readImage(writeTmp('ga.png', await encode(ga, 2, 2, 2).png().toBuffer()));
  assert.equal(g.channels, 1);
  assert.deepEqual([...g.data], [10, 20, 30, 40]);
  assert.equal(g.meta.alphaDropped, true);
});

test('palette PNG: all-grey palette -> 1 channel (meta.greyPalette), colour palette -> RGB, exact', async () => {
  const levels = [0, 85, 170, 255, 85, 0];
  const rgb = Uint8Array.from(levels.flatMap((v) => [v, v, v]));
  const p = writeTmp('pal.png', await encode(rgb, 3, 2, 3).png({ palette: true, dither: 0 }).toBuffer());
  assert.equal((await sharp(p).metadata()).isPalette, true);
  const g = await readImage(p);
  assert.equal(g.channels, 1);
  assert.equal(g.meta.greyPalette, true);
  assert.deepEqual([...g.data], levels);
  const colours = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]);
  const c = await readImage(
    writeTmp('palc.png', await encode(colours, 2, 2, 3).png({ palette: true, dither: 0 }).toBuffer()),
  );
  assert.equal(c.channels, 3);
  assert.deepEqual([...c.data], [...colours]);
});

test('a 1x1 image decodes (the SSIM layer, not the reader, rejects it)', async () => {
  const img = await readImage(
    writeTmp(
      'one.png',
      await encode(Uint8Array.from([77]), 1, 1, 1)
        .png()
        .toBuffer(),
    ),
  );
  assert.equal(img.width, 1);
  assert.equal(img.height, 1);
  assert.deepEqual([...img.data], [77]);
});

// ---------------------------------------------------------------------------------------------------------------
// JPEG, WebP, TIFF

test('JPEG: grey stays 1 channel, colour is RGB; quality-100 samples within 3 of the encoded gradient', async () => {
  const w = 64;
  const grad = new Uint8Array(w * w);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) grad[y * w + x] = 2 * x + y;
  const p = writeTmp('grad.jpg', await encode(grad, w, w, 1).jpeg({ quality: 100 }).toBuffer());
  const g = await readImage(p);
  assert.equal(g.format, 'jpeg');
  assert.equal(g.channels, 1);
  assert.equal(g.bitDepth, 8);
  let maxErr = 0;
  for (let i = 0; i < grad.length; i++) maxErr = Math.max(maxErr, Math.abs(g.data[i]! - grad[i]!));
  assert.ok(maxErr <= 3, `max error ${maxErr}`);
  const rgb = new Uint8Array(w * w * 3).fill(128);
  const c = await readImage(
    writeTmp('rgb.jpeg', await encode(rgb, w, w, 3).jpeg({ quality: 100 }).toBuffer()),
  );
  assert.equal(c.channels, 3);
  for (const v of c.data) assert.ok(Math.abs(v - 128) <= 1);
});

test('lossless WebP gives the RGB samples back exactly', async () => {
  const p = writeTmp('x.webp', await encode(RGB_6PX, 3, 2, 3).webp({ lossless: true }).toBuffer());
  const img = await readImage(p);
  assert.equal(img.format, 'webp');
  assert.equal(img.channels, 3);
  assert.deepEqual([...img.data], [...RGB_6PX]);
});

test('16-bit grey TIFF (skimage chessboard_GRAY_U16.tif) equals its uncompressed strip, hand-parsed', async () => {
  const path = fixture('formats/chessboard_GRAY_U16.tif');
  const img = await readImage(path);
  assert.equal(img.format, 'tiff');
  assert.equal(img.width, 200);
  assert.equal(img.height, 200);
  assert.equal(img.channels, 1);
  assert.equal(img.bitDepth, 16);
  assert.equal(img.dataRange, 65535);
  // IFD: StripOffsets (273) = 110, StripByteCounts (279) = 80000, Compression (259) = 1, LE.
  const bytes = readFileSync(path);
  assert.equal(bytes.toString('latin1', 0, 4), 'II*\0');
  const ifd = bytes.readUInt32LE(4);
  const tags = new Map<number, number>();
  for (let i = 0; i < bytes.readUInt16LE(ifd); i++) {
    const at = ifd + 2 + 12 * i;
    tags.set(
      bytes.readUInt16LE(at),
      bytes.readUInt16LE(at + 2) === 3 ? bytes.readUInt16LE(at + 8) : bytes.readUInt32LE(at + 8),
    );
  }
  assert.equal(tags.get(259), 1);
  const strip = tags.get(273)!;
  for (let i = 0; i < 200 * 200; i++) assert.equal(img.data[i], bytes.readUInt16LE(strip + 2 * i));
});

/** A minimal uncompressed 32-bit float grey TIFF (SampleFormat 3). */
function floatTiff(width: number, height: number, values: number[]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  values.forEach((v, i) => data.writeFloatLE(v, i * 4));
  const entries: [number, number, number][] = [
    [256, 3, width],
    [257, 3, height],
    [258, 3, 32],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0],
    [277, 3, 1],
    [278, 3, height],
    [279, 4, data.length],
    [339, 3, 3],
  ];
  const dataOffset = 8 + 2 + entries.length * 12 + 4;
  const b = Buffer.alloc(dataOffset + data.length);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const o = 10 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(1, o + 4);
    const v = tag === 273 ? dataOffset : value;
    if (type === 3) b.writeUInt16LE(v, o + 8);
    else b.writeUInt32LE(v, o + 8);
  });
  data.copy(b, dataOffset);
  return b;
}

test('32-bit float grey TIFF: exact float samples, isFloat, no data range; NaN/Inf is E_NONFINITE', async () => {
  const values = [0.5, 1.25, -3, 100.5, 7, 1e-3];
  const img = await readImage(writeTmp('f.tif', floatTiff(3, 2, values)));
  assert.equal(img.isFloat, true);
  assert.equal(img.dataRange, null);
  assert.equal(img.bitDepth, 32);
  assert.equal(img.channels, 1);
  assert.deepEqual([...img.data], values.map(Math.fround));
  const bad = writeTmp('nan.tif', floatTiff(3, 2, [0, 1, 2, NaN, 4, -Infinity]));
  await rejectsWith(
    readImage(bad),
    'E_NONFINITE',
    `${bad}: 2 samples are NaN or infinite (first at x=0, y=1)`,
  );
});

test('multi-page TIFF / animated GIF: frame picks the page, out of range names the page count', async () => {
  const a = await sharp({ create: { width: 3, height: 2, channels: 3, background: { r: 10, g: 10, b: 10 } } })
    .png()
    .toBuffer();
  const b = await sharp({ create: { width: 3, height: 2, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .png()
    .toBuffer();
  const p = writeTmp(
    'pages.tif',
    await sharp([a, b], { join: { animated: true } })
      .tiff()
      .toBuffer(),
  );
  const f1 = await readImage(p, { frame: 1 });
  assert.equal(f1.height, 2);
  assert.equal(f1.meta.frames, 2);
  assert.ok([...f1.data].every((v) => v === 90));
  assert.ok([...(await readImage(p)).data].every((v) => v === 10));
  await rejectsWith(
    readImage(p, { frame: 2 }),
    'E_INVALID_OPTION',
    `${p}: invalid frame: expected an integer in 0..1 (the file has 2 frames), got 2`,
  );
  const gif = writeTmp(
    'anim.gif',
    await sharp([a, b], { join: { animated: true } })
      .gif()
      .toBuffer(),
  );
  const g1 = await readImage(gif, { frame: 1 });
  assert.equal(g1.channels, 1); // grey palette
  assert.deepEqual([...g1.data], [90, 90, 90, 90, 90, 90]);
  assert.deepEqual([...(await readImage(gif)).data], [10, 10, 10, 10, 10, 10]);
  const one = writeTmp(
    'single.png',
    await encode(Uint8Array.from([1]), 1, 1, 1)
      .png()
      .toBuffer(),
  );
  await rejectsWith(
    readImage(one, { frame: 1 }),
    'E_INVALID_OPTION',
    `${one}: invalid frame: expected an integer in 0..0 (the file has 1 frame), got 1`,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// GIF

test('goldhill.gif: grey palette (R == G == B in the colour table) comes out as 1 channel of palette values', async () => {
  const path = fixture('piq/goldhill.gif');
  const img = await readImage(path);
  assert.equal(img.format, 'gif');
  assert.equal(img.width, 512);
  assert.equal(img.height, 512);
  assert.equal(img.channels, 1);
  assert.equal(img.bitDepth, 8);
  assert.equal(img.meta.greyPalette, true);
  // Hand parse of the logical screen descriptor and global colour table.
  const bytes = readFileSync(path);
  assert.equal(bytes.readUInt16LE(6), 512);
  const packed = bytes[10]!;
  assert.ok(packed & 0x80, 'has a global colour table');
  const entries = 2 ** ((packed & 7) + 1);
  const greys = new Set<number>();
  for (let i = 0; i < entries; i++) {
    const [r, g, b] = [bytes[13 + 3 * i]!, bytes[14 + 3 * i]!, bytes[15 + 3 * i]!];
    assert.ok(r === g && g === b, `entry ${i} is grey`);
    greys.add(r);
  }
  for (const v of img.data) assert.ok(greys.has(v));
  const distinct = new Set(img.data).size;
  assert.ok(distinct > 100, `${distinct} grey levels used`);
});

test('a colour GIF stays 3 channels', async () => {
  const p = writeTmp('c.gif', await encode(RGB_6PX, 3, 2, 3).gif().toBuffer());
  const img = await readImage(p);
  assert.equal(img.channels, 3);
  assert.equal(img.meta.greyPalette, undefined);
  assert.deepEqual([...img.data.subarray(0, 3)], [255, 0, 0]);
});

// ---------------------------------------------------------------------------------------------------------------
// BMP

test('24-bit BMP (piq I01 crop) equals a hand parse of its bottom-up BGR rows', async () => {
  const path = fixture('piq/I01_crop128x96.bmp');
  const img = await readImage(path);
  assert.equal(img.format, 'bmp');
  assert.equal(img.width, 128);
  assert.equal(img.height, 96);
  assert.equal(img.channels, 3);
  assert.equal(img.bitDepth, 8);
  assert.equal(img.dataRange, 255);
  const bytes = readFileSync(path);
  const offset = bytes.readUInt32LE(10);
  const rowBytes = Math.ceil((128 * 3) / 4) * 4;
  let diff = 0;
  for (let y = 0; y < 96; y++) {
    const row = offset + (95 - y) * rowBytes; // bottom-up
    for (let x = 0; x < 128; x++) {
      const o = (y * 128 + x) * 3;
      if (
        img.data[o] !== bytes[row + 3 * x + 2] ||
        img.data[o + 1] !== bytes[row + 3 * x + 1] ||
        img.data[o + 2] !== bytes[row + 3 * x]
      )
        diff++;
    }
  }
  assert.equal(diff, 0);
});

/** A BMP with a BITMAPINFOHEADER written from scratch. `rows` are top-to-bottom pixel rows of packed bytes. */
function writeBmp(opts: {
  width: number;
  height: number;
  bpp: number;
  rows: number[][];
  palette?: [number, number, number][];
  topDown?: boolean;
  compression?: number;
  gap?: number;
}): Buffer {
  const { width, height, bpp, rows } = opts;
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  const palette = opts.palette ?? [];
  const gap = opts.gap ?? 0;
  const offset = 54 + palette.length * 4 + gap;
  const b = Buffer.alloc(offset + rowBytes * height);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(offset, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(opts.topDown ? -height : height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  b.writeUInt32LE(opts.compression ?? 0, 30);
  b.writeUInt32LE(rowBytes * height, 34);
  b.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, bl], i) => {
    b[54 + 4 * i] = bl;
    b[55 + 4 * i] = g;
    b[56 + 4 * i] = r;
  });
  rows.forEach((row, y) => {
    const stored = opts.topDown ? y : height - 1 - y;
    row.forEach((v, i) => (b[offset + stored * rowBytes + i] = v));
  });
  return b;
}

test('BMP variants: 8-bit grey palette -> 1 channel, colour palette, 1/4-bit, 32-bit, top-down, pixel-offset gap', async () => {
  const greyPal = Array.from({ length: 256 }, (_, i) => [i, i, i] as [number, number, number]);
  const g8 = await readImage(
    writeTmp(
      'g8.bmp',
      writeBmp({
        width: 3,
        height: 2,
        bpp: 8,
        palette: greyPal,
        rows: [
          [0, 100, 255],
          [7, 8, 9],
        ],
      }),
    ),
  );
  assert.equal(g8.channels, 1);
  assert.equal(g8.meta.greyPalette, true);
  assert.deepEqual([...g8.data], [0, 100, 255, 7, 8, 9]);
  const pal: [number, number, number][] = [
    [255, 0, 0],
    [0, 0, 255],
  ];
  const c8 = await readImage(
    writeTmp('c8.bmp', writeBmp({ width: 2, height: 1, bpp: 8, palette: pal, rows: [[1, 0]] })),
  );
  assert.equal(c8.channels, 3);
  assert.deepEqual([...c8.data], [0, 0, 255, 255, 0, 0]);
  const b1 = await readImage(
    writeTmp(
      'b1.bmp',
      writeBmp({
        width: 10,
        height: 1,
        bpp: 1,
        palette: [
          [0, 0, 0],
          [255, 255, 255],
        ],
        rows: [[0b10110000, 0b01000000]],
      }),
    ),
  );
  assert.deepEqual([...b1.data], [255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
  const b4 = await readImage(
    writeTmp(
      'b4.bmp',
      writeBmp({
        width: 3,
        height: 1,
        bpp: 4,
        palette: greyPal.slice(0, 16).map(([v]) => [v * 17, v * 17, v * 17] as [number, number, number]),
        rows: [[0x1f, 0x30]],
      }),
    ),
  );
  assert.deepEqual([...b4.data], [17, 255, 51]);
  // 32-bit BI_RGB: B, G, R, unused.
  const b32 = await readImage(
    writeTmp('b32.bmp', writeBmp({ width: 2, height: 1, bpp: 32, rows: [[3, 2, 1, 0, 30, 20, 10, 0]] })),
  );
  assert.equal(b32.channels, 3);
  assert.deepEqual([...b32.data], [1, 2, 3, 10, 20, 30]);
  const td = await readImage(
    writeTmp(
      'td.bmp',
      writeBmp({
        width: 1,
        height: 2,
        bpp: 24,
        topDown: true,
        rows: [
          [3, 2, 1],
          [6, 5, 4],
        ],
      }),
    ),
  );
  assert.deepEqual([...td.data], [1, 2, 3, 4, 5, 6]);
  const bu = await readImage(
    writeTmp(
      'bu.bmp',
      writeBmp({
        width: 1,
        height: 2,
        bpp: 24,
        rows: [
          [3, 2, 1],
          [6, 5, 4],
        ],
      }),
    ),
  );
  assert.deepEqual([...bu.data], [1, 2, 3, 4, 5, 6]);
  const gap = await readImage(
    writeTmp('gap.bmp', writeBmp({ width: 2, height: 1, bpp: 24, gap: 6, rows: [[3, 2, 1, 6, 5, 4]] })),
  );
  assert.deepEqual([...gap.data], [1, 2, 3, 4, 5, 6]);
});

test('BMP errors: RLE8 is E_UNSUPPORTED (bmp-ts misplaces RLE pixels), truncated rows are E_CORRUPT', async () => {
  const rle = writeTmp(
    'rle.bmp',
    writeBmp({ width: 2, height: 1, bpp: 8, compression: 1, palette: [[0, 0, 0]], rows: [[2, 0]] }),
  );
  await rejectsWith(
    readImage(rle),
    'E_UNSUPPORTED',
    `${rle}: RLE8 BMP is not supported (uncompressed or bit-field BMP only)`,
  );
  const full = readFileSync(fixture('piq/I01_crop128x96.bmp'));
  const cut = writeTmp('cut.bmp', full.subarray(0, full.length - 500));
  await rejectsWith(readImage(cut), 'E_CORRUPT', `${cut}: BMP data is truncated or corrupt`);
});
