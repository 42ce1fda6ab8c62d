/**
 * Encode an upscaler output: PNG at its bit depth (8 or 16) for unsigned integer samples, else 32-bit float TIFF;
 * grey or RGB, deterministically.
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { BlindspotError } from '../errors.ts';
import type { Image } from '../image/types.ts';

/**
 * PNG bytes of `image`: 16-bit when `image.bitDepth > 8`, else 8-bit; samples are rounded and clamped.
 * Same samples -> same bytes (fixed zlib settings, no timestamps or metadata).
 * @throws BlindspotError E_UNSUPPORTED for channel counts other than 1 or 3, and for float images (PNG holds
 *   integers; writing float samples would silently quantise them).
 */
export async function encodePng(image: Image): Promise<Buffer> {
  const { width, height, channels } = image;
  if (channels !== 1 && channels !== 3) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `cannot write ${channels}-channel PNG`,
      image.source || undefined,
    );
  }
  if (image.isFloat) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      'float samples cannot be written as PNG without loss (convert the GT to 8/16-bit)',
      image.source || undefined,
    );
  }
  const sixteen = image.bitDepth > 8;
  const max = sixteen ? 65535 : 255;
  const n = width * height * channels;
  const samples = sixteen ? new Uint16Array(n) : new Uint8Array(n);
  const src = image.data;
  for (let i = 0; i < n; i++) {
    const v = Math.round(src[i]!);
    samples[i] = v < 0 ? 0 : v > max ? max : v;
  }
  const raw = { width, height, channels: channels as 1 | 3 };
  let pipeline = sharp(samples, { raw });
  if (sixteen) pipeline = pipeline.toColourspace(channels === 1 ? 'grey16' : 'rgb16');
  else if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  return pipeline.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }).toBuffer();
}

/**
 * Whether an output must be written as float TIFF instead of PNG: float samples, or integers PNG cannot hold
 * (negative, as in signed CT data, or above 65535). Writing those as PNG would clip them silently.
 */
export function needsFloatTiff(image: Image): boolean {
  if (image.isFloat) return true;
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v < 0 || v > 65535) return true;
  }
  return false;
}

/**
 * 32-bit float TIFF bytes of `image` (grey or RGB, one zlib-deflated strip): exact for float32 samples and for
 * integers up to 2^24 (signed CT/MR data included). Integer images are rounded as for PNG. Same samples -> same
 * bytes. Written here because sharp saves TIFF as 8/16-bit integers only.
 */
export function encodeFloatTiff(image: Image): Buffer {
  const { width, height, channels } = image;
  if (channels !== 1 && channels !== 3) {
    throw new BlindspotError('E_UNSUPPORTED', `cannot write ${channels}-channel TIFF`, image.source || undefined);
  }
  const n = width * height * channels;
  const samples = new Float32Array(n);
  const src = image.data;
  if (image.isFloat) samples.set(src.subarray(0, n));
  else for (let i = 0; i < n; i++) samples[i] = Math.round(src[i]!);
  const le = new Uint8Array(samples.buffer); // little-endian hosts ('II' below); Node runs on none other
  const strip = deflateSync(le, { level: 6 });
  const SHORT = 3;
  const LONG = 4;
  // Tag, type, count, value; per-channel values (count 3) do not fit the 4-byte field and go after the IFD.
  const entries: [number, number, number, number | number[]][] = [
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, channels, channels === 1 ? 32 : [32, 32, 32]],
    [259, SHORT, 1, 8], // Adobe deflate
    [262, SHORT, 1, channels === 1 ? 1 : 2], // BlackIsZero / RGB
    [273, LONG, 1, 0], // StripOffsets, filled below
    [277, SHORT, 1, channels],
    [278, LONG, 1, height],
    [279, LONG, 1, strip.length],
    [284, SHORT, 1, 1], // chunky
    [339, SHORT, channels, channels === 1 ? 3 : [3, 3, 3]], // IEEE float
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const extra = entries.filter((e) => Array.isArray(e[3])).length * 6;
  const dataOffset = 8 + ifdSize + extra;
  const b = Buffer.alloc(dataOffset + strip.length);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(entries.length, 8);
  let extraAt = 8 + ifdSize;
  entries.forEach(([tag, type, count, value], i) => {
    const o = 10 + i * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(count, o + 4);
    if (Array.isArray(value)) {
      b.writeUInt32LE(extraAt, o + 8);
      value.forEach((v, k) => b.writeUInt16LE(v, extraAt + 2 * k));
      extraAt += 6;
    } else {
      const v = tag === 273 ? dataOffset : value;
      if (type === SHORT) b.writeUInt16LE(v, o + 8);
      else b.writeUInt32LE(v, o + 8);
    }
  });
  strip.copy(b, dataOffset);
  return b;
}
