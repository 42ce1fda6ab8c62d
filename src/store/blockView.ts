/**
 * The `blocks` view of a dataset run: the stored block rows (facts) joined to their image's data range, with every
 * derived column of src/tier3/columns.ts recomputed in SQL by the kernel's formulas (src/tier3/blocks.ts), in
 * schema order and storage types. Dataset runs store only the facts (~half the bytes per row); readers of the
 * view see the same columns as a single-pair file. A column already present in the files (older or materialized
 * runs) is read as stored, not recomputed.
 *
 * Recomputed from float32 facts in float64, derived values agree with the kernel's float64 values to float32
 * precision (relative ~1e-6; sxy/rho/a3 from se: absolute ~1e-6 of sx^2+sy^2). Gates and failures are never
 * recomputed: g1..g6 and fail_count come from the kernel's gate_mask and fail_mask, so no decision flips.
 */
import { BLOCK_COLUMNS, type ColumnStorage } from '../tier3/columns.ts';
import type { ResolvedDiagnoseOptions } from '../tier3/options.ts';

/** The block-engine parameters the derived columns depend on (a subset of the run's diagnose options). */
export type DerivedColumnParams = Pick<
  ResolvedDiagnoseOptions,
  | 'K1'
  | 'K2'
  | 'blockSize'
  | 'stride'
  | 'rhoGate'
  | 'rFloorVariance'
  | 'a1Fail'
  | 'a2Fail'
  | 'a3FailRho'
  | 'a4FailCosine'
  | 'a4FailLog2Energy'
  | 'a5Fail'
  | 'a6Fail'
  | 'hiddenR'
  | 'hiddenDmu'
>;

/** A DOUBLE literal that DuckDB parses to the same float64. */
const num = (v: number): string => `${String(v)}::DOUBLE`;

/** x clipped to [0, 1], NaN -> 0 (the kernel's clip1; DuckDB orders NaN above every number, so test it first). */
const clip01 = (x: string): string => `CASE WHEN isnan(${x}) THEN 0 WHEN ${x} >= 1 THEN 1 WHEN ${x} > 0 THEN ${x} ELSE 0 END`;

const gate = (k: number): string => `((q.gate_mask >> ${k - 1}) & 1) = 1`;

interface Derivation {
  /** Stored columns the expression reads. */
  needs: readonly string[];
  /** SQL over the inner query `q` (facts as DOUBLE plus _k8, _c1, _c2, _vx, _vy, _ve, _cxy, _rho). */
  sql: string;
}

/** SQL expression of each derived column, by name (covers every `derived` column of BLOCK_COLUMNS). */
function derivations(p: DerivedColumnParams): Record<string, Derivation> {
  const B = p.blockSize;
  const S = p.stride;
  const moments = ['sx', 'sy', 'se'];
  const a1 = '(q._my - q._mx) * q._k8';
  const a2 = 'log2((q._sy * q._k8 + 1) / (q._sx * q._k8 + 1))';
  const a3 = '1 - q._rho';
  const a6 = 'sqrt((q._my - q._mx) * (q._my - q._mx) + q._ve) * q._k8';
  const lTerm = '(2 * q._mx * q._my + q._c1) / (q._mx * q._mx + q._my * q._my + q._c1)';
  const cTerm = '(2 * q._sx * q._sy + q._c2) / (q._vx + q._vy + q._c2)';
  const sTerm = '(q._cxy + q._c2 / 2) / (q._sx * q._sy + q._c2 / 2)'; // C3 = C2 / 2
  const sevOf = (k: number, raw: string): string => `CASE WHEN ${gate(k)} THEN ${clip01(raw)} ELSE 0 END`;
  const out: Record<string, Derivation> = {
    y0: { needs: ['row'], sql: `q."row" * ${S}` },
    x0: { needs: ['col'], sql: `q.col * ${S}` },
    y1: { needs: ['row'], sql: `q."row" * ${S} + ${B}` },
    x1: { needs: ['col'], sql: `q.col * ${S} + ${B}` },
    is_border: { needs: ['ring'], sql: 'q.ring = 0' },
    sxy: { needs: moments, sql: 'q._cxy' },
    dmu: { needs: ['mx', 'my'], sql: 'q._my - q._mx' },
    rho: { needs: moments, sql: 'q._rho' },
    r_ac: { needs: ['sx', 'se'], sql: `q._ve / greatest(q._vx, ${num(p.rFloorVariance)})` },
    kappa: { needs: ['sx', 'sy'], sql: '(q._vx + q._vy) / (q._vx + q._vy + q._c2)' },
    lambda: { needs: ['mx', 'my'], sql: 'q._c1 / (q._mx * q._mx + q._my * q._my + q._c1)' },
    l: { needs: ['mx', 'my'], sql: lTerm },
    c: { needs: ['sx', 'sy'], sql: cTerm },
    s: { needs: moments, sql: sTerm },
    ssim: { needs: ['mx', 'my', ...moments], sql: `(${lTerm}) * (${cTerm}) * (${sTerm})` },
    a1: { needs: ['mx', 'my'], sql: a1 },
    a2: { needs: ['sx', 'sy'], sql: a2 },
    a3: { needs: moments, sql: a3 },
    a6: { needs: ['mx', 'my', 'se'], sql: a6 },
    sev1: { needs: ['mx', 'my', 'gate_mask'], sql: sevOf(1, `abs(${a1}) / ${num(p.a1Fail)}`) },
    sev2: { needs: ['sx', 'sy', 'gate_mask'], sql: sevOf(2, `abs(${a2}) / ${num(p.a2Fail)}`) },
    sev3: { needs: [...moments, 'gate_mask'], sql: sevOf(3, `(${a3}) / ${num(1 - p.a3FailRho)}`) },
    sev4: {
      needs: ['a4', 'a4_log2_energy', 'gate_mask'],
      sql: sevOf(4, `greatest(q.a4 / ${num(p.a4FailCosine)}, abs(q.a4_log2_energy) / ${num(p.a4FailLog2Energy)})`),
    },
    sev5: { needs: ['a5', 'gate_mask'], sql: sevOf(5, `abs(q.a5) / ${num(p.a5Fail)}`) },
    sev6: { needs: ['mx', 'my', 'se', 'gate_mask'], sql: sevOf(6, `(${a6}) / ${num(p.a6Fail)}`) },
    fail_count: { needs: ['fail_mask'], sql: 'bit_count(q.fail_mask)' },
  };
  for (let k = 1; k <= 6; k++) out[`g${k}`] = { needs: ['gate_mask'], sql: gate(k) };
  return out;
}

