/**
 * PNG (8/16-bit), JPEG, TIFF (8/16-bit, 32-bit float grey), WebP and GIF through sharp (libvips).
 *
 * Channel policy: grey stays 1 channel, colour is 3 channels (RGB); an alpha channel is dropped and recorded
 * (`meta.alphaDropped`). A palette image (GIF, palette PNG) whose colours are all grey (R == G == B for every
 * pixel) comes out as 1 channel (`meta.greyPalette`). 16-bit input keeps its 16-bit samples exactly: the pipeline
 * stays in `grey16`/`rgb16` (libvips' default raw output would be 8-bit sRGB) and is cast to float32 by libvips,
 * which is exact for every 8- and 16-bit integer. Float TIFF stays float (64-bit samples are held as float32).
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { BlindspotError } from '../errors.ts';
import { checkPixelCount, maxPixels } from './limits.ts';
import { assertFinite, firstChannel, isGreyRgb } from './samples.ts';
import { formatName } from './sniff.ts';
import type { Image, ImageFormat } from './types.ts';

/** Formats this decoder is used for. */
export type RasterFormat = 'png' | 'jpeg' | 'tiff' | 'webp' | 'gif';

/**
 * Decode a PNG/JPEG/TIFF/WebP/GIF held in memory.
 * @param bytes the whole file
 * @param path the file (for messages)
 * @param format the format sniffed from the bytes
 * @param frame page of a multi-page TIFF / frame of an animated GIF or WebP (0-based, default 0)
 * @throws BlindspotError E_CORRUPT (undecodable or truncated), E_INVALID_OPTION (frame out of range),
 *   E_UNSUPPORTED (sample types other than 8/16-bit integer or 32/64-bit float), E_NONFINITE (float NaN/Inf).
 */
export async function decodeRaster(
  bytes: Buffer,
  path: string,
  format: RasterFormat,
  frame = 0,
): Promise<Image> {
  const name = formatName(format);
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new BlindspotError(
      'E_CORRUPT',
      `${name} data is truncated or corrupt (cannot read the header)`,
      path,
    );
  }
  checkPixelCount(meta.width ?? 0, meta.height ?? 0, path);
  const pages = meta.pages ?? 1;
  if (!Number.isInteger(frame) || frame < 0 || frame >= pages) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `invalid frame: expected an integer in 0..${pages - 1} (the file has ${pages} frame${pages === 1 ? '' : 's'}), got ${frame}`,
      path,
    );
  }
  const depth = meta.depth ?? 'uchar';
  const isFloat = depth === 'float' || depth === 'double';
  const sixteen = depth === 'ushort' || depth === 'short';
  if (!isFloat && !sixteen && depth !== 'uchar' && depth !== 'char') {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `${name} with ${depth} samples is not supported (8/16-bit integer or float)`,
      path,
    );
  }
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  const space = grey ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  let raw: { data: Buffer; info: OutputInfo };
  try {
    // sharp's own pixel limit follows ours (its default would refuse a raised cap as "corrupt").
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels(), ...(pages > 1 ? { page: frame } : {}) }).removeAlpha();
    // Float colour data keeps its own space: a colourspace conversion would rescale it.
    if (!(isFloat && !grey)) pipeline = pipeline.toColourspace(space);
    // libvips casts to float32 in C (exact for 8/16-bit integers): faster than converting in JS, and the result
    // is used in place as the Image's samples.
    raw = await pipeline.raw({ depth: 'float' }).toBuffer({ resolveWithObject: true });
  } catch {
    throw new BlindspotError('E_CORRUPT', `${name} data is truncated or corrupt`, path);
  }
  const { width, height } = raw.info;
  let channels = raw.info.channels;
  const n = width * height * channels;
  let data: Float32Array =
    raw.data.byteOffset % 4 === 0
      ? new Float32Array(raw.data.buffer, raw.data.byteOffset, n)
      : new Float32Array(raw.data.buffer.slice(raw.data.byteOffset, raw.data.byteOffset + 4 * n));
  const imageMeta: Record<string, unknown> = {
    bitsPerSample: meta.bitsPerSample ?? (sixteen ? 16 : isFloat ? 32 : 8),
    space: meta.space,
  };
  const warnings: string[] = [];
  if (meta.hasAlpha) {
    imageMeta.alphaDropped = true;
    warnings.push('alpha channel dropped');
  }
  if (pages > 1) {
    imageMeta.frame = frame;
    imageMeta.frames = pages;
  }
  const palette = meta.isPalette === true || format === 'gif';
  if (palette && channels >= 3 && !isFloat && isGreyRgb(data, width * height, channels)) {
    data = firstChannel(data, width * height, channels);
    channels = 1;
    imageMeta.greyPalette = true;
  }
  if (isFloat) assertFinite(data, width, channels, path);
  const bitDepth = isFloat ? 32 : sixteen ? 16 : 8;
  return {
    width,
    height,
    channels,
    data,
    bitDepth,
    isFloat,
    dataRange: isFloat ? null : 2 ** bitDepth - 1,
    source: path,
    format: format as ImageFormat,
    meta: imageMeta,
    warnings,
  };
}
