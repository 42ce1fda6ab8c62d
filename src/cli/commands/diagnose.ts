/**
 * `blindspot diagnose GT TEST`: Tier 1-3 block diagnostics of one pair. A thin shell over `readImage` +
 * `diagnose`; writes the block table (`writeBlockTable`), `summary.json` and PNG heatmaps (src/render).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { BlindspotError } from '../../errors.ts';
import {
  READ_IMAGE_FLAGS,
  READ_IMAGE_FLAGS_HELP,
  readImageOptionsFromFlags,
  VOLUME_FLAGS,
  VOLUME_FLAGS_HELP,
  volumeMode,
} from '../../image/flags.ts';
import { readImage } from '../../image/read.ts';
import { diagnose, type DiagnoseResult } from '../../tier3/diagnose.ts';
import { PUBLISHED_DEFINITION, recordableDiagnoseOptions, type DiagnoseOptions } from '../../tier3/options.ts';
import { AXIS_NAMES, type DefinitionSummary } from '../../tier3/summary.ts';
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
  ssim_blk.png, dominant_axis.png, regime.png, hidden_damage.png, se_max.png, roi.png   heatmaps over the GT

Hidden Collapse is reported twice: over the ROI with damage floors in display grey levels (docs/method.md, the
headline) and by the published definition (every block, no floor), so both figures can be compared.

Options:
  --block B             block size in pixels, >= 7 (default 8)
  --stride N            step between blocks (default: B, non-overlapping)
  --data-range L        data range L (default: 255 for 8-bit, 2^BitsStored-1 for DICOM, 65535 for 16-bit;
                        required for float data). SSIM's constants scale with L.
  --color C             luma (default) | ycbcr-y: how RGB becomes one grey plane
  --t90 T               T90, the Hidden threshold: blocks with SSIM >= T90 are rated good; also the Silent
                        regime's T (default: this pair's p90 of block SSIM over non-border ROI blocks; 0.99
                        when that is 1 or rests on fewer than 1000 blocks). analyze sets it per model with
                        --t90-quantile Q.
  --t10 T               T10, the Visible threshold: blocks with SSIM < T10 are Visible Collapse (default: this
                        pair's p10 of block SSIM over non-border ROI blocks)
  --mask FILE           region of interest: a mask image of the GT's size (non-zero = inside)
  --roi auto|all        automatic ROI from the GT (default: air, collimator and burned-in labels left out) or
                        every block
  --display-width W     display window width for grey-level thresholds and floors: auto (default: DICOM VOI
                        window, else the GT's p0.5..p99.5 over the ROI), data-range (W = L), or a number
  --floor F             AC damage floor in display grey levels (default 2, and at least 1.5x the GT's noise sd);
                        --floor 0 also drops the noise floor and the visibility rule (the published definition)
  --visible-ac V|off    texture errors >= V display levels are damage even where the GT has texture (default 4)
  --published           the published definition: --roi all --display-width data-range --floor 0
  --out DIR             output folder (default: ./diagnose_<TEST name>)
  --csv                 write blocks.csv instead of blocks.parquet
  --columns SET         core | full (default full): which block columns to write
  --no-png              skip the heatmaps
  --json                print the summary as one JSON object
  -h, --help            show this help

${READ_IMAGE_FLAGS_HELP}

${VOLUME_FLAGS_HELP}
  With a volume: one block table with a 'slice' key column, summary.json with per-slice Tier-1 rows and the
  volume summary; no heatmaps (picture one slice with --slice N).

Older spelling, still accepted: --hidden-threshold T (alias of --t90).

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
    options: { ...recordableDiagnoseOptions(r.options), ...(r.options.roi !== 'auto' && r.options.roi !== 'all' ? { mask: r.options.roi.source } : {}) },
    axes: AXIS_NAMES,
    files,
    warnings: r.warnings,
  };
}

function fmt(v: number | null, digits = 4): string {
  return v === null || !Number.isFinite(v) ? String(v) : v.toFixed(digits);
}

function layerLine(d: DefinitionSummary): string {
  const a = d.all;
  const pct = (n: number, t: number) => (t > 0 ? `${((100 * n) / t).toFixed(1)}%` : 'n/a');
  const t = d.thresholds;
  return (
    `T90 ${fmt(t.hidden)} (${t.hiddenSource}), T10 ${fmt(t.visible)} over ${t.blocks} blocks; ` +
    `Hidden ${a.layers.hidden} (AC ${a.layers.hiddenAc}, DC ${a.layers.hiddenDc}; Silent ${pct(Math.round(a.hiddenSilentShare * a.layers.hidden), a.layers.hidden)}), ` +
    `Visible ${a.layers.visible}, Gray ${a.layers.gray}, Intact ${a.layers.intact} of ${a.blocks}`
  );
}

function humanSummary(r: DiagnoseResult, gtPath: string, testPath: string, outDir: string): string {
  const s = r.summary;
  const a = s.floored.all;
  const nb = s.floored.nonBorder;
  const ref = s.reference;
  const pct = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(1)}%` : 'n/a');
  const lv = (v: number | null) => (v === null ? 'off' : (v / ref.unit).toFixed(2));
  const lines = [
    `test ${testPath} against GT ${gtPath}`,
    `  Tier 1   SSIM ${fmt(s.tier1.ssim, 6)}  MS-SSIM ${fmt(s.tier1.msssim, 6)}  PSNR ${fmt(s.tier1.psnr, 3)} dB  (L = ${s.dataRange})`,
    `  GT       ROI (${ref.roi.source}) ${ref.roi.blocks} of ${s.blockCount} blocks; display window ${fmt(ref.display.lo, 1)}..${fmt(ref.display.hi, 1)} (${ref.display.source}), ` +
      `1 display level = ${fmt(ref.unit, 3)} units; noise sd ${fmt(ref.noiseSd, 2)} units; floors: AC ${lv(ref.floors.floorAc)}, visible ${lv(ref.floors.visibleAc)}, DC ${lv(ref.floors.floorDc)} display levels`,
    `  Blind    ${s.blindSpot.sentence}`,
    `  Tier 2   ${s.blockCount} blocks (${s.gridRows}x${s.gridCols} of ${r.options.blockSize}px, stride ${r.options.stride}); over the ROI:`,
    `           block SSIM mean ${fmt(a.ssimBlk.mean)} std ${fmt(a.ssimBlk.std)} min ${fmt(a.ssimBlk.min)}` +
      (a.ssimBlk.argmin ? ` at row ${a.ssimBlk.argmin.row} col ${a.ssimBlk.argmin.col} (ring ${a.ssimBlk.argmin.ring})` : ''),
    `           without border: mean ${fmt(nb.ssimBlk.mean)} std ${fmt(nb.ssimBlk.std)} min ${fmt(nb.ssimBlk.min)}` +
      (nb.ssimBlk.argmin ? ` at row ${nb.ssimBlk.argmin.row} col ${nb.ssimBlk.argmin.col}` : ''),
    `  Tier 3   failing: ${AXIS_NAMES.map((n, i) => `${n.split(' ')[0]} ${a.failing[i]}`).join(', ')}; any ${a.anyFailing} (${pct(a.anyFailing, a.blocks)}); ` +
      `regimes: Silent ${a.regimes.silent} (${pct(a.regimes.silent, a.blocks)}), Membrane ${a.regimes.membrane}, Responsive ${a.regimes.responsive}`,
    `  Layers   headline (${ref.roi.source === 'all' ? 'every block' : `ROI ${ref.roi.source}`}, ${ref.floors.floorAc > 0 ? 'damage above the floors' : 'no floor'}, display units): ${layerLine(s.floored)}`,
    `           published (all blocks, no floor): ${layerLine(s.published)}`,
    `  written to ${outDir}`,
  ];
  return lines.join('\n');
}

/** Block-engine options from the flags shared by diagnose, blindmap and run (ROI, display scale, floors). */
export function definitionFlags(values: Record<string, string | boolean | string[] | boolean[] | undefined>): Partial<DiagnoseOptions> {
  const o: Partial<DiagnoseOptions> = {};
  if (values['published']) Object.assign(o, PUBLISHED_DEFINITION);
  const roi = choiceFlag(values, 'roi', ['auto', 'all'] as const);
  if (roi !== undefined) o.roi = roi;
  const dw = values['display-width'];
  if (dw !== undefined) {
    if (dw === 'auto' || dw === 'data-range') o.displayWidth = dw;
    else o.displayWidth = numberFlag(values, 'display-width', { min: Number.MIN_VALUE });
  }
  const floor = numberFlag(values, 'floor', { min: 0 });
  if (floor !== undefined) {
    o.floorAc = floor;
    if (floor === 0) Object.assign(o, { floorNoiseFactor: 0, visibleAc: null });
  }
  const vis = values['visible-ac'];
  if (vis !== undefined) o.visibleAc = vis === 'off' ? null : numberFlag(values, 'visible-ac', { min: Number.MIN_VALUE });
  return o;
}

