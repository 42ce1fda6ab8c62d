/**
 * The volume form of `blindspot ssim`: read both volumes (series folder, multi-frame DICOM, NIfTI), score every
 * slice, print per-slice lines (or JSON rows) and the per-volume summary.
 */
import type { ReadImageOptions } from '../image/read.ts';
import { readVolume, type ReadVolumeOptions } from '../volume/read.ts';
import { volumeSsim, type VolumeSsimOptions, type VolumeSsimResult } from '../volume/ssim.ts';

/** `readVolume` options from the image flags (axis, volume, rescale; slice/frame are refused earlier). */
export function volumeReadOptions(o: Partial<ReadImageOptions>): Partial<ReadVolumeOptions> {
  const out: Partial<ReadVolumeOptions> = {};
  if (o.axis !== undefined) out.axis = o.axis;
  if (o.volume !== undefined) out.volume = o.volume;
  if (o.rescale !== undefined) out.rescale = o.rescale;
  return out;
}

const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

/** The JSON object printed by `ssim --json` for volumes (field order stable; Infinity -> null). */
export function volumeSsimJson(
  r: VolumeSsimResult,
  gtPath: string,
  testPath: string,
): Record<string, unknown> {
  return {
    mssim: r.mssim,
    psnr: finite(r.psnr),
    ssim3d: r.ssim3d,
    mode: r.mode,
    dataRange: r.dataRange,
    width: r.width,
    height: r.height,
    depth: r.depth,
    slices: r.slices.map((s) => ({ slice: s.slice, mssim: s.mssim, psnr: finite(s.psnr) })),
    warnings: r.warnings,
    gt: gtPath,
    test: testPath,
  };
}

function human(r: VolumeSsimResult, gtPath: string, testPath: string): string {
  const db = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(4)} dB` : 'inf (identical)');
  const lines = [
    `test ${testPath} against GT ${gtPath}  (${r.width}x${r.height}x${r.depth}, mode ${r.mode}, L = ${r.dataRange})`,
  ];
  for (const s of r.slices)
    lines.push(`  slice ${String(s.slice).padStart(4)}  SSIM ${s.mssim.toFixed(6)}  PSNR ${db(s.psnr)}`);
  lines.push(
    `  volume      SSIM ${r.mssim.toFixed(6)} (mean over ${r.depth} slices)  PSNR ${db(r.psnr)} (all voxels)`,
  );
  if (r.ssim3d !== null) lines.push(`  3-D SSIM    ${r.ssim3d.toFixed(6)}`);
  return lines.join('\n');
}

/**
 * Run the volume form and print its result.
 * @returns the exit code (0)
 */
export async function runVolumeSsim(
  gtPath: string,
  testPath: string,
  options: Partial<VolumeSsimOptions>,
  read: Partial<ReadImageOptions>,
  json: boolean,
): Promise<number> {
  const ro = volumeReadOptions(read);
  const [gt, test] = await Promise.all([readVolume(gtPath, ro), readVolume(testPath, ro)]);
  const r = volumeSsim(gt, test, options);
  for (const w of r.warnings) process.stderr.write(`blindspot ssim: warning: ${w}\n`);
  process.stdout.write(
    json ? JSON.stringify(volumeSsimJson(r, gtPath, testPath)) + '\n' : human(r, gtPath, testPath) + '\n',
  );
  return 0;
}
