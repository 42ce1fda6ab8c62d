/**
 * The analysis views against hand-computed values and a plain JavaScript reading of DESIGN §3b/§3c, on a tiny
 * synthetic results folder (2 models x 2 paths x 2 images x 6x6 blocks), with a region of interest, a display
 * window narrower than L and damage floors, so the headline (ROI, floors) and published definitions differ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateBlockColumns, columnsOfSet, type BlockColumns } from '../../src/tier3/columns.ts';
import { BlockTableBuilder } from '../../src/store/blockTable.ts';
import { writeImageRows } from '../../src/store/parts.ts';
import { openAnalysis, queryRows } from '../../src/analysis/open.ts';
import { analyze } from '../../src/analysis/analyze.ts';
import { DEFAULT_ANALYZE_OPTIONS } from '../../src/analysis/options.ts';
import { BlindspotError } from '../../src/errors.ts';
import { seMax } from '../../src/tier3/reference.ts';

const G = 6; // 6x6 blocks: ring 0 (20 border blocks), ring 1 (12), ring 2 (4)
const N = G * G;
const MODELS = ['m1', 'm2'];
const PATHS = ['notta', 'tta'];
const IMAGES = ['img_a', 'img_b'];

interface Block {
  model: string;
  path: string;
  image: string;
  row: number;
  col: number;
  ring: number;
  border: boolean;
  ssim: number;
  r: number;
  a1: number;
  sx: number;
  kappa: number;
  failCount: number;
  failMask: number;
  se: number;
  inRoi: boolean;
}

/** The images' §3c columns: display window 200 of L = 255, AC floor 0.5 and visibility 6 (data units). */
const DISPLAY_WIDTH = 200;
const FLOOR_AC = 0.5;
const VISIBLE_AC = 6;
/** Few blocks per configuration: a small minimum keeps the quantile T90 (the fallback has its own test). */
const MIN_ROI = 10;

/** Seeded LCG so the table is the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const dir = mkdtempSync(join(tmpdir(), 'bs-analysis-'));
const blocks: Block[] = [];
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.before(async () => {
  const rnd = lcg(42);
  for (const model of MODELS) {
    for (const path of PATHS) {
      const part = join(dir, 'blocks', `model=${model}`, `path=${path}`);
      mkdirSync(part, { recursive: true });
      mkdirSync(join(dir, 'images', `model=${model}`, `path=${path}`), { recursive: true });
      const cols: BlockColumns = allocateBlockColumns(N * IMAGES.length);
      const imageRows: Record<string, unknown>[] = [];
      let k = 0;
      for (const image of IMAGES) {
        for (let row = 0; row < G; row++) {
          for (let col = 0; col < G; col++) {
            const ring = Math.min(row, col, G - 1 - row, G - 1 - col);
            const mask = rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 63);
            const b: Block = {
              model,
              path,
              image,
              row,
              col,
              ring,
              border: ring === 0,
              ssim: Math.fround(0.3 + 0.7 * rnd()),
              r: Math.fround(2 * rnd()),
              a1: Math.fround(24 * rnd() - 12),
              sx: Math.fround(rnd() < 0.3 ? 0.5 * rnd() : 20 * rnd()),
              kappa: Math.fround(rnd()),
              failCount: mask.toString(2).split('').filter((x) => x === '1').length,
              failMask: mask,
              se: Math.fround(8 * rnd()),
              // a property of the GT block: the same for every model and path
              inRoi: (row * 7 + col * 3 + image.length) % 5 !== 0,
            };
            blocks.push(b);
            cols['row']![k] = row;
            cols['col']![k] = col;
            cols['ring']![k] = ring;
            cols['is_border']![k] = b.border ? 1 : 0;
            cols['ssim_blk']![k] = b.ssim;
            cols['r_ac']![k] = b.r;
            cols['a1']![k] = b.a1;
            cols['sx']![k] = b.sx;
            cols['kappa']![k] = b.kappa;
            cols['fail_count']![k] = b.failCount;
            cols['fail_mask']![k] = b.failMask;
            cols['se']![k] = b.se;
            cols['in_roi']![k] = b.inRoi ? 1 : 0;
            k++;
          }
        }
        imageRows.push({
          image,
          gt_file: `${image}.png`,
          test_file: `${image}.png`,
          width: 48,
          height: 48,
          data_range: 255,
          blocks: N,
          display_width: DISPLAY_WIDTH,
          floor_ac: FLOOR_AC,
          visible_ac: VISIBLE_AC,
        });
      }
      // One file per configuration holding both images (as a run with partSize >= 2 writes it).
      const all = allocateBlockColumns(N * IMAGES.length);
      for (const [name, arr] of Object.entries(cols)) all[name]!.set(arr as never);
      await writeBlockPart(join(part, 'part-00000.parquet'), all);
      await writeImageRows(imageRows, join(dir, 'images', `model=${model}`, `path=${path}`, 'part-00000.parquet'), ['model', 'path']);
    }
  }
});

/** Write a two-image part holding every column of the full set (materialized, as a single-pair file would). */
async function writeBlockPart(file: string, cols: BlockColumns): Promise<void> {
  const builder = await BlockTableBuilder.create(columnsOfSet('full'), ['image']);
  try {
    for (let i = 0; i < IMAGES.length; i++) {
      const one = allocateBlockColumns(N);
      for (const [name, arr] of Object.entries(cols)) one[name]!.set((arr as Float64Array).subarray(i * N, (i + 1) * N) as never);
      await builder.append(one, N, [IMAGES[i]!]);
    }
    await builder.writeParquet(file);
  } finally {
    builder.close();
  }
}

