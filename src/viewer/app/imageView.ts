/**
 * Image view: GT and model output side by side on two canvases that share one zoom/pan transform, a block
 * overlay (block SSIM, failure layer, regime, hidden damage, dominant axis), and a click that selects a block.
 */
import { ATTRACTOR_NAMES, AXIS_LABELS, LAYER_NAMES, REGIME_NAMES } from '../egg.ts';
import { AXIS_COLORS, LAYER_COLORS, REGIME_COLORS, SSIM_RANGE, css, viridis, type RGB } from './colors.ts';
import { getJson, q, type Columns, type Row } from './api.ts';

export type Overlay = 'none' | 'ssim' | 'layer' | 'regime' | 'hidden' | 'axis';
// the failure layer first (the default): it colours only damaged blocks, where block SSIM (fixed 0-1 scale) washes
// a good image uniformly yellow and hides the anatomy
export const OVERLAYS: { id: Overlay; label: string }[] = [
  { id: 'layer', label: 'failure layer' },
  { id: 'ssim', label: 'block SSIM' },
  { id: 'regime', label: 'regime' },
  { id: 'hidden', label: 'hidden damage' },
  { id: 'axis', label: 'dominant axis' },
  { id: 'none', label: 'none' },
];

interface View {
  scale: number;
  tx: number;
  ty: number;
}

export class ImageView {
  private gtImg: HTMLImageElement | null = null;
  private testImg: HTMLImageElement | null = null;
  /** |output - GT| x4 as a grey picture (built on load), for the 'diff' right-hand view. */
  private diffImg: HTMLCanvasElement | null = null;
  /** What the right canvas shows: the output, the difference, or GT and output alternating every 0.5 s. */
  private right: 'test' | 'diff' | 'flicker' = 'test';
  private flickerTimer: ReturnType<typeof setInterval> | null = null;
  private flickerGt = false;
  private blocks: Columns | null = null;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  overlay: Overlay = 'layer';
  opacity = 0.45;
  selected = -1;
  /** Called with the block index and its row data when a block is clicked. */
  onSelect: (index: number, block: Row) => void = () => undefined;
  key = { image: '', model: '', path: '' };
  /** The fixed SSIM scale (0 to 1), the same as the PNG maps', so two images compare. */
  private readonly ssimRange: [number, number] = SSIM_RANGE;
  private userMoved = false;

  constructor(private readonly canvases: [HTMLCanvasElement, HTMLCanvasElement]) {
    for (const c of canvases) this.attach(c);
    // Re-fit on resize until the user zooms or pans; after that keep their view.
    new ResizeObserver(() => (this.userMoved ? this.draw() : this.fit())).observe(canvases[0]);
  }

