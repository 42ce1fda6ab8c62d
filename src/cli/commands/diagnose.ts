/**
 * `blindspot diagnose GT TEST`: Tier 1-3 block diagnostics of one pair. A thin shell over `readImage` +
 * `diagnose`; writes the block table (`writeBlockTable`), `summary.json` and PNG heatmaps (src/render).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { BlindspotError } from '../../errors.ts';
import { readImage } from '../../image/read.ts';
import { diagnose, type DiagnoseResult } from '../../tier3/diagnose.ts';
import type { DiagnoseOptions } from '../../tier3/options.ts';
import { AXIS_NAMES } from '../../tier3/summary.ts';
import { choiceFlag, numberFlag, parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary =
  'Block diagnostics of one pair: block SSIM, decomposition, damage axes, regimes, heatmaps';

const HELP = `Usage: blindspot diagnose GT TEST [options]

For every B x B block of TEST against the ground truth GT: the block SSIM (scikit-image defaults on the block
alone), whole-block moments and the SSIM decomposition l*c*s, six damage axes (A1 luminance, A2 contrast,
A3 structure, A4 edges, A5 high frequency, A6 residual) with gates and severities, and the SSIM-sensitivity
regime (Silent / Membrane / Responsive). Writes into --out:
  blocks.parquet (or blocks.csv)  one row per block (columns: docs/diagnose.md)
  summary.json                    Tier-1 SSIM/MS-SSIM/PSNR, block-field statistics, the options used
  ssim_blk.png, dominant_axis.png, regime.png, hidden_damage.png   heatmaps over the GT

Options:
  --block B             block size in pixels, >= 7 (default 8)
  --stride N            step between blocks (default: B, non-overlapping)
  --data-range L        data range L (default: 255 for 8-bit, 2^BitsStored-1 for DICOM, 65535 for 16-bit;
                        required for float data). Grey-level gates and thresholds scale with L/255.
  --color C             luma (default) | ycbcr-y: how RGB becomes one grey plane
  --hidden-threshold T  T for the Silent regime and Hidden layer (default: this pair's p90 of block SSIM)
  --out DIR             output folder (default: ./diagnose_<TEST name>)
  --csv                 write blocks.csv instead of blocks.parquet
  --columns SET         core | full (default full): which block columns to write
  --no-png              skip the heatmaps
  --json                print the summary as one JSON object
  -h, --help            show this help

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file).`;

const stem = (p: string): string => basename(p, extname(p));

/** The object written to summary.json and printed by --json (NaN and Infinity become null). */
export function diagnoseJson(
  r: DiagnoseResult,
  gtPath: string,
  testPath: string,
  files: string[],
): Record<string, unknown> {
  return {
    gt: gtPath,
    test: testPath,
    summary: r.summary,
    options: r.options,
    axes: AXIS_NAMES,
    files,
    warnings: r.warnings,
  };
}

function fmt(v: number | null, digits = 4): string {
  return v === null || !Number.isFinite(v) ? String(v) : v.toFixed(digits);
}

