/**
 * NIfTI-1 slices against independent references: the data set's PNG of ICBM152 axial slice z=104 (made with
 * nibabel + np.rot90), a hand parse of the gunzipped voxel bytes, and synthetic volumes written below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { readImage } from '../../src/image/read.ts';
import { fixture } from '../helpers/cli.ts';
import { rejectsWith } from '../helpers/errors.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-nifti-'));

/** Minimal NIfTI-1 single-file writer: 348-byte header + 4 extension bytes + voxels (i fastest). */
function writeNifti(
  dims: number[],
  datatype: number,
  bitpix: number,
  voxels: ArrayLike<number>,
  opts: { bigEndian?: boolean; slope?: number; inter?: number; gzip?: boolean } = {},
): Buffer {
  const le = !opts.bigEndian;
  const h = Buffer.alloc(352);
  const i32 = (v: number, at: number): number => (le ? h.writeInt32LE(v, at) : h.writeInt32BE(v, at));
  const i16 = (v: number, at: number): number => (le ? h.writeInt16LE(v, at) : h.writeInt16BE(v, at));
  const f32 = (v: number, at: number): number => (le ? h.writeFloatLE(v, at) : h.writeFloatBE(v, at));
  i32(348, 0);
  i16(dims.length, 40);
  dims.forEach((d, k) => i16(d, 42 + 2 * k));
  i16(datatype, 70);
  i16(bitpix, 72);
  for (let k = 0; k < 4; k++) f32(1, 76 + 4 * k); // pixdim
  f32(352, 108); // vox_offset
  f32(opts.slope ?? 1, 112);
  f32(opts.inter ?? 0, 116);
  h.write('n+1\0', 344, 'latin1');
  const bytes = bitpix / 8;
  const body = Buffer.alloc(voxels.length * bytes);
  for (let k = 0; k < voxels.length; k++) {
    const v = voxels[k]!;
    const at = k * bytes;
    if (datatype === 2) body.writeUInt8(v, at);
    else if (datatype === 4) body[le ? 'writeInt16LE' : 'writeInt16BE'](v, at);
    else if (datatype === 512) body[le ? 'writeUInt16LE' : 'writeUInt16BE'](v, at);
    else if (datatype === 8) body[le ? 'writeInt32LE' : 'writeInt32BE'](v, at);
    else if (datatype === 16) body[le ? 'writeFloatLE' : 'writeFloatBE'](v, at);
    else if (datatype === 64) body[le ? 'writeDoubleLE' : 'writeDoubleBE'](v, at);
    else body.writeUInt8(v & 0xff, at);
  }
  const file = Buffer.concat([h, body]);
  return opts.gzip ? gzipSync(file) : file;
}

function writeTmp(name: string, bytes: Buffer): string {
  const p = join(TMP, name);
  writeFileSync(p, bytes);
  return p;
}

test('ICBM152 axial slice z=104 flipped upside down equals mni_t1_axial_z104.png (nibabel rot90) exactly', async () => {
  // The fixture keeps slices 103..105 of the template, so z=104 is slice 1 here (see PROVENANCE.md).
  const img = await readImage(fixture('medical/brain/mni_icbm152_t1_09a_z103-105.nii.gz'), {
    axis: 2,
    slice: 1,
  });
  assert.equal(img.width, 197);
  assert.equal(img.height, 233);
  assert.equal(img.channels, 1);
  assert.equal(img.bitDepth, 8);
  assert.equal(img.dataRange, 255);
  assert.equal(img.meta.datatype, 'uint8');
  assert.deepEqual(img.meta.dims, [197, 233, 3]);
  const { data, info } = await sharp(fixture('medical/brain/mni_t1_axial_z104.png'))
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 197);
  assert.equal(info.height, 233);
  assert.equal(info.channels, 1);
  // np.rot90(vol[:, :, 104]) puts (i, j) at row 232 - j, column i; this slice (as stored) puts it at row j.
  let diff = 0;
  for (let y = 0; y < 233; y++) {
    for (let x = 0; x < 197; x++) if (img.data[y * 197 + x] !== data[(232 - y) * 197 + x]) diff++;
  }
  assert.equal(diff, 0);
  // Not trivially true: the slice is not symmetric top-bottom.
  let asym = 0;
  for (let y = 0; y < 233; y++)
    for (let x = 0; x < 197; x++) if (img.data[y * 197 + x] !== data[y * 197 + x]) asym++;
  assert.ok(asym > 1000);
});

test('nibabel example4d (int16, 128x96x24x2): every axis/slice/volume equals the hand-parsed voxel words', async () => {
  const path = fixture('medical/brain/nibabel_example4d.nii.gz');
  const raw = gunzipSync(readFileSync(path));
  assert.equal(raw.readInt32LE(0), 348);
  const dims = [1, 2, 3, 4].map((k) => raw.readInt16LE(40 + 2 * k));
  assert.deepEqual(dims, [128, 96, 24, 2]); // the manifest's volume dims
  assert.equal(raw.readInt16LE(70), 4); // int16
  const vox = raw.readFloatLE(108);
  const at = (i: number, j: number, k: number, t: number): number =>
    raw.readInt16LE(vox + 2 * (i + 128 * (j + 96 * (k + 24 * t))));
  const mid = await readImage(path);
  assert.equal(mid.meta.slice, 12); // default: the middle slice, floor(24 / 2)
  assert.equal(mid.width, 128);
  assert.equal(mid.height, 96);
  assert.equal(mid.bitDepth, 16);
  assert.equal(mid.dataRange, 65535);
  assert.match(
    mid.warnings[0]!,
    /^int16 NIfTI: data range 65535 is the datatype's range; this slice spans -?\d+\.\.\d+: give an explicit data range$/,
  );
  for (const [axis, slice, volume, w, h] of [
    [2, 5, 1, 128, 96],
    [1, 40, 0, 128, 24],
    [0, 70, 1, 96, 24],
  ] as const) {
    const img = await readImage(path, { axis, slice, volume });
    assert.equal(img.width, w);
    assert.equal(img.height, h);
    let diff = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const ref =
          axis === 2
            ? at(x, y, slice, volume)
            : axis === 1
              ? at(x, slice, y, volume)
              : at(slice, x, y, volume);
        if (img.data[y * w + x] !== ref) diff++;
      }
    }
    assert.equal(diff, 0, `axis ${axis}`);
  }
});

