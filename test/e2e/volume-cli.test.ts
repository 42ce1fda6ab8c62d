/**
 * The image flags and the volume forms through the CLI: --frame on a compressed multi-frame DICOM, --rescale,
 * --axis/--slice/--volume on a 4-D NIfTI, `ssim` and `diagnose` on a DICOM series folder (per-slice rows, the
 * volume summary, the slice key column of the block table).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from '../helpers/cli.ts';
import {
  encapsulate,
  fragmentsOf,
  greyImageElements,
  writeDicomFile,
  type DicomElement,
} from '../helpers/dicom.ts';

const TMP = mkdtempSync(join(tmpdir(), 'blindspot-volume-cli-'));
const NII4D = fixture('medical/brain/nibabel_example4d.nii.gz');

function json(r: { code: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test('ssim --frame reads frame 2 of a 3-frame JPEG-LS file; --rescale scales the data range by the slope', async () => {
  const jls = fragmentsOf(
    readFileSync(fixture('medical/dicom_compressed/MR_small_jpeg_ls_lossless.dcm')),
  )[0]!;
  const frames = [[jls], [Buffer.from(jls.subarray(0, 60))], [jls]]; // frame 1 is broken on purpose
  const multi = join(TMP, 'multi.dcm');
  const els: (DicomElement & { encapsulated?: boolean })[] = [
    ...greyImageElements({
      rows: 64,
      columns: 64,
      bitsAllocated: 16,
      bitsStored: 16,
      signed: true,
      frames: 3,
    }),
    { tag: 0x7fe00010, vr: 'OB', value: encapsulate(frames, true), encapsulated: true },
  ];
  writeFileSync(multi, writeDicomFile(els, '1.2.840.10008.1.2.4.80'));
  const rle = fragmentsOf(readFileSync(fixture('medical/dicom_compressed/MR_small_RLE.dcm')))[0]!;
  const rleMulti = join(TMP, 'multi-rle.dcm');
  writeFileSync(
    rleMulti,
    writeDicomFile(
      [
        ...els.slice(0, -1),
        { tag: 0x7fe00010, vr: 'OB', value: encapsulate([[rle], [rle], [rle]], false), encapsulated: true },
      ],
      '1.2.840.10008.1.2.5',
    ),
  );
  const j = json(await runCli(['ssim', rleMulti, multi, '--frame', '2', '--json']));
  assert.equal(j['mssim'], 1);
  const broken = await runCli(['ssim', rleMulti, multi, '--frame', '1']);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /multi\.dcm: DICOM JPEG-LS frame 1 does not decode/);
  const scaled = join(TMP, 'scaled.dcm');
  const px = Buffer.alloc(2 * 16 * 16);
  for (let i = 0; i < 256; i++) px.writeUInt16LE((i * 13) % 4096, 2 * i);
  writeFileSync(
    scaled,
    writeDicomFile(
      [
        ...greyImageElements({ rows: 16, columns: 16, bitsAllocated: 16, bitsStored: 12, signed: false }),
        { tag: 0x00281052, vr: 'DS', value: '-1024' },
        { tag: 0x00281053, vr: 'DS', value: '2' },
        { tag: 0x7fe00010, vr: 'OW', value: px },
      ],
      '1.2.840.10008.1.2.1',
    ),
  );
  assert.equal(json(await runCli(['ssim', scaled, scaled, '--json']))['dataRange'], 4095);
  assert.equal(json(await runCli(['ssim', scaled, scaled, '--rescale', '--json']))['dataRange'], 8190);
});

test('ssim --axis 0 --slice 5 --volume 1 on a 4-D NIfTI compares a 96x24 sagittal slice', async () => {
  const j = json(
    await runCli(['ssim', NII4D, NII4D, '--axis', '0', '--slice', '5', '--volume', '1', '--json']),
  );
  assert.deepEqual([j['width'], j['height'], j['mssim']], [96, 24, 1]);
  const bad = await runCli(['ssim', NII4D, NII4D, '--volume', '2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid volume: expected an integer in 0\.\.1 \(the file has 2 volumes\), got 2/);
});

function writeSeries(dir: string, order: number[], bump = 0): void {
  mkdirSync(dir);
  const rows = 24;
  const cols = 20;
  order.forEach((k, fileIdx) => {
    const px = Buffer.alloc(2 * rows * cols);
    for (let i = 0; i < rows * cols; i++) {
      const v = 500 + 300 * Math.sin((i + 7 * k) / 9) + (bump && i % 5 === 0 ? bump : 0);
      px.writeUInt16LE(Math.round(v), 2 * i);
    }
    const els: DicomElement[] = [
      ...greyImageElements({ rows, columns: cols, bitsAllocated: 16, bitsStored: 12, signed: false }),
      { tag: 0x0020000e, vr: 'UI', value: '1.2.826.0.1.3680043.2.1' },
      { tag: 0x00200032, vr: 'DS', value: [0, 0, 3 * k] },
      { tag: 0x00200037, vr: 'DS', value: [1, 0, 0, 0, 1, 0] },
      { tag: 0x7fe00010, vr: 'OW', value: px },
    ];
    writeFileSync(join(dir, `s${fileIdx}.dcm`), writeDicomFile(els, '1.2.840.10008.1.2.1'));
  });
}

test('ssim and diagnose on DICOM series folders: per-slice rows, volume summary, slice key in the block rows', async () => {
  const gt = join(TMP, 'gt-series');
  const sr = join(TMP, 'sr-series');
  writeSeries(gt, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  writeSeries(sr, [11, 3, 7, 0, 9, 1, 5, 10, 2, 8, 4, 6], 40); // other file order, damaged
  const j = json(await runCli(['ssim', gt, sr, '--ssim3d', '--json']));
  const slices = j['slices'] as { slice: number; mssim: number }[];
  assert.equal(j['depth'], 12);
  assert.equal(slices.length, 12);
  const mean = slices.reduce((s, x) => s + x.mssim, 0) / 12;
  assert.ok(Math.abs((j['mssim'] as number) - mean) < 1e-12);
  assert.ok((j['mssim'] as number) < 1 && (j['ssim3d'] as number) < 1);
  assert.equal(j['dataRange'], 4095);
  const self = json(await runCli(['ssim', gt, sr.replace('sr-', 'gt-'), '--json']));
  assert.equal(self['mssim'], 1);

  const out = join(TMP, 'diag');
  const d = json(await runCli(['diagnose', gt, sr, '--out', out, '--csv', '--columns', 'core', '--json']));
  assert.equal((d['slices'] as unknown[]).length, 12);
  assert.ok(Math.abs(((d['volume'] as Record<string, number>)['ssim'] as number) - mean) < 1e-12);
  const csv = readFileSync(join(out, 'blocks.csv'), 'utf8').trim().split('\n');
  assert.ok(csv[0]!.startsWith('slice,row,col,'));
  const perSlice = new Map<string, number>();
  for (const line of csv.slice(1))
    perSlice.set(line.split(',')[0]!, (perSlice.get(line.split(',')[0]!) ?? 0) + 1);
  assert.deepEqual(
    [...perSlice.keys()],
    Array.from({ length: 12 }, (_, k) => String(k)),
  );
  assert.ok([...perSlice.values()].every((n) => n === 6)); // 3 x 2 blocks of 8 in 20x24
});

test('run: --rescale and --frame reach every pair and are recorded in run.json', async () => {
  const gtDir = join(TMP, 'run-gt');
  const srDir = join(TMP, 'run-sr');
  mkdirSync(gtDir);
  mkdirSync(srDir);
  writeFileSync(join(gtDir, 'a.dcm'), readFileSync(fixture('medical/dicom_small/MR_small.dcm')));
  writeFileSync(
    join(srDir, 'a.dcm'),
    readFileSync(fixture('medical/dicom_compressed/MR_small_jpeg_ls_lossless.dcm')),
  );
  const out = join(TMP, 'run-out');
  const r = await runCli([
    'run',
    '--gt',
    gtDir,
    '--model',
    `jls=${srDir}`,
    '--out',
    out,
    '--rescale',
    '--workers',
    '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual((runJson['fingerprint'] as Record<string, unknown>)['image'], { rescale: true });
  const bad = await runCli([
    'run',
    '--gt',
    gtDir,
    '--model',
    `jls=${srDir}`,
    '--out',
    join(TMP, 'run-bad'),
    '--frame',
    '1',
    '--workers',
    '1',
  ]);
  assert.equal(bad.code, 1, bad.stderr); // the pair fails (MR_small has one frame) and is logged
  assert.match(
    readFileSync(join(TMP, 'run-bad', 'errors.jsonl'), 'utf8'),
    /invalid frame: expected an integer in 0\.\.0/,
  );
});
