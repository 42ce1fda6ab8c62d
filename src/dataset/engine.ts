/**
 * The block engine (`diagnose`, src/tier3) behind one small interface: the pair runner needs its columns, the data
 * range it used and the Tier-1 scalars it computed.
 */
import type { Image } from '../image/types.ts';
import type { BlockColumns } from '../tier3/columns.ts';
import { diagnose } from '../tier3/index.ts';
import type { DiagnoseBuffers, ReferenceSummary } from '../tier3/diagnose.ts';
import type { BlindSpotSummary } from '../tier3/reference.ts';

export interface PairDiagnosis {
  /** Valid until the next call (buffers are reused). */
  columns: BlockColumns;
  blockCount: number;
  /** The data range L the engine used. */
  dataRange: number;
  /** Tier-1 scalars: SSIM (wang), MS-SSIM (null when the image is too small for five scales), PSNR. */
  tier1: { ssim: number; msssim: number | null; psnr: number };
  /** What the GT set (ROI, display window, noise, floors) and the pair's own thresholds (DESIGN §3c). */
  reference: ReferenceSummary;
  floored: { t90: number; t10: number; t90Source: string; blocks: number };
  blindSpot: BlindSpotSummary;
  warnings: string[];
}

export interface PairEngine {
  diagnose(gt: Image, test: Image, options: Record<string, unknown>): PairDiagnosis;
}

// Columns and scratch reused pair after pair on this thread (the caller consumes them before the next call).
const buffers: DiagnoseBuffers = {};

const engine: PairEngine = {
  diagnose(gt, test, options) {
    const r = diagnose(gt, test, options, buffers);
    const t = r.summary.floored.thresholds;
    return {
      columns: r.columns,
      blockCount: r.blockCount,
      dataRange: r.summary.dataRange,
      tier1: r.summary.tier1,
      reference: r.summary.reference,
      floored: { t90: t.hidden, t10: t.visible, t90Source: t.hiddenSource, blocks: t.blocks },
      blindSpot: r.summary.blindSpot,
      warnings: r.warnings,
    };
  },
};

/** The engine (kept async so that a future engine may load lazily). */
export async function loadEngine(): Promise<PairEngine> {
  return engine;
}
