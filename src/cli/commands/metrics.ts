/**
 * `blindspot metrics GT TEST`: the published engine's metric battery for one pair (docs/metrics.md), with units.
 * A thin shell over `readImage` + `metricBattery` (+ LPIPS / CLIP on the user's ONNX weights).
 */
import { READ_IMAGE_FLAGS, READ_IMAGE_FLAGS_HELP, readImageOptionsFromFlags } from '../../image/flags.ts';
import { readImage } from '../../image/read.ts';
import { BATTERY_COLUMNS, BATTERY_UNITS, batteryDataRange, metricBattery, type BatteryRecord } from '../../battery/battery.ts';
import { toGray8 } from '../../battery/gray8.ts';
import { resolveBatteryOptions } from '../../battery/options.ts';
import { choiceFlag, numberFlag, parseFlags, positionals, wantsHelp } from '../args.ts';

export const summary = "the published engine's metric battery of one pair (sharpness, noise, dE, local quality, ...)";

const HELP = `Usage: blindspot metrics GT TEST [options]

The Tier-1 battery of the published AI Image Analyzer engine for TEST against GT, with units: sharpness,
contrast, entropy, noise, edge density, block and ringing artefacts, high-frequency ratio, texture, total score
(GT and test), CIE76 and CIEDE2000 colour difference, histogram correlation, local quality over 64x64 patches
and over blocks. Computed on the 8-bit view of both images, as the engine; definitions in docs/metrics.md.

Options:
  --data-range L     data range of the inputs (default: from the GT, as blindspot ssim)
  --patch N          local-quality patch size (default 64, the engine's P6/LFV size)
  --block N          second local quality at this block size (default 8; 0 = skip)
  --sharpness K      kornia (default: the engine's path with PyTorch) | opencv (its CPU fallback)
  --edges E          sobel (default: Kornia Sobel > 0.1) | canny (the CPU fallback, Canny 100/200)
  --lpips FILE       LPIPS (AlexNet) ONNX model; without it lpips is null ("not computed")
  --clip FILE        CLIP image-encoder ONNX model; without it clip_similarity is null
  --json             print one JSON object (every column, null where not computed)
  -h, --help         show this help

${READ_IMAGE_FLAGS_HELP}

Exit codes: 0 ok, 2 bad input (one line on stderr naming the file).`;

function formatValue(v: number | null): string {
  if (v === null) return 'not computed';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(2) : v.toPrecision(6);
}

function humanSummary(r: BatteryRecord, gtPath: string, testPath: string): string {
  // GT first, as on the command line (metrics GT TEST)
  const lines = [`GT ${gtPath} vs test ${testPath}`];
  const width = Math.max(...BATTERY_COLUMNS.map((c) => c.length));
  for (const c of BATTERY_COLUMNS) {
    const v = formatValue(r[c]);
    lines.push(`  ${c.padEnd(width)}  ${v.padStart(14)}  ${r[c] === null ? '' : BATTERY_UNITS[c]}`.trimEnd());
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    'data-range': { type: 'string' },
    patch: { type: 'string' },
    block: { type: 'string' },
    sharpness: { type: 'string' },
    edges: { type: 'string' },
    lpips: { type: 'string' },
    clip: { type: 'string' },
    json: { type: 'boolean' },
    ...READ_IMAGE_FLAGS,
  });
  if (wantsHelp(parsed.values, HELP)) return 0;
  const [gtPath, testPath] = positionals(parsed, ['gt', 'test']) as [string, string];
  const options = resolveBatteryOptions({
    dataRange: numberFlag(parsed.values, 'data-range', { min: Number.MIN_VALUE }) ?? null,
    localPatch: numberFlag(parsed.values, 'patch', { min: 7, integer: true }),
    blockSize: numberFlag(parsed.values, 'block', { min: 0, integer: true }),
    sharpnessKernel: choiceFlag(parsed.values, 'sharpness', ['kornia', 'opencv'] as const),
    edgeDetector: choiceFlag(parsed.values, 'edges', ['sobel', 'canny'] as const),
  });
  const lpipsFile = parsed.values['lpips'];
  const clipFile = parsed.values['clip'];
  const read = readImageOptionsFromFlags(parsed.values);
  const [gt, test] = await Promise.all([readImage(gtPath, read), readImage(testPath, read)]);
  const r = metricBattery(gt, test, options);
  if (typeof lpipsFile === 'string' || typeof clipFile === 'string') {
    const { loadPerceptualModel, perceptualMetrics } = await import('../../battery/perceptual.ts');
    const L = batteryDataRange(gt, test, options);
    const models = {
      lpips: typeof lpipsFile === 'string' ? await loadPerceptualModel('lpips', lpipsFile, 0) : null,
      clip: typeof clipFile === 'string' ? await loadPerceptualModel('clip', clipFile, 0) : null,
    };
    Object.assign(r, await perceptualMetrics(toGray8(gt, L), toGray8(test, L), models));
  }
  process.stdout.write(
    parsed.values['json']
      ? JSON.stringify({ ...r, gt: gtPath, test: testPath, options }) + '\n'
      : humanSummary(r, gtPath, testPath) + '\n',
  );
  return 0;
}
