/**
 * DICOM (PS3.10 files, and raw data sets without the preamble) through `dicom-parser`.
 *
 * Transfer syntaxes decoded: Implicit VR Little Endian, Explicit VR Little Endian, Deflated Explicit VR Little
 * Endian, Explicit VR Big Endian (retired); encapsulated: JPEG Baseline and JPEG Extended (.4.50/.4.51: 8-bit
 * through sharp/libjpeg-turbo, 12-bit grey through jpegDct.ts), JPEG Lossless (.4.57/.4.70, jpeg-lossless-decoder-js), JPEG-LS (.4.80/.4.81, CharLS),
 * JPEG 2000 and HTJ2K (.4.90/.4.91/.4.201-203, OpenJPEG), RLE Lossless (.5, rle.ts). Codecs load on first use
 * (codecs.ts). Every other syntax is E_UNSUPPORTED with its UID and name.
 *
 * Samples are the STORED values by default: the bits above HighBit are masked off, BitsStored is sign-extended
 * when PixelRepresentation is 1, MONOCHROME1 is inverted within the stored range (so bright = dense, as in
 * MONOCHROME2), and the data range is 2^BitsStored - 1 (DESIGN §3). For signed data the range is the same width:
 * the stored interval [-2^(BitsStored-1), 2^(BitsStored-1) - 1] spans 2^BitsStored - 1. With `rescale`, samples
 * are `RescaleSlope * stored + RescaleIntercept` (e.g. Hounsfield units) and the data range is
 * `|RescaleSlope| * (2^BitsStored - 1)`: the width of the representable stored interval after the same linear map,
 * so SSIM's constants mean the same thing with and without rescaling.
 *
 * Display window: `meta.windowCenter` / `meta.windowWidth` are the (0028,1050/1051) value arrays; `meta.voiLut`
 * is the first item of the VOI LUT Sequence (0028,3010) when present ({ first, bits, data, explanation }).
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import type { OutputInfo } from 'sharp';
import { inflateRawSync } from 'node:zlib';
import { BlindspotError } from '../errors.ts';
import { checkPixelCount } from './limits.ts';
import { decodeCompressedFrame, type CodecKind } from './codecs.ts';
import { encapsulatedFrame } from './encapsulated.ts';
import { decodeJpegDct, JpegDctError, type JpegDctImage } from './jpegDct.ts';
import { decodeRleFrame } from './rle.ts';
import { affineInPlace } from './samples.ts';
import type { Image } from './types.ts';
import { TRANSFER_SYNTAX_NAMES } from './transferSyntax.ts';

/** What `decodeDicom` needs from the read options. */
export interface DicomDecodeOptions {
  /** Frame of a multi-frame file, 0-based. */
  frame: number;
  /** Return `slope * stored + intercept` instead of stored values. */
  rescale: boolean;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/** Byte order of this machine (typed arrays use it). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const SUPPORTED_SYNTAXES =
  'implicit/explicit VR little endian, explicit VR big endian, deflated, JPEG baseline, JPEG extended, JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K, RLE';

/** The DICOM tags read here, named. */
const TAG = {
  transferSyntax: 'x00020010',
  modality: 'x00080060',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  planarConfiguration: 'x00280006',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  highBit: 'x00280102',
  pixelRepresentation: 'x00280103',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  rescaleType: 'x00281054',
  seriesInstanceUID: 'x0020000e',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  sliceThickness: 'x00180050',
  pixelSpacing: 'x00280030',
  lossyImageCompression: 'x00282110',
  voiLutSequence: 'x00283010',
  lutDescriptor: 'x00283002',
  lutExplanation: 'x00283003',
  lutData: 'x00283006',
  pixelData: 'x7fe00010',
  floatPixelData: 'x7fe00008',
  doubleFloatPixelData: 'x7fe00009',
} as const;

/**
 * Deflated Explicit VR LE: the data set after the meta header is raw-deflated (RFC 1951). dicom-parser 1.8.21
 * parses what the inflater returns from offset 0, so return only the inflated data set (its own byte array).
 */
function inflater(byteArray: Uint8Array, position: number): Uint8Array {
  return inflateRawSync(byteArray.subarray(position));
}

/** The transfer syntax from the file meta header alone (used when the data set did not parse to the end). */
function metaTransferSyntax(bytes: Uint8Array): string {
  try {
    return dicomParser.readPart10Header(bytes).string(TAG.transferSyntax) ?? IMPLICIT_LE;
  } catch {
    return IMPLICIT_LE;
  }
}

function parse(bytes: Uint8Array, path: string, hasPreamble: boolean): { ds: DataSet; ts: string } {
  try {
    if (hasPreamble) {
      const ds = dicomParser.parseDicom(bytes, { inflater });
      // Read the syntax from the meta header itself: for deflated files the data set has its own byte array.
      return { ds, ts: metaTransferSyntax(bytes) };
    }
    // A data set without the 128-byte preamble and meta header: PS3.5 default syntax.
    return { ds: dicomParser.parseDicom(bytes, { TransferSyntaxUID: IMPLICIT_LE }), ts: IMPLICIT_LE };
  } catch (e) {
    if (!hasPreamble) {
      throw new BlindspotError(
        'E_CORRUPT',
        'not a valid DICOM file (no DICM preamble, and not a readable raw data set with pixel data)',
        path,
      );
    }
    // dicom-parser reports a buffer overrun with the elements read so far: when the pixel data element was
    // reached, go on so that the truncation is reported precisely (frame size vs bytes present).
    const partial = (e as { dataSet?: DataSet } | null)?.dataSet;
    if (partial?.elements?.[TAG.pixelData] !== undefined) {
      return { ds: partial, ts: hasPreamble ? metaTransferSyntax(bytes) : IMPLICIT_LE };
    }
    throw new BlindspotError(
      'E_CORRUPT',
      'DICOM data is truncated or corrupt (cannot parse the data set)',
      path,
    );
  }
}

function required(ds: DataSet, tag: string, name: string, path: string): number {
  const v = ds.uint16(tag);
  if (v === undefined)
    throw new BlindspotError('E_CORRUPT', `DICOM image has no ${name} (${tagLabel(tag)})`, path);
  return v;
}

function tagLabel(tag: string): string {
  return `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5).toUpperCase()})`;
}

/** All numeric values of a DS/IS element (multi-valued window settings), or undefined. */
function numbers(ds: DataSet, tag: string): number[] | undefined {
  const n = ds.numStringValues(tag);
  if (n === undefined || n === 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = ds.floatString(tag, i);
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return out.length ? out : undefined;
}

/** How a transfer syntax's pixel data is decoded. */
type PixelCodec = 'native' | 'jpeg' | 'rle' | CodecKind;

const CODEC_OF: Readonly<Record<string, PixelCodec>> = {
  [IMPLICIT_LE]: 'native',
  [EXPLICIT_LE]: 'native',
  [DEFLATED_LE]: 'native',
  [EXPLICIT_BE]: 'native',
  [JPEG_BASELINE]: 'jpeg',
  [JPEG_EXTENDED]: 'jpeg',
  '1.2.840.10008.1.2.4.57': 'jpeglossless',
  '1.2.840.10008.1.2.4.70': 'jpeglossless',
  '1.2.840.10008.1.2.4.80': 'jpegls',
  '1.2.840.10008.1.2.4.81': 'jpegls',
  '1.2.840.10008.1.2.4.90': 'jpeg2000',
  '1.2.840.10008.1.2.4.91': 'jpeg2000',
  '1.2.840.10008.1.2.4.201': 'jpeg2000',
  '1.2.840.10008.1.2.4.202': 'jpeg2000',
  '1.2.840.10008.1.2.4.203': 'jpeg2000',
  [RLE_LOSSLESS]: 'rle',
};

/** A parsed DICOM image: everything needed to decode any of its frames (see `openDicom`). */
export interface DicomHeader {
  ds: DataSet;
  pixel: Element;
  path: string;
  ts: string;
  codec: PixelCodec;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  samplesPerPixel: number;
  planarConfiguration: number;
  photometric: string;
  /** Convert YBR_FULL samples to RGB after decoding (not for JPEG: libjpeg does it). */
  ybrFull: boolean;
  frames: number;
  slope: number;
  intercept: number;
  /** File-level facts, copied into every frame's `meta`. */
  meta: Record<string, unknown>;
}

/**
 * Parse a DICOM file's header and check that its pixel data can be decoded (no pixels decoded yet).
 * @param bytes the whole file
 * @param path the file (for messages)
 * @param hasPreamble whether 'DICM' sits at byte 128 (else the bytes are parsed as a raw implicit-VR data set)
 * @throws BlindspotError E_UNSUPPORTED (transfer syntax, photometric interpretation, bit depth, no image),
 *   E_CORRUPT (unparsable).
 */
export function openDicom(bytes: Uint8Array, path: string, hasPreamble: boolean): DicomHeader {
  const { ds, ts } = parse(bytes, path, hasPreamble);
  const tsName = TRANSFER_SYNTAX_NAMES[ts] ?? 'unknown transfer syntax';
  const pixel = pixelElement(ds, path, hasPreamble);
  const codec = CODEC_OF[ts];
  if (codec === undefined) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `DICOM transfer syntax ${ts} (${tsName}) is not supported (supported: ${SUPPORTED_SYNTAXES})`,
      path,
    );
  }
  const rows = required(ds, TAG.rows, 'Rows', path);
  const columns = required(ds, TAG.columns, 'Columns', path);
  const bitsAllocated = required(ds, TAG.bitsAllocated, 'BitsAllocated', path);
  const bitsStored = ds.uint16(TAG.bitsStored) ?? bitsAllocated;
  const highBit = ds.uint16(TAG.highBit) ?? bitsStored - 1;
  const samplesPerPixel = ds.uint16(TAG.samplesPerPixel) ?? 1;
  const photometric = (
    ds.string(TAG.photometric) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')
  ).toUpperCase();
  if (rows < 1 || columns < 1)
    throw new BlindspotError('E_CORRUPT', `DICOM image has no pixels (${columns}x${rows})`, path);
  checkPixelCount(columns, rows, path);
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `DICOM BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32)`,
      path,
    );
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM BitsStored ${bitsStored} / HighBit ${highBit} do not fit BitsAllocated ${bitsAllocated}`,
      path,
    );
  }
  const grey = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  // YBR_FULL is converted to RGB here; libjpeg returns RGB for JPEG YBR_*, OpenJPEG undoes YBR_ICT/RCT itself.
  const ybrFull = codec !== 'jpeg' && photometric === 'YBR_FULL' && bitsAllocated === 8;
  const colour =
    photometric === 'RGB' ||
    ybrFull ||
    (codec === 'jpeg' && photometric.startsWith('YBR_')) ||
    (codec === 'jpeg2000' && (photometric === 'YBR_ICT' || photometric === 'YBR_RCT'));
  if (!(grey && samplesPerPixel === 1) && !(colour && samplesPerPixel === 3)) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `DICOM photometric interpretation ${photometric} with ${samplesPerPixel} samples per pixel is not supported (MONOCHROME1, MONOCHROME2, RGB, 8-bit YBR_FULL, YBR_* in JPEG, YBR_ICT/RCT in JPEG 2000)`,
      path,
    );
  }
  if (codec === 'jpeg' && bitsAllocated !== 8 && !(bitsAllocated === 16 && samplesPerPixel === 1)) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `DICOM ${tsName} with BitsAllocated ${bitsAllocated} and ${samplesPerPixel} samples per pixel is not supported (8-bit JPEG, or 12-bit grey JPEG)`,
      path,
    );
  }
  const h: DicomHeader = {
    ds,
    pixel,
    path,
    ts,
    codec,
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit,
    signed: (ds.uint16(TAG.pixelRepresentation) ?? 0) === 1,
    samplesPerPixel,
    planarConfiguration: ds.uint16(TAG.planarConfiguration) ?? 0,
    photometric,
    ybrFull,
    frames: Math.max(1, ds.intString(TAG.numberOfFrames) ?? 1), // some writers put 0 for single frames
    slope: ds.floatString(TAG.rescaleSlope) ?? 1,
    intercept: ds.floatString(TAG.rescaleIntercept) ?? 0,
    meta: {},
  };
  h.meta = fileMeta(h, tsName);
  return h;
}

/** The (7FE0,0010) element, or the reason there is none. */
function pixelElement(ds: DataSet, path: string, hasPreamble: boolean): Element {
  const pixel = ds.elements[TAG.pixelData];
  if (pixel !== undefined) return pixel;
  if (!hasPreamble) {
    throw new BlindspotError(
      'E_CORRUPT',
      'not a valid DICOM file (no DICM preamble, and not a readable raw data set with pixel data)',
      path,
    );
  }
  if (ds.elements[TAG.floatPixelData] || ds.elements[TAG.doubleFloatPixelData]) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      'DICOM float pixel data (7FE0,0008/0009) is not supported',
      path,
    );
  }
  throw new BlindspotError('E_UNSUPPORTED', 'DICOM file has no pixel data (7FE0,0010): not an image', path);
}

/** File-level metadata (geometry and series facts are what the volume reader sorts and checks by). */
function fileMeta(h: DicomHeader, tsName: string): Record<string, unknown> {
  const { ds } = h;
  const meta: Record<string, unknown> = {
    transferSyntaxUID: h.ts,
    transferSyntax: tsName,
    modality: ds.string(TAG.modality),
    photometricInterpretation: h.photometric,
    samplesPerPixel: h.samplesPerPixel,
    bitsAllocated: h.bitsAllocated,
    bitsStored: h.bitsStored,
    highBit: h.highBit,
    pixelRepresentation: h.signed ? 1 : 0,
    rescaleSlope: h.slope,
    rescaleIntercept: h.intercept,
    rescaleType: ds.string(TAG.rescaleType),
    windowCenter: numbers(ds, TAG.windowCenter),
    windowWidth: numbers(ds, TAG.windowWidth),
    numberOfFrames: h.frames,
  };
  const optional: Record<string, unknown> = {
    seriesInstanceUID: ds.string(TAG.seriesInstanceUID),
    instanceNumber: ds.intString(TAG.instanceNumber),
    imagePositionPatient: numbers(ds, TAG.imagePositionPatient),
    imageOrientationPatient: numbers(ds, TAG.imageOrientationPatient),
    pixelSpacing: numbers(ds, TAG.pixelSpacing),
    sliceThickness: ds.floatString(TAG.sliceThickness),
    lossyImageCompression: ds.string(TAG.lossyImageCompression),
    voiLut: voiLut(ds, h.signed),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) meta[k] = v;
  if (h.samplesPerPixel === 3) meta.planarConfiguration = h.planarConfiguration;
  return meta;
}

/**
 * The first item of the VOI LUT Sequence (0028,3010), PS3.3 C.11.2: LUT Descriptor (entries, first stored value
 * mapped, bits per entry; 0 entries means 65536) and LUT Data (US, or OW read as 16-bit little endian).
 */
function voiLut(
  ds: DataSet,
  signed: boolean,
): { first: number; bits: number; data: number[]; explanation?: string } | undefined {
  const item = ds.elements[TAG.voiLutSequence]?.items?.[0]?.dataSet;
  if (item === undefined) return undefined;
  const desc = item.elements[TAG.lutDescriptor];
  const lut = item.elements[TAG.lutData];
  if (desc === undefined || lut === undefined || desc.length < 6) return undefined;
  const entries = item.uint16(TAG.lutDescriptor, 0) || 65536;
  let first = item.uint16(TAG.lutDescriptor, 1) ?? 0;
  if (signed && first >= 32768) first -= 65536; // US or SS per PixelRepresentation
  const bits = item.uint16(TAG.lutDescriptor, 2) ?? 16;
  const n = Math.min(entries, Math.floor(lut.length / 2));
  const data: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) data[i] = item.uint16(TAG.lutData, i) ?? 0;
  const explanation = item.string(TAG.lutExplanation);
  return explanation === undefined ? { first, bits, data } : { first, bits, data, explanation };
}

/**
 * Decode one frame of a parsed DICOM image.
 * @param h the header from `openDicom`
 * @param frame 0-based frame index
 * @param rescale return `slope * stored + intercept` instead of stored values
 * @throws BlindspotError E_INVALID_OPTION (frame out of range), E_CORRUPT (truncated or undecodable pixel data),
 *   E_UNSUPPORTED (a codestream the codec reports in an unsupported layout).
 */
export async function decodeDicomFrame(h: DicomHeader, frame: number, rescale: boolean): Promise<Image> {
  const { path, frames } = h;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `invalid frame: expected an integer in 0..${frames - 1} (the file has ${frames} frame${frames === 1 ? '' : 's'}), got ${frame}`,
      path,
    );
  }
  const channels = h.samplesPerPixel;
  const data = new Float32Array(h.rows * h.columns * channels);
  await decodePixels(h, frame, data);
  if (h.ybrFull) ybrFullToRgb(data);
  const meta: Record<string, unknown> = { ...h.meta, frame, inverted: false, rescaled: false };
  const warnings: string[] = [];
  if (h.photometric === 'MONOCHROME1') {
    // MONOCHROME1 displays the minimum as white: mirror within the stored interval so bright = dense.
    const sum = h.signed ? -1 : 2 ** h.bitsStored - 1;
    affineInPlace(data, -1, sum);
    meta.inverted = true;
  }
  let dataRange = 2 ** h.bitsStored - 1;
  if (rescale) {
    // Float64 for the map, stored back as float32 (HU and similar fit exactly for integer slope/intercept).
    affineInPlace(data, h.slope, h.intercept);
    dataRange = Math.abs(h.slope) * dataRange;
    meta.rescaled = true;
    if (h.slope === 0) warnings.push('RescaleSlope is 0: every sample equals the intercept');
  }
  return {
    width: h.columns,
    height: h.rows,
    channels,
    data,
    bitDepth: h.bitsAllocated,
    isFloat: false,
    dataRange,
    source: path,
    format: 'dicom',
    meta,
    warnings,
  };
}

/** Stored samples of one frame into `out`, whatever the transfer syntax. */
async function decodePixels(h: DicomHeader, frame: number, out: Float32Array): Promise<void> {
  const { ds, pixel, path } = h;
  const pixels = h.rows * h.columns;
  const layout = {
    rows: h.rows,
    columns: h.columns,
    channels: h.samplesPerPixel,
    bitsAllocated: h.bitsAllocated,
    bitsStored: h.bitsStored,
    highBit: h.highBit,
    signed: h.signed,
    planar: h.planarConfiguration === 1,
    bigEndian: h.ts === EXPLICIT_BE,
  };
  if (h.codec === 'native') {
    readNativeFrame(ds, pixel, frame, layout, out, path);
    return;
  }
  if (h.codec === 'jpeg') {
    const jpeg = encapsulatedFrame(ds, pixel, frame, h.frames, true, path);
    if (h.bitsAllocated === 8) await decodeJpegFrame(jpeg, frame, layout, out, path);
    else decodeJpeg12Frame(jpeg, frame, layout, out, path);
    return;
  }
  if (h.codec === 'rle') {
    const rle = encapsulatedFrame(ds, pixel, frame, h.frames, false, path);
    const bytes = decodeRleFrame(rle, pixels, h.samplesPerPixel, h.bitsAllocated / 8, path);
    // RLE segments are byte planes of each colour plane: planar whatever PlanarConfiguration says.
    unpackSamples(bytes, 0, { ...layout, planar: true, bigEndian: false }, out);
    return;
  }
  const codestream = encapsulatedFrame(ds, pixel, frame, h.frames, true, path);
  const d = await decodeCompressedFrame(h.codec, codestream, frame, path);
  const bytesPerSample = d.bytesPerSample;
  if (
    d.width !== h.columns ||
    d.height !== h.rows ||
    d.components !== h.samplesPerPixel ||
    d.bytes.length < pixels * h.samplesPerPixel * bytesPerSample ||
    bytesPerSample * 8 > h.bitsAllocated
  ) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM ${TRANSFER_SYNTAX_NAMES[h.ts]} frame ${frame} decodes to ${d.width}x${d.height}x${d.components} (${bytesPerSample * 8}-bit), header says ${h.columns}x${h.rows}x${h.samplesPerPixel} (${h.bitsAllocated}-bit)`,
      path,
    );
  }
  // Codec output is the sample value itself: no HighBit shift; mask and sign-extend to BitsStored as stored data.
  unpackSamples(
    d.bytes,
    0,
    {
      ...layout,
      bitsAllocated: bytesPerSample * 8,
      highBit: Math.min(h.bitsStored, bytesPerSample * 8) - 1,
      bitsStored: Math.min(h.bitsStored, bytesPerSample * 8),
      planar: d.planar,
      bigEndian: false,
    },
    out,
  );
}

