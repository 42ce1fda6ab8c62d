/**
 * `readImage`: one entry point for every input format. The format is detected from the content (magic bytes);
 * the extension is only a hint (see sniff.ts). Each decoder lives in its own file and is imported on first use
 * (sharp, dicom-parser and the DICOM codecs each take 0.1-0.8 s to load), so importing the package stays cheap.
 */
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { checkByteCount, maxInputBytes, tooLargeDecompressed } from './limits.ts';
import { formatFromExtension, formatName, isGzip, sniffFormat, SUPPORTED_FORMAT_NAMES } from './sniff.ts';
import type { Image } from './types.ts';

/** Options for `readImage`. Each applies only to the formats named; the others ignore it. */
export interface ReadImageOptions {
  /** DICOM multi-frame, multi-page TIFF, animated GIF/WebP: which frame (0-based). Default 0. */
  frame: number;
  /** NIfTI: slice axis (0 = i/sagittal, 1 = j/coronal, 2 = k/axial for RAS volumes). Default 2. */
  axis: 0 | 1 | 2;
  /** NIfTI: slice index along `axis`; null (default) = the middle slice, floor(n / 2). */
  slice: number | null;
  /** NIfTI 4-D: volume index. Default 0. */
  volume: number;
  /**
   * DICOM: return RescaleSlope * stored + RescaleIntercept (e.g. Hounsfield units) instead of stored values;
   * NIfTI: apply scl_slope/scl_inter. The data range is scaled by |slope|. Default false (stored values).
   */
  rescale: boolean;
}

/** The defaults of `readImage`. */
export const DEFAULT_READ_IMAGE_OPTIONS: Readonly<ReadImageOptions> = Object.freeze({
  frame: 0,
  axis: 2,
  slice: null,
  volume: 0,
  rescale: false,
});

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Merge partial options over the defaults and check their types (ranges that depend on the file, like the
 * number of frames, are checked by the decoders).
 * @param partial options to override; unknown keys are rejected
 * @throws BlindspotError E_INVALID_OPTION naming the option, what it allows and the value given.
 */
export function resolveReadImageOptions(partial?: Partial<ReadImageOptions>): ReadImageOptions {
  const o = mergeOptions(DEFAULT_READ_IMAGE_OPTIONS, partial, 'readImage');
  if (!isIndex(o.frame)) throw invalidOption('frame', 'an integer >= 0 (default 0)', o.frame);
  if (o.axis !== 0 && o.axis !== 1 && o.axis !== 2)
    throw invalidOption('axis', '0, 1 or 2 (default 2)', o.axis);
  if (o.slice !== null && !isIndex(o.slice))
    throw invalidOption('slice', 'an integer >= 0 or null for the middle (default null)', o.slice);
  if (!isIndex(o.volume)) throw invalidOption('volume', 'an integer >= 0 (default 0)', o.volume);
  if (typeof o.rescale !== 'boolean')
    throw invalidOption('rescale', 'true or false (default false)', o.rescale);
  return o;
}

/**
 * The other half of a NIfTI .hdr/.img pair (same stem, with or without .gz), or undefined when absent.
 * @param path the half given
 * @param ext the extension wanted
 */
export async function companion(
  path: string,
  ext: 'hdr' | 'img',
): Promise<{ path: string; bytes: Buffer } | undefined> {
  const stem = path.replace(/\.(hdr|img)(\.gz)?$/i, '');
  for (const candidate of [`${stem}.${ext}`, `${stem}.${ext}.gz`, `${stem}.${ext.toUpperCase()}`]) {
    try {
      return { path: candidate, bytes: await readBytes(candidate) };
    } catch (e) {
      if ((e as BlindspotError).message?.endsWith('no such file') !== true) throw e;
    }
  }
  return undefined;
}

/**
 * gunzip under the input cap.
 * @throws BlindspotError E_TOO_LARGE over the cap, E_CORRUPT for bad gzip data.
 */
export function gunzip(bytes: Buffer, path: string): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxInputBytes() });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLargeDecompressed(path);
    throw new BlindspotError('E_CORRUPT', 'gzip data is truncated or corrupt', path);
  }
}

/** The whole file, refusing non-regular files (devices, FIFOs: `/dev/zero` never ends) and files over the cap. */
async function readBytes(path: string): Promise<Buffer> {
  try {
    // stat, not open: opening a FIFO would wait for a writer.
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!st.isFile())
      throw new BlindspotError('E_UNREADABLE', 'is not a regular file (a device, pipe or socket)', path);
    checkByteCount(st.size, 'file', path);
    return await readFile(path);
  } catch (e) {
    if (e instanceof BlindspotError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not an image file'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read file (${code})`;
    throw new BlindspotError('E_UNREADABLE', why, path);
  }
}

