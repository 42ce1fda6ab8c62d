import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { BlindspotError } from '../errors.ts';
import type { Image, ImageFormat } from './types.ts';

/** Options for `readImage`. */
export interface ReadImageOptions {
  /** DICOM multi-frame: which frame (0-based). Default 0. */
  frame?: number;
  /** NIfTI: slice axis (0 = x/sagittal, 1 = y/coronal, 2 = z/axial). Default 2. */
  axis?: 0 | 1 | 2;
  /** NIfTI: slice index along `axis`. Default: the middle slice. */
  slice?: number;
  /** NIfTI 4-D: volume index. Default 0. */
  volume?: number;
}

/**
 * Decode an image file into an `Image` (float samples, bit depth, natural data range).
 * PNG 8/16-bit, JPEG, TIFF via sharp. (DICOM, NIfTI, BMP, GIF: see the other decoders in this folder.)
 * @throws BlindspotError E_UNREADABLE / E_CORRUPT / E_UNSUPPORTED, naming the file.
 */
export async function readImage(path: string, _options: ReadImageOptions = {}): Promise<Image> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BlindspotError('E_UNREADABLE', code === 'ENOENT' ? 'no such file' : `cannot read file (${code})`, path);
  }
  return decodeWithSharp(bytes, path);
}

async function decodeWithSharp(bytes: Buffer, path: string): Promise<Image> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new BlindspotError('E_CORRUPT', 'not a decodable image (corrupt or unsupported format)', path);
  }
  const format = String(meta.format).replace('jpg', 'jpeg') as ImageFormat;
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  const space = grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes)
      .removeAlpha()
      .toColourspace(space)
      .raw(sixteen ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new BlindspotError('E_CORRUPT', 'image data is truncated or corrupt', path);
  }
  const { width, height, channels } = raw.info;
  const n = width * height * channels;
  const data = new Float32Array(n);
  if (sixteen) {
    const src = new Uint16Array(raw.data.buffer, raw.data.byteOffset, n);
    for (let i = 0; i < n; i++) data[i] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) data[i] = raw.data[i]!;
  }
  const bitDepth = sixteen ? 16 : 8;
  return {
    width,
    height,
    channels,
    data,
    bitDepth,
    isFloat: false,
    dataRange: 2 ** bitDepth - 1,
    source: path,
    format,
    meta: {},
    warnings: [],
  };
}