/** The derived columns this module knows (exported for the schema test). */
export function derivedColumnNames(p: DerivedColumnParams): string[] {
  return Object.keys(derivations(p));
}

const CAST: Record<ColumnStorage, string> = {
  DOUBLE: 'DOUBLE',
  FLOAT: 'FLOAT',
  INTEGER: 'INTEGER',
  SMALLINT: 'SMALLINT',
  UTINYINT: 'UTINYINT',
  BOOLEAN: 'BOOLEAN',
};

const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/**
 * The SELECT of the `blocks` view.
 * @param stored Column names present in the stored block files (keys included: image, model, path).
 * @param p The run's block-engine parameters.
 * @param raw SQL relation of the stored rows (e.g. `read_parquet('blocks/*\/*\/*.parquet', hive_partitioning = true)`).
 * @param images SQL relation with (model, path, image, data_range) per pair, and since 0.3 the display width and
 *   AC floors (DESIGN §3c: display_width, floor_ac, visible_ac); floor_dc is hiddenDmu display levels.
 * @param imageColumns Column names of `images` (default: the 0.3 set). Without the §3c columns (0.2 runs) the
 *   display width is the data range and the floors are the published ones.
 * @returns `SELECT model, path, image, <schema columns present or derivable>, data_range, display_width,
 *   floor_ac, visible_ac, floor_dc [, damage_ac, damage_dc, damage_ac_published, damage_dc_published] FROM ...`.
 *   Columns neither stored nor derivable from what is stored (e.g. l_blk of a core run) are left out; in_roi is
 *   TRUE for runs that did not store it.
 */
