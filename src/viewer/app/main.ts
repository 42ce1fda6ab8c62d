/** The viewer app: wires the egg, the image view and the tables to the server's API. */
import { ATTRACTOR_NAMES, AXIS_LABELS, LAYER_NAMES, REGIME_NAMES } from '../egg.ts';
import { getJson, type Cells, type Meta, type Row } from './api.ts';
import { LAYER_COLORS, REGIME_COLORS, css } from './colors.ts';
import { EggView, type Instances } from './egg3d.ts';
import { ImageView, OVERLAYS, blockPanelHtml, type Overlay } from './imageView.ts';
import { tablesHtml, type Analysis } from './tables.ts';

const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector(sel) as T;
const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Filters {
  model: Set<number>;
  path: Set<number>;
  layer: Set<number>;
  regime: Set<number>;
  attractor: Set<number>;
  border: boolean;
  persistentOnly: boolean;
}

declare global {
  interface Window {
    __viewer?: {
      ready: boolean;
      egg: EggView;
      instanceCount: () => number;
      fps: () => number;
      imageReady: boolean;
      errors: string[];
    };
  }
}

/** Deterministic synthetic cells for the frame-rate bench (?bench=N). */
function syntheticCells(n: number): Cells {
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  const arr = (f: () => number) => Array.from({ length: n }, f);
  const pos = () => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = rnd() * 2 - 1;
      const a = rnd() * Math.PI * 2;
      const r = Math.cbrt(rnd());
      const h = Math.sqrt(1 - u * u);
      out.push(r * h * Math.cos(a), r * u, r * h * Math.sin(a));
    }
    return out;
  };
  return {
    count: n,
    models: ['bench'],
    paths: ['notta', 'tta'],
    id: arr(() => 0).map((_, i) => i),
    model: arr(() => 0),
    path: arr(() => (rnd() < 0.5 ? 0 : 1)),
    layer: arr(() => Math.floor(rnd() * 4)),
    regime: arr(() => Math.floor(rnd() * 3)),
    attractor: arr(() => Math.floor(rnd() * 3)),
    border: arr(() => (rnd() < 0.1 ? 1 : 0)),
    persistent: arr(() => (rnd() < 0.2 ? 1 : 0)),
    dom: arr(() => Math.floor(rnd() * 7)),
    n: arr(() => 1 + Math.floor(rnd() * 100)),
    images: arr(() => 1),
    nAc: arr(() => 0),
    nDc: arr(() => 0),
    severity: arr(rnd),
    ssim: arr(rnd),
    kappa: arr(rnd),
    from: pos(),
    to: pos(),
  };
}

class App {
  meta!: Meta;
  cells!: Cells;
  egg!: EggView;
  images!: ImageView;
  imageRows: Row[] = [];
  filters!: Filters;
  /** drawn instance -> cell index */
  drawnCells = new Int32Array(0);
  playing = false;
  private fpsValue = 0;

  async start(): Promise<void> {
    const params = new URLSearchParams(location.search);
    // ?bench=N (N >= 0): N synthetic cells, every frame drawn (bench/viewer-fps.ts).
    const bench = params.has('bench') ? Math.max(0, Math.floor(Number(params.get('bench')) || 0)) : -1;
    this.meta = await getJson<Meta>('/api/meta');
    this.cells = bench >= 0 ? syntheticCells(bench) : await getJson<Cells>('/api/cells');
    this.egg = new EggView(
      $<HTMLCanvasElement>('#egg-canvas'),
      this.cells.count <= 20_000 && params.get('aa') !== '0',
      params.get('render') === 'quads' ? 'quads' : 'points',
    );
    this.filters = {
      model: new Set(this.cells.models.map((_, i) => i)),
      path: new Set(this.cells.paths.map((_, i) => i)),
      layer: new Set([0, 1, 2, 3]),
      regime: new Set([0, 1, 2]),
      attractor: new Set([0, 1, 2]),
      border: true,
      persistentOnly: false,
    };
    this.buildFilters();
    this.buildLegend();
    this.applyFilters();
    this.wireEgg();
    this.wireTabs();
    $('#status').textContent =
      `${this.meta.configs.length} configurations · ${this.cells.count} cells · ${this.meta.configs.reduce((a, c) => a + c.blocks, 0)} blocks`;
    window.__viewer = {
      ready: false,
      egg: this.egg,
      instanceCount: () => Number(this.egg.renderer.domElement.dataset.instanceCount),
      fps: () => this.fpsValue,
      imageReady: false,
      errors: [],
    };
    this.loop(bench >= 0);
    if (bench < 0) {
      await this.setupImages();
      this.loadTables().catch((e: unknown) => this.fail(e));
    }
    window.__viewer.ready = true;
    document.body.dataset.ready = '1';
  }

