/**
 * The parts of report.md/report.html a reader needs first: a plain-language conclusion with numbers for both
 * definitions, the per-model Tier-1 table (SSIM, MS-SSIM, PSNR with Student-t 95% intervals), figure captions
 * that say what to read, and a glossary. Pure text builders over rows the analysis already queried.
 */
import { meanInterval, type MeanInterval } from '../stats/interval.ts';

type Row = Record<string, unknown>;

const n = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v ?? NaN));
const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(a > 0 && (100 * a) / b < 0.1 ? 2 : 1)}%` : '–');
const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');

function ci(m: MeanInterval, d: number): string {
  if (m.n === 0) return 'n/a';
  if (m.n === 1) return `${m.mean.toFixed(d)} (one image)`;
  return `${m.mean.toFixed(d)} [${m.lo.toFixed(d)}, ${m.hi.toFixed(d)}]`;
}

/** Configurations (model, path) in first-seen order. */
function configs(rows: readonly Row[]): { model: string; path: string }[] {
  const seen = new Map<string, { model: string; path: string }>();
  for (const r of rows) seen.set(`${r.model}\u0000${r.path}`, { model: String(r.model), path: String(r.path) });
  return [...seen.values()];
}

/**
 * Per-configuration mean SSIM, MS-SSIM and PSNR of the images with Student-t 95% intervals (markdown table).
 * @param images rows of the images view: model, path, ssim, msssim, psnr (one per pair).
 */
export function tier1Markdown(images: readonly Row[]): string {
  const head = '| model | path | images | SSIM mean [95% CI] | MS-SSIM mean [95% CI] | PSNR dB mean [95% CI] |\n|---|---|---|---|---|---|\n';
  const lines = configs(images).map(({ model, path }) => {
    const mine = images.filter((r) => r.model === model && r.path === path);
    const col = (k: string) => mine.map((r) => (r[k] === null || r[k] === undefined ? NaN : n(r[k])));
    const psnr = col('psnr').filter((v) => v !== Infinity);
    return `| ${model} | ${path} | ${mine.length} | ${ci(meanInterval(col('ssim')), 4)} | ${ci(meanInterval(col('msssim')), 4)} | ${ci(meanInterval(psnr), 2)} |`;
  });
  return head + lines.join('\n') + '\n';
}

/**
 * One plain-language paragraph per configuration: how many blocks SSIM rates as good yet are damaged, under the
 * headline (ROI, floors) and the published (every block, no floor) definitions, and the blind-spot size.
 */
export function conclusionMarkdown(headline: readonly Row[], layers: readonly Row[], layersPublished: readonly Row[]): string {
  const total = (rows: readonly Row[], m: string, p: string) =>
    rows.filter((r) => r.model === m && r.path === p).reduce((a, r) => a + n(r.blocks), 0);
  const out: string[] = [];
  const shares: { label: string; hid: number; share: number; sharePub: number }[] = [];
  for (const h of headline) {
    const m = String(h.model);
    const p = String(h.path);
    const roi = total(layers, m, p);
    const all = total(layersPublished, m, p);
    const hid = n(h.hidden_blocks);
    const hidPub = n(h.hidden_blocks_published);
    const vis = n(h.visible_blocks);
    const se = n(h.se_max_median);
    shares.push({ label: `${m} / ${p}`, hid, share: roi > 0 ? hid / roi : 0, sharePub: all > 0 ? hidPub / all : 0 });
    out.push(
      `- **${m} / ${p}**: of ${int(roi)} blocks inside the region of interest, **${int(hid)} (${pct(hid, roi)}) are Hidden Collapse** — ` +
        `SSIM puts them in its best decile (block SSIM >= T90 = ${n(h.t90).toFixed(4)}) although they carry damage above the image's own noise floor ` +
        `(${int(n(h.hidden_ac_blocks))} texture, ${int(n(h.hidden_dc_blocks))} brightness); ${int(vis)} (${pct(vis, roi)}) are Visible Collapse, the blocks SSIM itself rates worst (below T10). ` +
        `The published definition (every block, no floor) counts ${int(hidPub)} Hidden block${hidPub === 1 ? "" : "s"} of ${int(all)} (${pct(hidPub, all)}). ` +
        (Number.isFinite(se) ? `In half of the region-of-interest blocks, SSIM >= T90 cannot see a texture error of up to ${se.toFixed(1)} display grey levels.` : ''),
    );
  }
  if (out.length === 0) return 'No configuration in this run.\n';
  const range = (v: number[]): string => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const f = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;
    return lo === hi ? f(lo) : `${f(lo)} to ${f(hi)}`;
  };
  const worst = shares.reduce((a, b) => (b.share > a.share ? b : a));
  const lead =
    worst.hid > 0
      ? `Across the ${shares.length} configurations, ${range(shares.map((x) => x.share))} of region-of-interest blocks are Hidden Collapse — damaged, yet rated by SSIM among its best — ` +
        `(published definition: ${range(shares.map((x) => x.sharePub))} of all blocks). The most: ${worst.label}, ${int(worst.hid)} blocks (${(100 * worst.share).toFixed(1)}%).`
      : 'No configuration has Hidden Collapse blocks under the headline definition: where SSIM rated a block among its best, the damage stayed below the noise floors.';
  return `${lead}\n\n${out.join('\n')}\n`;
}

