/**
 * `readVolume`: a stack of grey slices from a DICOM series folder, a multi-frame DICOM file, a NIfTI-1/2 volume
 * (one 3-D volume of a 4-D file, sliced along a chosen axis) or, as a one-slice volume, any 2-D image.
 *
 * DICOM series: every file of the folder whose content is DICOM (other files are skipped with a warning). The
 * slices must share SeriesInstanceUID, size and ImageOrientationPatient (else E_UNSUPPORTED naming what differs);
 * they are sorted by ImagePositionPatient projected on the slice normal (row cosines x column cosines), or by
 * InstanceNumber when a slice lacks position or orientation. Multi-frame files keep their stored frame order
 * (per-frame functional groups are not read).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BlindspotError, invalidOption, mergeOptions } from '../errors.ts';
import { checkPixelCount } from '../image/limits.ts';
import { companion, gunzip, readImage } from '../image/read.ts';
import { isGzip, sniffFormat } from '../image/sniff.ts';
import type { Image } from '../image/types.ts';

/** A stack of grey slices, slice-major: voxel (x, y, k) is `data[(k * height + y) * width + x]`. */
export interface Volume {
  width: number;
  height: number;
  /** Number of slices. */
  depth: number;
  data: Float32Array;
  bitDepth: number;
  isFloat: boolean;
  /** Data range of the samples (as `Image.dataRange`): the largest of the slices'. */
  dataRange: number | null;
  /** The folder or file read. */
  source: string;
  kind: 'dicom-series' | 'dicom-multiframe' | 'nifti' | 'image';
  /** Where each slice came from, in volume order. */
  slices: VolumeSliceInfo[];
  /** Voxel size (x, y, slice step) in mm when known. */
  spacing: [number, number, number] | null;
  meta: Record<string, unknown>;
  warnings: string[];
}

/** Provenance of one slice. */
export interface VolumeSliceInfo {
  source: string;
  /** DICOM: ImagePositionPatient projected on the slice normal (mm). */
  position?: number;
  instanceNumber?: number;
  /** Multi-frame DICOM: the frame; NIfTI: the index along the axis. */
  index?: number;
}

/** Options of `readVolume`. */
export interface ReadVolumeOptions {
  /** NIfTI: the axis slices are taken across (0 = i, 1 = j, 2 = k). Default 2. */
  axis: 0 | 1 | 2;
  /** NIfTI 4-D: the volume index. Default 0. */
  volume: number;
  /** DICOM RescaleSlope/Intercept (each slice its own) or NIfTI scl_slope/scl_inter. Default false. */
  rescale: boolean;
}

/** Defaults of `readVolume`. */
export const DEFAULT_READ_VOLUME_OPTIONS: Readonly<ReadVolumeOptions> = Object.freeze({
  axis: 2,
  volume: 0,
  rescale: false,
});

/**
 * Merge and check `readVolume` options.
 * @throws BlindspotError E_INVALID_OPTION.
 */
export function resolveReadVolumeOptions(partial?: Partial<ReadVolumeOptions>): ReadVolumeOptions {
  const o = mergeOptions(DEFAULT_READ_VOLUME_OPTIONS, partial, 'readVolume');
  if (o.axis !== 0 && o.axis !== 1 && o.axis !== 2)
    throw invalidOption('axis', '0, 1 or 2 (default 2)', o.axis);
  if (!Number.isInteger(o.volume) || o.volume < 0)
    throw invalidOption('volume', 'an integer >= 0 (default 0)', o.volume);
  if (typeof o.rescale !== 'boolean')
    throw invalidOption('rescale', 'true or false (default false)', o.rescale);
  return o;
}

/**
 * Read a volume (see the file comment for the sources and the slice order).
 * @param path a DICOM series folder, or a multi-frame DICOM / NIfTI / 2-D image file
 * @param options axis (default 2), volume (default 0), rescale (default false)
 * @throws BlindspotError E_UNSUPPORTED (mixed series, colour slices), E_EMPTY (no DICOM in the folder), and the
 *   errors of `readImage`.
 * @example
 * const ct = await readVolume('series/', { rescale: true }); // Hounsfield units, slices in spatial order
 */
