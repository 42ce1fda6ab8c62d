/**
 * The block table's numeric columns (DESIGN §4), in their stable order. The kernel fills one typed array per
 * column (`array`); the store writes each with its `storage` type. `set` says which column set (`--columns
 * core|full`) includes it. The string keys `image`, `model`, `path` are added by the dataset stage.
 *
 * Float64 is kept where later arithmetic needs it (the moments that the identity checks use are recomputable
 * from the stored float32 values to ~1e-6, enough for every published figure); float32 elsewhere.
 *
 * `derived` columns follow from other columns and the run's parameters (dmu = my - mx, kappa, l/c/s, gates from
 * gate_mask...). Dataset runs store only the other columns (the facts) and recompute the derived ones in DuckDB's
 * `blocks` view (src/store/blockView.ts), which halves the bytes per row; single-pair files and CSVs hold all.
 */
export type ColumnArray = 'f64' | 'i32' | 'u8';
export type ColumnStorage = 'DOUBLE' | 'FLOAT' | 'INTEGER' | 'SMALLINT' | 'UTINYINT' | 'BOOLEAN';
export type ColumnSet = 'core' | 'full';

export interface BlockColumnSpec {
  name: string;
  array: ColumnArray;
  storage: ColumnStorage;
  set: ColumnSet;
  /** Recomputed from other columns in the `blocks` view; not stored by dataset runs. */
  derived: boolean;
  description: string;
}

const c = (
  name: string,
  array: ColumnArray,
  storage: ColumnStorage,
  set: ColumnSet,
  description: string,
  derived = false,
): BlockColumnSpec => ({
  name,
  array,
  storage,
  set,
  derived,
  description,
});
/** A derived column (see the module comment). */
const d = (name: string, array: ColumnArray, storage: ColumnStorage, set: ColumnSet, description: string): BlockColumnSpec =>
  c(name, array, storage, set, description, true);

const axisMeaning = [
  'A1 luminance shift: dmu (display grey levels)',
  'A2 contrast change: log2((sy+1)/(sx+1))',
  'A3 structure decorrelation: 1 - rho',
  'A4 edge fidelity: 1 - cosine of Sobel gradient fields',
  'A5 high-frequency energy: log2 Laplacian energy ratio',
  'A6 residual error: RMSE',
];

