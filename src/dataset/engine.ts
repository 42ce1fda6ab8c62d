/**
 * The block engine (`diagnose`, src/tier3) behind one small interface, loaded lazily once per thread (workers load
 * it on their first pair; the CLI's other commands never pay for it).
 */
import type { Image } from '../image/types.ts';
import type { BlockColumns } from '../tier3/columns.ts';

export interface PairDiagnosis {
  columns: BlockColumns;
  blockCount: number;
  /** The data range L the engine used. */
  dataRange: number;
  /** Tier-1 scalars: SSIM (wang), MS-SSIM (null when the image is too small for five scales), PSNR. */
  tier1: { ssim: number; msssim: number | null; psnr: number };
}

export interface PairEngine {
  diagnose(gt: Image, test: Image, options: Record<string, unknown>): PairDiagnosis;
}

interface Tier3Module {
  diagnose(
    gt: Image,
    test: Image,
    options?: Record<string, unknown>,
  ): { columns: BlockColumns; blockCount: number; summary: { dataRange: number; tier1: PairDiagnosis['tier1'] } };
}

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
let engine: Promise<PairEngine> | undefined;

async function load(): Promise<PairEngine> {
  const tier3 = (await import(new URL(`../tier3/index${EXT}`, import.meta.url).href)) as Tier3Module;
  return {
    diagnose(gt, test, options) {
      const r = tier3.diagnose(gt, test, options);
      return { columns: r.columns, blockCount: r.blockCount, dataRange: r.summary.dataRange, tier1: r.summary.tier1 };
    },
  };
}

/** The engine of this thread (loaded on first use). */
export function loadEngine(): Promise<PairEngine> {
  engine ??= load();
  return engine;
}