export async function readVolume(path: string, options?: Partial<ReadVolumeOptions>): Promise<Volume> {
  const o = resolveReadVolumeOptions(options);
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    // readImage reports a missing file in the usual words
  }
  if (isDir) return readDicomSeries(path, o.rescale);
  const bytes = await readFile(path).catch(() => undefined);
  if (bytes !== undefined) {
    const content = isGzip(bytes) ? gunzip(bytes, path) : bytes;
    const head = sniffFormat(bytes, content);
    if (head.kind === 'image' && head.format === 'dicom') return readMultiFrame(bytes, path, o.rescale);
    if (head.kind === 'image' && head.format === 'nifti')
      return readNiftiVolume(content, path, head.pair === true, o);
  }
  // A 2-D image (or the .img half of a NIfTI pair, or an error worded by readImage).
  const img = await readImage(path, { rescale: o.rescale });
  if (img.format === 'nifti') {
    const hdr = await readFile(img.source);
    return readNiftiVolume(isGzip(hdr) ? gunzip(hdr, img.source) : hdr, img.source, true, o);
  }
  return stackImages([img], path, 'image', [{ source: path }], null);
}

/** One volume from same-size grey slices (copied), with provenance; data range = the largest slice range. */
export function stackImages(
  images: Image[],
  source: string,
  kind: Volume['kind'],
  slices: VolumeSliceInfo[],
  spacing: Volume['spacing'],
): Volume {
  const first = images[0];
  if (first === undefined) throw new BlindspotError('E_EMPTY', 'no slices', source);
  const plane = first.width * first.height;
  const data = new Float32Array(plane * images.length);
  let dataRange: number | null = first.dataRange;
  const warnings = new Set<string>();
  images.forEach((img, k) => {
    if (img.channels !== 1) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `volumes hold grey slices; this slice has ${img.channels} channels`,
        img.source,
      );
    }
    if (img.width !== first.width || img.height !== first.height) {
      throw new BlindspotError(
        'E_SIZE_MISMATCH',
        `slice is ${img.width}x${img.height}, the first slice is ${first.width}x${first.height}`,
        img.source,
      );
    }
    data.set(img.data, k * plane);
    if (img.dataRange === null || dataRange === null) dataRange = null;
    else dataRange = Math.max(dataRange, img.dataRange);
    for (const w of img.warnings) warnings.add(w);
  });
  return {
    width: first.width,
    height: first.height,
    depth: images.length,
    data,
    bitDepth: first.bitDepth,
    isFloat: first.isFloat,
    dataRange,
    source,
    kind,
    slices,
    spacing,
    meta: { ...first.meta },
    warnings: [...warnings],
  };
}

/**
 * Slice k of a volume as an `Image` (a view on the volume's samples, no copy).
 * @throws BlindspotError E_INVALID_OPTION when k is outside 0..depth-1.
 */
export function volumeSlice(v: Volume, k: number): Image {
  if (!Number.isInteger(k) || k < 0 || k >= v.depth) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `invalid slice: expected an integer in 0..${v.depth - 1} (the volume has ${v.depth} slices), got ${k}`,
      v.source,
    );
  }
  const plane = v.width * v.height;
  const info = v.slices[k];
  return {
    width: v.width,
    height: v.height,
    channels: 1,
    data: v.data.subarray(k * plane, (k + 1) * plane),
    bitDepth: v.bitDepth,
    isFloat: v.isFloat,
    dataRange: v.dataRange,
    source: info?.source ?? v.source,
    format: v.kind === 'nifti' ? 'nifti' : v.kind === 'image' ? 'raw' : 'dicom',
    meta: { ...v.meta, volumeSlice: k },
    warnings: [],
  };
}

async function readMultiFrame(bytes: Buffer, path: string, rescale: boolean): Promise<Volume> {
  const { openDicom, decodeDicomFrame } = await import('../image/dicom.ts');
  const h = openDicom(bytes, path, true);
  checkPixelCount(h.columns, h.rows, path, h.frames);
  const images: Image[] = [];
  for (let f = 0; f < h.frames; f++) images.push(await decodeDicomFrame(h, f, rescale));
  const ps = h.meta.pixelSpacing as number[] | undefined;
  const spacing: Volume['spacing'] =
    ps !== undefined && ps.length >= 2 ? [ps[1]!, ps[0]!, Number(h.meta.sliceThickness ?? NaN)] : null;
  const slices = images.map((_, f) => ({ source: path, index: f }));
  return stackImages(images, path, 'dicom-multiframe', slices, spacing);
}

