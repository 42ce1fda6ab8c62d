/**
 * The viewer's read side of a RESULTS folder (docs/dataset-runs.md): DuckDB views that label every block (regime,
 * layer, attractor, dominant axis, persistence; DESIGN §3b) and place it in the egg (src/viewer/egg.ts), and the
 * small aggregates the browser asks for. Raw block rows never leave DuckDB in bulk: the 3D view gets cells
 * (GROUP BY of the labels plus radius and severity bins), a click gets a deterministic sample of one cell, the
 * image view gets the blocks of one (image, model, path).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { BlindspotError } from '../errors.ts';
import { readRunJson, runDiagnoseOptions } from '../analysis/open.ts';
import { escapeGlob } from '../analysis/confine.ts';
import { checkPartsListed } from '../store/manifest.ts';
import { blocksViewSelect } from '../store/blockView.ts';
import { sqlString } from '../store/blockTable.ts';
import { AXIS_VECTORS, MEMBRANE_RADIUS, NONE_POLE, YOLK_LOG_KAPPA_MIN, YOLK_RADIUS } from './egg.ts';
import { AUTO_SAMPLE_ROWS } from './options.ts';

/** The block-engine options the labels need (from run.json `diagnose`). */
export interface LabelParams {
  blockSize: number;
  stride: number;
  K2: number;
  hiddenR: number;
  hiddenDmu: number;
  hiddenThreshold: number | null;
  visibleThreshold: number | null;
  a1Fail: number;
  a2Fail: number;
  a3FailRho: number;
  a4FailCosine: number;
  a4FailLog2Energy: number;
  a5Fail: number;
  a6Fail: number;
  fallbackThreshold: number;
  minRoiBlocks: number;
}

const DEFAULT_LABEL_PARAMS: LabelParams = {
  blockSize: 8,
  stride: 8,
  K2: 0.03,
  hiddenR: 1,
  hiddenDmu: 8,
  hiddenThreshold: null,
  visibleThreshold: null,
  a1Fail: 8,
  a2Fail: 1,
  a3FailRho: 0.5,
  a4FailCosine: 0.5,
  a4FailLog2Energy: 1,
  a5Fail: 1,
  a6Fail: 8,
  fallbackThreshold: 0.99,
  minRoiBlocks: 1000,
};

export interface ResultsMeta {
  dir: string;
  run: Record<string, unknown> | null;
  params: LabelParams;
  /** 'full' when sev1..6, fail_mask and l/c/s are stored; 'core' otherwise (severity then comes from raw axes). */
  columnSet: 'full' | 'core';
  configs: { model: string; path: string; blocks: number; t10: number; t90: number }[];
  models: string[];
  paths: string[];
  cellCount: number;
  radiusBins: number;
  hasAnalysis: boolean;
  /** Fraction of block positions in the cells. */
  blockSample: number;
  notices: string[];
}

export type Row = Record<string, unknown>;

/** A SQL number literal (finite numbers only; run.json is data, not code). */
function num(v: unknown, name: string): string {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new BlindspotError('E_CORRUPT', `run.json: diagnose.${name} is not a finite number`);
  return String(v);
}

function labelParams(run: Record<string, unknown> | null): LabelParams {
  const d = (run?.diagnose ?? {}) as Record<string, unknown>;
  const p: LabelParams = { ...DEFAULT_LABEL_PARAMS };
  for (const key of Object.keys(p) as (keyof LabelParams)[]) {
    const v = d[key];
    if (v === undefined) continue;
    if ((key === 'hiddenThreshold' || key === 'visibleThreshold') && v === null) continue;
    (p as unknown as Record<string, number | null>)[key] = Number(num(v, key));
  }
  if (d.stride === null || d.stride === undefined) p.stride = p.blockSize;
  return p;
}

/** SQL expression: NaN/NULL -> 0. */
const nz = (e: string): string => `coalesce(CASE WHEN isnan(${e}) THEN 0 ELSE ${e} END, 0)`;

/**
 * SQL of the `block_states` view: one row per stored block with its labels and egg position. Written out in
 * full in docs/viewer.md.
 * @param cols Columns of `raw_blocks`: stored decisions and severities are used where present.
 * @param thresholdsFile analysis/thresholds.parquet to read T10/T90 from, or null to compute them.
 * @param fraction Below 1, also `block_states_sampled` over `raw_blocks_sampled` (made by ResultsStore.open).
 */
