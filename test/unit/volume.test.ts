/**
 * Volumes: a DICOM series written here in shuffled file order is assembled in spatial order (and by
 * InstanceNumber without positions); mixed series are refused; NIfTI-2 (single file and .hdr/.img pair) written
 * here round-trips; per-volume SSIM equals the mean of per-slice SSIMs computed one by one, a volume against
 * itself scores 1, and 3-D SSIM equals a plain triple-loop reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readImage } from '../../src/image/read.ts';
import { ssim } from '../../src/ssim/ssim.ts';
import { gaussianTaps } from '../../src/ssim/window.ts';
import { readVolume, volumeSlice, volumeSsim, type Volume } from '../../src/volume/index.ts';
import { rejectsWith } from '../helpers/errors.ts';
import { greyImageElements, writeDicomFile, type DicomElement } from '../helpers/dicom.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-volume-'));

/** Deterministic pseudo-random integers (LCG), so the test data is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface SliceSpec {
  values: number[];
  position?: number[];
  instance?: number;
  series?: string;
  rows?: number;
}

const COLS = 8;
const ROWS = 6;
// Oblique slices: rows along x, columns along (0, 0.8, -0.6); normal = row x col = (0, 0.6, 0.8).
const ORIENTATION = [1, 0, 0, 0, 0.8, -0.6];
const NORMAL = [0, 0.6, 0.8];

function writeSlice(dir: string, name: string, s: SliceSpec): void {
  const rows = s.rows ?? ROWS;
  const px = Buffer.alloc(2 * rows * COLS);
  for (let i = 0; i < rows * COLS; i++) px.writeUInt16LE(s.values[i % s.values.length]!, 2 * i);
  const els: DicomElement[] = [
    ...greyImageElements({ rows, columns: COLS, bitsAllocated: 16, bitsStored: 12, signed: false }),
    { tag: 0x0020000e, vr: 'UI', value: s.series ?? '1.2.3.4.5' },
    { tag: 0x00200037, vr: 'DS', value: ORIENTATION },
    { tag: 0x00280030, vr: 'DS', value: [0.5, 0.75] },
    { tag: 0x7fe00010, vr: 'OW', value: px },
  ];
  if (s.position) els.push({ tag: 0x00200032, vr: 'DS', value: s.position });
  if (s.instance !== undefined) els.push({ tag: 0x00200013, vr: 'IS', value: s.instance });
  writeFileSync(join(dir, name), writeDicomFile(els, '1.2.840.10008.1.2.1'));
}

/** Slice k: every sample is 100 k + its pixel index (so order and content are both checked). */
const sliceValues = (k: number): number[] => Array.from({ length: ROWS * COLS }, (_, i) => 100 * k + i);

test('a DICOM series written in shuffled file order is assembled in spatial order', async () => {
  const dir = join(TMP, 'series');
  mkdirSync(dir);
  const n = 7;
  const origin = [-10, 20, 5];
  const rand = lcg(7);
  const names = Array.from({ length: n }, (_, k) => ({ k, key: rand() })).sort((a, b) => a.key - b.key);
  names.forEach(({ k }, fileIdx) => {
    const position = origin.map((o, i) => o + 2.5 * k * NORMAL[i]!);
    // InstanceNumbers deliberately disagree with space: the position must win.
    writeSlice(dir, `IM${String(fileIdx).padStart(4, '0')}.dcm`, {
      values: sliceValues(k),
      position,
      instance: n - k,
    });
  });
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  const v = await readVolume(dir);
  assert.deepEqual(
    [v.width, v.height, v.depth, v.kind, v.meta.sortedBy],
    [COLS, ROWS, n, 'dicom-series', 'position'],
  );
  for (let k = 0; k < n; k++) assert.deepEqual([...volumeSlice(v, k).data], sliceValues(k), `slice ${k}`);
  const base = origin.reduce((s, o, i) => s + o * NORMAL[i]!, 0);
  v.slices.forEach((s, k) => assert.ok(Math.abs(s.position! - (base + 2.5 * k)) < 1e-9));
  assert.deepEqual(
    v.spacing?.map((x) => Number(x.toFixed(9))),
    [0.75, 0.5, 2.5],
  );
  assert.equal(v.dataRange, 4095);
  assert.ok(v.warnings.some((w) => w.startsWith('1 file(s) in the folder are not DICOM')));
});

test('without ImagePositionPatient the series is sorted by InstanceNumber', async () => {
  const dir = join(TMP, 'by-instance');
  mkdirSync(dir);
  [3, 0, 4, 1, 2].forEach((k, fileIdx) =>
    writeSlice(dir, `f${fileIdx}.dcm`, { values: sliceValues(k), instance: 10 + k }),
  );
  const v = await readVolume(dir);
  assert.equal(v.meta.sortedBy, 'instanceNumber');
  for (let k = 0; k < 5; k++) assert.deepEqual([...volumeSlice(v, k).data], sliceValues(k));
});