export function blocksViewSelect(
  stored: ReadonlySet<string>,
  p: DerivedColumnParams,
  raw: string,
  images: string,
  imageColumns: ReadonlySet<string> = new Set(['display_width', 'floor_ac', 'visible_ac', 'floor_dc']),
): string {
  const rules = derivations(p);
  const cols: string[] = [];
  for (const spec of BLOCK_COLUMNS) {
    if (spec.name === 'in_roi' && !stored.has('in_roi')) cols.push('TRUE AS in_roi');
    else if (stored.has(spec.name)) cols.push(`q.${ident(spec.name)}`);
    else {
      const r = rules[spec.name];
      if (r && r.needs.every((n) => stored.has(n))) cols.push(`(${r.sql})::${CAST[spec.storage]} AS ${ident(spec.name)}`);
    }
  }
  const has = (n: string): boolean => stored.has(n);
  // Inner query: the facts in float64 and the shared intermediates (the kernel's names: vx = sx^2, ve = se^2, cxy).
  // DESIGN §3c: axis values and gates are in display grey levels (display_width / 255 data units each).
  const hasDisplay = imageColumns.has('display_width') && imageColumns.has('floor_ac');
  const dw = hasDisplay ? 'coalesce(i.display_width::DOUBLE, i.data_range::DOUBLE)' : 'i.data_range::DOUBLE';
  const inner: string[] = ['r.*', 'i.data_range::DOUBLE AS data_range', `${dw} AS display_width`, `255 / ${dw} AS _k8`];
  // Floors in data units; a 0.2 run has none (the published definition: floor 0, DC at hiddenDmu on the L scale).
  inner.push(hasDisplay ? 'coalesce(i.floor_ac::DOUBLE, 0) AS floor_ac' : '0::DOUBLE AS floor_ac');
  inner.push(hasDisplay ? 'i.visible_ac::DOUBLE AS visible_ac' : 'NULL::DOUBLE AS visible_ac');
  inner.push(`${num(p.hiddenDmu)} * ${dw} / 255 AS floor_dc`); // hiddenDmu display levels
  inner.push(`(${num(p.K1)} * i.data_range) * (${num(p.K1)} * i.data_range) AS _c1`);
  inner.push(`(${num(p.K2)} * i.data_range) * (${num(p.K2)} * i.data_range) AS _c2`);
  for (const m of ['mx', 'my', 'sx', 'sy', 'se']) if (has(m)) inner.push(`r.${m}::DOUBLE AS _${m}`);
  if (has('sx')) inner.push('r.sx::DOUBLE * r.sx::DOUBLE AS _vx');
  if (has('sy')) inner.push('r.sy::DOUBLE * r.sy::DOUBLE AS _vy');
  if (has('se')) inner.push('r.se::DOUBLE * r.se::DOUBLE AS _ve');
  if (has('sx') && has('sy') && has('se')) {
    // se^2 = sx^2 + sy^2 - 2 sxy, so sxy = (sx^2 + sy^2 - se^2) / 2; rho is NaN under its gate, as in the kernel.
    const cxy = '(r.sx::DOUBLE * r.sx::DOUBLE + r.sy::DOUBLE * r.sy::DOUBLE - r.se::DOUBLE * r.se::DOUBLE) / 2';
    inner.push(`${cxy} AS _cxy`);
    const g = `${num(p.rhoGate)} / (255 / ${dw})`;
    inner.push(
      `CASE WHEN r.sx >= ${g} AND r.sy >= ${g} AND r.sx > 0 AND r.sy > 0 THEN (${cxy}) / (r.sx::DOUBLE * r.sy::DOUBLE) ELSE 'NaN'::DOUBLE END AS _rho`,
    );
  }
  const extra = ['q.data_range', 'q.display_width', 'q.floor_ac', 'q.visible_ac', 'q.floor_dc'];
  // The damage tests read the block's own a1 (dmu in display levels), r_ac and se, stored or derived.
  const colSql = (n: string): string | undefined => (stored.has(n) ? `q.${ident(n)}` : rules[n] && rules[n]!.needs.every((x) => stored.has(x)) ? `(${rules[n]!.sql})` : undefined);
  const [a1, rAc, se] = [colSql('a1'), colSql('r_ac'), colSql('se')];
  if (a1 && rAc && se) {
    // DESIGN §3c: AC = se above the floor and (R >= hiddenR or se >= visible_ac); DC = |dmu| >= hiddenDmu display
    // levels. The published test: R >= hiddenR, or |dmu| >= hiddenDmu grey levels of L/255.
    extra.push(
      `(${se} >= q.floor_ac AND (${rAc} >= ${num(p.hiddenR)} OR ${se} >= coalesce(q.visible_ac, 'Infinity'::DOUBLE))) AS damage_ac`,
      `abs(${a1}) >= ${num(p.hiddenDmu)} AS damage_dc`,
      `(${rAc} >= ${num(p.hiddenR)}) AS damage_ac_published`,
      `(abs(${a1}) * q.display_width / q.data_range >= ${num(p.hiddenDmu)}) AS damage_dc_published`,
    );
  }
  return (
    `SELECT q.model, q.path, q.image, ${cols.join(', ')}, ${extra.join(', ')}\n` +
    // LEFT JOIN: a block whose pair has no image row (a damaged folder; `verify` names it) keeps its stored
    // columns, with NULL derived ones, instead of silently vanishing from counts.
    `FROM (SELECT ${inner.join(', ')} FROM ${raw} r LEFT JOIN ${images} i USING (model, path, image)) q`
  );
}
