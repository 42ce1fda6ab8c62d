/**
 * The analysis as SQL views over a RESULTS folder (DESIGN §3b). Raw block rows are facts; layers, regimes,
 * attractors and persistence depend on per-configuration quantiles, so they are views, with their parameters in
 * the `params` view (and analysis/params.json). Paths are relative to the RESULTS folder: the views run after
 * `SET file_search_path = 'RESULTS'` (done by `openAnalysis`) or from a DuckDB started inside RESULTS.
 *
 * Definitions (DESIGN §3b):
 *   T10, T90      quantile_cont of ssim_blk over non-border blocks, per (model, path)
 *   damage        AC: r_ac >= hiddenR; DC: |a1| >= hiddenDmu (a1 = dmu on an 8-bit scale)
 *   layer         Visible: ssim_blk < T10; Hidden: ssim_blk >= T90 and damage; Gray: other damaged; else Intact
 *   regime        Silent: (sx/L)^2 < K2^2 (1-T90)/T90 (erasing all GT texture stays above T90); Membrane: kappa <
 *                 kappaMembrane; else Responsive
 *   attractor     fail_count 0 None, 1 Single (axis from fail_mask), >= 2 Multi
 *   persistence   notta joined to tta on (model, image, row, col): Persistent (same non-Intact layer), notta-only
 *                 (failure repaired by TTA), tta-only (failure caused by TTA), Changed (one failure layer to another)
 */
import { blocksViewSelect, type DerivedColumnParams } from '../store/blockView.ts';
import type { AnalyzeOptions } from './options.ts';