test('mixed series (SeriesInstanceUID, size) and duplicate positions are refused with one line', async () => {
  const mixed = join(TMP, 'mixed');
  mkdirSync(mixed);
  writeSlice(mixed, 'a.dcm', { values: [1], position: [0, 0, 0], series: '1.2.3' });
  writeSlice(mixed, 'b.dcm', { values: [1], position: [0, 0, 1], series: '1.2.3' });
  writeSlice(mixed, 'c.dcm', { values: [1], position: [0, 0, 2], series: '1.2.4' });
  await rejectsWith(
    readVolume(mixed),
    'E_UNSUPPORTED',
    `${mixed}: DICOM series folder mixes 2 series: SeriesInstanceUID 1.2.3 (2 files), SeriesInstanceUID 1.2.4 (1 file); give one series per folder`,
  );
  const sizes = join(TMP, 'sizes');
  mkdirSync(sizes);
  writeSlice(sizes, 'a.dcm', { values: [1], position: [0, 0, 0] });
  writeSlice(sizes, 'b.dcm', { values: [1], position: [0, 0, 1], rows: 5 });
  await rejectsWith(
    readVolume(sizes),
    'E_UNSUPPORTED',
    `${sizes}: DICOM series folder mixes 2 image sizes: 8x6 (1 file), 8x5 (1 file); give one series per folder`,
  );
  const dup = join(TMP, 'dup');
  mkdirSync(dup);
  writeSlice(dup, 'a.dcm', { values: [1], position: [0, 0, 0] });
  writeSlice(dup, 'b.dcm', { values: [2], position: [0, 0, 0] });
  await rejectsWith(
    readVolume(dup),
    'E_UNSUPPORTED',
    `DICOM series has two slices at the same position 0.000 mm: ${join(dup, 'a.dcm')} and ${join(dup, 'b.dcm')}`,
  );
  const empty = join(TMP, 'empty');
  mkdirSync(empty);
  await rejectsWith(readVolume(empty), 'E_EMPTY', `${empty}: folder holds no DICOM image files`);
});

test('a multi-frame DICOM file is a volume of its frames in stored order', async () => {
  const frames = 4;
  const px = Buffer.alloc(2 * ROWS * COLS * frames);
  for (let f = 0; f < frames; f++)
    sliceValues(f).forEach((v, i) => px.writeUInt16LE(v, 2 * (f * ROWS * COLS + i)));
  const p = join(TMP, 'multi.dcm');
  writeFileSync(
    p,
    writeDicomFile(
      [
        ...greyImageElements({
          rows: ROWS,
          columns: COLS,
          bitsAllocated: 16,
          bitsStored: 16,
          signed: false,
          frames,
        }),
        { tag: 0x7fe00010, vr: 'OW', value: px },
      ],
      '1.2.840.10008.1.2.1',
    ),
  );
  const v = await readVolume(p);
  assert.deepEqual([v.depth, v.kind], [frames, 'dicom-multiframe']);
  for (let f = 0; f < frames; f++) assert.deepEqual([...volumeSlice(v, f).data], sliceValues(f));
});

/** NIfTI-2 writer (nifti2.h offsets): 540-byte header, 4 extension bytes, int16 voxels, i fastest. */
function nifti2(
  dims: number[],
  voxels: number[],
  opts: { pair?: boolean; bigEndian?: boolean; slope?: number } = {},
): Buffer[] {
  const le = !opts.bigEndian;
  const h = Buffer.alloc(544);
  const i64 = (v: number, at: number): number =>
    le ? h.writeBigInt64LE(BigInt(v), at) : h.writeBigInt64BE(BigInt(v), at);
  const f64 = (v: number, at: number): number => (le ? h.writeDoubleLE(v, at) : h.writeDoubleBE(v, at));
  if (le) h.writeInt32LE(540, 0);
  else h.writeInt32BE(540, 0);
  h.write(opts.pair ? 'ni2\0\r\n\x1a\n' : 'n+2\0\r\n\x1a\n', 4, 'latin1');
  if (le) h.writeInt16LE(4, 12);
  else h.writeInt16BE(4, 12); // int16
  if (le) h.writeInt16LE(16, 14);
  else h.writeInt16BE(16, 14);
  i64(dims.length, 16);
  dims.forEach((d, k) => i64(d, 24 + 8 * k));
  [1, 0.9, 1.1, 2.2].forEach((p, k) => f64(p, 104 + 8 * k)); // pixdim[0..3]
  i64(opts.pair ? 0 : 544, 168);
  f64(opts.slope ?? 1, 176);
  f64(0, 184);
  const body = Buffer.alloc(2 * voxels.length);
  voxels.forEach((v, i) => (le ? body.writeInt16LE(v, 2 * i) : body.writeInt16BE(v, 2 * i)));
  return opts.pair ? [h.subarray(0, 540), body] : [Buffer.concat([h, body])];
}