  /** Load one (image, model, path): both PNGs and the block fields. */
  async load(image: string, model: string, path: string): Promise<void> {
    this.key = { image, model, path };
    const loadImg = (which: string) =>
      new Promise<HTMLImageElement>((resolve, reject) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => reject(new Error(`image ${which} failed to load`));
        img.src = `/api/image.png?${q({ image, model, path, which })}`;
      });
    const [gt, test, blocks] = await Promise.all([
      loadImg('gt'),
      loadImg('test'),
      getJson<Columns>(`/api/blocks?${q({ image, model, path })}`),
    ]);
    this.gtImg = gt;
    this.testImg = test;
    this.diffImg = differenceImage(gt, test);
    this.blocks = blocks;
    const s = (blocks.ssim_blk as number[]).filter((v) => Number.isFinite(v));
    this.selected = -1;
    this.userMoved = false;
    this.fit();
    this.canvases[0].dataset.blocks = String(s.length);
  }

  /** The right-hand picture for the current mode. */
  private rightImage(): HTMLImageElement | HTMLCanvasElement | null {
    if (this.right === 'diff') return this.diffImg ?? this.testImg;
    if (this.right === 'flicker' && this.flickerGt) return this.gtImg;
    return this.testImg;
  }

  /** Caption of the right-hand canvas for the current mode. */
  rightCaption(): string {
    const { model, path } = this.key;
    if (this.right === 'diff') return `Difference |output − GT| ×4, ${model} / ${path}: black = identical, white = 64 display grey levels or more`;
    if (this.right === 'flicker') return `Flicker every 0.5 s: GT and ${model} / ${path} output (now: ${this.flickerGt ? 'GT' : 'output'})`;
    return `Model output: ${model} / ${path}`;
  }

  /** Called after the right-hand picture changes (caption updates). */
  onRightChange: () => void = () => undefined;

  /** Right-hand view: 'test' (the output), 'diff' (|output - GT| x4) or 'flicker' (GT and output alternating). */
  setRight(mode: 'test' | 'diff' | 'flicker'): void {
    this.right = mode;
    if (this.flickerTimer) clearInterval(this.flickerTimer);
    this.flickerTimer = null;
    this.flickerGt = false;
    if (mode === 'flicker') {
      this.flickerTimer = setInterval(() => {
        this.flickerGt = !this.flickerGt;
        this.canvases[1].dataset.showing = this.flickerGt ? 'gt' : 'test';
        this.draw();
        this.onRightChange();
      }, 500);
    }
    this.canvases[1].dataset.showing = mode === 'diff' ? 'diff' : 'test';
    this.draw();
    this.onRightChange();
  }

  /** Fit the whole image in the canvas. */
  fit(): void {
    const c = this.canvases[0];
    const img = this.gtImg;
    if (!img) return;
    const w = c.clientWidth || 400;
    const h = c.clientHeight || 400;
    const scale = Math.min(w / img.width, h / img.height) * 0.98;
    this.view = { scale, tx: (w - img.width * scale) / 2, ty: (h - img.height * scale) / 2 };
    this.draw();
  }

  /** Block index under a canvas point, or -1. */
  blockAt(c: HTMLCanvasElement, clientX: number, clientY: number): number {
    const b = this.blocks;
    if (!b) return -1;
    const rect = c.getBoundingClientRect();
    const x = (clientX - rect.left - this.view.tx) / this.view.scale;
    const y = (clientY - rect.top - this.view.ty) / this.view.scale;
    const size = (b.size as number[])[0]!;
    const y0 = b.y0 as number[];
    const x0 = b.x0 as number[];
    for (let i = 0; i < y0.length; i++)
      if (x >= x0[i]! && x < x0[i]! + size && y >= y0[i]! && y < y0[i]! + size) return i;
    return -1;
  }

  blockRow(i: number): Row {
    const r: Row = {};
    for (const [k, v] of Object.entries(this.blocks ?? {})) if (v.length > i) r[k] = v[i];
    return r;
  }

  /** Select block i (or -1) and redraw. */
  select(i: number): void {
    this.selected = i;
    this.draw();
  }

  private attach(c: HTMLCanvasElement): void {
    let drag: { x: number; y: number; moved: boolean } | null = null;
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rect = c.getBoundingClientRect();
      const mx = e.clientX - rect.left;
      const my = e.clientY - rect.top;
      // one fixed step per wheel event (x1.25): deltaY differs wildly between mice, trackpads and browsers
      const f = e.deltaY < 0 ? 1.25 : e.deltaY > 0 ? 1 / 1.25 : 1;
      const v = this.view;
      const scale = Math.min(200, Math.max(0.05, v.scale * f));
      const k = scale / v.scale;
      this.view = { scale, tx: mx - (mx - v.tx) * k, ty: my - (my - v.ty) * k };
      this.userMoved = true;
      this.draw();
    });
    c.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      if (drag.moved) {
        this.view = { ...this.view, tx: this.view.tx + dx, ty: this.view.ty + dy };
        this.userMoved = true;
        drag.x = e.clientX;
        drag.y = e.clientY;
        this.draw();
      }
    });
    c.addEventListener('pointerup', (e) => {
      const wasDrag = drag?.moved ?? false;
      drag = null;
      if (wasDrag) return;
      const i = this.blockAt(c, e.clientX, e.clientY);
      this.select(i);
      if (i >= 0) this.onSelect(i, this.blockRow(i));
    });
    c.addEventListener('dblclick', () => {
      this.userMoved = false;
      this.fit();
    });
  }

  private colorOf(i: number): RGB | null {
    const b = this.blocks!;
    switch (this.overlay) {
      case 'ssim': {
        const v = (b.ssim_blk as number[])[i]!;
        const [lo, hi] = this.ssimRange;
        return viridis((v - lo) / (hi - lo || 1));
      }
      case 'layer': {
        const l = (b.layer as number[])[i]!;
        return l === 0 ? null : LAYER_COLORS[l]!;
      }
      case 'regime':
        return REGIME_COLORS[(b.regime as number[])[i]!]!;
      case 'hidden':
        return (b.layer as number[])[i] === 3 ? LAYER_COLORS[3]! : null;
      case 'axis': {
        const d = (b.dom as number[])[i]!;
        return d > 0 ? AXIS_COLORS[d]! : null;
      }
      default:
        return null;
    }
  }

  draw(): void {
    this.canvases.forEach((c, k) => {
      const img = k === 0 ? this.gtImg : this.rightImage();
      const dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth;
      const h = c.clientHeight;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
      }
      const ctx = c.getContext('2d')!;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = '#05070a';
      ctx.fillRect(0, 0, c.width, c.height);
      if (!img || !this.blocks) return;
      const v = this.view;
      c.dataset.view = `${v.scale.toFixed(4)},${v.tx.toFixed(1)},${v.ty.toFixed(1)}`;
      ctx.setTransform(dpr * v.scale, 0, 0, dpr * v.scale, dpr * v.tx, dpr * v.ty);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, 0, 0);
      const b = this.blocks;
      const size = (b.size as number[])[0]!;
      const y0 = b.y0 as number[];
      const x0 = b.x0 as number[];
      // the difference and the flicker are there to compare GT and output: no overlay on them
      if (this.overlay !== 'none' && (k === 0 || this.right === 'test')) {
        for (let i = 0; i < y0.length; i++) {
          const col = this.colorOf(i);
          if (!col) continue;
          ctx.fillStyle = css(col, this.opacity);
          ctx.fillRect(x0[i]!, y0[i]!, size, size);
        }
      }
      if (this.selected >= 0) {
        ctx.lineWidth = Math.max(0.5, 2 / v.scale);
        ctx.strokeStyle = '#ff2bd6';
        ctx.strokeRect(x0[this.selected]!, y0[this.selected]!, size, size);
      }
    });
  }

  /** HTML of the legend of the current overlay. */
  legendHtml(): string {
    const sw = (c: RGB, label: string) =>
      `<span><span class="swatch" style="background:${css(c)}"></span> ${label}</span>`;
    switch (this.overlay) {
      case 'ssim': {
        const [lo, hi] = this.ssimRange;
        const stops = Array.from({ length: 9 }, (_, k) => css(viridis(k / 8))).join(',');
        return `block SSIM ${lo} <span style="display:inline-block;width:160px;height:10px;background:linear-gradient(90deg,${stops})"></span> ${hi} (fixed scale)`;
      }
      case 'layer': {
        const what = ['', "SSIM's worst 10%: it sees the damage", 'damaged, SSIM in between', "among SSIM's best 10% (>= T90), yet damaged"];
        return (
          LAYER_NAMES.slice(1)
            .map((n, k) => sw(LAYER_COLORS[k + 1]!, `${n} (${what[k + 1]})`))
            .join(' ') + ' · Intact blocks uncoloured'
        );
      }
      case 'regime':
        return REGIME_NAMES.map((n, k) => sw(REGIME_COLORS[k]!, n)).join(' ');
      case 'hidden':
        return sw(LAYER_COLORS[3]!, 'Hidden Collapse: SSIM rates the block among its best (>= T90), yet it is damaged');
      case 'axis':
        return AXIS_LABELS.map((n, k) => sw(AXIS_COLORS[k + 1]!, n)).join(' ') + ' (failing axes only)';
      default:
        return '';
    }
  }
}