/** Type-7 quantile, the plain way. */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
}

/** DESIGN §3b and §3c, read directly: thresholds over ROI blocks with the fallback, floors in data units. */
function reference(minRoi = MIN_ROI) {
  const p = DEFAULT_ANALYZE_OPTIONS;
  const thr = new Map<string, { t10: number; t90: number; t10p: number; t90p: number }>();
  for (const m of MODELS) {
    for (const path of PATHS) {
      const nb = blocks.filter((b) => b.model === m && b.path === path && !b.border);
      const roi = nb.filter((b) => b.inRoi).map((b) => b.ssim);
      const q90 = quantile(roi, 0.9);
      const t90 = roi.length < minRoi || q90 >= 1 ? p.fallbackThreshold : q90;
      const all = nb.map((b) => b.ssim);
      thr.set(`${m}/${path}`, { t10: quantile(roi, 0.1), t90, t10p: quantile(all, 0.1), t90p: quantile(all, 0.9) });
    }
  }
  const layerOf = (ssim: number, t10: number, t90: number, damaged: boolean): string =>
    ssim < t10 ? 'Visible' : ssim >= t90 && damaged ? 'Hidden' : damaged ? 'Gray' : 'Intact';
  const regimeOf = (sx: number, kappa: number, t90: number): string =>
    (sx / 255) * (sx / 255) < p.K2 * p.K2 * ((1 - t90) / t90) ? 'Silent' : kappa < p.kappaMembrane ? 'Membrane' : 'Responsive';
  const classify = (b: Block) => {
    const { t10, t90, t10p, t90p } = thr.get(`${b.model}/${b.path}`)!;
    // a1 is dmu in display levels (200/255 data units each); se and the floors are in data units
    const damaged = (b.se >= FLOOR_AC && (b.r >= p.hiddenR || b.se >= VISIBLE_AC)) || Math.abs(b.a1) >= p.hiddenDmu;
    const damagedPublished = b.r >= p.hiddenR || (Math.abs(b.a1) * DISPLAY_WIDTH) / 255 >= p.hiddenDmu;
    const attractor = b.failCount === 0 ? 'None' : b.failCount === 1 ? 'Single' : 'Multi';
    return {
      layer: layerOf(b.ssim, t10, t90, damaged),
      regime: regimeOf(b.sx, b.kappa, t90),
      attractor,
      layerPublished: layerOf(b.ssim, t10p, t90p, damagedPublished),
      regimePublished: regimeOf(b.sx, b.kappa, t90p),
    };
  };
  return { thr, classify };
}

