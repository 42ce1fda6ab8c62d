/**
 * NIfTI-1 and NIfTI-2 volumes: single files (`.nii`, `.nii.gz`) and header/image pairs (`.hdr` + `.img`, either
 * gzipped). The header is parsed here (niftiHeader.ts, fixed offsets of both versions); voxels are read with a
 * DataView.
 *
 * Slice convention ("as stored", no reorientation): voxel (i, j, k, t) is stored with i fastest. A slice keeps
 * the stored order of its two remaining axes: the lower-numbered axis runs along columns (x in the image), the
 * higher-numbered along rows (y in the image), index 0 first:
 *   axis 2 (k fixed): width = dim1, height = dim2, pixel (x = i, y = j)
 *   axis 1 (j fixed): width = dim1, height = dim3, pixel (x = i, y = k)
 *   axis 0 (i fixed): width = dim2, height = dim3, pixel (x = j, y = k)
 * For an RAS+ volume (like MNI templates) an axial slice therefore has posterior at the top; `np.rot90` of
 * nibabel's `data[:, :, k]` (anterior at the top) equals this slice flipped upside down.
 *
 * Data range: uint8/int8 -> 255; other integer types -> the datatype's full range (uint16/int16 65535,
 * uint32/int32 2^32 - 1), as scikit-image does for integer arrays, with a warning naming the slice's actual
 * min..max because MR/CT volumes rarely fill int16 and an inflated L inflates SSIM (pass an explicit data range);
 * float32/float64 -> none (the caller must give one). Samples are the stored values; `scl_slope`/`scl_inter` are
 * recorded and applied only with `rescale` (then the range is scaled by |scl_slope|).
 */
import { BlindspotError } from '../errors.ts';
import { parseNiftiHeader, type NiftiHeader } from './niftiHeader.ts';
import { checkPixelCount } from './limits.ts';
import { affineInPlace, assertFinite } from './samples.ts';
import type { Image } from './types.ts';

/** What `decodeNifti` needs from the read options. */
export interface NiftiDecodeOptions {
  /** Slice axis: 0 (i, sagittal in RAS), 1 (j, coronal), 2 (k, axial). */
  axis: 0 | 1 | 2;
  /** Slice index along `axis`; null = the middle slice, floor(n / 2). */
  slice: number | null;
  /** Volume (4th dimension) index. */
  volume: number;
  /** Apply scl_slope/scl_inter (when scl_slope is not 0). */
  rescale: boolean;
}

export interface Datatype {
  name: string;
  bytes: number;
  float: boolean;
  /** Width of the datatype's value range (data range), or null for floats. */
  range: number | null;
  bitDepth: number;
  read: (dv: DataView, offset: number, le: boolean) => number;
}

const DATATYPES: Record<number, Datatype> = {
  [2]: {
    name: 'uint8',
    bytes: 1,
    float: false,
    range: 255,
    bitDepth: 8,
    read: (dv, o) => dv.getUint8(o),
  },
  [256]: {
    name: 'int8',
    bytes: 1,
    float: false,
    range: 255,
    bitDepth: 8,
    read: (dv, o) => dv.getInt8(o),
  },
  [4]: {
    name: 'int16',
    bytes: 2,
    float: false,
    range: 65535,
    bitDepth: 16,
    read: (dv, o, le) => dv.getInt16(o, le),
  },
  [512]: {
    name: 'uint16',
    bytes: 2,
    float: false,
    range: 65535,
    bitDepth: 16,
    read: (dv, o, le) => dv.getUint16(o, le),
  },
  [8]: {
    name: 'int32',
    bytes: 4,
    float: false,
    range: 2 ** 32 - 1,
    bitDepth: 32,
    read: (dv, o, le) => dv.getInt32(o, le),
  },
  [768]: {
    name: 'uint32',
    bytes: 4,
    float: false,
    range: 2 ** 32 - 1,
    bitDepth: 32,
    read: (dv, o, le) => dv.getUint32(o, le),
  },
  [16]: {
    name: 'float32',
    bytes: 4,
    float: true,
    range: null,
    bitDepth: 32,
    read: (dv, o, le) => dv.getFloat32(o, le),
  },
  [64]: {
    name: 'float64',
    bytes: 8,
    float: true,
    range: null,
    bitDepth: 64,
    read: (dv, o, le) => dv.getFloat64(o, le),
  },
};