/** parseFlags specs of {@link definitionFlags}. */
export const DEFINITION_FLAG_SPECS = {
  mask: { type: 'string' },
  roi: { type: 'string' },
  'display-width': { type: 'string' },
  floor: { type: 'string' },
  'visible-ac': { type: 'string' },
  published: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    block: { type: 'string' },
    stride: { type: 'string' },
    'data-range': { type: 'string' },
    color: { type: 'string' },
    t90: { type: 'string' },
    t10: { type: 'string' },
    out: { type: 'string' },
    csv: { type: 'boolean' },
    columns: { type: 'string' },
    'no-png': { type: 'boolean' },
    json: { type: 'boolean' },
    ...DEFINITION_FLAG_SPECS,
    ...READ_IMAGE_FLAGS,
    ...VOLUME_FLAGS,
  }, { 'hidden-threshold': 't90' });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [gtPath, testPath] = positionals(parsed, ['gt', 'test']) as [string, string];
  const options: Partial<DiagnoseOptions> = {
    blockSize: numberFlag(parsed.values, 'block', { min: 7, integer: true }),
    stride: numberFlag(parsed.values, 'stride', { min: 1, integer: true }),
    dataRange: numberFlag(parsed.values, 'data-range', { min: Number.MIN_VALUE }),
    color: choiceFlag(parsed.values, 'color', ['luma', 'ycbcr-y'] as const),
    hiddenThreshold: numberFlag(parsed.values, 't90', { min: -1, max: 1 }),
    visibleThreshold: numberFlag(parsed.values, 't10', { min: -1, max: 1 }),
    ...definitionFlags(parsed.values),
  };
  const columnSet = choiceFlag(parsed.values, 'columns', ['core', 'full'] as const) ?? 'full';
  const outOpt = parsed.values['out'];
  if (outOpt !== undefined && (typeof outOpt !== 'string' || outOpt === ''))
    throw new BlindspotError('E_USAGE', '--out needs a folder name');
  const outDir = typeof outOpt === 'string' ? outOpt : `diagnose_${stem(testPath)}`;

  const maskPath = parsed.values['mask'];
  const readOptions = readImageOptionsFromFlags(parsed.values);
  if (await volumeMode(parsed.values, [gtPath, testPath])) {
    if (maskPath !== undefined)
      throw new BlindspotError('E_USAGE', '--mask is one 2-D image; use it with --slice N');
    const { runVolumeDiagnose } = await import('../volumeDiagnose.ts');
    const format = parsed.values['csv'] ? 'csv' : 'parquet';
    const json = parsed.values['json'] === true;
    const ssim3d = parsed.values['ssim3d'] === true;
    return runVolumeDiagnose(gtPath, testPath, options, readOptions, {
      outDir,
      format,
      columnSet,
      json,
      ssim3d,
    });
  }
  const [gt, test, mask] = await Promise.all([
    readImage(gtPath, readOptions),
    readImage(testPath, readOptions),
    typeof maskPath === 'string' ? readImage(maskPath) : Promise.resolve(undefined),
  ]);
  if (mask) options.roi = mask;
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
  // a table of the other format from an earlier run would sit beside this one and mislead: remove it
  await rm(join(outDir, format === 'csv' ? 'blocks.parquet' : 'blocks.csv'), { force: true });

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
  // --json prints the summary only: say on stderr where the files went
  if (parsed.values['json']) process.stderr.write(`blindspot diagnose: wrote ${files.length + 1} files to ${resolve(outDir)}\n`);
  process.stdout.write(
    parsed.values['json'] ? JSON.stringify(json) + '\n' : humanSummary(r, gtPath, testPath, outDir) + '\n',
  );
  return 0;
}