test('T10/T90 per configuration equal type-7 quantiles of non-border ssim_blk (and a hand-computed case)', async () => {
  // By hand: quantile_cont of [0.5, 0.6, 0.9, 0.95] at 0.1 = 0.5 + 0.3 * 0.1 = 0.53; at 0.9 = 0.9 + 0.7 * 0.05 = 0.935.
  assert.ok(Math.abs(quantile([0.95, 0.5, 0.9, 0.6], 0.1) - 0.53) < 1e-12);
  assert.ok(Math.abs(quantile([0.95, 0.5, 0.9, 0.6], 0.9) - 0.935) < 1e-12);
  const h = await openAnalysis(dir, { minRoiBlocks: MIN_ROI });
  try {
    const [hand] = await queryRows(h.connection, 'SELECT quantile_cont(x, 0.1) AS q10, quantile_cont(x, 0.9) AS q90 FROM (VALUES (0.95::DOUBLE), (0.5::DOUBLE), (0.9::DOUBLE), (0.6::DOUBLE)) t(x)');
    assert.ok(Math.abs(Number(hand!.q10) - 0.53) < 1e-12);
    assert.ok(Math.abs(Number(hand!.q90) - 0.935) < 1e-12);
    const rows = await queryRows(h.connection, 'SELECT * FROM thresholds ORDER BY model, path');
    const { thr } = reference();
    assert.equal(rows.length, 4);
    for (const r of rows) {
      const ref = thr.get(`${r.model}/${r.path}`)!;
      assert.equal(r.nonborder_blocks, 16 * IMAGES.length);
      assert.equal(r.roi_blocks, blocks.filter((b) => b.model === r.model && b.path === r.path && !b.border && b.inRoi).length);
      assert.ok(Number(r.roi_blocks) < Number(r.nonborder_blocks), 'some non-border blocks are outside the ROI');
      assert.ok(Math.abs(Number(r.t10) - ref.t10) < 1e-12, `t10 ${r.model}/${r.path}`);
      assert.ok(Math.abs(Number(r.t90) - ref.t90) < 1e-12, `t90 ${r.model}/${r.path}`);
      assert.ok(Math.abs(Number(r.t10_published) - ref.t10p) < 1e-12, `t10 published ${r.model}/${r.path}`);
      assert.ok(Math.abs(Number(r.t90_published) - ref.t90p) < 1e-12, `t90 published ${r.model}/${r.path}`);
      assert.equal(r.t90_source, 'quantile');
    }
  } finally {
    h.close();
  }
});

test('T90 resting on fewer ROI blocks than minRoiBlocks (default 1000) falls back to 0.99 and says so', async () => {
  const h = await openAnalysis(dir);
  try {
    const rows = await queryRows(h.connection, 'SELECT * FROM thresholds ORDER BY model, path');
    const { thr } = reference(1000);
    for (const r of rows) {
      assert.equal(r.t90, 0.99);
      assert.equal(r.t90_source, 'fallback: fewer than 1000 ROI blocks');
      assert.equal(thr.get(`${r.model}/${r.path}`)!.t90, 0.99);
      assert.ok(Number(r.t90_quantile) < 0.99 || Number(r.t90_quantile) > 0.99, 'the quantile is kept beside it');
    }
  } finally {
    h.close();
  }
});

