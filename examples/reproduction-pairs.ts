/**
 * Per-pair reproduction table (docs/reproduction.md, medical set): for every GT in GT_DIR and every
 * UPSCALED/<model>/<path>/ output of it, `diagnose` with the pair's own thresholds, the headline (ROI, floors,
 * display units; DESIGN §3c) beside the published definition. For mixed modalities a per-configuration quantile
 * would be set by the largest image, so each pair keeps its own T here.
 *
 *   node --import tsx examples/reproduction-pairs.ts GT_DIR UPSCALED_DIR
 */
import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { readImage } from '../src/image/read.ts';
import { diagnose } from '../src/tier3/diagnose.ts';

const pct = (n: number, d: number): string => (d > 0 ? `${((100 * n) / d).toFixed(1)}%` : '–');
const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : '–');

export async function reproductionPairs(gtDir: string, upDir: string): Promise<string> {
  const out = [
    '| GT | L | display window (source) | noise sd / floor (display levels) | ROI blocks | model | path | T90 ROI (source) | Hidden ROI, floors: AC / DC | Silent of Hidden | se_max median (levels) | blind at the floor | T90 published | Hidden published (Silent) |',
    '|---|---:|---|---|---:|---|---|---|---|---:|---:|---:|---:|---|',
  ];
  const models = readdirSync(upDir).sort();
  for (const gtName of readdirSync(gtDir).sort()) {
    const stem = basename(gtName, gtName.endsWith('.nii.gz') ? '.nii.gz' : extname(gtName));
    const gt = await readImage(join(gtDir, gtName));
    for (const model of models) {
      for (const path of ['notta', 'tta']) {
        const dir = join(upDir, model, path);
        let files: string[] = [];
        try {
          files = readdirSync(dir).filter((n) => n.startsWith(`${stem}_`) && /\.(png|tif)$/.test(n));
        } catch {
          continue;
        }
        if (files.length !== 1) continue;
        const r = diagnose(gt, await readImage(join(dir, files[0]!)));
        const s = r.summary;
        const ref = s.reference;
        const fl = s.floored;
        const pub = s.published;
        out.push(
          `| ${stem} | ${s.dataRange} | ${f(ref.display.lo, 0)}..${f(ref.display.hi, 0)} (${ref.display.source}) | ${f(ref.noiseSd / ref.unit, 2)} / ${f(ref.floors.floorAc / ref.unit, 2)} | ${ref.roi.blocks} of ${s.blockCount} | ${model} | ${path} | ${f(fl.thresholds.hidden, 4)} (${fl.thresholds.hiddenSource}) | ${fl.all.layers.hidden}: ${fl.all.layers.hiddenAc} / ${fl.all.layers.hiddenDc} | ${pct(Math.round(fl.all.hiddenSilentShare * fl.all.layers.hidden), fl.all.layers.hidden)} | ${f(s.blindSpot.seMax.median)} | ${pct(Math.round(s.blindSpot.blindAtFloor * s.blindSpot.blocks), s.blindSpot.blocks)} | ${f(pub.thresholds.hidden, 4)} | ${pub.all.layers.hidden} (${pct(Math.round(pub.all.hiddenSilentShare * pub.all.layers.hidden), pub.all.layers.hidden)}) |`,
        );
      }
    }
  }
  return out.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(await reproductionPairs(process.argv[2]!, process.argv[3]!));
}
