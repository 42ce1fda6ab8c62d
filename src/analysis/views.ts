/**
 * The analysis as SQL views over a RESULTS folder (DESIGN §3b). Raw block rows are facts; layers, regimes,
 * attractors and persistence depend on per-configuration quantiles, so they are views, with their parameters in
 * the `params` view (and analysis/params.json). Paths are relative to the RESULTS folder: the views run after
 * `SET file_search_path = 'RESULTS'` (done by `openAnalysis`) or from a DuckDB started inside RESULTS.
 *
 * Definitions (DESIGN §3b, §3c), each twice: the headline (ROI, floors) and *_published (all blocks, no floor):
 *   T10, T90      quantile_cont of ssim_blk over non-border ROI blocks, per (model, path); T90 falls back to a
 *                 fixed T when it is 1 or rests on fewer than minRoiBlocks blocks (published: all non-border)
 *   damage        AC: se >= floor_ac and (r_ac >= hiddenR or se >= visible_ac); DC: |dmu| >= floor_dc (floors per
 *                 pair in images, data units); published: r_ac >= hiddenR or |dmu| 255/L >= hiddenDmu
 *   layer         Visible: ssim_blk < T10; Hidden: ssim_blk >= T90 and damage; Gray: other damaged; else Intact
 *   regime        Silent: (sx/L)^2 < K2^2 (1-T90)/T90 (erasing all GT texture stays above T90); Membrane: kappa <
 *                 kappaMembrane; else Responsive
 *   attractor     fail_count 0 None, 1 Single (axis from fail_mask), >= 2 Multi
 *   persistence   notta joined to tta on (model, image, row, col): Persistent (same non-Intact layer), notta-only
 *                 (failure repaired by TTA), tta-only (failure caused by TTA), Changed (one failure layer to another)
 */
import { blocksViewSelect, type DerivedColumnParams } from '../store/blockView.ts';
import type { AnalyzeOptions } from './options.ts';
import { buildPatternViewsSql } from './patterns.ts';

export interface ViewSources {
  /** Column names of the stored block files (hive keys included). */
  storedColumns: readonly string[];
  /** Column names of the image files (the §3c display width and floors since 0.3). */
  imageColumns: readonly string[];
  /** The run's block-engine parameters, for the derived columns of the `blocks` view. */
  derive: DerivedColumnParams;
  /** The block files carry fail_mask (both column sets since 0.2): axis-level views are defined. */
  hasFailMask: boolean;
  /** Read T10/T90 from analysis/thresholds.parquet (written by analyze) instead of computing them. */
  materializedThresholds: boolean;
}

export const AXES = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'] as const;
export const LAYER_ORDER = ['Visible', 'Hidden', 'Gray', 'Intact'] as const;

/** A DOUBLE literal that DuckDB parses to the same float64. */
function num(v: number): string {
  return `${String(v)}::DOUBLE`;
}

const HIVE = `hive_partitioning = true, hive_types = {'model': VARCHAR, 'path': VARCHAR}`;

/**
 * The SQL text that defines every analysis view, in dependency order (one statement per `;\n`).
 * @param p Resolved analysis options.
 * @param src What the results folder holds.
 */
