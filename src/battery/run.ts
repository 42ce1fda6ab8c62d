/**
 * The battery inside a dataset run: one call per pair in the worker pass that runs `diagnose` (same decoded
 * images, no second decode), returning the flat record stored in images.parquet. LPIPS / CLIP models are loaded
 * once per worker thread. The run's own blk_* columns are its local quality at the block size, so the battery's
 * local_quality_blk_* are not stored there.
 */
import { invalidOption } from '../errors.ts';
import type { Image } from '../image/types.ts';
import { BATTERY_COLUMNS, batteryDataRange, metricBattery, type BatteryColumn } from './battery.ts';
import { toGray8 } from './gray8.ts';
import { DEFAULT_BATTERY_OPTIONS, resolveBatteryOptions, type BatteryOptions } from './options.ts';
import type { PerceptualModel } from './perceptual.ts';

/** Battery options of a run: the battery's own, plus the LPIPS / CLIP model files (null = not computed). */
export interface RunBatteryOptions extends BatteryOptions {
  lpips: string | null;
  clip: string | null;
}

/** The battery columns a run stores in images.parquet (all DOUBLE except the patch grid positions). */
export const RUN_BATTERY_COLUMNS: readonly { name: BatteryColumn; type: 'DOUBLE' | 'INTEGER' }[] = Object.freeze(
  BATTERY_COLUMNS.filter((c) => !c.startsWith('local_quality_blk_')).map((name) => ({
    name,
    type: /_(row|col|rows|cols)$/.test(name) ? ('INTEGER' as const) : ('DOUBLE' as const),
  })),
);

/**
 * Resolve a run's battery options (`{}` = defaults; the run keeps its blk_* for the block size).
 * @throws BlindspotError E_INVALID_OPTION for an unknown key or a bad value.
 */
export function resolveRunBatteryOptions(partial: Record<string, unknown>): RunBatteryOptions {
  const { lpips = null, clip = null, ...rest } = partial;
  for (const [k, v] of [['lpips', lpips], ['clip', clip]] as const) {
    if (v !== null && (typeof v !== 'string' || v === '')) throw invalidOption(`battery.${k}`, 'an ONNX model file or null', v);
  }
  const o = resolveBatteryOptions({ ...(rest as Partial<BatteryOptions>), blockSize: 0 });
  return { ...o, lpips: lpips as string | null, clip: clip as string | null };
}

const models = new Map<string, Promise<PerceptualModel>>();

function model(kind: 'lpips' | 'clip', file: string): Promise<PerceptualModel> {
  const key = `${kind}:${file}`;
  let m = models.get(key);
  if (!m) {
    m = import('./perceptual.ts').then((p) => p.loadPerceptualModel(kind, file, 1));
    // A failed load is reported once per pair, not cached.
    m.catch(() => models.delete(key));
    models.set(key, m);
  }
  return m;
}

/**
 * The battery record of one pair for images.parquet (columns of {@link RUN_BATTERY_COLUMNS}).
 * @throws BlindspotError as `metricBattery` and `loadPerceptualModel` (the pair then fails with that code).
 */
export async function runPairBattery(gt: Image, test: Image, o: RunBatteryOptions): Promise<Record<string, number | null>> {
  const r = metricBattery(gt, test, { ...DEFAULT_BATTERY_OPTIONS, ...pickBattery(o) }) as Record<string, number | null>;
  if (o.lpips !== null || o.clip !== null) {
    const { perceptualMetrics } = await import('./perceptual.ts');
    const L = batteryDataRange(gt, test, o);
    const p = await perceptualMetrics(toGray8(gt, L), toGray8(test, L), {
      lpips: o.lpips !== null ? await model('lpips', o.lpips) : null,
      clip: o.clip !== null ? await model('clip', o.clip) : null,
    });
    r['lpips'] = p.lpips;
    r['clip_similarity'] = p.clip_similarity;
  }
  const out: Record<string, number | null> = {};
  for (const c of RUN_BATTERY_COLUMNS) out[c.name] = r[c.name] ?? null;
  return out;
}

function pickBattery(o: RunBatteryOptions): BatteryOptions {
  return {
    dataRange: o.dataRange,
    localPatch: o.localPatch,
    blockSize: o.blockSize,
    sharpnessKernel: o.sharpnessKernel,
    edgeDetector: o.edgeDetector,
  };
}
