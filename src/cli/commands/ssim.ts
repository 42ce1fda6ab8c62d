/**
 * `blindspot ssim GT TEST`: SSIM (and PSNR, MS-SSIM) of one pair, exactly as the chosen convention computes it.
 * A thin shell over `readImage` + `ssim`; `--map` renders the SSIM map with `renderHeatmapPng`.
 */
import { writeFile } from 'node:fs/promises';
import { BlindspotError } from '../../errors.ts';
import { COLOR_POLICIES } from '../../image/color.ts';
import {
  READ_IMAGE_FLAGS,
  READ_IMAGE_FLAGS_HELP,
  readImageOptionsFromFlags,
  VOLUME_FLAGS,
  VOLUME_FLAGS_HELP,
  volumeMode,
} from '../../image/flags.ts';
import { readImage } from '../../image/read.ts';
import { SSIM_MODES, ssim, type SsimOptions, type SsimResult } from '../../ssim/index.ts';
import { choiceFlag, numberFlag, parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary = 'SSIM, MS-SSIM and PSNR of one image pair (wang | matlab2009 | skimage conventions)';

const HELP = `Usage: blindspot ssim GT TEST [options]
       blindspot ssim GTDIR TESTDIR [--out rows.csv|rows.json|rows.parquet] [options]

Structural similarity of TEST against the ground truth GT, exactly as the chosen convention computes it.
Two folders of images: every test file is paired with its GT by file stem (the dataset rule: the GT stem, alone
or followed by _ - . or a space, e.g. img01.png <- img01_x4_sr.png), scored, and summarised by the mean with a
Student-t 95% confidence interval. Two folders of DICOM files are two volumes (see below); --pairs scores such
folders file by file instead.

Options:
  --mode M          wang (default: Wang's ssim_index, 11x11 Gaussian, valid region) |
                    matlab2009 (Wang's ssim.m, box-downsamples by round(min(H,W)/256) first) |
                    skimage (scikit-image defaults: 7x7 uniform window, sample covariance)
  --data-range L    data range L of the SSIM constants (default: 255 for 8-bit, 2^BitsStored-1 for DICOM,
                    65535 for other 16-bit data; required for float data)
  --color C         luma (default: MATLAB rgb2gray) | ycbcr-y (Y of rgb2ycbcr, SR papers) | per-channel
  --shave N         remove N border pixels before scoring (SR papers shave the scale factor), default 0
  --map FILE        write the SSIM map as a colour-mapped PNG with a legend (viridis, fixed scale 0 to 1;
                    values below 0 take the first colour)
  --map-scale S     fixed (default: 0 to 1, so two maps compare) | auto (the map's own range)
  --json            print one JSON object instead of the summary
  --out FILE        folder form: write the per-image rows (.csv, .json with the summary, or .parquet)
  --pairs           folder form even for folders of DICOM files (not read as a series)
  --battery         folder form: add the Tier-1 metric battery of every pair (docs/metrics.md) to the rows
  -h, --help        show this help

${READ_IMAGE_FLAGS_HELP}

${VOLUME_FLAGS_HELP}

Exit codes: 0 ok, 1 some pairs of a folder failed (rows with an error), 2 bad input (one line on stderr naming
the file).`;

/** The JSON object `--json` prints (field order is stable). */
export function ssimJson(r: SsimResult, gtPath: string, testPath: string): Record<string, unknown> {
  const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);
  const out: Record<string, unknown> = {
    mssim: r.mssim,
    // JSON has no Infinity: identical inputs report psnr null.
    psnr: finite(r.psnr),
    msssim: finite(r.msssim),
    mode: r.mode,
    dataRange: r.dataRange,
    width: r.width,
    height: r.height,
    color: r.options.color,
    shave: r.options.shave,
  };
  if (r.downsample > 1) out['downsample'] = r.downsample;
  if (r.channels) {
    out['channels'] = r.channels.map((c, i) => ({
      channel: ['R', 'G', 'B'][i] ?? String(i),
      mssim: c.mssim,
      psnr: finite(c.psnr),
      msssim: finite(c.msssim),
    }));
  }
  out['warnings'] = r.warnings;
  out['gt'] = gtPath;
  out['test'] = testPath;
  return out;
}

