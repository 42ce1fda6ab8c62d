/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers, read at the fixed offsets of nifti1.h / nifti2.h. Byte order
 * comes from `sizeof_hdr` (348 or 540 in one order or the other). NIfTI-2 widens dim/vox_offset to int64 and
 * pixdim/scl_* to float64; both have a single-file magic (`n+1`, `n+2`) and a pair magic (`ni1`, `ni2`: the voxels
 * are in a separate `.img` file).
 */

/** The header fields the readers use. */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** True for a .hdr/.img pair (magic ni1 / ni2): voxels live in the .img file from `voxOffset`. */
  pair: boolean;
  /** dim[0..7]: dim[0] is the number of dimensions. */
  dims: number[];
  datatype: number;
  bitpix: number;
  /** pixdim[0..7] (pixdim[0] is qfac). */
  pixdim: number[];
  /** Byte offset of the first voxel (in the single file, or in the .img file of a pair). */
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** sform rows (srow_x, srow_y, srow_z). */
  srow: number[][];
}

/**
 * Parse a NIfTI-1 or NIfTI-2 header.
 * @param bytes the file (or at least its header)
 * @returns the header, or null when the bytes are not a NIfTI header (size or magic wrong, too short)
 */
export function parseNiftiHeader(bytes: Uint8Array): NiftiHeader | null {
  if (bytes.length < 348) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = dv.getInt32(0, true);
  const sizeBE = dv.getInt32(0, false);
  const size = sizeLE === 348 || sizeLE === 540 ? sizeLE : sizeBE;
  const le = size === sizeLE;
  const ascii = (at: number, n: number): string => String.fromCharCode(...bytes.subarray(at, at + n));
  if (size === 348) {
    const magic = ascii(344, 4);
    if (magic !== 'n+1\0' && magic !== 'ni1\0') return null;
    const i16 = (at: number): number => dv.getInt16(at, le);
    const f32 = (at: number): number => dv.getFloat32(at, le);
    return {
      version: 1,
      littleEndian: le,
      pair: magic === 'ni1\0',
      dims: Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k)),
      datatype: i16(70),
      bitpix: i16(72),
      pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      qformCode: i16(252),
      sformCode: i16(254),
      srow: [0, 1, 2].map((r) => Array.from({ length: 4 }, (_, k) => f32(280 + 16 * r + 4 * k))),
    };
  }
  if (size !== 540 || bytes.length < 540) return null;
  const magic = ascii(4, 4);
  if (magic !== 'n+2\0' && magic !== 'ni2\0') return null;
  const i64 = (at: number): number => Number(dv.getBigInt64(at, le));
  const f64 = (at: number): number => dv.getFloat64(at, le);
  return {
    version: 2,
    littleEndian: le,
    pair: magic === 'ni2\0',
    dims: Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k)),
    datatype: dv.getInt16(12, le),
    bitpix: dv.getInt16(14, le),
    pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    qformCode: dv.getInt32(344, le),
    sformCode: dv.getInt32(348, le),
    srow: [0, 1, 2].map((r) => Array.from({ length: 4 }, (_, k) => f64(400 + 32 * r + 8 * k))),
  };
}