export function blockStatesSql(
  p: LabelParams,
  cols: ReadonlySet<string>,
  thresholdsFile: string | null = null,
  fraction = 1,
): string {
  const hidden = p.hiddenThreshold === null ? 'NULL' : String(p.hiddenThreshold);
  const visible = p.visibleThreshold === null ? 'NULL' : String(p.visibleThreshold);
  // analyze's thresholds (same definition) save one pass over every block; else quantiles here.
  const thresholdsSql = thresholdsFile
    ? `CREATE OR REPLACE TABLE config_thresholds AS
  SELECT t.model, t.path, b.blocks, t.t10::DOUBLE AS t10, t.t90::DOUBLE AS t90,
    t.t10_published::DOUBLE AS t10_published, t.t90_published::DOUBLE AS t90_published
  FROM read_parquet(${sqlString(thresholdsFile)}) t JOIN (SELECT model, path, count(*)::BIGINT AS blocks FROM raw_blocks GROUP BY ALL) b
    ON t.model = b.model AND t.path = b.path;`
    : `CREATE OR REPLACE TABLE config_thresholds AS
  SELECT model, path, blocks, t10,
    CASE WHEN ${hidden} IS NOT NULL THEN ${hidden}
         WHEN roi_blocks < ${p.minRoiBlocks} OR t90q IS NULL OR t90q >= 1 THEN ${p.fallbackThreshold} ELSE t90q END AS t90,
    t10_published, t90_published
  FROM (SELECT model, path, count(*)::BIGINT AS blocks, count(*) FILTER (WHERE NOT is_border AND in_roi) AS roi_blocks,
    coalesce(${visible}, quantile_cont(ssim_blk::DOUBLE, 0.1) FILTER (WHERE NOT is_border AND in_roi), quantile_cont(ssim_blk::DOUBLE, 0.1) FILTER (WHERE in_roi)) AS t10,
    quantile_cont(ssim_blk::DOUBLE, 0.9) FILTER (WHERE NOT is_border AND in_roi) AS t90q,
    coalesce(${visible}, quantile_cont(ssim_blk::DOUBLE, 0.1) FILTER (WHERE NOT is_border), quantile_cont(ssim_blk::DOUBLE, 0.1)) AS t10_published,
    coalesce(${hidden}, quantile_cont(ssim_blk::DOUBLE, 0.9) FILTER (WHERE NOT is_border), quantile_cont(ssim_blk::DOUBLE, 0.9)) AS t90_published
  FROM raw_blocks GROUP BY model, path);`;
  const e = [
    `abs(${nz('a1')}) / ${p.a1Fail}`,
    `abs(${nz('a2')}) / ${p.a2Fail}`,
    `${nz('a3')} / ${1 - p.a3FailRho}`,
    cols.has('a4_log2_energy')
      ? `greatest(${nz('a4')} / ${p.a4FailCosine}, abs(${nz('a4_log2_energy')}) / ${p.a4FailLog2Energy})`
      : `${nz('a4')} / ${p.a4FailCosine}`,
    `abs(${nz('a5')}) / ${p.a5Fail}`,
    `${nz('a6')} / ${p.a6Fail}`,
  ];
  // Stored decisions and severities where the run has them; otherwise estimated from the raw axis values.
  const hasMask = cols.has('fail_mask');
  const mask = hasMask
    ? 'fail_mask::INTEGER'
    : e.map((x, k) => `(CASE WHEN ${x} >= 1 THEN ${1 << k} ELSE 0 END)`).join(' + ');
  const sev = [1, 2, 3, 4, 5, 6].map((k) => {
    if (cols.has(`sev${k}`)) return `least(1, greatest(0, ${nz(`sev${k}`)}))`;
    const raw = `least(1, greatest(0, e${k}))`;
    const gated = cols.has(`g${k}`) ? `CASE WHEN g${k} THEN ${raw} ELSE 0 END` : raw;
    return hasMask ? `CASE WHEN (fail_mask & ${1 << (k - 1)}) <> 0 THEN 1 ELSE ${gated} END` : gated;
  });
  const dir = (c: 0 | 1 | 2): string =>
    `(w * ${NONE_POLE[c]} + ${AXIS_VECTORS.map((v, k) => `s${k + 1} * ${v[c]}`).join(' + ')})`;
  // The view body over a source relation: block_states reads every block; the sampled 3D cells read
  // raw_blocks_sampled (a hash sample of the stored rows, made by ResultsStore.open, filtered before any column
  // is derived).
  const states = (source: string): string => `
WITH b AS (
  SELECT r.*, t.t10, t.t90, t.t10_published, t.t90_published, coalesce(i.drange, 255) AS drange
  FROM ${source} r JOIN config_thresholds t ON r.model = t.model AND r.path = t.path
  LEFT JOIN image_ranges i ON r.image = i.image AND r.model = i.model AND r.path = i.path
), e AS (
  SELECT *, ${e.map((x, k) => `${x} AS e${k + 1}`).join(', ')},
    (${p.K2} * drange) * (${p.K2} * drange) AS c2, dmu::DOUBLE * 255 / drange AS dmu8
  FROM b
), m AS (
  SELECT *, ${mask} AS mask, ${sev.map((x, k) => `${x} AS s${k + 1}`).join(', ')} FROM e
), l AS (
  SELECT *,
    CASE WHEN t90 <= 0 OR sx::DOUBLE * sx < c2 * (1 - t90) / t90 THEN 0 WHEN kappa < 0.5 THEN 1 ELSE 2 END AS regime,
    ${cols.has('damage_ac') ? 'damage_ac' : `(r_ac >= ${p.hiddenR})`} AS dmg_ac, ${cols.has('damage_dc') ? 'damage_dc' : `(abs(dmu8) >= ${p.hiddenDmu})`} AS dmg_dc,
    (r_ac >= ${p.hiddenR}) AS dmg_ac_published, (abs(dmu8) >= ${p.hiddenDmu}) AS dmg_dc_published,
    CASE WHEN t90_published <= 0 OR sx::DOUBLE * sx < c2 * (1 - t90_published) / t90_published THEN 0 WHEN kappa < 0.5 THEN 1 ELSE 2 END AS regime_published,
    greatest(s1, s2, s3, s4, s5, s6) AS severity,
    1 - greatest(s1, s2, s3, s4, s5, s6) AS w,
    CASE WHEN fail_count = 0 THEN 0 WHEN fail_count = 1 THEN 1 ELSE 2 END AS attractor,
    CASE WHEN mask = 0 THEN 0 ELSE list_position(
      [${e.map((_, k) => `CASE WHEN (mask & ${1 << k}) <> 0 THEN e${k + 1} ELSE -1 END`).join(', ')}],
      greatest(${e.map((_, k) => `CASE WHEN (mask & ${1 << k}) <> 0 THEN e${k + 1} ELSE -1 END`).join(', ')})) END AS dom
  FROM m
), d AS (
  SELECT *,
    CASE WHEN ssim_blk < t10 THEN 1 WHEN NOT (dmg_ac OR dmg_dc) THEN 0 WHEN ssim_blk >= t90 THEN 3 ELSE 2 END AS layer,
    CASE WHEN ssim_blk < t10_published THEN 1 WHEN NOT (dmg_ac_published OR dmg_dc_published) THEN 0 WHEN ssim_blk >= t90_published THEN 3 ELSE 2 END AS layer_published,
    ${dir(0)} AS dx, ${dir(1)} AS dy, ${dir(2)} AS dz,
    CASE regime
      WHEN 0 THEN CASE WHEN kappa > 0 THEN ${YOLK_RADIUS} * least(1, greatest(0, (log10(kappa) - ${YOLK_LOG_KAPPA_MIN}) / ${Math.log10(0.5) - YOLK_LOG_KAPPA_MIN})) ELSE 0 END
      WHEN 1 THEN ${YOLK_RADIUS} + ${MEMBRANE_RADIUS - YOLK_RADIUS} * least(1, greatest(0, kappa / 0.5))
      ELSE ${MEMBRANE_RADIUS} + ${1 - MEMBRANE_RADIUS} * least(1, greatest(0, (kappa - 0.5) / 0.5)) END AS radius
  FROM l
)
SELECT *,
  CASE WHEN sqrt(dx*dx + dy*dy + dz*dz) < 1e-9 THEN ${NONE_POLE[0]} ELSE radius * dx / sqrt(dx*dx + dy*dy + dz*dz) END AS px,
  CASE WHEN sqrt(dx*dx + dy*dy + dz*dz) < 1e-9 THEN ${NONE_POLE[1]} * radius ELSE radius * dy / sqrt(dx*dx + dy*dy + dz*dz) END AS py,
  CASE WHEN sqrt(dx*dx + dy*dy + dz*dz) < 1e-9 THEN ${NONE_POLE[2]} ELSE radius * dz / sqrt(dx*dx + dy*dy + dz*dz) END AS pz
FROM d`;
  return `
${thresholdsSql}
CREATE OR REPLACE VIEW block_states AS ${states('raw_blocks')};
CREATE OR REPLACE VIEW block_pairs AS ${pairsSelect('block_states')};${
    fraction < 1
      ? `
CREATE OR REPLACE VIEW block_states_sampled AS ${states('raw_blocks_sampled')};`
      : ''
  }
`;
}

