/**
 * BMP through `bmp-ts` (libvips, hence sharp, has no BMP loader).
 *
 * Covered: BITMAPINFOHEADER (40) and the V2-V5 headers (52, 56, 108, 124); 1/4/8-bit palette, 16-bit (5-5-5 or
 * bit fields; 5-bit samples come out as v*8 on the 0..255 scale, as bmp-ts scales them), 24-bit, 32-bit (BI_RGB
 * or bit fields); bottom-up and top-down rows. Not covered (E_UNSUPPORTED): RLE4/RLE8 compression (bmp-ts
 * 1.0.9 writes RLE pixels at wrong offsets), embedded JPEG/PNG, OS/2 headers (12/64 bytes).
 * A palette image whose colours are all grey comes out as 1 channel (`meta.greyPalette`); alpha is dropped.
 */
import { decode } from 'bmp-ts';
import { BlindspotError } from '../errors.ts';
import { checkPixelCount } from './limits.ts';
import { firstChannel, isGreyRgb } from './samples.ts';
import type { Image } from './types.ts';

const COMPRESSION_NAMES: Record<number, string> = {
  1: 'RLE8',
  2: 'RLE4',
  4: 'embedded JPEG',
  5: 'embedded PNG',
};

/**
 * Decode a BMP held in memory.
 * @param bytes the whole file
 * @param path the file (for messages)
 * @throws BlindspotError E_UNSUPPORTED (compression or header variant not covered), E_CORRUPT (truncated).
 */
export function decodeBmp(bytes: Buffer, path: string): Image {
  if (bytes.length < 54)
    throw new BlindspotError('E_CORRUPT', 'BMP data is truncated (header incomplete)', path);
  const pixelOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (
    headerSize !== 40 &&
    headerSize !== 52 &&
    headerSize !== 56 &&
    headerSize !== 108 &&
    headerSize !== 124
  ) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `BMP header of ${headerSize} bytes (OS/2 variant) is not supported`,
      path,
    );
  }
  checkPixelCount(Math.abs(bytes.readInt32LE(18)), Math.abs(bytes.readInt32LE(22)), path);
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const colors = bytes.readUInt32LE(46);
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    const what = COMPRESSION_NAMES[compression] ?? `compression type ${compression}`;
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `${what} BMP is not supported (uncompressed or bit-field BMP only)`,
      path,
    );
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `BMP with ${bitsPerPixel} bits per pixel is not supported`,
      path,
    );
  }
  // bmp-ts reads pixels right after the header, masks and palette and ignores the file's pixel offset:
  // splice out any gap so files with padding or a profile before the pixels decode correctly.
  const masks = headerSize === 40 && compression === 3 ? 12 : headerSize === 40 && compression === 6 ? 16 : 0;
  const paletteEntries = bitsPerPixel <= 8 || colors > 0 ? (colors === 0 ? 1 << bitsPerPixel : colors) : 0;
  const pixelsStart = 14 + headerSize + masks + paletteEntries * 4;
  if (pixelOffset < pixelsStart || pixelOffset > bytes.length) {
    throw new BlindspotError('E_CORRUPT', `BMP pixel offset ${pixelOffset} is outside the file`, path);
  }
  let input =
    pixelOffset === pixelsStart
      ? bytes
      : Buffer.concat([bytes.subarray(0, pixelsStart), bytes.subarray(pixelOffset)]);
  if (compression === 0 && headerSize > 40 && (bitsPerPixel === 16 || bitsPerPixel === 32)) {
    // V2+ headers carry mask fields that BI_RGB files may leave zero; bmp-ts would use them: set the defaults.
    if (input === bytes) input = Buffer.from(bytes);
    const [r, g, b] = bitsPerPixel === 32 ? [0xff0000, 0xff00, 0xff] : [0x7c00, 0x3e0, 0x1f];
    input.writeUInt32LE(r, 54);
    input.writeUInt32LE(g, 58);
    input.writeUInt32LE(b, 62);
    if (headerSize >= 56) input.writeUInt32LE(0, 66);
  }
  let bmp: ReturnType<typeof decode>;
  try {
    bmp = decode(input);
  } catch {
    throw new BlindspotError('E_CORRUPT', 'BMP data is truncated or corrupt', path);
  }
  const { width, height } = bmp;
  const pixels = width * height;
  if (width < 1 || height < 1)
    throw new BlindspotError('E_CORRUPT', `BMP has no pixels (${width}x${height})`, path);
  // bmp-ts returns A,B,G,R bytes per pixel; reorder to interleaved RGB.
  const abgr = bmp.data;
  const rgb = new Float32Array(pixels * 3);
  for (let i = 0, j = 0, k = 0; i < pixels; i++, j += 4, k += 3) {
    rgb[k] = abgr[j + 3]!;
    rgb[k + 1] = abgr[j + 2]!;
    rgb[k + 2] = abgr[j + 1]!;
  }
  const meta: Record<string, unknown> = { bitsPerPixel, headerSize, compression };
  const warnings: string[] = [];
  const hasAlpha =
    bitsPerPixel === 32 &&
    (compression === 6 || (compression === 3 && headerSize >= 56 && bytes.readUInt32LE(66) !== 0));
  if (hasAlpha) {
    meta.alphaDropped = true;
    warnings.push('alpha channel dropped');
  }
  let data: Float32Array = rgb;
  let channels = 3;
  if (bitsPerPixel <= 8 && isGreyRgb(rgb, pixels, 3)) {
    data = firstChannel(rgb, pixels, 3);
    channels = 1;
    meta.greyPalette = true;
  }
  return {
    width,
    height,
    channels,
    data,
    bitDepth: 8,
    isFloat: false,
    dataRange: 255,
    source: path,
    format: 'bmp',
    meta,
    warnings,
  };
}