test('layer, regime and attractor of every block match the definitions (headline and published); counts are over ROI blocks', async () => {
  const h = await openAnalysis(dir, { minRoiBlocks: MIN_ROI });
  try {
    const rows = await queryRows(h.connection, 'SELECT model, path, image, "row", col, layer, regime, attractor, single_axis, layer_published, regime_published FROM classified');
    assert.equal(rows.length, blocks.length);
    const { classify } = reference();
    const byKey = new Map(rows.map((r) => [`${r.model}/${r.path}/${r.image}/${r.row}/${r.col}`, r]));
    const layerCounts = new Map<string, number>();
    for (const b of blocks) {
      const r = byKey.get(`${b.model}/${b.path}/${b.image}/${b.row}/${b.col}`)!;
      const ref = classify(b);
      assert.equal(r.layer, ref.layer);
      assert.equal(r.regime, ref.regime);
      assert.equal(r.attractor, ref.attractor);
      assert.equal(r.single_axis, b.failCount === 1 ? `A${Math.log2(b.failMask) + 1}` : null);
      assert.equal(r.layer_published, ref.layerPublished);
      assert.equal(r.regime_published, ref.regimePublished);
      if (!b.inRoi) continue;
      const key = `${b.model}/${b.path}/${ref.layer}`;
      layerCounts.set(key, (layerCounts.get(key) ?? 0) + 1);
    }
    assert.ok(blocks.some((b) => classify(b).layer !== classify(b).layerPublished), 'the two definitions differ somewhere');
    // Blind-spot magnitude: se_max(T90) of src/tier3/reference.ts in display levels (255/200 per data unit), and the
    // configuration's median from the 0.1-level bins
    const se = await queryRows(h.connection, 'SELECT model, path, image, "row", col, se_max FROM classified');
    const { thr } = reference();
    const C2 = (0.03 * 255) ** 2;
    const seOf = new Map<string, number>();
    for (const r of se) {
      const b = blocks.find((x) => x.model === r.model && x.path === r.path && x.image === r.image && x.row === r.row && x.col === r.col)!;
      const want = (seMax(b.sx, thr.get(`${b.model}/${b.path}`)!.t90, C2) * 255) / DISPLAY_WIDTH;
      assert.ok(Math.abs(Number(r.se_max) - want) <= 1e-6 * want, `se_max ${Number(r.se_max)} vs ${want}`); // float32 storage
      if (b.inRoi) seOf.set(`${b.model}/${b.path}/${b.image}/${b.row}/${b.col}`, want);
    }
    for (const bs of await queryRows(h.connection, 'SELECT * FROM blind_spot')) {
      const vals = [...seOf.entries()].filter(([k]) => k.startsWith(`${bs.model}/${bs.path}/`)).map(([, v]) => v).sort((a, b) => a - b);
      assert.equal(bs.roi_blocks, vals.length);
      const median = vals[Math.ceil(vals.length / 2) - 1]!; // the lower median: the first value with half at or below it
      assert.ok(Number(bs.se_max_median) <= median + 1e-9 && median < Number(bs.se_max_median) + 0.1 + 1e-9, `median ${median} vs bin ${bs.se_max_median}`);
    }
    const counts = await queryRows(h.connection, 'SELECT * FROM layer_counts');
    assert.equal(counts.length, layerCounts.size);
    for (const c of counts) assert.equal(c.blocks, layerCounts.get(`${c.model}/${c.path}/${c.layer}`));
    const published = await queryRows(h.connection, 'SELECT * FROM layer_counts_published');
    for (const c of published) {
      assert.equal(c.blocks, blocks.filter((b) => b.model === c.model && b.path === c.path && classify(b).layerPublished === c.layer).length);
    }
    // Every layer occurs somewhere, so the comparison covers all four rules.
    assert.deepEqual([...new Set(counts.map((c) => String(c.layer)))].sort(), ['Gray', 'Hidden', 'Intact', 'Visible']);
    assert.deepEqual([...new Set(rows.map((c) => String(c.regime)))].sort(), ['Membrane', 'Responsive', 'Silent']);
    // Axis shares: per configuration and layer, the share of blocks whose fail_mask has bit k.
    const shares = await queryRows(h.connection, 'SELECT * FROM axis_shares');
    assert.equal(shares.length, layerCounts.size * 6);
    for (const sh of shares) {
      const k = Number(String(sh.axis).slice(1)) - 1;
      const inLayer = blocks.filter((b) => b.inRoi && b.model === sh.model && b.path === sh.path && classify(b).layer === sh.layer);
      assert.equal(sh.blocks, inLayer.length);
      assert.equal(sh.fail_share, inLayer.filter((b) => (b.failMask >> k) & 1).length / inLayer.length);
    }
    // Attractor counts inside failing layers.
    const att = await queryRows(h.connection, `SELECT model, path, layer, attractor, sum(blocks) AS n FROM attractor_counts GROUP BY ALL`);
    for (const a of att) {
      const expected = blocks.filter((b) => b.inRoi && b.model === a.model && b.path === a.path && classify(b).layer === a.layer && classify(b).attractor === a.attractor).length;
      assert.equal(Number(a.n), expected);
    }
  } finally {
    h.close();
  }
});

