/**
 * Per-image Tier-2 summaries of the block-SSIM field (DESIGN §3b), from the block columns. Pure.
 * Quantiles use linear interpolation between order statistics (Hyndman-Fan type 7, DuckDB `quantile_cont`,
 * numpy's default), so they agree with the analysis views.
 */
import { quantileSorted } from '../tier3/regimes.ts';

/** The Tier-2 figures of one image (NaN when there is no block to summarise, e.g. no non-border block). */
export interface BlockFieldSummary {
  blocks: number;
  blk_mean: number;
  blk_std: number;
  blk_min: number;
  blk_min_row: number;
  blk_min_col: number;
  blk_min_ring: number;
  blk_mean_nb: number;
  blk_std_nb: number;
  blk_min_nb: number;
  blk_p10_nb: number;
  blk_p90_nb: number;
}


/**
 * Summaries of `ssim_blk` over all blocks and over non-border blocks (`is_border` = 0).
 * Values are taken at float32 precision, as stored, so a summary recomputed from the Parquet agrees.
 * The minimum's position is the first minimal block in row-major order.
 * @param ssimBlk ssim_blk column; @param isBorder is_border column; @param row, col, ring geometry columns.
 */
export function summarizeBlockField(
  ssimBlk: ArrayLike<number>,
  isBorder: ArrayLike<number>,
  row: ArrayLike<number>,
  col: ArrayLike<number>,
  ring: ArrayLike<number>,
  blockCount: number,
): BlockFieldSummary {
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let argmin = -1;
  let nbCount = 0;
  let nbSum = 0;
  let nbSumSq = 0;
  let nbMin = Infinity;
  const nb = new Float64Array(blockCount);
  for (let i = 0; i < blockCount; i++) {
    const v = Math.fround(ssimBlk[i]!);
    sum += v;
    sumSq += v * v;
    if (v < min) {
      min = v;
      argmin = i;
    }
    if (!isBorder[i]) {
      nb[nbCount++] = v;
      nbSum += v;
      nbSumSq += v * v;
      if (v < nbMin) nbMin = v;
    }
  }
  const mean = blockCount > 0 ? sum / blockCount : NaN;
  const nbMean = nbCount > 0 ? nbSum / nbCount : NaN;
  const nbSorted = nb.subarray(0, nbCount).sort();
  return {
    blocks: blockCount,
    blk_mean: mean,
    blk_std: blockCount > 0 ? Math.sqrt(Math.max(0, sumSq / blockCount - mean * mean)) : NaN,
    blk_min: blockCount > 0 ? min : NaN,
    blk_min_row: argmin >= 0 ? row[argmin]! : -1,
    blk_min_col: argmin >= 0 ? col[argmin]! : -1,
    blk_min_ring: argmin >= 0 ? ring[argmin]! : -1,
    blk_mean_nb: nbMean,
    blk_std_nb: nbCount > 0 ? Math.sqrt(Math.max(0, nbSumSq / nbCount - nbMean * nbMean)) : NaN,
    blk_min_nb: nbCount > 0 ? nbMin : NaN,
    blk_p10_nb: quantileSorted(nbSorted, 0.1),
    blk_p90_nb: quantileSorted(nbSorted, 0.9),
  };
}