test('NIfTI-2 written here round-trips: single file, gzip, big endian, .hdr/.img pair; 4-D volume choice', async () => {
  const [nx, ny, nz, nt] = [5, 4, 3, 2];
  const rand = lcg(3);
  const vox = Array.from({ length: nx * ny * nz * nt }, () => Math.floor(rand() * 60000) - 30000);
  const at = (i: number, j: number, k: number, t: number): number => vox[((t * nz + k) * ny + j) * nx + i]!;
  const single = join(TMP, 'v2.nii');
  writeFileSync(single, nifti2([nx, ny, nz, nt], vox)[0]!);
  writeFileSync(join(TMP, 'v2.nii.gz'), gzipSync(nifti2([nx, ny, nz, nt], vox)[0]!));
  writeFileSync(join(TMP, 'v2be.nii'), nifti2([nx, ny, nz, nt], vox, { bigEndian: true })[0]!);
  const [hdr, img] = nifti2([nx, ny, nz, nt], vox, { pair: true });
  writeFileSync(join(TMP, 'pair2.hdr'), hdr!);
  writeFileSync(join(TMP, 'pair2.img'), img!);
  for (const name of ['v2.nii', 'v2.nii.gz', 'v2be.nii', 'pair2.hdr', 'pair2.img']) {
    const p = join(TMP, name);
    const s = await readImage(p, { axis: 2, slice: 1, volume: 1 });
    assert.equal(s.meta.niftiVersion, 2, name);
    assert.deepEqual([s.width, s.height], [nx, ny]);
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) assert.equal(s.data[j * nx + i], at(i, j, 1, 1), name);
    const v = await readVolume(p, { axis: 0, volume: 1 });
    assert.deepEqual([v.width, v.height, v.depth, v.kind], [ny, nz, nx, 'nifti'], name);
    for (let i = 0; i < nx; i++) {
      const sl = volumeSlice(v, i).data;
      for (let k = 0; k < nz; k++)
        for (let j = 0; j < ny; j++) assert.equal(sl[k * ny + j], at(i, j, k, 1), name);
    }
    assert.deepEqual(
      v.spacing!.map((x) => Number(x.toFixed(6))),
      [1.1, 2.2, 0.9],
    );
  }
});

/** Plain 3-D SSIM: the full 11x11x11 Gaussian window summed directly at every valid position. */
function ssim3dReference(a: Volume, b: Volume, L: number): number {
  const g = gaussianTaps(11, 1.5);
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const { width: w, height: h, depth: d } = a;
  let sum = 0;
  let count = 0;
  for (let z = 0; z + 11 <= d; z++)
    for (let y = 0; y + 11 <= h; y++)
      for (let x = 0; x + 11 <= w; x++) {
        let mx = 0,
          my = 0,
          mxx = 0,
          myy = 0,
          mxy = 0;
        for (let k = 0; k < 11; k++)
          for (let j = 0; j < 11; j++)
            for (let i = 0; i < 11; i++) {
              const wt = g[k]! * g[j]! * g[i]!;
              const idx = ((z + k) * h + (y + j)) * w + (x + i);
              const p = a.data[idx]!;
              const q = b.data[idx]!;
              mx += wt * p;
              my += wt * q;
              mxx += wt * p * p;
              myy += wt * q * q;
              mxy += wt * p * q;
            }
        const vx = mxx - mx * mx;
        const vy = myy - my * my;
        const cxy = mxy - mx * my;
        sum += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
        count++;
      }
  return sum / count;
}

test('per-volume SSIM: the mean of per-slice SSIMs read one by one; 1 against itself; 3-D SSIM = plain reference', async () => {
  const [nx, ny, nz] = [16, 14, 12];
  const rand = lcg(11);
  const gtVox = Array.from({ length: nx * ny * nz }, (_, i) =>
    Math.round(1000 + 800 * Math.sin(i / 37) + 200 * rand()),
  );
  const testVox = gtVox.map((v) => v + Math.round(150 * (rand() - 0.5)));
  const gtPath = join(TMP, 'gt.nii');
  const testPath = join(TMP, 'test.nii');
  writeFileSync(gtPath, nifti2([nx, ny, nz], gtVox)[0]!);
  writeFileSync(testPath, nifti2([nx, ny, nz], testVox)[0]!);
  const gt = await readVolume(gtPath);
  const tv = await readVolume(testPath);
  const L = 4095;
  const r = volumeSsim(gt, tv, { dataRange: L, ssim3d: true });
  let sum = 0;
  for (let k = 0; k < nz; k++) {
    const one = ssim(await readImage(gtPath, { slice: k }), await readImage(testPath, { slice: k }), {
      dataRange: L,
      msssim: false,
    });
    assert.equal(r.slices[k]!.mssim, one.mssim);
    sum += one.mssim;
  }
  assert.ok(Math.abs(r.mssim - sum / nz) < 1e-15, `${r.mssim} vs ${sum / nz}`);
  assert.ok(r.mssim < 0.999);
  assert.ok(Math.abs(r.ssim3d! - ssim3dReference(gt, tv, L)) < 1e-12, `${r.ssim3d} vs reference`);
  const self = volumeSsim(gt, gt, { dataRange: L, ssim3d: true });
  assert.equal(self.mssim, 1);
  assert.ok(Math.abs(self.ssim3d! - 1) < 1e-15);
  assert.equal(self.psnr, Infinity);
  for (const s of self.slices) assert.equal(s.mssim, 1);
});