async function readNiftiVolume(
  content: Buffer,
  path: string,
  pair: boolean,
  o: ReadVolumeOptions,
): Promise<Volume> {
  const { openNifti, niftiSlice } = await import('../image/nifti.ts');
  let voxels: Buffer | undefined;
  if (pair) {
    const img = await companion(path, 'img');
    if (img === undefined)
      throw new BlindspotError('E_UNREADABLE', 'NIfTI .hdr/.img pair: the .img file is missing', path);
    voxels = isGzip(img.bytes) ? gunzip(img.bytes, img.path) : img.bytes;
  }
  const nv = openNifti(content, path, voxels);
  const n = nv.size[o.axis];
  const slice = (k: number): Image =>
    niftiSlice(nv, { axis: o.axis, slice: k, volume: o.volume, rescale: o.rescale });
  const first = slice(0);
  checkPixelCount(first.width, first.height, path, n);
  const images = [first];
  for (let k = 1; k < n; k++) images.push(slice(k));
  const pix = first.meta.pixdim as number[];
  const [cx, cy] = o.axis === 0 ? [1, 2] : o.axis === 1 ? [0, 2] : [0, 1];
  const v = stackImages(
    images,
    path,
    'nifti',
    images.map((_, k) => ({ source: path, index: k })),
    [pix[cx]!, pix[cy]!, pix[o.axis]!],
  );
  // One volume-level remark instead of one per slice (integer NIfTI data range).
  v.warnings = v.warnings.filter((w) => !w.includes('this slice spans'));
  if (!first.isFloat && first.bitDepth > 8) {
    let min = Infinity;
    let max = -Infinity;
    for (const x of v.data) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    v.warnings.push(
      `${String(first.meta.datatype)} NIfTI: data range ${v.dataRange} is the datatype's range; this volume spans ${min}..${max}: give an explicit data range`,
    );
  }
  return v;
}

/** Facts of one series file used to check and sort the series. */
interface SeriesEntry {
  file: string;
  series: string | undefined;
  size: string;
  frames: number;
  orientation: number[] | undefined;
  position: number[] | undefined;
  instance: number | undefined;
  header: import('../image/dicom.ts').DicomHeader;
}

async function readDicomSeries(dir: string, rescale: boolean): Promise<Volume> {
  const { openDicom, decodeDicomFrame } = await import('../image/dicom.ts');
  const names = (await readdir(dir)).sort();
  const entries: SeriesEntry[] = [];
  let skipped = 0;
  for (const name of names) {
    const file = join(dir, name);
    const st = await stat(file);
    if (!st.isFile()) continue;
    const bytes = await readFile(file);
    const s = sniffFormat(bytes);
    if (!(s.kind === 'image' && s.format === 'dicom')) {
      skipped++;
      continue;
    }
    let header;
    try {
      header = openDicom(bytes, file, true);
    } catch (e) {
      // DICOMDIR and other non-image objects in an export folder.
      if (e instanceof BlindspotError && e.message.endsWith('not an image')) {
        skipped++;
        continue;
      }
      throw e;
    }
    const m = header.meta;
    entries.push({
      file,
      series: m.seriesInstanceUID as string | undefined,
      size: `${header.columns}x${header.rows}`,
      frames: header.frames,
      orientation: m.imageOrientationPatient as number[] | undefined,
      position: m.imagePositionPatient as number[] | undefined,
      instance: m.instanceNumber as number | undefined,
      header,
    });
  }
  if (entries.length === 0) throw new BlindspotError('E_EMPTY', 'folder holds no DICOM image files', dir);
  checkOneSeries(entries, dir);
  const { order, positions, sortedBy } = sliceOrder(entries);
  checkPixelCount(entries[0]!.header.columns, entries[0]!.header.rows, dir, entries.length);
  const images: Image[] = [];
  for (const i of order) images.push(await decodeDicomFrame(entries[i]!.header, 0, rescale));
  const slices: VolumeSliceInfo[] = order.map((i) => {
    const e = entries[i]!;
    const info: VolumeSliceInfo = { source: e.file };
    if (positions !== null) info.position = positions[i]!;
    if (e.instance !== undefined) info.instanceNumber = e.instance;
    return info;
  });
  const ps = entries[0]!.header.meta.pixelSpacing as number[] | undefined;
  let step = NaN;
  if (positions !== null && order.length > 1) {
    const p = order.map((i) => positions[i]!);
    step = (p[p.length - 1]! - p[0]!) / (p.length - 1);
  }
  const spacing: Volume['spacing'] = ps !== undefined && ps.length >= 2 ? [ps[1]!, ps[0]!, step] : null;
  const v = stackImages(images, dir, 'dicom-series', slices, spacing);
  v.meta = { ...v.meta, sortedBy, files: entries.length };
  delete v.meta.instanceNumber;
  delete v.meta.imagePositionPatient;
  if (skipped > 0) v.warnings.push(`${skipped} file(s) in the folder are not DICOM images and were skipped`);
  return v;
}