export interface ViewSources {
  /** Column names of the stored block files (hive keys included). */
  storedColumns: readonly string[];
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
  const damage = `(b.r_ac >= ${num(p.hiddenR)} OR abs(b.a1) >= ${num(p.hiddenDmu)})`;
  const axisCase = AXES.map((a, k) => `WHEN ${1 << k} THEN '${a}'`).join(' ');
  const singleAxis = src.hasFailMask ? `CASE WHEN b.fail_count = 1 THEN CASE b.fail_mask ${axisCase} END END` : 'NULL::VARCHAR';
  const s: string[] = [];
  s.push(`-- blindspot analysis views (DESIGN §3b); parameters also in analysis/params.json.
-- Paths are relative to the RESULTS folder: SET file_search_path = '/path/to/RESULTS' first, or start DuckDB there.
CREATE OR REPLACE VIEW params AS SELECT
  ${num(p.visibleQuantile)} AS visible_quantile, ${num(p.hiddenQuantile)} AS hidden_quantile,
  ${num(p.hiddenR)} AS hidden_r, ${num(p.hiddenDmu)} AS hidden_dmu, ${num(p.kappaMembrane)} AS kappa_membrane,
  ${num(p.K2)} AS k2`);
  s.push(`CREATE OR REPLACE VIEW images AS SELECT * FROM read_parquet('images/*/*/*.parquet', ${HIVE})`);
  s.push(`CREATE OR REPLACE VIEW blocks_stored AS SELECT * FROM read_parquet('blocks/*/*/*.parquet', ${HIVE})`);
  s.push(`-- Every column of the block table: stored facts plus columns derived by the block engine's formulas.
CREATE OR REPLACE VIEW blocks AS ${blocksViewSelect(new Set(src.storedColumns), src.derive, 'blocks_stored', 'images')}`);
  s.push(`CREATE OR REPLACE VIEW thresholds_computed AS
SELECT model, path, count(*) AS nonborder_blocks,
  quantile_cont(ssim_blk::DOUBLE, ${num(p.visibleQuantile)}) AS t10,
  quantile_cont(ssim_blk::DOUBLE, ${num(p.hiddenQuantile)}) AS t90
FROM blocks WHERE NOT is_border GROUP BY model, path`);
  s.push(
    src.materializedThresholds
      ? `CREATE OR REPLACE VIEW thresholds AS SELECT * FROM read_parquet('analysis/thresholds.parquet')`
      : `CREATE OR REPLACE VIEW thresholds AS SELECT * FROM thresholds_computed`,
  );
  s.push(`CREATE OR REPLACE VIEW classified AS
SELECT b.*, t.t10, t.t90,
  b.r_ac >= ${num(p.hiddenR)} AS damage_ac,
  abs(b.a1) >= ${num(p.hiddenDmu)} AS damage_dc,
  CASE WHEN b.ssim_blk < t.t10 THEN 'Visible'
       WHEN b.ssim_blk >= t.t90 AND ${damage} THEN 'Hidden'
       WHEN ${damage} THEN 'Gray'
       ELSE 'Intact' END AS layer,
  CASE WHEN t.t90 > 0 AND (b.sx / b.data_range) * (b.sx / b.data_range) < ${num(p.K2 * p.K2)} * (1 - t.t90) / t.t90 THEN 'Silent'
       WHEN b.kappa < ${num(p.kappaMembrane)} THEN 'Membrane'
       ELSE 'Responsive' END AS regime,
  CASE WHEN b.r_ac >= ${num(p.hiddenR)} AND abs(b.a1) >= ${num(p.hiddenDmu)} THEN 'AC+DC'
       WHEN b.r_ac >= ${num(p.hiddenR)} THEN 'AC'
       WHEN abs(b.a1) >= ${num(p.hiddenDmu)} THEN 'DC' END AS cause,
  CASE WHEN b.fail_count = 0 THEN 'None' WHEN b.fail_count = 1 THEN 'Single' ELSE 'Multi' END AS attractor,
  ${singleAxis} AS single_axis
FROM blocks b JOIN thresholds t USING (model, path)`);
  // Every count below comes from two small aggregates (one scan of `classified`, one of the notta/tta join), so
  // `analyze` reads the block rows twice instead of once per view; `analyze` also keeps both as tables.
  s.push(`CREATE OR REPLACE VIEW block_cube AS
SELECT model, path, layer, regime, attractor, single_axis, ${src.hasFailMask ? 'fail_mask' : 'NULL::UTINYINT AS fail_mask'},
  is_border, ring <= 2 AS ring2, count(*) AS blocks
FROM classified GROUP BY ALL`);
  const share = (partition: string): string => `sum(blocks)::DOUBLE / (sum(sum(blocks)) OVER (PARTITION BY ${partition}))::DOUBLE`;
  s.push(`CREATE OR REPLACE VIEW layer_counts AS
SELECT model, path, layer, sum(blocks)::BIGINT AS blocks, ${share('model, path')} AS share
FROM block_cube GROUP BY model, path, layer`);
  s.push(`CREATE OR REPLACE VIEW regime_counts AS
SELECT model, path, layer, regime, sum(blocks)::BIGINT AS blocks, ${share('model, path, layer')} AS share_of_layer
FROM block_cube GROUP BY model, path, layer, regime`);
  s.push(`CREATE OR REPLACE VIEW attractor_counts AS
SELECT model, path, layer, attractor, single_axis AS axis, sum(blocks)::BIGINT AS blocks, ${share('model, path, layer')} AS share_of_layer
FROM block_cube WHERE layer <> 'Intact' GROUP BY model, path, layer, attractor, single_axis`);
  if (src.hasFailMask) {
    s.push(`CREATE OR REPLACE VIEW axis_shares AS
SELECT model, path, layer, axis, sum(blocks)::BIGINT AS blocks, sum(blocks * fails)::DOUBLE / sum(blocks)::DOUBLE AS fail_share
FROM (${AXES.map((a, k) => `SELECT model, path, layer, '${a}' AS axis, (fail_mask >> ${k}) & 1 AS fails, blocks FROM block_cube`).join(' UNION ALL ')})
GROUP BY model, path, layer, axis`);
  }
  s.push(`CREATE OR REPLACE VIEW persistence AS
SELECT model, image, "row", col, n.is_border, n.ring,
  n.layer AS layer_notta, t.layer AS layer_tta,
  n.regime AS regime_notta, t.regime AS regime_tta,
  n.attractor AS attractor_notta, t.attractor AS attractor_tta,
  n.single_axis AS axis_notta, t.single_axis AS axis_tta,
  ${src.hasFailMask ? 'n.fail_mask AS fail_mask_notta, t.fail_mask AS fail_mask_tta,' : ''}
  n.ssim_blk AS ssim_blk_notta, t.ssim_blk AS ssim_blk_tta,
  CASE WHEN n.layer = t.layer AND n.layer <> 'Intact' THEN 'Persistent'
       WHEN n.layer <> 'Intact' AND t.layer = 'Intact' THEN 'notta-only'
       WHEN n.layer = 'Intact' AND t.layer <> 'Intact' THEN 'tta-only'
       WHEN n.layer = 'Intact' THEN 'Intact'
       ELSE 'Changed' END AS persistence
FROM (SELECT * FROM classified WHERE path = 'notta') n
JOIN (SELECT * FROM classified WHERE path = 'tta') t USING (model, image, "row", col)`);
  s.push(`CREATE OR REPLACE VIEW pair_cube AS
SELECT model, layer_notta, layer_tta, regime_notta, persistence,
  ${src.hasFailMask ? 'fail_mask_notta, fail_mask_tta' : 'NULL::UTINYINT AS fail_mask_notta, NULL::UTINYINT AS fail_mask_tta'}, count(*) AS blocks
FROM persistence GROUP BY ALL`);
  s.push(`CREATE OR REPLACE VIEW layer_transitions AS
SELECT model, layer_notta, layer_tta, sum(blocks)::BIGINT AS blocks, ${share('model, layer_notta')} AS share_of_notta
FROM pair_cube GROUP BY model, layer_notta, layer_tta`);
  if (src.hasFailMask) {
    s.push(`CREATE OR REPLACE VIEW axis_transitions AS
SELECT model, axis, fails_notta, fails_tta, sum(blocks)::BIGINT AS blocks
FROM (${AXES.map((a, k) => `SELECT model, '${a}' AS axis, ((fail_mask_notta >> ${k}) & 1) = 1 AS fails_notta, ((fail_mask_tta >> ${k}) & 1) = 1 AS fails_tta, blocks FROM pair_cube`).join(' UNION ALL ')})
GROUP BY model, axis, fails_notta, fails_tta`);
  }
  const ratio = (cond: string): string => `sum(blocks * (${cond})::INTEGER)::DOUBLE / sum(blocks)::DOUBLE`;
  s.push(`CREATE OR REPLACE VIEW headline AS
WITH cfg AS (SELECT model, path FROM thresholds),
hc AS (SELECT model, path, sum(blocks)::BIGINT AS hidden_blocks,
         ${ratio("attractor = 'None'")} AS hidden_none_share,
         ${ratio("attractor = 'Single'")} AS hidden_single_share,
         ${ratio("attractor = 'Multi'")} AS hidden_multi_share
       FROM block_cube WHERE layer = 'Hidden' GROUP BY model, path),
vc AS (SELECT model, path, sum(blocks)::BIGINT AS visible_blocks, ${ratio('is_border')} AS visible_border_share,
         ${ratio('ring2')} AS visible_ring2_share
       FROM block_cube WHERE layer = 'Visible' GROUP BY model, path),
hp AS (SELECT model, sum(blocks)::BIGINT AS hidden_persistent_blocks,
         ${ratio("regime_notta = 'Silent'")} AS hidden_persistent_silent_share
       FROM pair_cube WHERE persistence = 'Persistent' AND layer_notta = 'Hidden' GROUP BY model)
SELECT cfg.model, cfg.path,
  coalesce(hc.hidden_blocks, 0) AS hidden_blocks, hc.hidden_none_share, hc.hidden_single_share, hc.hidden_multi_share,
  coalesce(vc.visible_blocks, 0) AS visible_blocks, vc.visible_border_share, vc.visible_ring2_share,
  coalesce(hp.hidden_persistent_blocks, 0) AS hidden_persistent_blocks, hp.hidden_persistent_silent_share
FROM cfg LEFT JOIN hc USING (model, path) LEFT JOIN vc USING (model, path) LEFT JOIN hp USING (model)`);
  return s.join(';\n\n') + ';\n';
}

/** Split the text of {@link buildViewsSql} into statements. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\n/)
    .map((x) => x.trim())
    .filter((x) => x !== '' && !/^(--[^\n]*\n?)*$/.test(x));
}