const DATATYPE_NAMES: Record<number, string> = {
  1: 'binary',
  32: 'complex64',
  128: 'rgb24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32',
};

function rangeError(name: string, n: number, value: unknown, what: string, path: string): BlindspotError {
  return new BlindspotError(
    'E_INVALID_OPTION',
    `invalid ${name}: expected an integer in 0..${n - 1} (${what}), got ${String(value)}`,
    path,
  );
}

/** A NIfTI file opened for slicing: header, datatype, sizes and a view of the voxel bytes. */
export interface NiftiVolume {
  header: NiftiHeader;
  type: Datatype;
  /** nx, ny, nz, nt (missing dimensions are 1). */
  size: [number, number, number, number];
  /** The voxel bytes from voxel 0 (single file after vox_offset, or the .img file of a pair). */
  voxels: DataView;
  path: string;
}

/**
 * Parse a NIfTI-1/2 header and check the voxel data is all there.
 * @param bytes the (already gunzipped) single file, or the .hdr of a pair
 * @param path the file (for messages)
 * @param imageBytes for a .hdr/.img pair: the (gunzipped) .img file
 * @throws BlindspotError E_CORRUPT (header, truncated data), E_UNSUPPORTED (datatype, >4-D, pair without .img).
 */
export function openNifti(bytes: Uint8Array, path: string, imageBytes?: Uint8Array): NiftiVolume {
  const header = parseNiftiHeader(bytes);
  if (header === null) throw new BlindspotError('E_CORRUPT', 'NIfTI header is truncated or corrupt', path);
  const type = DATATYPES[header.datatype];
  if (type === undefined) {
    const name = DATATYPE_NAMES[header.datatype] ?? `code ${header.datatype}`;
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `NIfTI datatype ${name} is not supported (uint8, int8, int16, uint16, int32, uint32, float32, float64)`,
      path,
    );
  }
  const ndim = header.dims[0] ?? 0;
  if (ndim < 2 || ndim > 7)
    throw new BlindspotError('E_CORRUPT', `NIfTI dim[0] = ${ndim} is outside 1..7`, path);
  for (let d = 1; d <= ndim; d++) {
    const v = header.dims[d] ?? 0;
    if (!Number.isInteger(v) || v < 1)
      throw new BlindspotError('E_CORRUPT', `NIfTI dim[${d}] = ${v} is not a positive size`, path);
  }
  const dim = (d: number): number => (d <= ndim ? (header.dims[d] ?? 1) : 1);
  const size: [number, number, number, number] = [dim(1), dim(2), dim(3), dim(4)];
  for (let d = 5; d <= ndim; d++) {
    if (dim(d) > 1)
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `NIfTI with ${ndim} dimensions (dim[${d}] = ${dim(d)}) is not supported (at most 4-D)`,
        path,
      );
  }
  let data = bytes;
  let voxOffset = Math.max(header.version === 1 ? 352 : 544, Math.floor(header.voxOffset));
  if (header.pair) {
    if (imageBytes === undefined) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        'NIfTI .hdr/.img pair: give the .hdr or .img path, both files present',
        path,
      );
    }
    data = imageBytes;
    voxOffset = Math.max(0, Math.floor(header.voxOffset));
  }
  const [nx, ny, nz, nt] = size;
  const need = voxOffset + nx * ny * nz * nt * type.bytes;
  if (data.byteLength < need) {
    throw new BlindspotError(
      'E_CORRUPT',
      `NIfTI data is truncated: ${nx}x${ny}x${nz}x${nt} ${type.name} voxels need ${need} bytes, found ${data.byteLength}`,
      path,
    );
  }
  const voxels = new DataView(data.buffer, data.byteOffset + voxOffset, data.byteLength - voxOffset);
  return { header, type, size, voxels, path };
}

/**
 * One 2-D slice of an opened NIfTI volume (see the slice convention at the top of this file).
 * @param v the volume from `openNifti`
 * @param options axis, slice (null = middle), volume, rescale
 * @throws BlindspotError E_INVALID_OPTION (slice/volume out of range), E_NONFINITE (NaN/Inf in a float slice).
 */
