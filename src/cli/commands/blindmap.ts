/**
 * `blindspot blindmap GT...`: the map of where SSIM cannot see, from the ground truth alone (DESIGN §3c). A thin
 * shell over `blindSpotMap` + `renderReferencePngs`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { BlindspotError } from '../../errors.ts';
import { readImage } from '../../image/read.ts';
import { numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { DEFINITION_FLAG_SPECS, definitionFlags } from './diagnose.ts';

export const summary = 'Where SSIM cannot see, from the GT alone: se_max map and one-line summary per image';

const HELP = `Usage: blindspot blindmap GT [GT ...] [options]

Before any model is run: for every block of each ground-truth image, the largest texture error se_max that
SSIM >= T would still not see (an error uncorrelated with the GT, no mean change: se_max = sqrt((1-T)/T
(2 sx^2 + C2)), in display grey levels) and the largest brightness shift dmu_max. Prints one line per image:
"SSIM >= T cannot see texture errors up to X display grey levels in half of the ROI blocks ...", and writes
<stem>_se_max.png and <stem>_roi.png (and <stem>_blindmap.json) into --out. Display grey levels are 1/255 of the
DICOM VOI window, else of the GT's p0.5..p99.5 over the region of interest (see blindspot diagnose --help).

Options:
  --threshold T         the SSIM threshold whose blind spot is mapped (default 0.99)
  --data-range L        SSIM data range (default: 255 for 8-bit, 2^BitsStored-1 for DICOM, 65535 for 16-bit)
  --mask FILE           region-of-interest mask of the GT's size (one GT only; non-zero = inside)
  --roi auto|all        automatic ROI (default) or every block
  --display-width W     auto (default), data-range, or a number of data units
  --floor F             AC damage floor in display levels (default 2, and >= 1.5x the GT's noise sd)
  --visible-ac V|off    visibility level in display levels (default 4)
  --out DIR             output folder (default ./blindmap)
  --no-png              skip the pictures
  --json                print one JSON object per image (one per line)
  -h, --help            this help

Exit codes: 0 ok, 2 bad input (one line naming the file).`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    threshold: { type: 'string' },
    'data-range': { type: 'string' },
    out: { type: 'string' },
    'no-png': { type: 'boolean' },
    json: { type: 'boolean' },
    ...DEFINITION_FLAG_SPECS,
  });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  const files = parsed.positionals;
  if (files.length === 0) throw new BlindspotError('E_USAGE', 'missing GT image (see --help)');
  if (typeof v.mask === 'string' && files.length > 1) throw new BlindspotError('E_USAGE', '--mask applies to one GT image; pass one GT');
  const threshold = numberFlag(v, 'threshold', { min: Number.MIN_VALUE, max: 1 - Number.EPSILON });
  const options = { ...definitionFlags(v), dataRange: numberFlag(v, 'data-range', { min: Number.MIN_VALUE }), ...(threshold !== undefined ? { threshold } : {}) };
  const outDir = typeof v.out === 'string' && v.out !== '' ? v.out : 'blindmap';
  const { blindSpotMap } = await import('../../tier3/blindSpotMap.ts');
  const { renderReferencePngs } = await import('../../tier3/pictures.ts');
  if (!v['no-png'] || v.json !== true) await mkdir(outDir, { recursive: true });
  const mask = typeof v.mask === 'string' ? await readImage(v.mask) : undefined;
  for (const file of files) {
    const gt = await readImage(file);
    const r = blindSpotMap(gt, { ...options, ...(mask ? { roi: mask } : {}) });
    for (const w of r.warnings) if (!w.startsWith('hidden threshold')) process.stderr.write(`blindspot blindmap: warning: ${w}\n`);
    const stem = basename(file, extname(file));
    const written: string[] = [];
    if (!v['no-png']) {
      const common = {
        outWidth: r.width,
        outHeight: r.height,
        underlay: { data: r.planes.gt, width: r.width, height: r.height },
        subtitle: `${basename(file)}: the GT alone, before any model is run`,
      };
      for (const [name, png] of await renderReferencePngs(r, common)) {
        const out = join(outDir, `${stem}_${name}`);
        await writeFile(out, png);
        written.push(out);
      }
    }
    const record = { gt: file, blindSpot: r.summary.blindSpot, reference: r.summary.reference, dataRange: r.summary.dataRange, files: written, warnings: r.warnings };
    await writeFile(join(outDir, `${stem}_blindmap.json`), JSON.stringify(record, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n');
    process.stdout.write(v.json === true ? JSON.stringify(record, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x)) + '\n' : `${file}: ${r.summary.blindSpot.sentence}\n`);
  }
  return 0;
}