const f = (v: unknown, d = 4): string =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? String(v)
      : v.toFixed(d)
    : v === null || v === undefined
      ? '–'
      : String(v);

/** HTML of a block's numbers: all axes, l/c/s, moments and labels. */
export function blockPanelHtml(b: Row, title: string): string {
  const axes = [1, 2, 3, 4, 5, 6]
    .map((k) => {
      const fail = ((Number(b.mask) >> (k - 1)) & 1) === 1;
      return `<tr><td>${AXIS_LABELS[k - 1]}</td><td>${f(b[`a${k}`])}</td><td>${f(b[`sev${k}`], 3)}</td><td>${fail ? '<b style="color:#ff5a4e">fail</b>' : ''}</td></tr>`;
    })
    .join('');
  const kv = (pairs: [string, unknown][]) =>
    pairs.map(([k, v]) => `<tr><td>${k}</td><td>${f(v)}</td></tr>`).join('');
  return `<h3>${title}</h3>
<table><tr><th>label</th><th></th></tr>${kv([
    ['layer', LAYER_NAMES[Number(b.layer)]],
    ['regime', REGIME_NAMES[Number(b.regime)]],
    ['attractor', ATTRACTOR_NAMES[Number(b.attractor)]],
    ['dominant axis', Number(b.dom) > 0 ? AXIS_LABELS[Number(b.dom) - 1] : 'none'],
    ['damage', `${b.dmg_ac ? 'AC ' : ''}${b.dmg_dc ? 'DC' : ''}` || 'none'],
    ['persistent', b.persistent === null ? '–' : b.persistent ? 'yes' : 'no'],
    [
      'other path layer',
      b.other_layer === null || b.other_layer === undefined ? '–' : LAYER_NAMES[Number(b.other_layer)],
    ],
  ])}</table>
<table><tr><th>axis</th><th>raw</th><th>sev</th><th></th></tr>${axes}</table>
<table><tr><th>SSIM terms</th><th></th></tr>${kv([
    ['ssim_blk', b.ssim_blk],
    ['l_blk', b.l_blk],
    ['cs_blk', b.cs_blk],
    ['l (whole block)', b.l],
    ['c', b.c],
    ['s', b.s],
  ])}</table>
<table><tr><th>moments</th><th></th></tr>${kv([
    ['mx', b.mx],
    ['my', b.my],
    ['sx', b.sx],
    ['sy', b.sy],
    ['dmu', b.dmu],
    ['se', b.se],
    ['rho', b.rho],
    ['R = r_ac', b.r_ac],
    ['kappa', b.kappa],
    ['lambda', b.lambda],
    ['ring', b.ring],
  ])}</table>`;
}

/** |test - GT| of the two displayed 8-bit pictures, x4 (capped at 255), as a grey canvas; null when unreadable. */
function differenceImage(gt: HTMLImageElement, test: HTMLImageElement): HTMLCanvasElement | null {
  const w = gt.naturalWidth;
  const h = gt.naturalHeight;
  if (w === 0 || h === 0 || test.naturalWidth !== w || test.naturalHeight !== h) return null;
  const pixels = (img: HTMLImageElement): Uint8ClampedArray => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, w, h).data;
  };
  const a = pixels(gt);
  const b = pixels(test);
  const out = document.createElement('canvas');
  out.width = w;
  out.height = h;
  const ctx = out.getContext('2d')!;
  const d = ctx.createImageData(w, h);
  for (let i = 0; i < a.length; i += 4) {
    const v = Math.min(255, 4 * Math.abs(a[i]! - b[i]!));
    d.data[i] = d.data[i + 1] = d.data[i + 2] = v;
    d.data[i + 3] = 255;
  }
  ctx.putImageData(d, 0, 0);
  return out;
}