/** Each block of `source` joined with the same block (model, image, row, col) on the other path. */
function pairsSelect(source: string): string {
  return `SELECT a.*, o.layer AS other_layer, o.mask AS other_mask, o.px AS opx, o.py AS opy, o.pz AS opz,
  (a.layer <> 0 AND a.layer = o.layer) AS persistent,
  (a.layer_published <> 0 AND a.layer_published = o.layer_published) AS persistent_published
FROM ${source} a LEFT JOIN ${source} o
  ON a.model = o.model AND a.image = o.image AND a."row" = o."row" AND a.col = o.col AND a.path <> o.path`;
}

/** Deterministic block-position filter keeping about `fraction` of (image, row, col). */
export function sampleFilter(fraction: number): string {
  return fraction >= 1 ? 'TRUE' : `(hash(image, "row", col) % 1000000) < ${Math.round(fraction * 1e6)}`;
}

/** SQL of the `cells` table for `radiusBins` radius bins (severity in 4 bins), over a `fraction` of block positions. */
export function cellsSql(radiusBins: number, fraction = 1): string {
  return `
CREATE OR REPLACE TABLE cells AS
SELECT (row_number() OVER (ORDER BY model, path, layer, regime, attractor, is_border, persistent, dom, rbin, sbin) - 1)::INTEGER AS id, *
FROM (
  SELECT model, path, layer::INTEGER AS layer, regime::INTEGER AS regime, attractor::INTEGER AS attractor,
    is_border, coalesce(persistent, false) AS persistent, dom::INTEGER AS dom,
    least(${radiusBins - 1}, floor(radius * ${radiusBins}))::INTEGER AS rbin,
    least(3, floor(severity * 4))::INTEGER AS sbin,
    count(*)::INTEGER AS n,
    avg(px) AS mx_, avg(py) AS my_, avg(pz) AS mz_, avg(radius) AS r,
    avg(coalesce(opx, px)) AS ox_, avg(coalesce(opy, py)) AS oy_, avg(coalesce(opz, pz)) AS oz_,
    avg(coalesce(sqrt(opx*opx + opy*opy + opz*opz), radius)) AS orad,
    avg(severity) AS severity, avg(ssim_blk::DOUBLE) AS ssim_blk, avg(kappa::DOUBLE) AS kappa,
    count(DISTINCT image)::INTEGER AS images,
    count(*) FILTER (WHERE dmg_ac)::INTEGER AS n_ac, count(*) FILTER (WHERE dmg_dc)::INTEGER AS n_dc
  -- the egg shows region-of-interest blocks (air, collimator and labels are outside the headline)
  FROM (${fraction >= 1 ? 'SELECT * FROM block_pairs' : pairsSelect('block_states_sampled')}) WHERE in_roi GROUP BY ALL
);`;
}