test('persistence joins notta to tta on (model, image, row, col); transitions and the headline follow', async () => {
  const h = await openAnalysis(dir, { minRoiBlocks: MIN_ROI });
  try {
    const { classify } = reference();
    const rows = await queryRows(h.connection, 'SELECT * FROM persistence');
    assert.equal(rows.length, MODELS.length * IMAGES.length * N);
    const find = (m: string, path: string, image: string, row: number, col: number) =>
      blocks.find((b) => b.model === m && b.path === path && b.image === image && b.row === row && b.col === col)!;
    for (const r of rows) {
      const n = classify(find(String(r.model), 'notta', String(r.image), Number(r.row), Number(r.col)));
      const t = classify(find(String(r.model), 'tta', String(r.image), Number(r.row), Number(r.col)));
      assert.equal(r.layer_notta, n.layer);
      assert.equal(r.layer_tta, t.layer);
      const expected =
        n.layer === t.layer && n.layer !== 'Intact' ? 'Persistent' : n.layer !== 'Intact' && t.layer === 'Intact' ? 'notta-only' : n.layer === 'Intact' && t.layer !== 'Intact' ? 'tta-only' : n.layer === 'Intact' ? 'Intact' : 'Changed';
      assert.equal(r.persistence, expected);
    }
    // Transition matrix = cross-tabulation of the joined layers of ROI blocks.
    const roiRows = rows.filter((r) => r.in_roi);
    assert.ok(roiRows.length > 0 && roiRows.length < rows.length);
    const trans = await queryRows(h.connection, 'SELECT * FROM layer_transitions');
    for (const t of trans) {
      const n = roiRows.filter((r) => r.model === t.model && r.layer_notta === t.layer_notta && r.layer_tta === t.layer_tta).length;
      assert.equal(t.blocks, n);
    }
    assert.equal(trans.reduce((s, t) => s + Number(t.blocks), 0), roiRows.length);
    // Axis dynamics: per axis, the four (fails notta, fails tta) cells add up to every joined block.
    const axis = await queryRows(h.connection, `SELECT model, axis, sum(blocks) AS n, sum(blocks) FILTER (WHERE fails_notta AND fails_tta) AS both FROM axis_transitions GROUP BY ALL`);
    for (const a of axis) {
      assert.equal(Number(a.n), roiRows.length / MODELS.length);
      const k = Number(String(a.axis).slice(1)) - 1;
      const both = blocks.filter(
        (b) => b.inRoi && b.model === a.model && b.path === 'notta' && (b.failMask >> k) & 1 && (find(b.model, 'tta', b.image, b.row, b.col).failMask >> k) & 1,
      ).length;
      assert.equal(Number(a.both ?? 0), both);
    }
    // Headline: Silent share of Hidden Persistent blocks (notta regime), border share of Visible.
    const head = await queryRows(h.connection, 'SELECT * FROM headline ORDER BY model, path');
    for (const hd of head) {
      const hp = roiRows.filter((r) => r.model === hd.model && r.persistence === 'Persistent' && r.layer_notta === 'Hidden');
      assert.equal(hd.hidden_persistent_blocks, hp.length);
      if (hp.length > 0) assert.equal(hd.hidden_persistent_silent_share, hp.filter((r) => r.regime_notta === 'Silent').length / hp.length);
      const vis = blocks.filter((b) => b.inRoi && b.model === hd.model && b.path === hd.path && classify(b).layer === 'Visible');
      assert.equal(hd.visible_blocks, vis.length);
      assert.equal(hd.visible_border_share, vis.filter((b) => b.border).length / vis.length);
      // The published figures: every block, the published layers and persistence.
      const hpp = rows.filter((r) => r.model === hd.model && r.persistence_published === 'Persistent' && r.layer_published_notta === 'Hidden');
      assert.equal(hd.hidden_persistent_blocks_published, hpp.length);
      if (hpp.length > 0) assert.equal(hd.hidden_persistent_silent_share_published, hpp.filter((r) => r.regime_published_notta === 'Silent').length / hpp.length);
      const hid = blocks.filter((b) => b.model === hd.model && b.path === hd.path && classify(b).layerPublished === 'Hidden');
      assert.equal(hd.hidden_blocks_published, hid.length);
    }
  } finally {
    h.close();
  }
});

