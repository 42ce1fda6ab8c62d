/**
 * The volume form of `blindspot diagnose`: `diagnose` on every slice of two volumes; one block table whose rows
 * carry the slice index (a `slice` key column, first), `summary.json` with per-slice Tier-1 rows and the
 * per-volume summary (mean SSIM over slices, PSNR over all voxels, optional 3-D SSIM). No heatmaps: picture one
 * slice with `diagnose --slice N`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlindspotError } from '../errors.ts';
import type { ReadImageOptions } from '../image/read.ts';
import { diagnose } from '../tier3/diagnose.ts';
import type { DiagnoseOptions } from '../tier3/options.ts';
import { readVolume, volumeSlice } from '../volume/read.ts';
import { volumeSsim } from '../volume/ssim.ts';
import { volumeReadOptions } from './volumeSsim.ts';

/** Output choices of the volume form. */
export interface VolumeDiagnoseOutput {
  outDir: string;
  format: 'parquet' | 'csv';
  columnSet: 'core' | 'full';
  json: boolean;
  ssim3d: boolean;
}

/** One slice's Tier-1 row in summary.json. */
interface SliceRow {
  slice: number;
  ssim: number | null;
  msssim: number | null;
  psnr: number | null;
  blocks: number;
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Run the volume form and print its summary.
 * @returns the exit code (0)
 * @throws BlindspotError from reading, diagnosing or writing.
 */
export async function runVolumeDiagnose(
  gtPath: string,
  testPath: string,
  options: Partial<DiagnoseOptions>,
  read: Partial<ReadImageOptions>,
  out: VolumeDiagnoseOutput,
): Promise<number> {
  const ro = volumeReadOptions(read);
  const [gt, test] = await Promise.all([readVolume(gtPath, ro), readVolume(testPath, ro)]);
  const dataRange = options.dataRange;
  const whole = volumeSsim(gt, test, { dataRange: dataRange ?? undefined, ssim3d: out.ssim3d });
  try {
    await mkdir(out.outDir, { recursive: true });
  } catch (e) {
    throw new BlindspotError(
      'E_UNREADABLE',
      `cannot create the output folder (${(e as NodeJS.ErrnoException).code})`,
      out.outDir,
    );
  }
  const store = await import('../store/blockTable.ts');
  const { columnsOfSet } = await import('../tier3/columns.ts');
  const tableName = `blocks.${out.format}`;
  const tablePath = join(out.outDir, tableName);
  const builder =
    out.format === 'parquet'
      ? await store.BlockTableBuilder.create(columnsOfSet(out.columnSet), ['slice'])
      : undefined;
  const csvParts: string[] = [];
  const rows: SliceRow[] = [];
  const warnings = new Set(whole.warnings);
  try {
    for (let k = 0; k < gt.depth; k++) {
      // The volume's data range for every slice, so block scores compare across slices.
      const r = diagnose(volumeSlice(gt, k), volumeSlice(test, k), {
        ...options,
        dataRange: whole.dataRange,
      });
      for (const w of r.warnings) warnings.add(w);
      const t1 = r.summary.tier1 as unknown as Record<string, unknown>;
      rows.push({
        slice: k,
        ssim: finite(t1.ssim),
        msssim: finite(t1.msssim),
        psnr: finite(t1.psnr),
        blocks: r.blockCount,
      });
      if (builder !== undefined) await builder.append(r.columns, r.blockCount, [String(k)]);
      else {
        const part = join(out.outDir, `.slice-${k}.csv`);
        await store.writeBlockTable(part, r.columns, r.blockCount, {
          format: 'csv',
          columnSet: out.columnSet,
          keys: { slice: String(k) },
        });
        csvParts.push(part);
      }
    }
    if (builder !== undefined) await builder.writeParquet(tablePath);
    else await joinCsv(csvParts, tablePath);
  } finally {
    builder?.close();
    for (const p of csvParts) await rm(p, { force: true });
  }
  const json = {
    gt: gtPath,
    test: testPath,
    volume: {
      width: gt.width,
      height: gt.height,
      depth: gt.depth,
      dataRange: whole.dataRange,
      ssim: whole.mssim,
      psnr: finite(whole.psnr),
      ssim3d: whole.ssim3d,
    },
    slices: rows,
    options,
    files: [tableName, 'summary.json'],
    warnings: [...warnings],
  };
  await writeFile(join(out.outDir, 'summary.json'), JSON.stringify(json, null, 2) + '\n');
  for (const w of warnings) process.stderr.write(`blindspot diagnose: warning: ${w}\n`);
  process.stdout.write(out.json ? JSON.stringify(json) + '\n' : human(json, out.outDir) + '\n');
  return 0;
}

/** Concatenate per-slice CSV files, keeping the first header. */
async function joinCsv(parts: string[], file: string): Promise<void> {
  const texts = await Promise.all(parts.map((p) => readFile(p, 'utf8')));
  const body = texts.map((t, i) => (i === 0 ? t : t.slice(t.indexOf('\n') + 1))).join('');
  await writeFile(file, body);
}

function human(
  j: { gt: string; test: string; volume: Record<string, unknown>; slices: SliceRow[] },
  outDir: string,
): string {
  const f = (v: number | null, d: number): string => (v === null ? 'n/a' : v.toFixed(d));
  const v = j.volume;
  const lines = [
    `${j.test} vs ${j.gt}  (${String(v.width)}x${String(v.height)}x${String(v.depth)}, L = ${String(v.dataRange)})`,
  ];
  for (const s of j.slices) {
    lines.push(
      `  slice ${String(s.slice).padStart(4)}  SSIM ${f(s.ssim, 6)}  PSNR ${f(s.psnr, 3)} dB  ${s.blocks} blocks`,
    );
  }
  const psnr = v.psnr === null ? 'inf (identical)' : `${f(v.psnr as number, 3)} dB`;
  lines.push(`  volume      SSIM ${f(v.ssim as number, 6)} (mean over slices)  PSNR ${psnr}`);
  if (v.ssim3d !== null) lines.push(`  3-D SSIM    ${f(v.ssim3d as number, 6)}`);
  lines.push(`  written to ${outDir}`);
  return lines.join('\n');
}