export function niftiSlice(v: NiftiVolume, options: NiftiDecodeOptions): Image {
  const { header, type, path } = v;
  const [nx, ny, nz, nt] = v.size;
  const sizes = [nx, ny, nz] as const;
  const axis = options.axis;
  const n = sizes[axis];
  const slice = options.slice ?? Math.floor(n / 2);
  if (!Number.isInteger(slice) || slice < 0 || slice >= n) {
    throw rangeError('slice', n, options.slice, `axis ${axis} has ${n} slices`, path);
  }
  if (!Number.isInteger(options.volume) || options.volume < 0 || options.volume >= nt) {
    throw rangeError('volume', nt, options.volume, `the file has ${nt} volume${nt === 1 ? '' : 's'}`, path);
  }
  // Strides (in voxels) of the image's x and y within the volume, and the slice's origin.
  const stride = [1, nx, nx * ny] as const;
  const [colAxis, rowAxis] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const width = sizes[colAxis]!;
  const height = sizes[rowAxis]!;
  const xStride = stride[colAxis]! * type.bytes;
  const yStride = stride[rowAxis]! * type.bytes;
  const origin = (slice * stride[axis] + options.volume * nx * ny * nz) * type.bytes;
  const dv = v.voxels;
  const le = header.littleEndian;
  checkPixelCount(width, height, path);
  const data = new Float32Array(width * height);
  let min = Infinity;
  let max = -Infinity;
  for (let y = 0, o = 0; y < height; y++) {
    let p = origin + y * yStride;
    for (let x = 0; x < width; x++, o++, p += xStride) {
      const val = type.read(dv, p, le);
      data[o] = val;
      if (val < min) min = val;
      if (val > max) max = val;
    }
  }
  const meta: Record<string, unknown> = {
    niftiVersion: header.version,
    datatype: type.name,
    dims: [nx, ny, nz, nt].slice(0, Math.max(3, Math.min(header.dims[0] ?? 3, 4))),
    pixdim: header.pixdim.slice(1, 4),
    axis,
    slice,
    volume: options.volume,
    sclSlope: header.sclSlope,
    sclInter: header.sclInter,
    qformCode: header.qformCode,
    sformCode: header.sformCode,
    littleEndian: le,
    orientation: 'stored',
    rescaled: false,
  };
  const warnings: string[] = [];
  let range = type.range;
  if (options.rescale && header.sclSlope !== 0 && Number.isFinite(header.sclSlope)) {
    const s = header.sclSlope;
    const b = Number.isFinite(header.sclInter) ? header.sclInter : 0;
    affineInPlace(data, s, b);
    if (range !== null) range *= Math.abs(s);
    meta.rescaled = true;
  }
  if (type.float) assertFinite(data, width, 1, path);
  if (!type.float && type.bitDepth > 8) {
    warnings.push(
      `${type.name} NIfTI: data range ${range} is the datatype's range; this slice spans ${min}..${max}: give an explicit data range`,
    );
  }
  return {
    width,
    height,
    channels: 1,
    data,
    bitDepth: type.bitDepth,
    isFloat: type.float,
    dataRange: range,
    source: path,
    format: 'nifti',
    meta,
    warnings,
  };
}

/**
 * Decode one 2-D slice of a NIfTI-1/2 volume (`openNifti` then `niftiSlice`).
 * @param bytes the (already gunzipped) file, or the .hdr of a pair
 * @param path the file (for messages)
 * @param options axis (default 2), slice (default middle), volume (default 0), rescale (default false)
 * @param imageBytes for a .hdr/.img pair: the (gunzipped) .img file
 * @throws BlindspotError E_UNSUPPORTED (datatype, >4-D), E_CORRUPT (header, truncated data),
 *   E_INVALID_OPTION (slice/volume out of range), E_NONFINITE (NaN/Inf in a float slice).
 */
export function decodeNifti(
  bytes: Uint8Array,
  path: string,
  options: NiftiDecodeOptions,
  imageBytes?: Uint8Array,
): Image {
  return niftiSlice(openNifti(bytes, path, imageBytes), options);
}