test('synthetic volumes: uint16, int32, float32, float64, big endian and .nii.gz decode to the values written', async () => {
  const vox = Array.from({ length: 4 * 3 * 2 }, (_, k) => k * 3 - 10); // i fastest: 4 x 3 x 2
  const slice1 = vox.slice(12, 24);
  for (const [dt, bitpix, name, range] of [
    [4, 16, 'int16', 65535],
    [8, 32, 'int32', 2 ** 32 - 1],
    [16, 32, 'float32', null],
    [64, 64, 'float64', null],
  ] as const) {
    for (const bigEndian of [false, true]) {
      const p = writeTmp(`v-${name}-${bigEndian}.nii`, writeNifti([4, 3, 2], dt, bitpix, vox, { bigEndian }));
      const img = await readImage(p, { slice: 1 });
      assert.deepEqual([...img.data], slice1, `${name} be=${bigEndian}`);
      assert.equal(img.meta.datatype, name);
      assert.equal(img.dataRange, range);
      assert.equal(img.isFloat, range === null);
    }
  }
  const u16 = writeTmp(
    'u16.nii.gz',
    writeNifti(
      [4, 3, 2],
      512,
      16,
      vox.map((v) => v + 10),
      { gzip: true },
    ),
  );
  const u = await readImage(u16, { axis: 0, slice: 3 });
  // axis 0, i = 3: width = dim2 (j), height = dim3 (k)
  assert.equal(u.width, 3);
  assert.equal(u.height, 2);
  assert.deepEqual(
    [...u.data],
    [3, 7, 11, 15, 19, 23].map((k) => vox[k]! + 10),
  );
});

test('scl_slope/scl_inter are recorded, applied only with rescale, and scale the data range', async () => {
  const p = writeTmp('scl.nii', writeNifti([2, 2, 1], 4, 16, [0, 10, -20, 30], { slope: 0.5, inter: 100 }));
  const stored = await readImage(p);
  assert.deepEqual([...stored.data], [0, 10, -20, 30]);
  assert.equal(stored.meta.sclSlope, 0.5);
  assert.equal(stored.meta.sclInter, 100);
  const r = await readImage(p, { rescale: true });
  assert.deepEqual([...r.data], [100, 105, 90, 115]);
  assert.equal(r.dataRange, 65535 * 0.5);
});

test('NIfTI errors: NaN/Inf, slice and volume out of range, unsupported datatype, truncated, 5-D', async () => {
  const nan = writeTmp('nan.nii', writeNifti([3, 2, 1], 16, 32, [1, 2, NaN, 4, Infinity, 6]));
  await rejectsWith(
    readImage(nan),
    'E_NONFINITE',
    `${nan}: 2 samples are NaN or infinite (first at x=2, y=0)`,
  );
  const ok = writeTmp('ok.nii', writeNifti([3, 2, 4, 2], 2, 8, new Array(48).fill(7)));
  await rejectsWith(
    readImage(ok, { slice: 4 }),
    'E_INVALID_OPTION',
    `${ok}: invalid slice: expected an integer in 0..3 (axis 2 has 4 slices), got 4`,
  );
  await rejectsWith(
    readImage(ok, { axis: 0, slice: 3 }),
    'E_INVALID_OPTION',
    `${ok}: invalid slice: expected an integer in 0..2 (axis 0 has 3 slices), got 3`,
  );
  await rejectsWith(
    readImage(ok, { volume: 2 }),
    'E_INVALID_OPTION',
    `${ok}: invalid volume: expected an integer in 0..1 (the file has 2 volumes), got 2`,
  );
  const cplx = writeTmp('complex.nii', writeNifti([2, 2, 1], 32, 64, new Array(4).fill(0)));
  await rejectsWith(
    readImage(cplx),
    'E_UNSUPPORTED',
    `${cplx}: NIfTI datatype complex64 is not supported (uint8, int8, int16, uint16, int32, uint32, float32, float64)`,
  );
  const full = writeNifti([4, 4, 4], 4, 16, new Array(64).fill(1));
  const cut = writeTmp('cut.nii', full.subarray(0, full.length - 10));
  await rejectsWith(
    readImage(cut),
    'E_CORRUPT',
    `${cut}: NIfTI data is truncated: 4x4x4x1 int16 voxels need 480 bytes, found 470`,
  );
  const five = writeTmp('five.nii', writeNifti([2, 2, 1, 1, 3], 2, 8, new Array(12).fill(0)));
  await rejectsWith(
    readImage(five),
    'E_UNSUPPORTED',
    `${five}: NIfTI with 5 dimensions (dim[5] = 3) is not supported (at most 4-D)`,
  );
  const gz = gzipSync(writeNifti([2, 2, 1], 2, 8, [1, 2, 3, 4]));
  const badGz = writeTmp('bad.nii.gz', gz.subarray(0, gz.length - 8));
  await rejectsWith(readImage(badGz), 'E_CORRUPT', `${badGz}: gzip data is truncated or corrupt`);
});