/** Captions under the figures: what is drawn and what to read from it. */
export const FIGURE_CAPTIONS: Record<string, string> = {
  'ssim_blk_hist.svg':
    'Distribution of block SSIM per configuration (share of blocks per bin, log scale so the tail of low-SSIM blocks is visible next to the peak near 1). A curve further right means SSIM rates more blocks as near-perfect.',
  'axis_shares_visible.svg':
    'Among Visible Collapse blocks (block SSIM below T10), the share failing each damage axis: the kinds of damage SSIM does notice.',
  'axis_shares_hidden.svg':
    'Among Hidden Collapse blocks (SSIM high yet damaged), the share failing each damage axis: the kinds of damage SSIM misses.',
};

/** Caption of a transition figure. */
export function transitionCaption(model: string): string {
  return `${model}: how each block's failure layer changes from the plain output (notta, rows) to the x8 test-time-augmented output (tta, columns); numbers are block counts, shading the share of the row. Blocks on the diagonal keep their layer (Persistent).`;
}

/** The glossary (markdown list). */
export const GLOSSARY_MD = `- **block**: an 8x8 pixel tile of the image (non-overlapping); every figure here counts blocks.
- **block SSIM (ssim_blk)**: SSIM computed on one block.
- **T90 / T10**: the 90th / 10th percentile of block SSIM of a configuration (over its non-border region-of-interest blocks). Blocks at or above T90 are the ones SSIM rates best.
- **Hidden Collapse**: a block with SSIM >= T90 that is nevertheless damaged: the damage SSIM does not show.
- **Visible Collapse**: a block with SSIM < T10: the blocks SSIM itself rates worst.
- **Gray**: a damaged block with SSIM between T10 and T90; **Intact**: a block at or above T10 without damage.
- **AC damage (texture)**: the block's error after removing its mean brightness, above the pair's floor; **DC damage (brightness)**: a shift of the block's mean brightness.
- **display grey level**: one step of 256 across the image's display window (DICOM window, else its 0.5..99.5 percentiles), so errors are in units a reader sees.
- **floor**: the smallest error counted as damage for a pair: max(2 display grey levels, 1.5x the GT's noise). The published definition has no floor.
- **region of interest (ROI)**: the blocks that show anatomy; air, collimator edges and burned-in labels are left out (headline definition only).
- **regime**: Silent (the GT block is so flat that SSIM's stabilising constant dominates: a texture error SSIM would need to see stays above T90 — SSIM is blind there), Membrane (low kappa: SSIM barely responds), Responsive (SSIM responds to texture errors).
- **se_max**: the largest texture error SSIM >= T90 cannot see in a block, in display grey levels.
- **attractor**: how many damage axes a failing block fails: None (no axis, e.g. a damage below every axis threshold), Single (one axis), Multi (several).
- **axes A1..A6**: A1 luminance, A2 contrast, A3 structure, A4 edges, A5 high frequency, A6 residual.
- **notta / tta**: the plain model output / the output averaged over 8 flips and rotations (test-time augmentation).
- **Persistent**: a block in the same failure layer on notta and tta.
- **border share, ring <= 2 share**: share of Visible blocks on the image border / within two blocks of it.
- **95% CI**: Student-t confidence interval of the mean over the images (mean +- t(0.975, n-1) sd / sqrt(n)).
`;
