/**
 * Format detection by content (magic bytes), not by file name. The extension is only a hint: it decides how a
 * file whose content matches nothing is reported (a `.png` without a PNG signature is corrupt; an unknown file
 * is unsupported), and it lets a DICOM file without the 128-byte preamble be tried as raw DICOM.
 */
import { extname } from 'node:path';
import type { ImageFormat } from './types.ts';

/** What the first bytes of a file say it is. */
export type SniffedKind =
  | { kind: 'image'; format: Exclude<ImageFormat, 'raw'>; gzip?: boolean; pair?: boolean }
  /** A recognised file type this package does not decode (PDF, ZIP, JPEG 2000, HEIF/AVIF, NIfTI pair header...). */
  | { kind: 'other'; name: string }
  | { kind: 'unknown' };

/** The formats `readImage` decodes, in the order error messages list them. */
export const SUPPORTED_FORMAT_NAMES = 'PNG, JPEG, TIFF, WebP, GIF, BMP, DICOM or NIfTI-1/2';

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = at; i < at + len && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

/** True when the bytes are gzip-compressed (RFC 1952 magic 1F 8B). */
export function isGzip(b: Uint8Array): boolean {
  return startsWith(b, [0x1f, 0x8b]);
}

/**
 * NIfTI header: `sizeof_hdr` = 348 (NIfTI-1, magic at byte 344) or 540 (NIfTI-2, magic at byte 4), either byte
 * order. Returns 'single' (magic `n+1` / `n+2`), 'pair' (magic `ni1` / `ni2`: the .hdr of a .hdr/.img pair), or null.
 */
export function niftiHeaderKind(b: Uint8Array): 'single' | 'pair' | null {
  if (b.length < 4) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  const magic = le === 540 || be === 540 ? ascii(b, 4, 4) : le === 348 || be === 348 ? ascii(b, 344, 4) : '';
  if (magic === 'n+1\0' || magic === 'n+2\0') return 'single';
  if (magic === 'ni1\0' || magic === 'ni2\0') return 'pair';
  return null;
}

/**
 * Identify a file from its first bytes. For gzip data, pass the decompressed head as `gunzipped` to see
 * whether it holds a NIfTI volume.
 * @param bytes the file's bytes (at least the first 352 for NIfTI, 132 for DICOM)
 * @param gunzipped for gzip input: the first bytes of the decompressed stream, or undefined when not gzip
 */
export function sniffFormat(bytes: Uint8Array, gunzipped?: Uint8Array): SniffedKind {
  const b = bytes;
  // DICOM first: its 128-byte preamble is free-form and often starts with a TIFF header ("II*\0").
  if (ascii(b, 128, 4) === 'DICM') return { kind: 'image', format: 'dicom' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'image', format: 'png' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'image', format: 'tiff' };
  }
  if (startsWith(b, [0x49, 0x49, 0x2b, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { kind: 'image', format: 'tiff' }; // BigTIFF: libvips/libtiff read it
  }
  const head6 = ascii(b, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return { kind: 'image', format: 'gif' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { kind: 'image', format: 'webp' };
  const nifti = niftiHeaderKind(b);
  if (nifti === 'single') return { kind: 'image', format: 'nifti' };
  if (nifti === 'pair') return { kind: 'image', format: 'nifti', pair: true };
  if (isGzip(b)) {
    if (gunzipped !== undefined) {
      const inner = niftiHeaderKind(gunzipped);
      if (inner === 'single') return { kind: 'image', format: 'nifti', gzip: true };
      if (inner === 'pair') return { kind: 'image', format: 'nifti', gzip: true, pair: true };
    }
    return { kind: 'other', name: 'gzip-compressed (not NIfTI)' };
  }
  // BMP last among the images: 'BM' is only two bytes, so also check the header size field.
  if (ascii(b, 0, 2) === 'BM' && b.length >= 18) {
    const headerSize = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(14, true);
    if ([12, 40, 52, 56, 64, 108, 124].includes(headerSize)) return { kind: 'image', format: 'bmp' };
  }
  if (ascii(b, 0, 5) === '%PDF-') return { kind: 'other', name: 'PDF' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return { kind: 'other', name: 'ZIP' };
  if (
    startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(b, [0xff, 0x4f, 0xff, 0x51])
  ) {
    return { kind: 'other', name: 'JPEG 2000' };
  }
  if (ascii(b, 4, 4) === 'ftyp') return { kind: 'other', name: 'HEIF/AVIF/MP4 (ISO media)' };
  if (ascii(b, 0, 4) === '8BPS') return { kind: 'other', name: 'Photoshop PSD' };
  if (ascii(b, 0, 5) === '<?xml' || ascii(b, 0, 4) === '<svg') return { kind: 'other', name: 'XML/SVG' };
  return { kind: 'unknown' };
}

/** The image format a file name suggests, or null. `.nii.gz` counts as NIfTI. */
export function formatFromExtension(path: string): Exclude<ImageFormat, 'raw'> | null {
  const lower = path.toLowerCase();
  if (/\.(nii|hdr|img)(\.gz)?$/.test(lower)) return 'nifti';
  switch (extname(lower)) {
    case '.png':
      return 'png';
    case '.jpg':
    case '.jpeg':
    case '.jpe':
    case '.jfif':
      return 'jpeg';
    case '.tif':
    case '.tiff':
      return 'tiff';
    case '.webp':
      return 'webp';
    case '.gif':
      return 'gif';
    case '.bmp':
    case '.dib':
      return 'bmp';
    case '.dcm':
    case '.dicom':
    case '.ima':
      return 'dicom';
    default:
      return null;
  }
}

/** Display name of a format for messages. */
export function formatName(format: ImageFormat): string {
  const names: Record<ImageFormat, string> = {
    png: 'PNG',
    jpeg: 'JPEG',
    tiff: 'TIFF',
    gif: 'GIF',
    bmp: 'BMP',
    webp: 'WebP',
    dicom: 'DICOM',
    nifti: 'NIfTI',
    raw: 'raw',
  };
  return names[format];
}
