/**
 * The worst blocks of each model, as pictures a reader can judge: GT | output | difference crops around the most
 * damaged Hidden Collapse block (largest texture or brightness error in display grey levels) and the lowest-SSIM
 * Visible Collapse block of each configuration's ROI. Images are re-read from the folders run.json names; when
 * they are gone the report simply has no crops. PNG bytes are deterministic (sharp, fixed settings).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import sharp from 'sharp';
import { readImage } from '../image/read.ts';
import type { Image } from '../image/types.ts';
import { colormapLut, OKABE_ITO } from '../render/palette.ts';
import { queryRows, readRunJson } from './open.ts';

export interface BlockCrop {
  kind: 'Hidden' | 'Visible';
  model: string;
  path: string;
  image: string;
  row: number;
  col: number;
  ssimBlk: number;
  /** Largest of se and |dmu|, display grey levels. */
  errDisplay: number;
  /** GT | output | |difference| (magma, 0..32 display levels), the block outlined. */
  png: Buffer;
}

const CONTEXT = 12; // pixels of context on each side of the block
const ZOOM = 4;
const GAP = 6;
const DIFF_MAX = 32; // display grey levels at the top of the difference colour map

const worstSql = (layer: string, order: string): string => `
SELECT '${layer}' AS kind, model, path, image, "row" AS r, col AS c, ssim_blk, greatest(se, abs(dmu)) * 255 / display_width AS err,
  row_number() OVER (PARTITION BY model, path ORDER BY ${order}, image, "row", col) AS k
FROM classified WHERE in_roi AND layer = '${layer}'`;

/** One grey plane of an image (Rec. 601 luma for colour), as the crops and maps draw it. */
export function grey(img: Image): Float64Array {
  const n = img.width * img.height;
  const out = new Float64Array(n);
  const ch = img.channels;
  for (let i = 0; i < n; i++) {
    out[i] = ch === 1 ? img.data[i]! : 0.299 * img.data[i * ch]! + 0.587 * img.data[i * ch + 1]! + 0.114 * img.data[i * ch + 2]!;
  }
  return out;
}

/** One crop picture: three zoomed panels side by side with the block outlined in each. */
async function cropPng(gt: Float64Array, test: Float64Array, w: number, h: number, x0: number, y0: number, B: number, lo: number, hi: number): Promise<Buffer> {
  const cx = Math.max(0, Math.min(w - (B + 2 * CONTEXT), x0 - CONTEXT));
  const cy = Math.max(0, Math.min(h - (B + 2 * CONTEXT), y0 - CONTEXT));
  const cw = Math.min(w, B + 2 * CONTEXT);
  const chh = Math.min(h, B + 2 * CONTEXT);
  const pw = cw * ZOOM;
  const ph = chh * ZOOM;
  const W = 3 * pw + 2 * GAP;
  const buf = Buffer.alloc(W * ph * 3, 255);
  const lut = colormapLut('magma');
  const span = hi > lo ? hi - lo : 1;
  const toDisp = (v: number) => Math.max(0, Math.min(255, ((v - lo) * 255) / span));
  const edge = OKABE_ITO.skyBlue;
  for (let py = 0; py < ph; py++) {
    const y = cy + Math.floor(py / ZOOM);
    for (let px = 0; px < pw; px++) {
      const x = cx + Math.floor(px / ZOOM);
      const i = y * w + x;
      const g = toDisp(gt[i]!);
      const t = toDisp(test[i]!);
      const d = Math.min(255, Math.round((Math.abs(t - g) / DIFF_MAX) * 255));
      const onEdge =
        (x >= x0 && x < x0 + B && y >= y0 && y < y0 + B) &&
        (px === (x0 - cx) * ZOOM || px === (x0 - cx + B) * ZOOM - 1 || py === (y0 - cy) * ZOOM || py === (y0 - cy + B) * ZOOM - 1);
      const panels: [number, number, number][] = [
        [g, g, g],
        [t, t, t],
        [lut[d * 3]!, lut[d * 3 + 1]!, lut[d * 3 + 2]!],
      ];
      panels.forEach((rgb, k) => {
        const o = (py * W + k * (pw + GAP) + px) * 3;
        const c = onEdge ? edge : rgb;
        buf[o] = Math.round(c[0]);
        buf[o + 1] = Math.round(c[1]);
        buf[o + 2] = Math.round(c[2]);
      });
    }
  }
  return sharp(buf, { raw: { width: W, height: ph, channels: 3 } }).png({ compressionLevel: 9 }).toBuffer();
}

