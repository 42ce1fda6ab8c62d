/**
 * The folder form of `blindspot ssim GTDIR TESTDIR`: per-image SSIM / MS-SSIM / PSNR of every paired file, the
 * mean with a Student-t 95% interval, and the rows as CSV, JSON or Parquet (`--out`, by extension).
 */
import { stat, readdir, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { BlindspotError } from '../errors.ts';
import type { ReadImageOptions } from '../image/read.ts';
import { folderRowRecord, folderRowsCsv, ssimFolders, writeFolderRowsParquet, type FolderSsimResult } from '../ssim/folder.ts';
import type { SsimOptions } from '../ssim/index.ts';
import type { MeanInterval } from '../stats/interval.ts';
import { createProgress } from './progress.ts';

const isDir = (p: string): Promise<boolean> => stat(p).then((s) => s.isDirectory(), () => false);

/**
 * True when the two paths are folders of separate images to pair (rather than two DICOM series = volumes):
 * `--pairs`, or the GT folder holds any image file that is not DICOM. `--all-slices` / `--ssim3d` mean volumes.
 */
export async function isPairFolders(values: Record<string, unknown>, gt: string, test: string): Promise<boolean> {
  if (values['all-slices'] === true || values['ssim3d'] === true) return false;
  if (!(await isDir(gt)) || !(await isDir(test))) return false;
  if (values['pairs'] === true) return true;
  const names = await readdir(gt).catch(() => [] as string[]);
  return names.some((n) => !n.startsWith('.') && /\.(png|jpe?g|tiff?|webp|gif|bmp|nii|nii\.gz)$/i.test(n));
}

const num = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

function ciLine(name: string, m: MeanInterval, d: number, unit = '', none = 'no pair scored'): string {
  if (m.n === 0) return `  ${name.padEnd(8)} n/a (${none})`;
  const ci = m.n > 1 ? `95% CI [${num(m.lo, d)}, ${num(m.hi, d)}]` : '95% CI n/a (one pair)';
  return `  ${name.padEnd(8)} mean ${num(m.mean, d)}${unit}  ${ci}  sd ${num(m.sd, d)}  n ${m.n}`;
}

function human(r: FolderSsimResult, gtDir: string, testDir: string, outFile: string | undefined): string {
  const s = r.summary;
  const lines = [`${s.pairs} pairs: test ${testDir} against GT ${gtDir}`];
  if (r.rows.length <= 20) {
    for (const row of r.rows) {
      lines.push(
        row.error !== null
          ? `  ${row.stem}: ${row.error}`
          : `  ${row.stem.padEnd(24)} SSIM ${num(row.ssim!, 6)}  MS-SSIM ${row.msssim === null ? 'n/a' : num(row.msssim, 6)}  PSNR ${row.psnr === Infinity ? 'inf' : num(row.psnr!, 4)}`,
      );
    }
  }
  lines.push('summary (mean with a Student-t 95% confidence interval over the images):');
  lines.push(ciLine('SSIM', s.ssim, 6), ciLine('MS-SSIM', s.msssim, 6, '', s.scored > 0 ? 'needs 176 px a side' : 'no pair scored'), ciLine('PSNR', s.psnr, 4, ' dB'));
  if (s.psnrInfinite > 0) lines.push(`  (${s.psnrInfinite} identical pair(s) have PSNR inf and are left out of its mean)`);
  if (s.failed > 0) lines.push(`  ${s.failed} pair(s) failed (the error column says why)`);
  if (s.missingTest.length > 0) lines.push(`  ${s.missingTest.length} GT file(s) without a test file: ${s.missingTest.slice(0, 5).join(', ')}${s.missingTest.length > 5 ? ', ...' : ''}`);
  if (s.unmatchedTest.length > 0) lines.push(`  ${s.unmatchedTest.length} test file(s) without a GT: ${s.unmatchedTest.slice(0, 5).join(', ')}${s.unmatchedTest.length > 5 ? ', ...' : ''}`);
  if (s.battery) lines.push(`  the metric battery (${Object.keys(s.battery).length} columns, docs/metrics.md) is in the rows; --json has its means with 95% CIs`);
  if (outFile) lines.push(`per-image rows written to ${outFile}`);
  return lines.join('\n');
}

/** JSON with Infinity/NaN as null. */
const toJson = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));

/**
 * Run the folder form: score, write `--out`, print.
 * @returns 0, or 1 when some pairs failed
 */
export async function runFolderSsim(
  gtDir: string,
  testDir: string,
  options: Partial<SsimOptions> & { battery?: boolean },
  readOptions: Partial<ReadImageOptions>,
  json: boolean,
  outFile: string | undefined,
): Promise<number> {
  const format = outFile === undefined ? undefined : extname(outFile).toLowerCase();
  if (format !== undefined && !['.csv', '.json', '.parquet'].includes(format)) {
    throw new BlindspotError('E_USAGE', `--out must end in .csv, .json or .parquet (got ${outFile})`);
  }
  let bar: ReturnType<typeof createProgress> | undefined;
  const r = await ssimFolders(gtDir, testDir, options, readOptions, (done, total) => {
    bar ??= createProgress('ssim', total, { unit: 'pairs', quiet: json });
    bar.update(done);
  });
  bar?.finish();
  if (outFile !== undefined) {
    try {
      if (format === '.parquet') await writeFolderRowsParquet(r.rows, outFile);
      else if (format === '.csv') await writeFile(outFile, folderRowsCsv(r.rows));
      else await writeFile(outFile, toJson({ summary: r.summary, rows: r.rows.map(folderRowRecord) }) + '\n');
    } catch (e) {
      if (e instanceof BlindspotError) throw e;
      throw new BlindspotError('E_UNREADABLE', `cannot write (${(e as NodeJS.ErrnoException).code})`, outFile);
    }
  }
  process.stdout.write(
    json ? toJson({ gt: gtDir, test: testDir, summary: r.summary, rows: r.rows.map(folderRowRecord) }) + '\n' : human(r, gtDir, testDir, outFile) + '\n',
  );
  return r.summary.failed > 0 ? 1 : 0;
}