function humanSummary(r: DiagnoseResult, gtPath: string, testPath: string, outDir: string): string {
  const s = r.summary;
  const a = s.all;
  const nb = s.nonBorder;
  const pct = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(1)}%` : 'n/a');
  const lines = [
    `${testPath} vs ${gtPath}`,
    `  Tier 1   SSIM ${fmt(s.tier1.ssim, 6)}  MS-SSIM ${fmt(s.tier1.msssim, 6)}  PSNR ${fmt(s.tier1.psnr, 3)} dB  (L = ${s.dataRange})`,
    `  Tier 2   ${s.blockCount} blocks (${s.gridRows}x${s.gridCols} of ${r.options.blockSize}px, stride ${r.options.stride})`,
    `           block SSIM mean ${fmt(a.ssimBlk.mean)} std ${fmt(a.ssimBlk.std)} min ${fmt(a.ssimBlk.min)}` +
      (a.ssimBlk.argmin
        ? ` at row ${a.ssimBlk.argmin.row} col ${a.ssimBlk.argmin.col} (ring ${a.ssimBlk.argmin.ring})`
        : ''),
    `           without border: mean ${fmt(nb.ssimBlk.mean)} std ${fmt(nb.ssimBlk.std)} min ${fmt(nb.ssimBlk.min)}` +
      (nb.ssimBlk.argmin ? ` at row ${nb.ssimBlk.argmin.row} col ${nb.ssimBlk.argmin.col}` : ''),
    `  Tier 3   failing: ${AXIS_NAMES.map((n, i) => `${n.split(' ')[0]} ${a.failing[i]}`).join(', ')}; any ${a.anyFailing} (${pct(a.anyFailing, a.blocks)})`,
    `           T90 ${fmt(s.thresholds.hidden)} (${s.thresholds.hiddenSource}), T10 ${fmt(s.thresholds.visible)}; regimes: Silent ${a.regimes.silent} (${pct(a.regimes.silent, a.blocks)}), Membrane ${a.regimes.membrane}, Responsive ${a.regimes.responsive}`,
    `           layers: Visible ${a.layers.visible}, Hidden ${a.layers.hidden} (AC ${a.layers.hiddenAc}, DC ${a.layers.hiddenDc}; Silent ${pct(Math.round(a.hiddenSilentShare * a.layers.hidden), a.layers.hidden)}), Gray ${a.layers.gray}, Intact ${a.layers.intact}`,
    `  written to ${outDir}`,
  ];
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    block: { type: 'string' },
    stride: { type: 'string' },
    'data-range': { type: 'string' },
    color: { type: 'string' },
    'hidden-threshold': { type: 'string' },
    out: { type: 'string' },
    csv: { type: 'boolean' },
    columns: { type: 'string' },
    'no-png': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [gtPath, testPath] = positionals(parsed, ['gt', 'test']) as [string, string];
  const options: Partial<DiagnoseOptions> = {
    blockSize: numberFlag(parsed.values, 'block', { min: 7, integer: true }),
    stride: numberFlag(parsed.values, 'stride', { min: 1, integer: true }),
    dataRange: numberFlag(parsed.values, 'data-range', { min: Number.MIN_VALUE }),
    color: choiceFlag(parsed.values, 'color', ['luma', 'ycbcr-y'] as const),
    hiddenThreshold: numberFlag(parsed.values, 'hidden-threshold', { min: -1, max: 1 }),
  };
  const columnSet = choiceFlag(parsed.values, 'columns', ['core', 'full'] as const) ?? 'full';
  const outOpt = parsed.values['out'];
  if (outOpt !== undefined && (typeof outOpt !== 'string' || outOpt === ''))
    throw new BlindspotError('E_USAGE', '--out needs a folder name');
  const outDir = typeof outOpt === 'string' ? outOpt : `diagnose_${stem(testPath)}`;

  const [gt, test] = await Promise.all([readImage(gtPath), readImage(testPath)]);
  const r = diagnose(gt, test, options);
  for (const w of r.warnings) process.stderr.write(`blindspot diagnose: warning: ${w}\n`);

  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new BlindspotError(
      'E_UNREADABLE',
      `cannot create the output folder (${(e as NodeJS.ErrnoException).code})`,
      outDir,
    );
  }
  const files: string[] = [];
  const format = parsed.values['csv'] ? 'csv' : 'parquet';
  const tableName = `blocks.${format}`;
  const { writeBlockTable } = await import('../../store/blockTable.ts');
  await writeBlockTable(join(outDir, tableName), r.columns, r.blockCount, { format, columnSet });
  files.push(tableName);

  if (!parsed.values['no-png']) {
    const { renderDiagnosePngs } = await import('../../tier3/pictures.ts');
    const pngs = await renderDiagnosePngs(r, { gt: basename(gtPath), test: basename(testPath) });
    for (const [name, png] of pngs) {
      await writeFile(join(outDir, name), png);
      files.push(name);
    }
  }

  const json = diagnoseJson(r, gtPath, testPath, [...files, 'summary.json']);
  await writeFile(join(outDir, 'summary.json'), JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(
    parsed.values['json'] ? JSON.stringify(json) + '\n' : humanSummary(r, gtPath, testPath, outDir) + '\n',
  );
  return 0;
}