  private fail(e: unknown): void {
    $('#status').textContent = `error: ${(e as Error).message}`;
    window.__viewer?.errors.push(String(e));
  }

  /** Play lasts this long whatever the frame rate. */
  static readonly PLAY_MS = 2500;

  private loop(always: boolean): void {
    let last = performance.now();
    let frames = 0;
    let prev = last;
    const tick = (now: number) => {
      if (this.playing) {
        const t = Math.min(1, this.egg.t + (now - prev) / App.PLAY_MS);
        this.setT(t);
        if (t >= 1) this.togglePlay(false);
      }
      prev = now;
      if (this.egg.render(always)) frames++;
      if (now - last >= 1000) {
        this.fpsValue = (frames * 1000) / (now - last);
        frames = 0;
        last = now;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  private setT(t: number): void {
    this.egg.t = t;
    $<HTMLInputElement>('#t-slider').value = String(Math.round(t * 1000));
    $('#t-label').textContent = t <= 0 ? 'notta' : t >= 1 ? 'tta' : `${Math.round(t * 100)}%`;
  }

  private togglePlay(on: boolean): void {
    this.playing = on;
    if (on && this.egg.t >= 1) this.setT(0);
    $('#play').innerHTML = on ? '&#10074;&#10074; pause' : '&#9654; play notta &rarr; tta';
  }

  private buildFilters(): void {
    const group = (title: string, key: keyof Filters, names: readonly string[], colors?: string[]) => {
      const set = this.filters[key] as Set<number>;
      return `<fieldset><legend>${title}</legend>${names
        .map(
          (n, i) =>
            `<label><input type="checkbox" data-filter="${key}" data-value="${i}" ${set.has(i) ? 'checked' : ''}>${colors ? `<span class="swatch" style="background:${colors[i]}"></span>` : ''}${esc(n)}</label>`,
        )
        .join('')}</fieldset>`;
    };
    $('#filters').innerHTML =
      group('model', 'model', this.cells.models) +
      group('path', 'path', this.cells.paths) +
      group(
        'layer',
        'layer',
        LAYER_NAMES,
        LAYER_COLORS.map((c) => css(c)),
      ) +
      group(
        'regime',
        'regime',
        REGIME_NAMES,
        REGIME_COLORS.map((c) => css(c)),
      ) +
      group('attractor', 'attractor', ATTRACTOR_NAMES) +
      `<fieldset><legend>blocks</legend><label><input type="checkbox" id="f-border" checked>border blocks</label>
       <label><input type="checkbox" id="f-persistent">persistent only</label></fieldset>
       <p class="notice">${this.meta.notices.map(esc).join('<br>')}</p>`;
    $('#filters').addEventListener('change', (e) => {
      const el = e.target as HTMLInputElement;
      if (el.id === 'f-border') this.filters.border = el.checked;
      else if (el.id === 'f-persistent') this.filters.persistentOnly = el.checked;
      else {
        const set = this.filters[el.dataset.filter as keyof Filters] as Set<number>;
        const v = Number(el.dataset.value);
        if (el.checked) set.add(v);
        else set.delete(v);
      }
      this.applyFilters();
    });
  }

  private buildLegend(): void {
    const sw = (c: string) => `<span class="swatch" style="background:${c}"></span>`;
    $('#legend').innerHTML = `
      <div><b>Shell</b> (wireframe, r 0.60–1, κ ≥ 0.5): what SSIM can see.</div>
      <div><b>Membrane</b> (sky blue, r 0.45–0.60): SSIM's constants start to dominate.</div>
      <div><b>Yolk</b> (orange, r &lt; 0.45, Silent): SSIM cannot respond to texture here (flat blocks; radius by log κ). The published Hidden Collapse sits here; above the floors, almost none does.</div>
      <div><b>Direction</b>: damage over the spokes A1–A6; top pole = no damage.</div>
      <div><b>Point</b>: a cell, i.e. a group of similar blocks; hover for its counts, click for real blocks.</div>
      <div><b>Colour</b> = failure layer: <b>Visible</b>, SSIM's worst 10% (it sees the damage); <b>Hidden</b>, among SSIM's best 10% yet damaged; <b>Gray</b>, damaged in between; <b>Intact</b>, no damage above the noise floors. Terms: docs/method.md.</div>`;
    // the colour key on the egg itself (always in view)
    $('#egg-keys').innerHTML = `${LAYER_NAMES.map((n, k) => `<span>${sw(css(LAYER_COLORS[k]!))}${n}</span>`).join('')}
      <span>size = severity</span><span>white ring = persistent</span>`;
  }

  applyFilters(): void {
    const c = this.cells;
    const f = this.filters;
    const n = c.count;
    const inst: Instances = {
      from: new Float32Array(3 * n),
      to: new Float32Array(3 * n),
      color: new Float32Array(3 * n),
      size: new Float32Array(n),
      outline: new Float32Array(n),
      count: 0,
    };
    const map = new Int32Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (
        !f.model.has(c.model[i]!) ||
        !f.path.has(c.path[i]!) ||
        !f.layer.has(c.layer[i]!) ||
        !f.regime.has(c.regime[i]!) ||
        !f.attractor.has(c.attractor[i]!)
      )
        continue;
      if (!f.border && c.border[i]) continue;
      if (f.persistentOnly && !c.persistent[i]) continue;
      for (let d = 0; d < 3; d++) {
        inst.from[3 * k + d] = c.from[3 * i + d]!;
        inst.to[3 * k + d] = c.to[3 * i + d]!;
        inst.color[3 * k + d] = LAYER_COLORS[c.layer[i]!]![d]!;
      }
      inst.size[k] = (0.014 + 0.032 * c.severity[i]!) * (1 + 0.22 * Math.log10(c.n[i]!));
      inst.outline[k] = c.persistent[i]!;
      map[k] = i;
      k++;
    }
    inst.count = k;
    this.drawnCells = map;
    this.egg.setInstances(inst);
    this.egg.setScale(Math.min(2, Math.max(0.45, Math.cbrt(3000 / Math.max(1, k)))));
    // most cells barely move between notta and tta: say how many do; play draws their paths and dims the rest
    $('#move-note').textContent = `${this.egg.moving} of ${k} cells move from the plain output (notta) to the x8 test-time-augmented one (tta); playing draws their paths and dims the rest`;
  }

  private wireEgg(): void {
    const canvas = this.egg.renderer.domElement;
    const tip = $('#egg-tooltip');
    let pending = false;
    canvas.addEventListener('pointermove', (e) => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const hit = this.egg.pick(e.clientX, e.clientY);
        if (hit < 0) {
          tip.hidden = true;
          return;
        }
        const i = this.drawnCells[hit]!;
        const c = this.cells;
        const rect = canvas.getBoundingClientRect();
        tip.hidden = false;
        tip.style.left = `${e.clientX - rect.left + 14}px`;
        tip.style.top = `${e.clientY - rect.top + 10}px`;
        // a point is a cell: blocks with the same model, path, layer, regime, attractor and nearly the same place
        tip.innerHTML = `<b>${c.n[i]}</b> blocks in ${c.images[i]} image(s) (one point = a group of similar blocks) · ${esc(c.models[c.model[i]!])} / ${esc(c.paths[c.path[i]!])}<br>
          ${LAYER_NAMES[c.layer[i]!]} · ${REGIME_NAMES[c.regime[i]!]} regime · ${ATTRACTOR_NAMES[c.attractor[i]!] === 'None' ? 'no axis fails' : ATTRACTOR_NAMES[c.attractor[i]!] === 'Single' ? 'one axis fails' : 'several axes fail'}${c.dom[i] ? ` (mostly ${AXIS_LABELS[c.dom[i]! - 1]})` : ''}${c.persistent[i] ? ' · same layer with TTA' : ''}${c.border[i] ? ' · on the image border' : ''}<br>
          mean block SSIM ${c.ssim[i]!.toFixed(4)} · SSIM responsiveness κ ${c.kappa[i]!.toFixed(3)} · severity ${c.severity[i]!.toFixed(2)} (0-1) · ${c.nAc[i]} with texture damage, ${c.nDc[i]} with brightness damage`;
      });
    });
    canvas.addEventListener('pointerleave', () => (tip.hidden = true));
    let down: { x: number; y: number } | null = null;
    canvas.addEventListener('pointerdown', (e) => (down = { x: e.clientX, y: e.clientY }));
    canvas.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
      const hit = this.egg.pick(e.clientX, e.clientY);
      if (hit >= 0) this.openCell(this.drawnCells[hit]!).catch((err: unknown) => this.fail(err));
    });
    $('#play').addEventListener('click', () => this.togglePlay(!this.playing));
    $<HTMLInputElement>('#t-slider').addEventListener('input', (e) => {
      this.togglePlay(false);
      this.setT(Number((e.target as HTMLInputElement).value) / 1000);
    });
  }

  async openCell(i: number): Promise<void> {
    const c = this.cells;
    const panel = $('#cell-panel');
    panel.hidden = false;
    panel.innerHTML = '<p class="notice">sampling…</p>';
    const { cell, blocks } = await getJson<{ cell: Row; blocks: Row[] }>(`/api/cells/${c.id[i]}/samples`);
    panel.dataset.cell = String(c.id[i]);
    panel.innerHTML = `<button class="close" title="close">×</button><h3>Cell ${cell.id}: ${cell.n} blocks</h3>
      <p>${esc(cell.model)} / ${esc(cell.path)} · ${LAYER_NAMES[Number(cell.layer)]} · ${REGIME_NAMES[Number(cell.regime)]} · ${ATTRACTOR_NAMES[Number(cell.attractor)]}${
        Number(cell.dom) ? ` (${AXIS_LABELS[Number(cell.dom) - 1]})` : ''
      }${cell.persistent ? ' · persistent' : ''}<br>mean ssim_blk ${Number(cell.ssim_blk).toFixed(4)} · κ ${Number(cell.kappa).toFixed(3)} · ${cell.images} image(s)</p>
      <p class="notice">${blocks.length} sampled block(s); click one to see it on its image.</p>
      <table id="samples"><tr><th>image</th><th>row</th><th>col</th><th>ssim_blk</th><th>κ</th><th>R</th></tr>${blocks
        .map(
          (b, k) =>
            `<tr class="sample" data-k="${k}"><td>${esc(b.image)}</td><td>${b.row}</td><td>${b.col}</td><td>${Number(b.ssim_blk).toFixed(4)}</td><td>${Number(b.kappa).toFixed(3)}</td><td>${Number(b.r_ac).toFixed(2)}</td></tr>`,
        )
        .join('')}</table>`;
    panel.querySelector('.close')!.addEventListener('click', () => (panel.hidden = true));
    panel.querySelectorAll('tr.sample').forEach((tr) =>
      tr.addEventListener('click', () => {
        const b = blocks[Number((tr as HTMLElement).dataset.k)]!;
        this.showBlockOnImage(
          String(b.image),
          String(b.model),
          String(b.path),
          Number(b.row),
          Number(b.col),
        ).catch((e: unknown) => this.fail(e));
      }),
    );
  }

  private wireTabs(): void {
    document
      .querySelectorAll<HTMLButtonElement>('nav button')
      .forEach((b) => b.addEventListener('click', () => this.showTab(b.dataset.tab!)));
  }

  showTab(tab: string): void {
    document
      .querySelectorAll<HTMLButtonElement>('nav button')
      .forEach((x) => x.classList.toggle('active', x.dataset.tab === tab));
    document.querySelectorAll('.tab').forEach((x) => x.classList.toggle('active', x.id === `tab-${tab}`));
    if (tab === 'egg') this.egg.resize();
    if (tab === 'image') this.images.fit();
  }

  private async setupImages(): Promise<void> {
    this.imageRows = await getJson<Row[]>('/api/images');
    this.images = new ImageView([$<HTMLCanvasElement>('#img-gt'), $<HTMLCanvasElement>('#img-test')]);
    const names = [...new Set(this.imageRows.map((r) => String(r.image)))];
    const configs = this.meta.configs.map((c) => `${c.model}/${c.path}`);
    $('#image-controls').innerHTML = `
      <label>image <select id="sel-image">${names.map((n) => `<option>${esc(n)}</option>`).join('')}</select></label>
      <label>model / path <select id="sel-config">${configs.map((n) => `<option>${esc(n)}</option>`).join('')}</select></label>
      <label>overlay <select id="sel-overlay">${OVERLAYS.map((o) => `<option value="${o.id}">${o.label}</option>`).join('')}</select></label>
      <label>opacity <input id="sel-opacity" type="range" min="0" max="100" value="45"></label>
      <label>right image <select id="sel-right" title="compare GT and output without overlays hiding the difference"><option value="test">output</option><option value="diff">difference |output − GT| ×4</option><option value="flicker">flicker GT / output</option></select></label>
      <button id="show-in-egg" title="switch to the 3D view">show block in egg</button>
      <span class="notice">wheel: zoom · drag: pan · double-click: fit · click: block</span>`;
    const reload = () => {
      const [model, path] = $<HTMLSelectElement>('#sel-config').value.split('/');
      return this.loadImage($<HTMLSelectElement>('#sel-image').value, model!, path!);
    };
    $('#sel-image').addEventListener('change', () => void reload().catch((e: unknown) => this.fail(e)));
    $('#sel-config').addEventListener('change', () => void reload().catch((e: unknown) => this.fail(e)));
    $('#sel-overlay').addEventListener('change', (e) => {
      this.images.overlay = (e.target as HTMLSelectElement).value as Overlay;
      $('#overlay-legend').innerHTML = this.images.legendHtml();
      this.images.draw();
    });
    $('#sel-opacity').addEventListener('input', (e) => {
      this.images.opacity = Number((e.target as HTMLInputElement).value) / 100;
      this.images.draw();
    });
    $('#sel-right').addEventListener('change', (e) => this.images.setRight((e.target as HTMLSelectElement).value as 'test' | 'diff' | 'flicker'));
    $('#show-in-egg').addEventListener('click', () => this.showTab('egg'));
    this.images.onSelect = (_i, b) => this.showBlock(b);
    this.images.onRightChange = () => ($('#test-caption').textContent = this.images.rightCaption());
    if (names.length > 0) await reload();
  }

  private async loadImage(image: string, model: string, path: string): Promise<void> {
    if (window.__viewer) window.__viewer.imageReady = false;
    await this.images.load(image, model, path);
    $('#test-caption').textContent = this.images.rightCaption();
    $('#overlay-legend').innerHTML = this.images.legendHtml();
    $('#block-panel').hidden = true;
    if (window.__viewer) window.__viewer.imageReady = true;
  }

  /** Show a block's numbers and mark it in the egg. */
  private showBlock(b: Row): void {
    const panel = $('#block-panel');
    panel.hidden = false;
    panel.dataset.row = String(b.row);
    panel.dataset.col = String(b.col);
    panel.innerHTML = `<button class="close" title="close">×</button>${blockPanelHtml(b, `Block (${b.row}, ${b.col}) of ${esc(this.images.key.image)}`)}`;
    panel.querySelector('.close')!.addEventListener('click', () => (panel.hidden = true));
    this.egg.setHighlight([Number(b.px), Number(b.py), Number(b.pz)]);
  }

  async showBlockOnImage(
    image: string,
    model: string,
    path: string,
    row: number,
    col: number,
  ): Promise<void> {
    this.showTab('image');
    $<HTMLSelectElement>('#sel-image').value = image;
    $<HTMLSelectElement>('#sel-config').value = `${model}/${path}`;
    await this.loadImage(image, model, path);
    const rows = this.images.blockRow;
    for (let i = 0; ; i++) {
      const b = rows.call(this.images, i);
      if (b.row === undefined) break;
      if (b.row === row && b.col === col) {
        this.images.select(i);
        this.showBlock(b);
        break;
      }
    }
  }

  private async loadTables(): Promise<void> {
    const a = await getJson<Analysis>('/api/analysis');
    $('#tables').innerHTML = tablesHtml(a);
  }
}

window.addEventListener('error', (e) => window.__viewer?.errors.push(String(e.message)));
new App().start().catch((e: unknown) => {
  const s = document.getElementById('status');
  if (s) s.textContent = `error: ${(e as Error).message}`;
  console.error(e);
});