/** Place a cell: mean direction normalised, at the mean radius (SQL over cells). */
const CELL_POSITION = (x: string, y: string, z: string, r: string): string =>
  `CASE WHEN sqrt(${x}*${x}+${y}*${y}+${z}*${z}) < 1e-9 THEN [0, ${r}, 0]
        ELSE [${r} * ${x} / sqrt(${x}*${x}+${y}*${y}+${z}*${z}), ${r} * ${y} / sqrt(${x}*${x}+${y}*${y}+${z}*${z}), ${r} * ${z} / sqrt(${x}*${x}+${y}*${y}+${z}*${z})] END`;

/** Opened RESULTS folder with its DuckDB connection. */
export class ResultsStore {
  readonly meta: ResultsMeta;
  private readonly con: DuckDBConnection;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(meta: ResultsMeta, con: DuckDBConnection) {
    this.meta = meta;
    this.con = con;
  }

  /**
   * Open RESULTS: read run.json, create the views and the cells table.
   * @param dir a folder written by `blindspot run`
   * @param maxCells most cells (radius bins are coarsened until the table fits)
   * @param sample fraction (0, 1] of block positions that feed the cells; null (default) = every block up to
   *   AUTO_SAMPLE_ROWS rows, else the fraction that keeps about that many
   * @throws BlindspotError E_NOT_FOUND when `dir` has no blocks/ partitions
   */
  static async open(dir: string, maxCells: number, sample: number | null = null): Promise<ResultsStore> {
    if (!existsSync(dir)) throw new BlindspotError('E_NOT_FOUND', 'no such results folder', dir);
    const blocksDir = join(dir, 'blocks');
    if (!existsSync(blocksDir) || !readdirSync(blocksDir).some((n) => n.startsWith('model='))) {
      throw new BlindspotError(
        'E_NOT_FOUND',
        'no blocks/model=NAME/path=.../*.parquet here (run `blindspot run` first)',
        dir,
      );
    }
    await checkPartsListed(dir); // read exactly the parts the manifests list, never through a link
    const run = readRunJson(dir) ?? null;
    const params = labelParams(run);
    const notices: string[] = [];
    if (!run) notices.push('no run.json: block-engine defaults assumed for the labels');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    const q = (sql: string) => con.run(sql);
    const glob = sqlString(join(escapeGlob(dir), 'blocks', '*', '*', '*.parquet')); // the folder's own * ? [ are literal
    await q(`CREATE VIEW stored_blocks AS SELECT * FROM read_parquet(${glob}, hive_partitioning = true)`);
    const stored = new Set((await con.runAndReadAll('DESCRIBE stored_blocks')).getRows().map((r) => String(r[0])));
    // count(*) over Parquet reads only the footers: cheap even for hundreds of millions of rows.
    const storedRows = Number((await con.runAndReadAll('SELECT count(*) FROM stored_blocks')).getRows()[0]![0]);
    const blockSample = sample ?? (storedRows > AUTO_SAMPLE_ROWS ? Number((AUTO_SAMPLE_ROWS / storedRows).toPrecision(3)) : 1);
    const imagesFile = join(dir, 'images.parquet');
    const imagesGlob = existsSync(imagesFile)
      ? `${sqlString(escapeGlob(imagesFile))}, hive_partitioning = false`
      : existsSync(join(dir, 'images'))
        ? `${sqlString(join(escapeGlob(dir), 'images', '*', '*', '*.parquet'))}, hive_partitioning = true`
        : null;
    if (imagesGlob) {
      await q(`CREATE VIEW images_table AS SELECT * FROM read_parquet(${imagesGlob})`);
    } else {
      notices.push('no images.parquet: image list derived from the block table, data range 255 assumed');
      await q(`CREATE VIEW images_table AS SELECT image, model, path, NULL::VARCHAR AS gt_file, NULL::VARCHAR AS test_file,
        NULL::INTEGER AS width, NULL::INTEGER AS height, 255.0 AS data_range, NULL::DOUBLE AS ssim, NULL::DOUBLE AS msssim, NULL::DOUBLE AS psnr
        FROM stored_blocks GROUP BY ALL`);
    }
    // Every block column: the stored facts plus the derived columns (src/store/blockView.ts).
    const derive = runDiagnoseOptions(run ?? undefined);
    const imageCols = new Set((await con.runAndReadAll('DESCRIBE images_table')).getRows().map((r) => String(r[0])));
    await q(`CREATE VIEW raw_blocks AS ${blocksViewSelect(stored, derive, 'stored_blocks', 'images_table', imageCols)}`);
    // The sampled 3D cells filter the stored rows before anything is derived from them.
    if (blockSample < 1) {
      await q(`CREATE VIEW raw_blocks_sampled AS ${blocksViewSelect(stored, derive, `(SELECT * FROM stored_blocks WHERE ${sampleFilter(blockSample)})`, 'images_table', imageCols)}`);
    }
    const cols = new Set((await con.runAndReadAll('DESCRIBE raw_blocks')).getRows().map((r) => String(r[0])));
    const columnSet: 'full' | 'core' = ['fail_mask', 'sev1', 'a4_log2_energy', 'l', 'c', 's'].every((c) =>
      cols.has(c),
    )
      ? 'full'
      : 'core';
    if (columnSet === 'core')
      notices.push(
        cols.has('fail_mask')
          ? "core column set: A4's severity leaves out its gradient-energy criterion (a4_log2_energy is not stored)"
          : 'core column set: severities and failing axes are derived from the raw axis values without their gates',
      );
    await q(
      `CREATE TABLE image_ranges AS SELECT image, model, path, any_value(data_range)::DOUBLE AS drange FROM images_table GROUP BY ALL`,
    );
    const thresholdsFile = join(dir, 'analysis', 'thresholds.parquet');
    let useAnalysis = false;
    if (existsSync(thresholdsFile)) {
      const tcols = new Set(
        (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(thresholdsFile)})`))
          .getRows()
          .map((r) => String(r[0])),
      );
      // analyze 0.3+ writes the ROI thresholds and the published ones; an older file is recomputed instead
      useAnalysis = ['model', 'path', 't10', 't90', 't10_published', 't90_published'].every((c) => tcols.has(c));
    }
    if (useAnalysis) notices.push('T10/T90 from analysis/thresholds.parquet (blindspot analyze)');
    await q(blockStatesSql(params, cols, useAnalysis ? thresholdsFile : null, blockSample));
    let radiusBins = 20;
    let cellCount = 0;
    for (const bins of [20, 10, 5, 2]) {
      radiusBins = bins;
      await q(cellsSql(bins, blockSample));
      cellCount = Number((await con.runAndReadAll('SELECT count(*) FROM cells')).getRows()[0]![0]);
      if (cellCount <= maxCells) break;
    }
    if (blockSample < 1)
      notices.push(
        `3D cells are built from a ${(100 * blockSample).toPrecision(3)}% hash sample of block positions (counts are sample counts)` +
          (sample === null ? `: ${storedRows.toLocaleString('en-US')} block rows, automatic above ${AUTO_SAMPLE_ROWS.toLocaleString('en-US')}` : ''),
      );
    if (cellCount > maxCells)
      notices.push(`${cellCount} cells even at 2 radius bins; only the ${maxCells} largest are drawn`);
    const configs = (
      await con.runAndReadAll(
        `SELECT model, path, blocks::DOUBLE, t10, t90 FROM config_thresholds ORDER BY model, path`,
      )
    )
      .getRows()
      .map((r) => ({
        model: String(r[0]),
        path: String(r[1]),
        blocks: Number(r[2]),
        t10: Number(r[3]),
        t90: Number(r[4]),
      }));
    const meta: ResultsMeta = {
      dir,
      run,
      params,
      columnSet,
      configs,
      models: [...new Set(configs.map((c) => c.model))],
      paths: [...new Set(configs.map((c) => c.path))],
      cellCount: Math.min(cellCount, maxCells),
      radiusBins,
      hasAnalysis: existsSync(join(dir, 'analysis')),
      blockSample,
      notices,
    };
    return new ResultsStore(meta, con);
  }

  /** Run queries one at a time on the single connection. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private rows(sql: string, values?: (string | number)[]): Promise<Row[]> {
    return this.serial(async () => (await this.con.runAndReadAll(sql, values)).getRowObjectsJS() as Row[]);
  }

  /**
   * The 3D cells, columnar (one array per field; `from`/`to` are the notta and tta positions of the cell's blocks,
   * x,y,z interleaved). At most meta.cellCount cells, largest first when capped.
   */
  async cells(): Promise<Record<string, unknown>> {
    const rows = await this.rows(
      `SELECT id, model, path, layer, regime, attractor, is_border, persistent, dom, rbin, sbin, n, images, n_ac, n_dc,
         severity, ssim_blk, kappa, r,
         ${CELL_POSITION('mx_', 'my_', 'mz_', 'r')} AS pos, ${CELL_POSITION('ox_', 'oy_', 'oz_', 'orad')} AS other
       FROM (SELECT * FROM cells ORDER BY n DESC, id LIMIT ${this.meta.cellCount}) ORDER BY id`,
    );
    const modelIdx = new Map(this.meta.models.map((m, i) => [m, i]));
    const pathIdx = new Map(this.meta.paths.map((m, i) => [m, i]));
    const n = rows.length;
    const out = {
      count: n,
      models: this.meta.models,
      paths: this.meta.paths,
      id: new Array<number>(n),
      model: new Array<number>(n),
      path: new Array<number>(n),
      layer: new Array<number>(n),
      regime: new Array<number>(n),
      attractor: new Array<number>(n),
      border: new Array<number>(n),
      persistent: new Array<number>(n),
      dom: new Array<number>(n),
      n: new Array<number>(n),
      images: new Array<number>(n),
      nAc: new Array<number>(n),
      nDc: new Array<number>(n),
      severity: new Array<number>(n),
      ssim: new Array<number>(n),
      kappa: new Array<number>(n),
      from: new Array<number>(3 * n),
      to: new Array<number>(3 * n),
    };
    const r4 = (v: unknown): number => Math.round(Number(v) * 1e4) / 1e4;
    rows.forEach((r, i) => {
      out.id[i] = Number(r.id);
      out.model[i] = modelIdx.get(String(r.model))!;
      out.path[i] = pathIdx.get(String(r.path))!;
      out.layer[i] = Number(r.layer);
      out.regime[i] = Number(r.regime);
      out.attractor[i] = Number(r.attractor);
      out.border[i] = r.is_border ? 1 : 0;
      out.persistent[i] = r.persistent ? 1 : 0;
      out.dom[i] = Number(r.dom);
      out.n[i] = Number(r.n);
      out.images[i] = Number(r.images);
      out.nAc[i] = Number(r.n_ac);
      out.nDc[i] = Number(r.n_dc);
      out.severity[i] = r4(r.severity);
      out.ssim[i] = r4(r.ssim_blk);
      out.kappa[i] = r4(r.kappa);
      // Play goes notta -> tta: a notta cell moves to where its blocks sit under tta, a tta cell comes from there.
      const own = r.pos as number[];
      const other = r.other as number[];
      const [from, to] = String(r.path) === 'tta' ? [other, own] : [own, other];
      for (let c = 0; c < 3; c++) {
        out.from[3 * i + c] = r4(from[c]);
        out.to[3 * i + c] = r4(to[c]);
      }
    });
    return out;
  }

  /**
   * A deterministic uniform sample of the blocks of one cell: the `size` blocks with the smallest hash of
   * (image, row, col) — the same blocks on every call and every thread count.
   * @throws BlindspotError E_NOT_FOUND for an unknown cell id
   */
  async cellSample(id: number, size: number): Promise<{ cell: Row; blocks: Row[] }> {
    const cell = (
      await this.rows(`SELECT * EXCLUDE (mx_, my_, mz_, ox_, oy_, oz_, orad) FROM cells WHERE id = $1`, [id])
    )[0];
    if (!cell) throw new BlindspotError('E_NOT_FOUND', `no cell ${id}`);
    const blocks = await this.rows(
      `SELECT image, model, path, "row", col, ssim_blk::DOUBLE AS ssim_blk, kappa::DOUBLE AS kappa, layer, regime, dom,
         severity, r_ac::DOUBLE AS r_ac, dmu::DOUBLE AS dmu, other_layer, persistent
       FROM ${this.meta.blockSample < 1 ? `(${pairsSelect('block_states_sampled')})` : 'block_pairs'}
       WHERE model = $1 AND path = $2 AND layer = $3 AND regime = $4 AND attractor = $5 AND is_border = $6
         AND coalesce(persistent, false) = $7 AND dom = $8
         AND least(${this.meta.radiusBins - 1}, floor(radius * ${this.meta.radiusBins}))::INTEGER = $9
         AND least(3, floor(severity * 4))::INTEGER = $10
       ORDER BY hash(image, "row", col), image, "row", col LIMIT ${Math.max(1, Math.floor(size))}`,
      [
        String(cell.model),
        String(cell.path),
        Number(cell.layer),
        Number(cell.regime),
        Number(cell.attractor),
        cell.is_border ? 'true' : 'false',
        cell.persistent ? 'true' : 'false',
        Number(cell.dom),
        Number(cell.rbin),
        Number(cell.sbin),
      ].map((v) => v as string | number),
    );
    return { cell: plain(cell), blocks: blocks.map(plain) };
  }

  /** Rows of images.parquet (one per image x model x path), sorted. */
  async images(): Promise<Row[]> {
    return (
      await this.rows(
        `SELECT image, model, path, gt_file, test_file, width::INTEGER AS width, height::INTEGER AS height,
           data_range::DOUBLE AS data_range, ssim::DOUBLE AS ssim, msssim::DOUBLE AS msssim, psnr::DOUBLE AS psnr
         FROM images_table ORDER BY image, model, path`,
      )
    ).map(plain);
  }

  /** One images row, or undefined. */
  async imageRow(image: string, model: string, path: string): Promise<Row | undefined> {
    const rows = await this.rows(
      `SELECT image, model, path, gt_file, test_file FROM images_table WHERE image = $1 AND model = $2 AND path = $3`,
      [image, model, path],
    );
    return rows[0];
  }

  /**
   * Every block of one (image, model, path), columnar, in (row, col) order, with its labels and egg positions.
   * @throws BlindspotError E_NOT_FOUND when there is no such pair
   */
  async imageBlocks(image: string, model: string, path: string): Promise<Record<string, unknown[]>> {
    const full = this.meta.columnSet === 'full';
    const extra = full
      ? ', l_blk::DOUBLE AS l_blk, cs_blk::DOUBLE AS cs_blk, l::DOUBLE AS l, c::DOUBLE AS c, s::DOUBLE AS s, rho::DOUBLE AS rho, sxy::DOUBLE AS sxy'
      : '';
    const sevs = [1, 2, 3, 4, 5, 6].map((k) => `s${k}::DOUBLE AS sev${k}, a${k}::DOUBLE AS a${k}`).join(', ');
    const rows = await this.rows(
      `SELECT "row"::INTEGER AS "row", col::INTEGER AS col, is_border, ring::INTEGER AS ring, ssim_blk::DOUBLE AS ssim_blk,
         mx::DOUBLE AS mx, my::DOUBLE AS my, sx::DOUBLE AS sx, sy::DOUBLE AS sy, dmu::DOUBLE AS dmu, se::DOUBLE AS se,
         r_ac::DOUBLE AS r_ac, kappa::DOUBLE AS kappa, "lambda"::DOUBLE AS "lambda", fail_count::INTEGER AS fail_count ${extra},
         ${sevs}, mask, layer, regime, attractor, dom, severity, dmg_ac, dmg_dc, persistent, other_layer, px, py, pz, opx, opy, opz
       FROM block_pairs WHERE image = $1 AND model = $2 AND path = $3 ORDER BY "row", col`,
      [image, model, path],
    );
    if (rows.length === 0)
      throw new BlindspotError(
        'E_NOT_FOUND',
        `no blocks for image "${image}", model "${model}", path "${path}"`,
      );
    const out: Record<string, unknown[]> = {};
    for (const key of Object.keys(rows[0]!)) out[key] = rows.map((r) => jsonValue(r[key]));
    const p = this.meta.params;
    out.y0 = rows.map((r) => Number(r.row) * p.stride);
    out.x0 = rows.map((r) => Number(r.col) * p.stride);
    out.size = [p.blockSize];
    return out;
  }

  /**
   * Headline table and notta -> tta transition matrices of region-of-interest blocks (as analyze's report; DESIGN
   * §3b), computed from the views; plus
   * analysis/summary.json as written by `blindspot analyze` when present.
   */
  async analysis(): Promise<Record<string, unknown>> {
    const headline = (
      await this.rows(
        `SELECT model, path, count(*) FILTER (WHERE in_roi)::DOUBLE AS blocks,
           avg((layer = 1)::INTEGER) FILTER (WHERE in_roi) AS visible, avg((layer = 2)::INTEGER) FILTER (WHERE in_roi) AS gray,
           avg((layer = 3)::INTEGER) FILTER (WHERE in_roi) AS hidden,
           avg((layer = 0)::INTEGER) FILTER (WHERE in_roi) AS intact, avg((regime = 0)::INTEGER) FILTER (WHERE in_roi) AS silent,
           count(*) FILTER (WHERE in_roi AND layer = 3 AND persistent)::DOUBLE AS hidden_persistent,
           avg((regime = 0)::INTEGER) FILTER (WHERE in_roi AND layer = 3 AND persistent) AS silent_share_of_hidden_persistent,
           avg((attractor = 0)::INTEGER) FILTER (WHERE in_roi AND layer = 3) AS hidden_attractor_none,
           avg((attractor = 1)::INTEGER) FILTER (WHERE in_roi AND layer = 3) AS hidden_attractor_single,
           avg((attractor = 2)::INTEGER) FILTER (WHERE in_roi AND layer = 3) AS hidden_attractor_multi,
           any_value(t10) AS t10, any_value(t90) AS t90,
           avg((layer_published = 3)::INTEGER) AS hidden_published,
           avg((regime_published = 0)::INTEGER) FILTER (WHERE layer_published = 3 AND persistent_published) AS silent_share_of_hidden_persistent_published
         FROM block_pairs GROUP BY model, path ORDER BY model, path`,
      )
    ).map(plain);
    const layerRows = await this.rows(
      `SELECT model, layer, other_layer, count(*)::DOUBLE AS n FROM block_pairs
       WHERE path = 'notta' AND other_layer IS NOT NULL AND in_roi GROUP BY ALL ORDER BY ALL`,
    );
    const axisRows = await this.rows(
      `SELECT model, ${[0, 1, 2, 3, 4, 5]
        .map(
          (
            k,
          ) => `[count(*) FILTER (WHERE (mask & ${1 << k}) = 0 AND (other_mask & ${1 << k}) = 0), count(*) FILTER (WHERE (mask & ${1 << k}) = 0 AND (other_mask & ${1 << k}) <> 0),
           count(*) FILTER (WHERE (mask & ${1 << k}) <> 0 AND (other_mask & ${1 << k}) = 0), count(*) FILTER (WHERE (mask & ${1 << k}) <> 0 AND (other_mask & ${1 << k}) <> 0)]::DOUBLE[] AS a${k + 1}`,
        )
        .join(', ')}
       FROM block_pairs WHERE path = 'notta' AND other_layer IS NOT NULL AND in_roi GROUP BY model ORDER BY model`,
    );
    const transitions = this.meta.models
      .map((model) => {
        const layers = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
        let any = false;
        for (const r of layerRows) {
          if (r.model !== model) continue;
          layers[Number(r.layer)]![Number(r.other_layer)] = Number(r.n);
          any = true;
        }
        const ax = axisRows.find((r) => r.model === model);
        const axes = [1, 2, 3, 4, 5, 6].map((k) => {
          const v = (ax?.[`a${k}`] as number[] | undefined) ?? [0, 0, 0, 0];
          return [
            [Number(v[0]), Number(v[1])],
            [Number(v[2]), Number(v[3])],
          ];
        });
        return any ? { model, layers, axes } : null;
      })
      .filter((t) => t !== null);
    let summary: unknown = null;
    const summaryFile = join(this.meta.dir, 'analysis', 'summary.json');
    if (existsSync(summaryFile)) {
      try {
        summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
      } catch {
        summary = null;
      }
    }
    return {
      headline,
      transitions,
      analyze: summary,
      notice:
        summary === null
          ? 'no RESULTS/analysis/summary.json (run `blindspot analyze`): tables computed by the viewer'
          : null,
      reportHtml: existsSync(join(this.meta.dir, 'analysis', 'report.html'))
        ? '/results/analysis/report.html'
        : null,
    };
  }

  close(): void {
    this.con.closeSync();
  }
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

function plain(r: Row): Row {
  const o: Row = {};
  for (const [k, v] of Object.entries(r)) o[k] = jsonValue(v);
  return o;
}