/**
 * Decode one frame of a DICOM image (`openDicom` then `decodeDicomFrame`).
 * @param bytes the whole file
 * @param path the file (for messages)
 * @param hasPreamble whether 'DICM' sits at byte 128 (else the bytes are parsed as a raw implicit-VR data set)
 * @param options frame (default 0) and rescale (default false)
 * @throws BlindspotError E_UNSUPPORTED (transfer syntax, photometric interpretation, bit depth, no image),
 *   E_CORRUPT (unparsable, truncated pixel data), E_INVALID_OPTION (frame out of range).
 */
export async function decodeDicom(
  bytes: Uint8Array,
  path: string,
  hasPreamble: boolean,
  options: DicomDecodeOptions,
): Promise<Image> {
  return decodeDicomFrame(openDicom(bytes, path, hasPreamble), options.frame, options.rescale);
}

interface NativeLayout {
  rows: number;
  columns: number;
  channels: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  planar: boolean;
  bigEndian: boolean;
}

/** Native (uncompressed) pixel data: locate the frame, check it is all there, unpack it into `out`. */
function readNativeFrame(
  ds: DataSet,
  pixel: Element,
  frame: number,
  l: NativeLayout,
  out: Float32Array,
  path: string,
): void {
  const frameBytes = l.rows * l.columns * l.channels * (l.bitsAllocated / 8);
  // Deflated files are parsed from an inflated copy: read from the data set's own byte array.
  const src = ds.byteArray as Uint8Array;
  const start = pixel.dataOffset + frame * frameBytes;
  const available = Math.min(src.length, pixel.dataOffset + pixel.length) - start;
  if (available < frameBytes) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM pixel data is truncated: frame ${frame} needs ${frameBytes} bytes, found ${Math.max(0, available)}`,
      path,
    );
  }
  unpackSamples(src, start, l, out);
}

/**
 * Samples laid out as native pixel data (from `start` in `src`) to floats: mask to BitsStored below HighBit,
 * sign-extend, de-planarise, into `out`. Also used for RLE and codec output (little endian, no HighBit shift).
 */
function unpackSamples(src: Uint8Array, start: number, l: NativeLayout, out: Float32Array): void {
  const bytesPerSample = l.bitsAllocated / 8;
  const samples = l.rows * l.columns * l.channels;
  const frameBytes = samples * bytesPerSample;
  const pixels = l.rows * l.columns;
  const planar = l.planar && l.channels > 1;
  const shift = l.highBit + 1 - l.bitsStored;
  const hostOrder = bytesPerSample === 1 || (bytesPerSample === 2 && l.bigEndian !== HOST_LITTLE_ENDIAN);
  if (hostOrder) {
    // Fast path (8-bit, or 16-bit in host byte order): typed-array view, 32-bit integer ops are exact here.
    const aligned = (src.byteOffset + start) % bytesPerSample === 0;
    const bytesCopy = aligned ? src : src.slice(start, start + frameBytes);
    const base = aligned ? src.byteOffset + start : bytesCopy.byteOffset;
    const mask = 2 ** l.bitsStored - 1;
    const extend = l.signed ? 32 - l.bitsStored : 0; // shift pair that sign-extends bit (BitsStored - 1)
    const target = planar ? new Float32Array(samples) : out;
    if (bytesPerSample === 1)
      unpack8(new Uint8Array(bytesCopy.buffer, base, samples), target, shift, mask, extend);
    else unpack16(new Uint16Array(bytesCopy.buffer, base, samples), target, shift, mask, extend);
    if (planar) interleave(target, out, pixels, l.channels);
    return;
  }
  // General path (32-bit samples, or 16-bit in the other byte order): DataView and exact float arithmetic.
  const dv = new DataView(src.buffer, src.byteOffset + start, frameBytes);
  const storedMax = 2 ** l.bitsStored;
  const signBit = storedMax / 2;
  const le = !l.bigEndian;
  for (let s = 0; s < samples; s++) {
    const raw =
      bytesPerSample === 1
        ? dv.getUint8(s)
        : bytesPerSample === 2
          ? dv.getUint16(s * 2, le)
          : dv.getUint32(s * 4, le);
    let v = Math.floor(raw / 2 ** shift) % storedMax;
    if (l.signed && v >= signBit) v -= storedMax;
    // Planar configuration 1 stores R plane, G plane, B plane; output is interleaved.
    out[planar ? (s % pixels) * l.channels + Math.floor(s / pixels) : s] = v;
  }
}

// Small monomorphic kernels: V8 optimises them reliably (one big function with both element types and the
// planar branch ran 8x slower after a deoptimisation).

/** out[i] = sign-extended ((src[i] >>> shift) & mask); extend = 32 - BitsStored for signed data, else 0. */
function unpack16(src: Uint16Array, out: Float32Array, shift: number, mask: number, extend: number): void {
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = (((src[i]! >>> shift) & mask) << extend) >> extend;
}

/** As unpack16 for 8-bit samples. */
function unpack8(src: Uint8Array, out: Float32Array, shift: number, mask: number, extend: number): void {
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = (((src[i]! >>> shift) & mask) << extend) >> extend;
}

/**
 * YBR_FULL (DICOM PS3.3 C.7.6.3.1.2, the JFIF YCbCr of 8-bit data) to RGB in place, rounded and clamped to 0..255
 * as a JPEG decoder does: R = Y + 1.402 (Cr - 128), G = Y - 0.344136 (Cb - 128) - 0.714136 (Cr - 128),
 * B = Y + 1.772 (Cb - 128).
 */
function ybrFullToRgb(data: Float32Array): void {
  const clamp = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
  for (let i = 0; i < data.length; i += 3) {
    const y = data[i]!;
    const cb = data[i + 1]! - 128;
    const cr = data[i + 2]! - 128;
    data[i] = clamp(y + 1.402 * cr);
    data[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp(y + 1.772 * cb);
  }
}

/** Planar (R plane, G plane, B plane) to interleaved RGB. */
function interleave(planes: Float32Array, out: Float32Array, pixels: number, channels: number): void {
  for (let c = 0; c < channels; c++) {
    const from = c * pixels;
    for (let i = 0; i < pixels; i++) out[i * channels + c] = planes[from + i]!;
  }
}

/**
 * The sample precision in a JPEG codestream's start-of-frame marker (SOF0-SOF15 except DHT/JPG/DAC), or undefined.
 */
function jpegPrecision(jpeg: Uint8Array): number | undefined {
  let i = 2;
  while (i + 4 < jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return jpeg[i + 4];
    i += 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
  }
  return undefined;
}

/**
 * One grey JPEG frame in 16-bit pixel cells (12-bit JPEG Extended, or 8-bit samples stored in 16 bits), decoded by
 * jpegDct.ts (written from T.81; sharp's libjpeg is 8-bit only), then masked and sign-extended like native data.
 */
function decodeJpeg12Frame(
  jpeg: Uint8Array,
  frame: number,
  l: NativeLayout,
  out: Float32Array,
  path: string,
): void {
  let img: JpegDctImage;
  try {
    img = decodeJpegDct(jpeg);
  } catch (e) {
    const unsupported = e instanceof JpegDctError && e.unsupported;
    throw new BlindspotError(
      unsupported ? 'E_UNSUPPORTED' : 'E_CORRUPT',
      unsupported
        ? `DICOM JPEG frame ${frame}: ${(e as Error).message}`
        : `DICOM JPEG frame ${frame} does not decode (truncated or corrupt): ${(e as Error).message}`,
      path,
    );
  }
  if (img.width !== l.columns || img.height !== l.rows) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM JPEG frame is ${img.width}x${img.height}, header says ${l.columns}x${l.rows}`,
      path,
    );
  }
  const bytes = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const bitsStored = Math.min(l.bitsStored, img.precision);
  unpackSamples(
    bytes,
    0,
    {
      ...l,
      bitsAllocated: 16,
      bitsStored,
      highBit: bitsStored - 1,
      planar: false,
      bigEndian: !HOST_LITTLE_ENDIAN,
    },
    out,
  );
}

/** One JPEG baseline / extended (8-bit) frame decoded with sharp into `out`. */
async function decodeJpegFrame(
  jpeg: Uint8Array,
  frame: number,
  l: { rows: number; columns: number; channels: number },
  out: Float32Array,
  path: string,
): Promise<void> {
  const precision = jpegPrecision(jpeg);
  if (precision !== undefined && precision !== 8) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM JPEG frame ${frame} holds ${precision}-bit samples but BitsAllocated is 8`,
      path,
    );
  }
  // sharp loads on demand: reading native DICOM does not pay for libvips start-up.
  const { default: sharp } = await import('sharp');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(jpeg)
      .toColourspace(l.channels === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM JPEG baseline frame ${frame} does not decode (truncated or corrupt)`,
      path,
    );
  }
  if (raw.info.width !== l.columns || raw.info.height !== l.rows || raw.info.channels !== l.channels) {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM JPEG frame is ${raw.info.width}x${raw.info.height}x${raw.info.channels}, header says ${l.columns}x${l.rows}x${l.channels}`,
      path,
    );
  }
  out.set(raw.data.subarray(0, out.length));
}