function humanSummary(r: SsimResult, gtPath: string, testPath: string): string {
  const lines = [
    `test ${testPath} against GT ${gtPath}`,
    `  SSIM     ${r.mssim.toFixed(6)}  (mode ${r.mode}, L = ${r.dataRange}, ${r.options.color}` +
      `${r.options.shave > 0 ? `, shave ${r.options.shave}` : ''}${r.downsample > 1 ? `, downsampled x${r.downsample}` : ''})`,
    `  MS-SSIM  ${r.msssim === null ? 'n/a (needs 176 px a side)' : r.msssim.toFixed(6)}`,
    `  PSNR     ${Number.isFinite(r.psnr) ? `${r.psnr.toFixed(4)} dB` : 'inf (identical)'}`,
    `  size     ${r.width}x${r.height}`,
  ];
  for (const [i, c] of (r.channels ?? []).entries()) {
    lines.push(
      `  ${['R', 'G', 'B'][i] ?? i}        SSIM ${c.mssim.toFixed(6)}  PSNR ${c.psnr.toFixed(4)} dB`,
    );
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    mode: { type: 'string' },
    'data-range': { type: 'string' },
    color: { type: 'string' },
    shave: { type: 'string' },
    map: { type: 'string' },
    'map-scale': { type: 'string' },
    json: { type: 'boolean' },
    pairs: { type: 'boolean' },
    battery: { type: 'boolean' },
    out: { type: 'string' },
    ...READ_IMAGE_FLAGS,
    ...VOLUME_FLAGS,
  });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [gtPath, testPath] = positionals(parsed, ['gt', 'test']) as [string, string];
  const options: Partial<SsimOptions> = {
    mode: choiceFlag(parsed.values, 'mode', SSIM_MODES),
    dataRange: numberFlag(parsed.values, 'data-range', { min: Number.MIN_VALUE }),
    color: choiceFlag(parsed.values, 'color', COLOR_POLICIES),
    shave: numberFlag(parsed.values, 'shave', { min: 0, integer: true }),
  };
  const mapPath = parsed.values['map'];
  if (mapPath !== undefined && (typeof mapPath !== 'string' || mapPath === '')) {
    throw new BlindspotError('E_USAGE', '--map needs a file name');
  }
  const mapScale = choiceFlag(parsed.values, 'map-scale', ['fixed', 'auto'] as const) ?? 'fixed';
  const readOptions = readImageOptionsFromFlags(parsed.values);
  const { isPairFolders, runFolderSsim } = await import('../ssimFolder.ts');
  if (await isPairFolders(parsed.values, gtPath, testPath)) {
    if (mapPath !== undefined) throw new BlindspotError('E_USAGE', '--map draws one pair; give two files');
    const out = parsed.values['out'];
    if (out !== undefined && (typeof out !== 'string' || out === '')) throw new BlindspotError('E_USAGE', '--out needs a file name');
    const battery = parsed.values['battery'] === true;
    return runFolderSsim(gtPath, testPath, { ...options, battery }, readOptions, parsed.values['json'] === true, out as string | undefined);
  }
  if (parsed.values['out'] !== undefined || parsed.values['pairs'] !== undefined || parsed.values['battery'] !== undefined) {
    throw new BlindspotError('E_USAGE', '--out, --pairs and --battery belong to the folder form: blindspot ssim GTDIR TESTDIR (one pair: blindspot metrics)');
  }
  if (await volumeMode(parsed.values, [gtPath, testPath])) {
    if (mapPath !== undefined)
      throw new BlindspotError('E_USAGE', '--map draws one 2-D slice; pick it with --slice');
    const { runVolumeSsim } = await import('../volumeSsim.ts');
    const ssim3d = parsed.values['ssim3d'] === true;
    return runVolumeSsim(
      gtPath,
      testPath,
      { ...options, ssim3d },
      readOptions,
      parsed.values['json'] === true,
    );
  }
  const [gt, test] = await Promise.all([readImage(gtPath, readOptions), readImage(testPath, readOptions)]);
  const r = ssim(gt, test, options);
  for (const w of r.warnings) process.stderr.write(`blindspot ssim: warning: ${w}\n`);

  if (typeof mapPath === 'string') {
    const { renderHeatmapPng } = await import('../../render/heatmap.ts');
    const { SSIM_SCALE } = await import('../../render/palette.ts');
    const png = await renderHeatmapPng(r.map, r.mapWidth, r.mapHeight, {
      title: `SSIM map (${r.mode}): mean SSIM ${r.mssim.toFixed(4)}`,
      subtitle: `test ${testPath} against GT ${gtPath}`,
      colormap: 'viridis',
      ...(mapScale === 'fixed' ? SSIM_SCALE : {}),
      legendLabel: mapScale === 'fixed' ? 'SSIM (fixed 0 to 1)' : 'SSIM (auto scale)',
    });
    try {
      await writeFile(mapPath, png);
    } catch (e) {
      throw new BlindspotError(
        'E_UNREADABLE',
        `cannot write the map (${(e as NodeJS.ErrnoException).code})`,
        mapPath,
      );
    }
  }

  process.stdout.write(
    parsed.values['json']
      ? JSON.stringify(ssimJson(r, gtPath, testPath)) + '\n'
      : humanSummary(r, gtPath, testPath) + '\n',
  );
  return 0;
}