/** Refuse a folder that mixes series, sizes, orientations or holds multi-frame files (one line each). */
function checkOneSeries(entries: SeriesEntry[], dir: string): void {
  const differ = (what: string, key: (e: SeriesEntry) => string): void => {
    const counts = new Map<string, number>();
    for (const e of entries) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
    if (counts.size > 1) {
      const list = [...counts].map(([k, n]) => `${k} (${n} file${n === 1 ? '' : 's'})`).join(', ');
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `DICOM series folder mixes ${counts.size} ${what}: ${list}; give one series per folder`,
        dir,
      );
    }
  };
  differ('series', (e) => `SeriesInstanceUID ${e.series ?? '(none)'}`);
  differ('image sizes', (e) => e.size);
  differ('slice orientations', (e) =>
    e.orientation === undefined ? 'no orientation' : e.orientation.map((x) => x.toFixed(4)).join('\\'),
  );
  const multi = entries.find((e) => e.frames > 1);
  if (multi !== undefined) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `DICOM series folder holds a ${multi.frames}-frame file (${multi.file}); give a multi-frame file on its own`,
      dir,
    );
  }
}

/**
 * Slice order: by position along the normal when every slice has ImagePositionPatient and
 * ImageOrientationPatient, else by InstanceNumber, else by file name.
 */
function sliceOrder(entries: SeriesEntry[]): {
  order: number[];
  positions: number[] | null;
  sortedBy: 'position' | 'instanceNumber' | 'fileName';
} {
  const idx = entries.map((_, i) => i);
  const geometric = entries.every((e) => e.position?.length === 3 && e.orientation?.length === 6);
  if (geometric) {
    const o = entries[0]!.orientation!;
    const normal = [
      o[1]! * o[5]! - o[2]! * o[4]!,
      o[2]! * o[3]! - o[0]! * o[5]!,
      o[0]! * o[4]! - o[1]! * o[3]!,
    ];
    const positions = entries.map((e) => e.position!.reduce((s, x, i) => s + x * normal[i]!, 0));
    idx.sort((a, b) => positions[a]! - positions[b]!);
    for (let i = 1; i < idx.length; i++) {
      if (Math.abs(positions[idx[i]!]! - positions[idx[i - 1]!]!) < 1e-6) {
        throw new BlindspotError(
          'E_UNSUPPORTED',
          `DICOM series has two slices at the same position ${positions[idx[i]!]!.toFixed(3)} mm: ${entries[idx[i - 1]!]!.file} and ${entries[idx[i]!]!.file}`,
        );
      }
    }
    return { order: idx, positions, sortedBy: 'position' };
  }
  if (entries.every((e) => e.instance !== undefined)) {
    idx.sort((a, b) => entries[a]!.instance! - entries[b]!.instance!);
    return { order: idx, positions: null, sortedBy: 'instanceNumber' };
  }
  return { order: idx, positions: null, sortedBy: 'fileName' };
}