export const BLOCK_COLUMNS: readonly BlockColumnSpec[] = Object.freeze([
  c('row', 'i32', 'SMALLINT', 'core', 'block row index'),
  c('col', 'i32', 'SMALLINT', 'core', 'block column index'),
  d('y0', 'i32', 'SMALLINT', 'full', 'first pixel row (inclusive)'),
  d('x0', 'i32', 'SMALLINT', 'full', 'first pixel column (inclusive)'),
  d('y1', 'i32', 'SMALLINT', 'full', 'last pixel row + 1 (exclusive)'),
  d('x1', 'i32', 'SMALLINT', 'full', 'last pixel column + 1 (exclusive)'),
  d('is_border', 'u8', 'BOOLEAN', 'core', 'block touches the image edge (ring 0)'),
  c('ring', 'i32', 'SMALLINT', 'core', 'distance in blocks to the nearest image edge'),
  c('ssim_blk', 'f64', 'FLOAT', 'core', 'skimage-default SSIM of the block alone (published local_ssim)'),
  c('l_blk', 'f64', 'FLOAT', 'full', 'window-mean luminance term of ssim_blk'),
  c('cs_blk', 'f64', 'FLOAT', 'full', 'window-mean contrast-structure term of ssim_blk'),
  c('mx', 'f64', 'FLOAT', 'core', 'GT block mean'),
  c('my', 'f64', 'FLOAT', 'core', 'test block mean'),
  c('sx', 'f64', 'FLOAT', 'core', 'GT block standard deviation (population)'),
  c('sy', 'f64', 'FLOAT', 'core', 'test block standard deviation (population)'),
  d('sxy', 'f64', 'FLOAT', 'full', 'block covariance (population)'),
  d('dmu', 'f64', 'FLOAT', 'core', 'my - mx'),
  c('se', 'f64', 'FLOAT', 'core', 'standard deviation of y - x'),
  d('rho', 'f64', 'FLOAT', 'full', 'sxy/(sx sy); NaN under the gate'),
  d('r_ac', 'f64', 'FLOAT', 'core', 'R = se^2 / max(sx^2, rFloorVariance): AC damage relative to GT texture'),
  d('kappa', 'f64', 'FLOAT', 'core', 'responsiveness (sx^2+sy^2)/(sx^2+sy^2+C2)'),
  d('lambda', 'f64', 'FLOAT', 'core', 'luminance instability C1/(mx^2+my^2+C1)'),
  d('l', 'f64', 'FLOAT', 'full', 'whole-block luminance term'),
  d('c', 'f64', 'FLOAT', 'full', 'whole-block contrast term'),
  d('s', 'f64', 'FLOAT', 'full', 'whole-block structure term'),
  d('ssim', 'f64', 'FLOAT', 'full', 'whole-block SSIM = l*c*s'),
  // A4 and A5 come from Sobel/Laplacian sums that are not stored: they are facts; the others follow from moments.
  ...[1, 2, 3, 4, 5, 6].map((k) =>
    (k === 4 || k === 5 ? c : d)(`a${k}`, 'f64', 'FLOAT', 'core', `raw value of ${axisMeaning[k - 1]}`),
  ),
  ...[1, 2, 3, 4, 5, 6].map((k) => d(`g${k}`, 'u8', 'BOOLEAN', 'full', `A${k} evidence gate passed (bit ${k - 1} of gate_mask)`)),
  ...[1, 2, 3, 4, 5, 6].map((k) =>
    d(`sev${k}`, 'f64', 'FLOAT', 'full', `A${k} severity in [0,1] (1 = at or past the fail threshold)`),
  ),
  d('fail_count', 'i32', 'UTINYINT', 'core', 'number of axes A1..A6 failing (popcount of fail_mask)'),
  // Added by the block engine (appended so that earlier positions stay stable). The two masks are the kernel's
  // float64 decisions, stored so that gates and failures never flip when recomputed from float32 values.
  c('fail_mask', 'i32', 'UTINYINT', 'core', 'bit k-1 set when axis Ak fails (A1 = 1 ... A6 = 32)'),
  c(
    'a4_log2_energy',
    'f64',
    'FLOAT',
    'full',
    'A4 second criterion: log2 ratio of test to GT Sobel gradient energy',
  ),
  c('gate_mask', 'i32', 'UTINYINT', 'core', 'bit k-1 set when the evidence gate of axis Ak is open'),
  // DESIGN §3c: a property of the GT (and its mask), stored so that every reader counts the same blocks.
  c('in_roi', 'u8', 'BOOLEAN', 'core', 'block inside the region of interest (anatomy; not air, collimator or labels)'),
]);

/** Bit mask of failing axes (bit k-1 for Ak) is stored as fail_mask; fail_count is its popcount. */
export type BlockColumnName = (typeof BLOCK_COLUMNS)[number]['name'];

/** Typed-array columns for `n` blocks, one per spec, keyed by name. */
export type BlockColumns = Record<string, Float64Array | Int32Array | Uint8Array>;

export function allocateBlockColumns(n: number): BlockColumns {
  const out: BlockColumns = {};
  for (const spec of BLOCK_COLUMNS) {
    out[spec.name] =
      spec.array === 'f64'
        ? new Float64Array(n)
        : spec.array === 'i32'
          ? new Int32Array(n)
          : new Uint8Array(n);
  }
  return out;
}

export function columnsOfSet(set: ColumnSet): readonly BlockColumnSpec[] {
  return set === 'full' ? BLOCK_COLUMNS : BLOCK_COLUMNS.filter((s) => s.set === 'core');
}

/** The columns a dataset run stores for a set: its non-derived columns, in schema order. */
export function storedColumnsOfSet(set: ColumnSet): readonly BlockColumnSpec[] {
  return columnsOfSet(set).filter((s) => !s.derived);
}
