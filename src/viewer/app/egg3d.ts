/**
 * The Shell–Membrane–Yolk egg in three.js: wireframe shell (r 1), translucent membrane (r 0.60), yolk (r 0.45),
 * six axis spokes and the None pole, and one instanced billboard per cell. Positions are interpolated between
 * the notta (aFrom) and tta (aTo) positions in the vertex shader, so "play" costs no CPU per frame.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { AXIS_LABELS, AXIS_VECTORS, MEMBRANE_RADIUS, NONE_POLE, YOLK_RADIUS } from '../egg.ts';
import { REGIME_COLORS, type RGB } from './colors.ts';

/** The regime colours of the palette as three.js colours (yolk = Silent, membrane = Membrane). */
const hex = (c: RGB): number => (Math.round(c[0] * 255) << 16) | (Math.round(c[1] * 255) << 8) | Math.round(c[2] * 255);

/** Spokes and their labels: one neutral light grey (colour in the egg means the failure layer). */
const SPOKE_COLOR: RGB = [0.82, 0.85, 0.9];

/** Egg stretch along the pole axis (purely visual). */
const EGG_STRETCH = 1.18;

const VERTEX = /* glsl */ `
uniform float uT;
uniform float uScale;
uniform float uDim;
attribute vec3 aFrom;
attribute vec3 aTo;
attribute vec3 aColor;
attribute float aSize;
attribute float aOutline;
attribute float aMove;
varying vec2 vUv;
varying vec3 vColor;
varying float vOutline;
varying float vDim;
void main() {
  vec3 p = mix(aFrom, aTo, uT);
  vec4 mv = modelViewMatrix * vec4(p, 1.0);
  mv.xy += position.xy * aSize * uScale;
  gl_Position = projectionMatrix * mv;
  vUv = position.xy * 2.0;
  vColor = aColor;
  vDim = mix(1.0, uDim, (1.0 - aMove) * step(0.0005, uT));
  vOutline = aOutline;
}`;

/** Point-sprite variant: one vertex per cell (software GL processes it far faster than 4-vertex instances). */
const POINT_VERTEX = /* glsl */ `
uniform float uT;
uniform float uScale;
uniform float uPixelsPerUnit;
uniform float uDim;
attribute vec3 aTo;
attribute vec3 aColor;
attribute float aSize;
attribute float aOutline;
attribute float aMove;
varying vec3 vColor;
varying float vOutline;
varying float vDim;
void main() {
  vec3 p = mix(position, aTo, uT);
  vec4 mv = modelViewMatrix * vec4(p, 1.0);
  gl_Position = projectionMatrix * mv;
  gl_PointSize = max(1.5, aSize * uScale * uPixelsPerUnit / -mv.z);
  // while playing (t > 0) the cells that stay put are dimmed, so the ones that move stand out
  vColor = aColor;
  vDim = mix(1.0, uDim, (1.0 - aMove) * step(0.0005, uT));
  vOutline = aOutline;
}`;

/** A shaded disc with an optional white ring, from `uv` in [-1, 1]² (points and instanced quads alike). */
const DISC_FRAGMENT = (uv: string, varyings = ''): string => /* glsl */ `${varyings}
varying vec3 vColor;
varying float vOutline;
varying float vDim;
void main() {
  vec2 uv = ${uv};
  float r = length(uv);
  if (r > 1.0) discard;
  vec3 c = vColor * (1.05 - 0.35 * r * r);
  if (vOutline > 0.5 && r > 0.68) c = vec3(1.0);
  gl_FragColor = vec4(c * vDim, 1.0);
}`;
const POINT_FRAGMENT = DISC_FRAGMENT('gl_PointCoord * 2.0 - 1.0');
const FRAGMENT = DISC_FRAGMENT('vUv', 'varying vec2 vUv;');