test('analyze writes deterministic reports whose numbers are the views, and a manifest of its own', async () => {
  const a = await analyze(dir);
  assert.deepEqual(a.files, [
    'params.json',
    'plots/axis_shares_hidden.svg',
    'plots/axis_shares_visible.svg',
    'plots/ssim_blk_hist.svg',
    'plots/transitions_m1.svg',
    'plots/transitions_m2.svg',
    'report.html',
    'report.md',
    'summary.json',
    'thresholds.parquet',
    'views.sql',
  ]);
  const first = readFileSync(join(dir, 'analysis/MANIFEST.sha256'), 'utf8');
  await analyze(dir);
  assert.equal(readFileSync(join(dir, 'analysis/MANIFEST.sha256'), 'utf8'), first);
  const summary = JSON.parse(readFileSync(join(dir, 'analysis/summary.json'), 'utf8'));
  const hist = summary.histograms.configurations as { counts: number[] }[];
  for (const c of hist) assert.equal(c.counts.reduce((x, y) => x + y, 0), IMAGES.length * N);
  const html = readFileSync(join(dir, 'analysis/report.html'), 'utf8');
  assert.ok(html.includes('<svg') && !/src="http/.test(html), 'self-contained HTML with inline SVG');
  await assert.rejects(openAnalysis(join(dir, 'blocks')), (e: unknown) => e instanceof BlindspotError && e.code === 'E_NOT_FOUND');
  await assert.rejects(analyze(dir, { visibleQuantile: 0.95 }), /invalid visibleQuantile: expected less than hiddenQuantile \(0.9\), got 0.95/);
});

test('a run.json whose block options are corrupt is one E_CORRUPT line naming run.json, before any view is built', async () => {
  const { cpSync, writeFileSync } = await import('node:fs');
  const bad = join(dir, '..', `${dir.split('/').pop()}-badrun`);
  cpSync(dir, bad, { recursive: true });
  try {
    writeFileSync(join(bad, 'run.json'), JSON.stringify({ diagnose: { blockSize: 'x' } }));
    await assert.rejects(
      openAnalysis(bad),
      (e: unknown) =>
        e instanceof BlindspotError &&
        e.code === 'E_CORRUPT' &&
        e.message === 'run.json: diagnose options: invalid blockSize: expected an integer from 7 to 4096 (default 8), got "x"',
    );
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});