/**
 * Decode an image file into an `Image` (float samples, bit depth, natural data range).
 *
 * Formats, detected from the content: PNG 8/16-bit, JPEG, TIFF (8/16-bit, float grey), WebP, GIF (sharp);
 * BMP (bmp-ts); DICOM (uncompressed, deflated, big endian, JPEG baseline/lossless, JPEG-LS, JPEG 2000, HTJ2K, RLE;
 * dicom-parser and lazily loaded codecs); NIfTI-1/2 `.nii`/`.nii.gz`/`.hdr`+`.img` (one 2-D slice). Grey stays
 * 1 channel, colour is RGB (alpha dropped, recorded in `meta.alphaDropped`).
 * DICOM and NIfTI samples are the stored values unless `rescale` is set. Format facts go to `meta`.
 *
 * @param path the file
 * @param options frame (default 0), axis (default 2), slice (default middle), volume (default 0),
 *   rescale (default false); see `ReadImageOptions`
 * @returns the decoded image; `dataRange` is 255 for 8-bit, 65535 for 16-bit, 2^BitsStored - 1 for DICOM, null
 *   for float data
 * @throws BlindspotError, every message one line naming the file: E_UNREADABLE (missing/unreadable),
 *   E_UNSUPPORTED (another kind of file, or a variant not decoded), E_CORRUPT (truncated or garbage),
 *   E_NONFINITE (NaN/Inf in float data), E_INVALID_OPTION (bad option, frame/slice out of range).
 * @example
 * const ct = await readImage('693_UNCI.dcm', { rescale: true }); // Hounsfield units, dataRange 16383
 * const mri = await readImage('t1.nii.gz', { axis: 2, slice: 104 });
 */
export async function readImage(path: string, options?: Partial<ReadImageOptions>): Promise<Image> {
  const opts = resolveReadImageOptions(options);
  const bytes = await readBytes(path);
  return decodeImageBytes(bytes, path, opts);
}

/**
 * Decode image bytes already in memory (same formats and rules as `readImage`).
 * @param bytes the whole file
 * @param path the name used in messages and as `source` (its extension is the format hint)
 * @param options resolved options (see `resolveReadImageOptions`)
 * @throws BlindspotError as `readImage`.
 */
export async function decodeImageBytes(
  bytes: Buffer,
  path: string,
  options: ReadImageOptions,
): Promise<Image> {
  if (bytes.length === 0) throw new BlindspotError('E_CORRUPT', 'empty file', path);
  let content: Buffer = bytes;
  let gunzipped: Buffer | undefined;
  if (isGzip(bytes)) {
    try {
      gunzipped = gunzipSync(bytes, { maxOutputLength: maxInputBytes() });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLargeDecompressed(path);
      throw new BlindspotError('E_CORRUPT', 'gzip data is truncated or corrupt', path);
    }
  }
  const sniffed = sniffFormat(bytes, gunzipped);
  const hint = formatFromExtension(path);
  if (sniffed.kind === 'other') {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `${sniffed.name} files are not supported (expected ${SUPPORTED_FORMAT_NAMES})`,
      path,
    );
  }
  if (sniffed.kind === 'unknown') {
    // A DICOM data set may lack the 128-byte preamble: trust a .dcm extension enough to try it.
    if (hint === 'dicom') return (await import('./dicom.ts')).decodeDicom(bytes, path, false, options);
    // The .img half of a NIfTI pair: decode through its .hdr.
    const hdr = /\.img(\.gz)?$/i.test(path) ? await companion(path, 'hdr') : undefined;
    if (hdr !== undefined) return decodeImageBytes(hdr.bytes, hdr.path, options);
    if (hint !== null) {
      throw new BlindspotError(
        'E_CORRUPT',
        `not a valid ${formatName(hint)} file (its signature is missing): corrupt or mislabelled`,
        path,
      );
    }
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `unrecognised file format (expected ${SUPPORTED_FORMAT_NAMES})`,
      path,
    );
  }
  if (sniffed.gzip === true && gunzipped !== undefined) content = gunzipped;
  const format = sniffed.format;
  // A DICOM preamble often holds a TIFF header: a .dcm cut before its "DICM" marker is a truncated DICOM, not a TIFF.
  if (format === 'tiff' && hint === 'dicom' && bytes.length < 132) {
    throw new BlindspotError('E_CORRUPT', `DICOM data is truncated: ${bytes.length} bytes, cut inside the 128-byte preamble (no "DICM" marker)`, path);
  }
  let image: Image;
  switch (format) {
    case 'dicom':
      image = await (await import('./dicom.ts')).decodeDicom(content, path, true, options);
      break;
    case 'nifti': {
      const img = sniffed.pair === true ? await companion(path, 'img') : undefined;
      if (sniffed.pair === true && img === undefined) {
        throw new BlindspotError('E_UNREADABLE', 'NIfTI .hdr/.img pair: the .img file is missing', path);
      }
      const voxels =
        img === undefined ? undefined : isGzip(img.bytes) ? gunzip(img.bytes, img.path) : img.bytes;
      image = (await import('./nifti.ts')).decodeNifti(content, path, options, voxels);
      break;
    }
    case 'bmp':
      image = (await import('./bmp.ts')).decodeBmp(content, path);
      break;
    case 'png':
    case 'jpeg':
    case 'tiff':
    case 'webp':
    case 'gif':
      image = await (await import('./raster.ts')).decodeRaster(content, path, format, options.frame);
      break;
  }
  if (hint !== null && hint !== format) {
    image.warnings.push(
      `file name says ${formatName(hint)} but the content is ${formatName(format)}; decoded as ${formatName(format)}`,
    );
  }
  return image;
}