/** Trails: from each moving cell's notta position to where it is now (grows as play runs). */
const TRAIL_VERTEX = /* glsl */ `
uniform float uT;
attribute vec3 aFrom;
attribute vec3 aTo;
attribute float aEnd;
attribute vec3 aColor;
varying vec3 vColor;
void main() {
  vec3 p = mix(aFrom, mix(aFrom, aTo, uT), aEnd);
  gl_Position = projectionMatrix * modelViewMatrix * vec4(p, 1.0);
  vColor = aColor;
}`;

const TRAIL_FRAGMENT = /* glsl */ `
varying vec3 vColor;
void main() {
  gl_FragColor = vec4(vColor, 0.75);
}`;

/** A cell counts as moving when notta and tta positions are this far apart (egg radius 1; ~6 px on screen). */
export const MOVE_MIN = 0.02;

export interface Instances {
  /** Interleaved xyz, length 3n. */
  from: Float32Array;
  to: Float32Array;
  color: Float32Array;
  size: Float32Array;
  outline: Float32Array;
  count: number;
}

function textSprite(text: string, color: RGB, scale = 0.22): THREE.Sprite {
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d')!;
  const font = '600 44px system-ui, sans-serif';
  ctx.font = font;
  const w = Math.ceil(ctx.measureText(text).width) + 16;
  canvas.width = w;
  canvas.height = 60;
  ctx.font = font;
  // a dark plate behind the text: labels are drawn over the cells and must stay readable there
  ctx.fillStyle = 'rgba(14, 17, 23, 0.72)';
  ctx.fillRect(0, 6, w, 50);
  ctx.fillStyle = `rgb(${color.map((v) => Math.round(v * 255)).join(',')})`;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 8, 31);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(
    // drawn last and without depth test: a label behind the cells (e.g. a spoke pointing away) stays readable
    new THREE.SpriteMaterial({ map: tex, depthWrite: false, depthTest: false, transparent: true }),
  );
  sprite.scale.set((scale * w) / 60, scale, 1);
  sprite.renderOrder = 10;
  sprite.name = text;
  return sprite;
}

/** Meridians and parallels of a sphere as line segments. */
function sphereLines(radius: number, meridians: number, parallels: number): THREE.BufferGeometry {
  const pts: number[] = [];
  const seg = 64;
  for (let m = 0; m < meridians; m++) {
    const az = (m / meridians) * Math.PI * 2;
    for (let i = 0; i < seg; i++) {
      for (const j of [i, i + 1]) {
        const pol = (j / seg) * Math.PI;
        pts.push(
          radius * Math.sin(pol) * Math.cos(az),
          radius * Math.cos(pol),
          radius * Math.sin(pol) * Math.sin(az),
        );
      }
    }
  }
  for (let p = 1; p < parallels; p++) {
    const pol = (p / parallels) * Math.PI;
    for (let i = 0; i < seg; i++) {
      for (const j of [i, i + 1]) {
        const az = (j / seg) * Math.PI * 2;
        pts.push(
          radius * Math.sin(pol) * Math.cos(az),
          radius * Math.cos(pol),
          radius * Math.sin(pol) * Math.sin(az),
        );
      }
    }
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.Float32BufferAttribute(pts, 3));
  return g;
}

export class EggView {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  private readonly egg = new THREE.Group();
  private readonly geometry: THREE.InstancedBufferGeometry | THREE.BufferGeometry;
  private readonly material: THREE.ShaderMaterial;
  private readonly mesh: THREE.Mesh | THREE.Points;
  /** 'quads': instanced billboards (4 vertices per cell); 'points': point sprites (1 vertex per cell). */
  readonly mode: 'quads' | 'points';
  private readonly highlight: THREE.Mesh;
  private capacity = 0;
  private attrs!: {
    from: THREE.BufferAttribute;
    to: THREE.BufferAttribute;
    color: THREE.BufferAttribute;
    size: THREE.BufferAttribute;
    outline: THREE.BufferAttribute;
    move: THREE.BufferAttribute;
  };
  /** Notta -> now segments of the moving cells (shown while t > 0). */
  private readonly trails: THREE.LineSegments;
  private readonly trailMaterial: THREE.ShaderMaterial;
  /** Drawn cells whose notta and tta positions differ by more than MOVE_MIN. */
  moving = 0;
  /** CPU copy of the drawn instances, for picking. */
  private drawn: Instances | null = null;
  /** Frames rendered since start (for fps measurement). */
  frames = 0;
  private dirty = true;
  private readonly projected = new THREE.Matrix4();