export function buildViewsSql(p: AnalyzeOptions, src: ViewSources): string {
  const axisCase = AXES.map((a, k) => `WHEN ${1 << k} THEN '${a}'`).join(' ');
  const singleAxis = src.hasFailMask ? `CASE WHEN b.fail_count = 1 THEN CASE b.fail_mask ${axisCase} END END` : 'NULL::VARCHAR';
  const layerOf = (t10: string, t90: string, dmg: string): string =>
    `CASE WHEN b.ssim_blk < ${t10} THEN 'Visible' WHEN b.ssim_blk >= ${t90} AND ${dmg} THEN 'Hidden' WHEN ${dmg} THEN 'Gray' ELSE 'Intact' END`;
  const regimeOf = (t90: string): string =>
    `CASE WHEN ${t90} > 0 AND (b.sx / b.data_range) * (b.sx / b.data_range) < ${num(p.K2 * p.K2)} * (1 - ${t90}) / ${t90} THEN 'Silent'
       WHEN b.kappa < ${num(p.kappaMembrane)} THEN 'Membrane' ELSE 'Responsive' END`;
  const q = (x: number): string => `quantile_cont(ssim_blk::DOUBLE, ${num(x)})`;
  const s: string[] = [];
  s.push(`-- blindspot analysis views (the terms: docs/method.md); parameters also in analysis/params.json.
-- Paths are relative to the RESULTS folder: SET file_search_path = '/path/to/RESULTS' first, or start DuckDB there.
-- Two definitions of every layer: the headline (suffix-free columns) counts region-of-interest blocks with damage
-- above the floors stored per pair in images (display units, docs/method.md#damage); *_published is the published
-- definition (every block, no floor, grey levels of the data range).
CREATE OR REPLACE VIEW params AS SELECT
  ${num(p.visibleQuantile)} AS visible_quantile, ${num(p.hiddenQuantile)} AS hidden_quantile,
  ${num(p.hiddenR)} AS hidden_r, ${num(p.hiddenDmu)} AS hidden_dmu, ${num(p.kappaMembrane)} AS kappa_membrane,
  ${num(p.K2)} AS k2, ${num(p.K1)} AS k1, ${num(p.fallbackThreshold)} AS fallback_threshold, ${p.minRoiBlocks} AS min_roi_blocks`);
  s.push(`CREATE OR REPLACE VIEW images AS SELECT * FROM read_parquet('images/*/*/*.parquet', ${HIVE})`);
  s.push(`CREATE OR REPLACE VIEW blocks_stored AS SELECT * FROM read_parquet('blocks/*/*/*.parquet', ${HIVE})`);
  s.push(`-- Every column of the block table: stored facts plus columns derived by the block engine's formulas.
CREATE OR REPLACE VIEW blocks AS ${blocksViewSelect(new Set(src.storedColumns), { ...src.derive, hiddenR: p.hiddenR, hiddenDmu: p.hiddenDmu }, 'blocks_stored', 'images', new Set(src.imageColumns))}`);
  s.push(`-- T10/T90 over non-border ROI blocks (T90 falls back to a fixed T when it is 1 or rests on too few blocks),
-- and the published thresholds over every non-border block.
CREATE OR REPLACE VIEW thresholds_computed AS
SELECT model, path, nonborder_blocks, roi_blocks, t10,
  CASE WHEN roi_blocks < ${p.minRoiBlocks} OR t90_quantile IS NULL OR t90_quantile >= 1 THEN ${num(p.fallbackThreshold)} ELSE t90_quantile END AS t90,
  CASE WHEN roi_blocks < ${p.minRoiBlocks} THEN 'fallback: fewer than ${p.minRoiBlocks} ROI blocks'
       WHEN t90_quantile IS NULL OR t90_quantile >= 1 THEN 'fallback: T90 = 1' ELSE 'quantile' END AS t90_source,
  t90_quantile, t10_published, t90_published
FROM (SELECT model, path, count(*) AS nonborder_blocks, count(*) FILTER (WHERE in_roi) AS roi_blocks,
  ${q(p.visibleQuantile)} FILTER (WHERE in_roi) AS t10, ${q(p.hiddenQuantile)} FILTER (WHERE in_roi) AS t90_quantile,
  ${q(p.visibleQuantile)} AS t10_published, ${q(p.hiddenQuantile)} AS t90_published
  FROM blocks WHERE NOT is_border GROUP BY model, path)`);
  s.push(
    src.materializedThresholds
      ? `CREATE OR REPLACE VIEW thresholds AS SELECT * FROM read_parquet('analysis/thresholds.parquet')`
      : `CREATE OR REPLACE VIEW thresholds AS SELECT * FROM thresholds_computed`,
  );
  const dmg = '(b.damage_ac OR b.damage_dc)';
  const dmgPub = '(b.damage_ac_published OR b.damage_dc_published)';
  s.push(`CREATE OR REPLACE VIEW classified AS
SELECT b.*, t.t10, t.t90, t.t10_published, t.t90_published,
  ${layerOf('t.t10', 't.t90', dmg)} AS layer,
  ${regimeOf('t.t90')} AS regime,
  CASE WHEN b.damage_ac AND b.damage_dc THEN 'AC+DC' WHEN b.damage_ac THEN 'AC' WHEN b.damage_dc THEN 'DC' END AS cause,
  CASE WHEN b.fail_count = 0 THEN 'None' WHEN b.fail_count = 1 THEN 'Single' ELSE 'Multi' END AS attractor,
  ${singleAxis} AS single_axis,
  ${layerOf('t.t10_published', 't.t90_published', dmgPub)} AS layer_published,
  ${regimeOf('t.t90_published')} AS regime_published,
  -- blind-spot magnitude at this configuration's T90, display grey levels (docs/method.md; src/tier3/reference.ts)
  sqrt((1 - t.t90) / t.t90 * (2 * b.sx * b.sx + (${num(p.K2)} * b.data_range) * (${num(p.K2)} * b.data_range))) * 255 / b.display_width AS se_max,
  (sqrt((1 - t.t90) * (1 - t.t90) * b.mx * b.mx + t.t90 * (1 - t.t90) * (2 * b.mx * b.mx + (${num(p.K1)} * b.data_range) * (${num(p.K1)} * b.data_range)))
    - (1 - t.t90) * abs(b.mx)) / t.t90 * 255 / b.display_width AS dmu_max
FROM blocks b JOIN thresholds t USING (model, path)`);
  // Every count below comes from two small aggregates (one scan of `classified`, one of the notta/tta join), so
  // `analyze` reads the block rows twice instead of once per view; `analyze` also keeps both as tables.
  s.push(`CREATE OR REPLACE VIEW block_cube AS
SELECT model, path, in_roi, layer, regime, cause, layer_published, regime_published, attractor, single_axis,
  ${src.hasFailMask ? 'fail_mask' : 'NULL::UTINYINT AS fail_mask'}, is_border, ring <= 2 AS ring2, count(*) AS blocks
FROM classified GROUP BY ALL`);
  const share = (partition: string): string => `sum(blocks)::DOUBLE / (sum(sum(blocks)) OVER (PARTITION BY ${partition}))::DOUBLE`;
  s.push(`-- Counts of the headline definition are over region-of-interest blocks.
CREATE OR REPLACE VIEW layer_counts AS
SELECT model, path, layer, sum(blocks)::BIGINT AS blocks, ${share('model, path')} AS share
FROM block_cube WHERE in_roi GROUP BY model, path, layer`);
  s.push(`CREATE OR REPLACE VIEW layer_counts_published AS
SELECT model, path, layer_published AS layer, sum(blocks)::BIGINT AS blocks, ${share('model, path')} AS share
FROM block_cube GROUP BY model, path, layer_published`);
  s.push(`CREATE OR REPLACE VIEW regime_counts AS
SELECT model, path, layer, regime, sum(blocks)::BIGINT AS blocks, ${share('model, path, layer')} AS share_of_layer
FROM block_cube WHERE in_roi GROUP BY model, path, layer, regime`);
  s.push(`CREATE OR REPLACE VIEW attractor_counts AS
SELECT model, path, layer, attractor, single_axis AS axis, sum(blocks)::BIGINT AS blocks, ${share('model, path, layer')} AS share_of_layer
FROM block_cube WHERE in_roi AND layer <> 'Intact' GROUP BY model, path, layer, attractor, single_axis`);
  if (src.hasFailMask) {
    s.push(`CREATE OR REPLACE VIEW axis_shares AS
SELECT model, path, layer, axis, sum(blocks)::BIGINT AS blocks, sum(blocks * fails)::DOUBLE / sum(blocks)::DOUBLE AS fail_share
FROM (${AXES.map((a, k) => `SELECT model, path, layer, '${a}' AS axis, (fail_mask >> ${k}) & 1 AS fails, blocks FROM block_cube WHERE in_roi`).join(' UNION ALL ')})
GROUP BY model, path, layer, axis`);
  }
  const persistenceOf = (l: string): string => `CASE WHEN n.${l} = t.${l} AND n.${l} <> 'Intact' THEN 'Persistent'
       WHEN n.${l} <> 'Intact' AND t.${l} = 'Intact' THEN 'notta-only'
       WHEN n.${l} = 'Intact' AND t.${l} <> 'Intact' THEN 'tta-only'
       WHEN n.${l} = 'Intact' THEN 'Intact'
       ELSE 'Changed' END`;
  s.push(`CREATE OR REPLACE VIEW persistence AS
SELECT model, image, "row", col, n.is_border, n.ring, n.in_roi,
  n.layer AS layer_notta, t.layer AS layer_tta,
  n.regime AS regime_notta, t.regime AS regime_tta,
  n.attractor AS attractor_notta, t.attractor AS attractor_tta,
  n.single_axis AS axis_notta, t.single_axis AS axis_tta,
  ${src.hasFailMask ? 'n.fail_mask AS fail_mask_notta, t.fail_mask AS fail_mask_tta,' : ''}
  n.ssim_blk AS ssim_blk_notta, t.ssim_blk AS ssim_blk_tta,
  ${persistenceOf('layer')} AS persistence,
  n.layer_published AS layer_published_notta, t.layer_published AS layer_published_tta,
  n.regime_published AS regime_published_notta,
  ${persistenceOf('layer_published')} AS persistence_published
FROM (SELECT * FROM classified WHERE path = 'notta') n
JOIN (SELECT * FROM classified WHERE path = 'tta') t USING (model, image, "row", col)`);
  s.push(`CREATE OR REPLACE VIEW pair_cube AS
SELECT model, in_roi, layer_notta, layer_tta, regime_notta, persistence,
  ${src.hasFailMask ? 'fail_mask_notta, fail_mask_tta' : 'NULL::UTINYINT AS fail_mask_notta, NULL::UTINYINT AS fail_mask_tta'},
  layer_published_notta, layer_published_tta, regime_published_notta, persistence_published, count(*) AS blocks
FROM persistence GROUP BY ALL`);
  s.push(`CREATE OR REPLACE VIEW layer_transitions AS
SELECT model, layer_notta, layer_tta, sum(blocks)::BIGINT AS blocks, ${share('model, layer_notta')} AS share_of_notta
FROM pair_cube WHERE in_roi GROUP BY model, layer_notta, layer_tta`);
  if (src.hasFailMask) {
    s.push(`CREATE OR REPLACE VIEW axis_transitions AS
SELECT model, axis, fails_notta, fails_tta, sum(blocks)::BIGINT AS blocks
FROM (${AXES.map((a, k) => `SELECT model, '${a}' AS axis, ((fail_mask_notta >> ${k}) & 1) = 1 AS fails_notta, ((fail_mask_tta >> ${k}) & 1) = 1 AS fails_tta, blocks FROM pair_cube WHERE in_roi`).join(' UNION ALL ')})
GROUP BY model, axis, fails_notta, fails_tta`);
  }
  const ratio = (cond: string): string => `sum(blocks * (${cond})::INTEGER)::DOUBLE / sum(blocks)::DOUBLE`;
  s.push(`-- se_max over ROI blocks per configuration, from one small aggregate (0.1-display-level bins, capped at 64;
-- an exact median over every block would cost a sort of all rows): the median bin's lower edge, and the share of
-- ROI blocks where a texture error at the pair's AC floor would stay above T90.
CREATE OR REPLACE VIEW blind_cube AS
SELECT model, path, least(640, floor(se_max * 10))::SMALLINT AS se_max_bin, se_max * display_width / 255 >= floor_ac AS blind_at_floor,
  count(*) AS blocks
FROM classified WHERE in_roi GROUP BY ALL`);
  s.push(`CREATE OR REPLACE VIEW blind_spot AS
SELECT model, path, max(total)::BIGINT AS roi_blocks,
  min(se_max_bin) FILTER (WHERE cum >= total / 2.0)::DOUBLE / 10 AS se_max_median,
  sum(blocks * blind_at_floor::INTEGER)::DOUBLE / max(total)::DOUBLE AS blind_at_floor_share
FROM (SELECT model, path, se_max_bin, blind_at_floor, blocks,
        sum(blocks) OVER (PARTITION BY model, path ORDER BY se_max_bin, blind_at_floor ROWS UNBOUNDED PRECEDING) AS cum,
        sum(blocks) OVER (PARTITION BY model, path) AS total
      FROM blind_cube)
GROUP BY model, path`);
  s.push(`CREATE OR REPLACE VIEW headline AS
WITH cfg AS (SELECT model, path, t90, t90_source, roi_blocks AS roi_nonborder_blocks, t90_published FROM thresholds),
hc AS (SELECT model, path, sum(blocks)::BIGINT AS hidden_blocks,
         sum(blocks * (cause IN ('AC', 'AC+DC'))::INTEGER)::BIGINT AS hidden_ac_blocks,
         sum(blocks * (cause IN ('DC', 'AC+DC'))::INTEGER)::BIGINT AS hidden_dc_blocks,
         ${ratio("attractor = 'None'")} AS hidden_none_share,
         ${ratio("attractor = 'Single'")} AS hidden_single_share,
         ${ratio("attractor = 'Multi'")} AS hidden_multi_share,
         ${ratio("regime = 'Silent'")} AS hidden_silent_share
       FROM block_cube WHERE in_roi AND layer = 'Hidden' GROUP BY model, path),
vc AS (SELECT model, path, sum(blocks)::BIGINT AS visible_blocks, ${ratio('is_border')} AS visible_border_share,
         ${ratio('ring2')} AS visible_ring2_share
       FROM block_cube WHERE in_roi AND layer = 'Visible' GROUP BY model, path),
hp AS (SELECT model, sum(blocks)::BIGINT AS hidden_persistent_blocks,
         ${ratio("regime_notta = 'Silent'")} AS hidden_persistent_silent_share
       FROM pair_cube WHERE in_roi AND persistence = 'Persistent' AND layer_notta = 'Hidden' GROUP BY model),
hcp AS (SELECT model, path, sum(blocks)::BIGINT AS hidden_blocks_published,
         ${ratio("attractor = 'None'")} AS hidden_none_share_published,
         ${ratio("attractor = 'Single'")} AS hidden_single_share_published,
         ${ratio("attractor = 'Multi'")} AS hidden_multi_share_published
       FROM block_cube WHERE layer_published = 'Hidden' GROUP BY model, path),
vcp AS (SELECT model, path, sum(blocks)::BIGINT AS visible_blocks_published, ${ratio('is_border')} AS visible_border_share_published
       FROM block_cube WHERE layer_published = 'Visible' GROUP BY model, path),
hpp AS (SELECT model, sum(blocks)::BIGINT AS hidden_persistent_blocks_published,
         ${ratio("regime_published_notta = 'Silent'")} AS hidden_persistent_silent_share_published
       FROM pair_cube WHERE persistence_published = 'Persistent' AND layer_published_notta = 'Hidden' GROUP BY model)
SELECT cfg.model, cfg.path, cfg.t90, cfg.t90_source, cfg.roi_nonborder_blocks,
  coalesce(hc.hidden_blocks, 0) AS hidden_blocks, coalesce(hc.hidden_ac_blocks, 0) AS hidden_ac_blocks, coalesce(hc.hidden_dc_blocks, 0) AS hidden_dc_blocks,
  hc.hidden_none_share, hc.hidden_single_share, hc.hidden_multi_share, hc.hidden_silent_share,
  coalesce(vc.visible_blocks, 0) AS visible_blocks, vc.visible_border_share, vc.visible_ring2_share,
  coalesce(hp.hidden_persistent_blocks, 0) AS hidden_persistent_blocks, hp.hidden_persistent_silent_share,
  bs.se_max_median, bs.blind_at_floor_share,
  cfg.t90_published,
  coalesce(hcp.hidden_blocks_published, 0) AS hidden_blocks_published,
  hcp.hidden_none_share_published, hcp.hidden_single_share_published, hcp.hidden_multi_share_published,
  coalesce(vcp.visible_blocks_published, 0) AS visible_blocks_published, vcp.visible_border_share_published,
  coalesce(hpp.hidden_persistent_blocks_published, 0) AS hidden_persistent_blocks_published, hpp.hidden_persistent_silent_share_published
FROM cfg LEFT JOIN hc USING (model, path) LEFT JOIN vc USING (model, path) LEFT JOIN hp USING (model)
  LEFT JOIN blind_spot bs USING (model, path)
  LEFT JOIN hcp USING (model, path) LEFT JOIN vcp USING (model, path) LEFT JOIN hpp USING (model)`);
  // The published engine's 26-pattern screen and LFV over the image rows (patterns.ts, docs/metrics.md).
  s.push(...splitStatements(buildPatternViewsSql({ thresholds: p.patternThresholds, localQuality: p.patternLocalQuality, blockSize: src.derive.blockSize })));
  return s.join(';\n\n') + ';\n';
}

/** Split the text of {@link buildViewsSql} into statements. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\n/)
    .map((x) => x.trim())
    .filter((x) => x !== '' && !/^(--[^\n]*\n?)*$/.test(x));
}