/**
 * Crops of the worst Hidden and Visible block of every configuration (ROI blocks, headline definition).
 * @returns [] when run.json or the image files are not there.
 */
export async function worstBlockCrops(c: DuckDBConnection, dir: string): Promise<BlockCrop[]> {
  const run = readRunJson(dir) as { gt?: string; models?: { name: string; path: string; dir: string }[]; diagnose?: { blockSize?: number; stride?: number } } | undefined;
  if (!run?.gt || !Array.isArray(run.models)) return [];
  const B = run.diagnose?.blockSize ?? 8;
  const stride = run.diagnose?.stride ?? B;
  const rows = await queryRows(
    c,
    `SELECT w.kind, w.model, w.path, w.image, w.r, w.c, w.ssim_blk, w.err, i.gt_file, i.test_file, i.display_lo, i.display_hi
     FROM (${worstSql('Hidden', 'greatest(se, abs(dmu)) * 255 / display_width DESC')} UNION ALL ${worstSql('Visible', 'ssim_blk')}) w
     JOIN images i USING (image, model, path) WHERE w.k = 1 ORDER BY w.model, w.path, w.kind`,
  );
  const out: BlockCrop[] = [];
  const cache = new Map<string, { data: Float64Array; w: number; h: number }>();
  const load = async (file: string) => {
    let hit = cache.get(file);
    if (!hit) {
      const img = await readImage(file);
      hit = { data: grey(img), w: img.width, h: img.height };
      cache.set(file, hit);
    }
    return hit;
  };
  for (const r of rows) {
    const m = run.models.find((x) => x.name === r.model && x.path === r.path);
    const gtFile = join(run.gt, String(r.gt_file));
    const testFile = m ? join(m.dir, String(r.test_file)) : '';
    if (!m || !existsSync(gtFile) || !existsSync(testFile)) continue;
    try {
      const g = await load(gtFile);
      const t = await load(testFile);
      if (g.w !== t.w || g.h !== t.h) continue;
      const row = Number(r.r);
      const col = Number(r.c);
      out.push({
        kind: r.kind as 'Hidden' | 'Visible',
        model: String(r.model),
        path: String(r.path),
        image: String(r.image),
        row,
        col,
        ssimBlk: Number(r.ssim_blk),
        errDisplay: Number(r.err),
        png: await cropPng(g.data, t.data, g.w, g.h, col * stride, row * stride, B, Number(r.display_lo), Number(r.display_hi)),
      });
    } catch {
      // an unreadable file leaves this crop out; the analysis itself does not depend on it
    }
  }
  return out;
}

/** HTML of the crops (data-URI PNGs, so report.html stays one self-contained file). */
export function cropsHtml(crops: readonly BlockCrop[]): string {
  if (crops.length === 0) return '<p>No crops: the run\'s image folders (run.json) are not readable from here, or no block is Hidden or Visible.</p>';
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const items = crops.map(
    (k) =>
      `<figure class="crop"><img alt="${esc(`${k.kind} ${k.model} ${k.path}`)}" src="data:image/png;base64,${k.png.toString('base64')}">` +
      `<figcaption><b>${esc(k.model)} / ${esc(k.path)}, worst ${k.kind}</b>: ${esc(k.image)} block row ${k.row}, col ${k.col}; block SSIM ${k.ssimBlk.toFixed(4)}, ` +
      `error ${k.errDisplay.toFixed(1)} display grey levels</figcaption></figure>`,
  );
  return `<p>Left to right: GT, model output, and their absolute difference (magma, black = 0 to light = ${DIFF_MAX} display grey levels or more); the block is outlined, ${CONTEXT} px of context around it, zoomed x${ZOOM}. Worst Hidden = the largest error among the blocks SSIM rates best; worst Visible = the lowest block SSIM.</p>\n${items.join('\n')}`;
}