  /**
   * @param canvas the WebGL canvas
   * @param antialias MSAA; off for very many instances (it multiplies fragment work, ruinous on software GL)
   */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    antialias = true,
    mode: 'quads' | 'points' = 'points',
  ) {
    this.mode = mode;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    this.renderer.setClearColor(0x0e1117, 1);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.01, 50);
    // far enough that the None pole label and all six spoke labels are in view at 16:9 and 4:3; azimuth 25 deg
    // (between spokes, and no spoke pointing at or away from the camera: A2 at 60 deg hid A5 behind it at 53 deg)
    this.camera.position.set(3.95, 1.45, 1.84);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = true;
    this.controls.target.set(0, -0.05, 0);
    this.controls.addEventListener('change', () => (this.dirty = true));
    this.scene.add(this.egg);
    this.egg.scale.set(1, EGG_STRETCH, 1);
    this.buildEgg();

    const uniforms = { uT: { value: 0 }, uScale: { value: 1 }, uPixelsPerUnit: { value: 500 }, uDim: { value: 0.3 } };
    if (mode === 'quads') {
      const g = new THREE.InstancedBufferGeometry();
      const quad = new THREE.PlaneGeometry(1, 1);
      g.index = quad.index;
      g.setAttribute('position', quad.getAttribute('position'));
      this.geometry = g;
      this.material = new THREE.ShaderMaterial({ vertexShader: VERTEX, fragmentShader: FRAGMENT, uniforms });
    } else {
      this.geometry = new THREE.BufferGeometry();
      this.material = new THREE.ShaderMaterial({
        vertexShader: POINT_VERTEX,
        fragmentShader: POINT_FRAGMENT,
        uniforms,
      });
    }
    this.ensureCapacity(1024);
    this.mesh =
      mode === 'quads'
        ? new THREE.Mesh(this.geometry, this.material)
        : new THREE.Points(this.geometry, this.material);
    this.mesh.frustumCulled = false;
    this.egg.add(this.mesh);

    this.trailMaterial = new THREE.ShaderMaterial({
      vertexShader: TRAIL_VERTEX,
      fragmentShader: TRAIL_FRAGMENT,
      uniforms: { uT: uniforms.uT },
      transparent: true,
      depthWrite: false,
    });
    this.trails = new THREE.LineSegments(new THREE.BufferGeometry(), this.trailMaterial);
    this.trails.frustumCulled = false;
    this.trails.visible = false;
    this.egg.add(this.trails);

    this.highlight = new THREE.Mesh(
      new THREE.SphereGeometry(0.045, 16, 12),
      new THREE.MeshBasicMaterial({ color: 0xff2bd6, wireframe: true }),
    );
    this.highlight.visible = false;
    this.egg.add(this.highlight);
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  private buildEgg(): void {
    const shell = new THREE.LineSegments(
      sphereLines(1, 16, 10),
      new THREE.LineBasicMaterial({ color: 0x5b6577, transparent: true, opacity: 0.45 }),
    );
    this.egg.add(shell);
    const membrane = new THREE.Mesh(
      new THREE.SphereGeometry(MEMBRANE_RADIUS, 48, 32),
      new THREE.MeshBasicMaterial({
        color: hex(REGIME_COLORS[1]!),
        transparent: true,
        opacity: 0.07,
        depthWrite: false,
        side: THREE.DoubleSide,
      }),
    );
    this.egg.add(membrane);
    const membraneLines = new THREE.LineSegments(
      sphereLines(MEMBRANE_RADIUS, 12, 6),
      new THREE.LineBasicMaterial({ color: hex(REGIME_COLORS[1]!), transparent: true, opacity: 0.12 }),
    );
    this.egg.add(membraneLines);
    const yolk = new THREE.Mesh(
      new THREE.SphereGeometry(YOLK_RADIUS, 48, 32),
      new THREE.MeshBasicMaterial({ color: hex(REGIME_COLORS[0]!), transparent: true, opacity: 0.13, depthWrite: false }),
    );
    this.egg.add(yolk);
    // Spokes A1..A6 and the None pole.
    const spoke = (v: readonly number[], color: RGB, label: string) => {
      const g = new THREE.BufferGeometry().setFromPoints([
        new THREE.Vector3(0, 0, 0),
        new THREE.Vector3(v[0]! * 1.08, v[1]! * 1.08, v[2]! * 1.08),
      ]);
      this.egg.add(
        new THREE.Line(
          g,
          new THREE.LineBasicMaterial({
            color: new THREE.Color(color[0], color[1], color[2]),
            transparent: true,
            opacity: 0.8,
          }),
        ),
      );
      const s = textSprite(label, color, 0.075);
      s.position.set(v[0]! * 1.2, v[1]! * 1.2, v[2]! * 1.2);
      this.egg.add(s);
    };
    // spokes and labels in one neutral colour: in the egg colour means the failure layer only (the axis colours
    // share hues with the layers: A6 blue beside blue Hidden cells read as "Hidden = A6")
    AXIS_VECTORS.forEach((v, k) => spoke(v, SPOKE_COLOR, AXIS_LABELS[k]!));
    spoke(NONE_POLE, SPOKE_COLOR, 'None (no damage)');
  }

  private ensureCapacity(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, this.capacity * 2, 1024);
    const mk = (k: number) => {
      const a =
        this.mode === 'quads'
          ? new THREE.InstancedBufferAttribute(new Float32Array(cap * k), k)
          : new THREE.BufferAttribute(new Float32Array(cap * k), k);
      a.setUsage(THREE.StaticDrawUsage);
      return a;
    };
    this.attrs = { from: mk(3), to: mk(3), color: mk(3), size: mk(1), outline: mk(1), move: mk(1) };
    this.geometry.setAttribute(this.mode === 'quads' ? 'aFrom' : 'position', this.attrs.from);
    this.geometry.setAttribute('aTo', this.attrs.to);
    this.geometry.setAttribute('aColor', this.attrs.color);
    this.geometry.setAttribute('aSize', this.attrs.size);
    this.geometry.setAttribute('aOutline', this.attrs.outline);
    this.geometry.setAttribute('aMove', this.attrs.move);
    this.capacity = cap;
  }

  /** Replace the drawn instances. */
  setInstances(inst: Instances): void {
    this.ensureCapacity(inst.count);
    (this.attrs.from.array as Float32Array).set(inst.from.subarray(0, 3 * inst.count));
    (this.attrs.to.array as Float32Array).set(inst.to.subarray(0, 3 * inst.count));
    (this.attrs.color.array as Float32Array).set(inst.color.subarray(0, 3 * inst.count));
    (this.attrs.size.array as Float32Array).set(inst.size.subarray(0, inst.count));
    (this.attrs.outline.array as Float32Array).set(inst.outline.subarray(0, inst.count));
    this.setMotion(inst);
    for (const a of Object.values(this.attrs)) {
      a.clearUpdateRanges();
      a.addUpdateRange(0, inst.count * a.itemSize);
      a.needsUpdate = true;
    }
    if (this.geometry instanceof THREE.InstancedBufferGeometry) this.geometry.instanceCount = inst.count;
    else this.geometry.setDrawRange(0, inst.count);
    this.dirty = true;
    this.drawn = inst;
    this.canvas.dataset.instanceCount = String(inst.count);
  }

  /** Which cells move between notta and tta (aMove), and one trail segment per moving cell. */
  private setMotion(inst: Instances): void {
    const move = this.attrs.move.array as Float32Array;
    let m = 0;
    for (let i = 0; i < inst.count; i++) {
      const d = Math.hypot(inst.to[3 * i]! - inst.from[3 * i]!, inst.to[3 * i + 1]! - inst.from[3 * i + 1]!, inst.to[3 * i + 2]! - inst.from[3 * i + 2]!);
      move[i] = d > MOVE_MIN ? 1 : 0;
      if (d > MOVE_MIN) m++;
    }
    const from = new Float32Array(6 * m);
    const to = new Float32Array(6 * m);
    const end = new Float32Array(2 * m);
    const color = new Float32Array(6 * m);
    for (let i = 0, k = 0; i < inst.count; i++) {
      if (!move[i]) continue;
      for (const e of [0, 1]) {
        const v = 2 * k + e;
        for (let d = 0; d < 3; d++) {
          from[3 * v + d] = inst.from[3 * i + d]!;
          to[3 * v + d] = inst.to[3 * i + d]!;
          color[3 * v + d] = inst.color[3 * i + d]!;
        }
        end[v] = e;
      }
      k++;
    }
    const g = this.trails.geometry;
    // position is unused by the shader but sizes the draw call
    g.setAttribute('position', new THREE.BufferAttribute(from, 3));
    g.setAttribute('aFrom', new THREE.BufferAttribute(from, 3));
    g.setAttribute('aTo', new THREE.BufferAttribute(to, 3));
    g.setAttribute('aEnd', new THREE.BufferAttribute(end, 1));
    g.setAttribute('aColor', new THREE.BufferAttribute(color, 3));
    g.setDrawRange(0, 2 * m);
    this.moving = m;
    this.canvas.dataset.moving = String(m);
  }

  /**
   * Screen boxes (client pixels) of the seven labels: centre and size from the sprite's projected corners, so
   * tests can check that every label is in view and none covers another.
   */
  labelBoxes(): { text: string; x0: number; y0: number; x1: number; y1: number; onTop: boolean }[] {
    this.egg.updateMatrixWorld();
    this.camera.updateMatrixWorld();
    const rect = this.canvas.getBoundingClientRect();
    const toClient = (v: THREE.Vector3) => ({ x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height });
    const out: { text: string; x0: number; y0: number; x1: number; y1: number; onTop: boolean }[] = [];
    this.egg.traverse((o) => {
      if (!(o instanceof THREE.Sprite)) return;
      const c = o.getWorldPosition(new THREE.Vector3());
      // a sprite faces the camera: its corners are c +- half its world size along the camera's right and up
      const ws = o.getWorldScale(new THREE.Vector3());
      const right = new THREE.Vector3().setFromMatrixColumn(this.camera.matrixWorld, 0).normalize().multiplyScalar(ws.x / 2);
      const up = new THREE.Vector3().setFromMatrixColumn(this.camera.matrixWorld, 1).normalize().multiplyScalar(ws.y / 2);
      const a = toClient(c.clone().sub(right).add(up).project(this.camera));
      const b = toClient(c.clone().add(right).sub(up).project(this.camera));
      const onTop = !o.material.depthTest && o.renderOrder > 0;
      out.push({ text: o.name, x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y), onTop });
    });
    return out;
  }

  /** Global billboard scale (smaller when many instances are drawn). */
  setScale(v: number): void {
    this.material.uniforms.uScale!.value = v;
    this.dirty = true;
  }

  get t(): number {
    return this.material.uniforms.uT!.value as number;
  }

  set t(v: number) {
    this.material.uniforms.uT!.value = v;
    this.trails.visible = v > 0;
    this.dirty = true;
    this.canvas.dataset.t = v.toFixed(3);
  }

  /** Mark a position (egg coordinates) with the highlight ball; null hides it. */
  setHighlight(p: [number, number, number] | null): void {
    this.highlight.visible = p !== null;
    if (p) this.highlight.position.set(p[0], p[1], p[2]);
    this.dirty = true;
  }

  resize(): void {
    const w = this.canvas.clientWidth || 800;
    const h = this.canvas.clientHeight || 600;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    // Point sprites are sized in framebuffer pixels: pixels per world unit at distance 1.
    this.material.uniforms.uPixelsPerUnit!.value =
      (h * this.renderer.getPixelRatio()) / (2 * Math.tan((this.camera.fov * Math.PI) / 360));
    this.dirty = true;
  }

  /** Something changed: draw on the next frame. */
  invalidate(): void {
    this.dirty = true;
  }

  /**
   * Draw if anything changed (or always, for frame-rate measurement). Rendering on demand keeps an idle viewer
   * at ~0% CPU. @returns whether a frame was drawn
   */
  render(always = false): boolean {
    const moved = this.controls.update();
    if (!always && !moved && !this.dirty) return false;
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    this.frames++;
    return true;
  }

  /** Client coordinates of drawn instance i at the current t (tests and tools). */
  screenOf(i: number): { x: number; y: number } | null {
    const inst = this.drawn;
    if (!inst || i < 0 || i >= inst.count) return null;
    const t = this.t;
    const v = new THREE.Vector3(
      inst.from[3 * i]! + t * (inst.to[3 * i]! - inst.from[3 * i]!),
      inst.from[3 * i + 1]! + t * (inst.to[3 * i + 1]! - inst.from[3 * i + 1]!),
      inst.from[3 * i + 2]! + t * (inst.to[3 * i + 2]! - inst.from[3 * i + 2]!),
    );
    this.egg.updateMatrixWorld();
    v.applyMatrix4(this.egg.matrixWorld).project(this.camera);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height };
  }

  get highlightVisible(): boolean {
    return this.highlight.visible;
  }

  /**
   * Index of the drawn instance nearest to the client point (within its drawn radius + 4 px), or -1.
   * Projects every instance on the CPU: ~1e5 in a few ms, only on pointer events.
   */
  pick(clientX: number, clientY: number): number {
    const inst = this.drawn;
    if (!inst || inst.count === 0) return -1;
    const rect = this.canvas.getBoundingClientRect();
    const mx = clientX - rect.left;
    const my = clientY - rect.top;
    this.egg.updateMatrixWorld();
    const m = this.projected
      .multiplyMatrices(this.camera.projectionMatrix, this.camera.matrixWorldInverse)
      .multiply(this.egg.matrixWorld).elements;
    const t = this.t;
    const w = rect.width;
    const h = rect.height;
    const pxPerUnit = h / (2 * Math.tan((this.camera.fov * Math.PI) / 360));
    const scale = this.material.uniforms.uScale!.value as number;
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < inst.count; i++) {
      const x = inst.from[3 * i]! + t * (inst.to[3 * i]! - inst.from[3 * i]!);
      const y = inst.from[3 * i + 1]! + t * (inst.to[3 * i + 1]! - inst.from[3 * i + 1]!);
      const z = inst.from[3 * i + 2]! + t * (inst.to[3 * i + 2]! - inst.from[3 * i + 2]!);
      const cw = m[3]! * x + m[7]! * y + m[11]! * z + m[15]!;
      if (cw <= 0) continue;
      const sx = ((m[0]! * x + m[4]! * y + m[8]! * z + m[12]!) / cw + 1) * 0.5 * w;
      const sy = (1 - (m[1]! * x + m[5]! * y + m[9]! * z + m[13]!) / cw) * 0.5 * h;
      const d = Math.hypot(sx - mx, sy - my);
      const radius = (0.5 * inst.size[i]! * scale * pxPerUnit) / cw + 4;
      // Prefer the nearest to the camera among hits: smaller cw wins ties within the radius.
      if (d <= radius && d + cw * 1e-3 < bestD) {
        bestD = d + cw * 1e-3;
        best = i;
      }
    }
    return best;
  }
}
