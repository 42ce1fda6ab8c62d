// The project palette (src/render/palette.ts): categorical colours stay apart for colour-blind readers, the
// continuous maps are d3-scale-chromatic's published tables entry for entry, and every consumer uses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AXIS_PLAIN_NAMES,
  AXIS_RGB,
  colormapLut,
  LAYER_RGB,
  OKABE_ITO,
  REGIME_RGB,
  SERIES_RGB,
  type RGB8,
} from '../../src/render/palette.ts';
import { AXIS_COLORS, LAYER_COLORS, REGIME_COLORS, viridis } from '../../src/viewer/app/colors.ts';
import { AXIS_LABELS } from '../../src/viewer/egg.ts';
import { PALETTE } from '../../src/analysis/plots.ts';

// --- CIEDE2000 (Sharma, Wu & Dalal 2005), written from the paper's equations -------------------------------------
type Lab = [number, number, number];
function ciede2000([L1, a1, b1]: Lab, [L2, a2, b2]: Lab): number {
  const rad = Math.PI / 180;
  const Cb = (Math.hypot(a1, b1) + Math.hypot(a2, b2)) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cb ** 7 / (Cb ** 7 + 25 ** 7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1 = Math.hypot(a1p, b1);
  const C2 = Math.hypot(a2p, b2);
  const hue = (a: number, b: number): number => {
    if (a === 0 && b === 0) return 0;
    const h = Math.atan2(b, a) / rad;
    return h < 0 ? h + 360 : h;
  };
  const h1 = hue(a1p, b1);
  const h2 = hue(a2p, b2);
  let dh = 0;
  if (C1 * C2 !== 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const dL = L2 - L1;
  const dC = C2 - C1;
  const dH = 2 * Math.sqrt(C1 * C2) * Math.sin((dh / 2) * rad);
  const Lb = (L1 + L2) / 2;
  const Cbp = (C1 + C2) / 2;
  let hb = h1 + h2;
  if (C1 * C2 !== 0) hb = Math.abs(h1 - h2) <= 180 ? (h1 + h2) / 2 : (h1 + h2 + (h1 + h2 < 360 ? 360 : -360)) / 2;
  const T =
    1 - 0.17 * Math.cos((hb - 30) * rad) + 0.24 * Math.cos(2 * hb * rad) + 0.32 * Math.cos((3 * hb + 6) * rad) - 0.2 * Math.cos((4 * hb - 63) * rad);
  const dTheta = 30 * Math.exp(-(((hb - 275) / 25) ** 2));
  const RC = 2 * Math.sqrt(Cbp ** 7 / (Cbp ** 7 + 25 ** 7));
  const SL = 1 + (0.015 * (Lb - 50) ** 2) / Math.sqrt(20 + (Lb - 50) ** 2);
  const SC = 1 + 0.045 * Cbp;
  const SH = 1 + 0.015 * Cbp * T;
  const RT = -Math.sin(2 * dTheta * rad) * RC;
  return Math.sqrt((dL / SL) ** 2 + (dC / SC) ** 2 + (dH / SH) ** 2 + RT * (dC / SC) * (dH / SH));
}

test('CIEDE2000 matches Sharma et al. (2005) test pairs', () => {
  // pairs 1, 7, 13, 25 and 34 of the paper's Table 1
  const pairs: [Lab, Lab, number][] = [
    [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
    [[50, 0, 0], [50, -1, 2], 2.3669],
    [[50, 2.4900, -0.0010], [50, -2.4900, 0.0011], 7.2195],
    [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
    [[22.7233, 20.0904, -46.6940], [23.0331, 14.9730, -42.5619], 2.0373],
  ];
  for (const [a, b, want] of pairs) assert.ok(Math.abs(ciede2000(a, b) - want) < 1e-4, `${a} / ${b}: ${ciede2000(a, b)} != ${want}`);
});

// --- colour-vision-deficiency simulation: Machado, Oliveira & Fernandes (2009), severity 1.0, linear RGB ----------
const MACHADO = {
  normal: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  protanopia: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
  deuteranopia: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
} as const;
type Vision = keyof typeof MACHADO;

const toLinear = (c: number): number => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);

/** sRGB (0..255) as seen with `vision`, in CIELAB (D65). */
function labAs(c: RGB8, vision: Vision): Lab {
  const m = MACHADO[vision];
  const l = c.map(toLinear);
  const s = [0, 1, 2].map((r) => Math.min(1, Math.max(0, m[3 * r]! * l[0]! + m[3 * r + 1]! * l[1]! + m[3 * r + 2]! * l[2]!)));
  const X = 0.4124564 * s[0]! + 0.3575761 * s[1]! + 0.1804375 * s[2]!;
  const Y = 0.2126729 * s[0]! + 0.7151522 * s[1]! + 0.072175 * s[2]!;
  const Z = 0.0193339 * s[0]! + 0.119192 * s[1]! + 0.9503041 * s[2]!;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const fx = f(X / 0.95047);
  const fy = f(Y);
  const fz = f(Z / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** The smallest CIEDE2000 between two colours of `set`, over normal vision, deuteranopia and protanopia. */
function worstPair(set: readonly RGB8[]): { dE: number; where: string } {
  let best = { dE: Infinity, where: '' };
  for (const v of Object.keys(MACHADO) as Vision[]) {
    for (let i = 0; i < set.length; i++) {
      for (let j = i + 1; j < set.length; j++) {
        const dE = ciede2000(labAs(set[i]!, v), labAs(set[j]!, v));
        if (dE < best.dE) best = { dE, where: `${v} ${i}/${j}` };
      }
    }
  }
  return best;
}

test('simulated deuteranopia and protanopia keep every category apart (CIEDE2000)', () => {
  // thresholds: ~10 is "clearly different at a glance"; the groups keep more
  const groups: [string, readonly RGB8[], number][] = [
    ['axes A1..A6', AXIS_RGB, 12],
    ['regimes', REGIME_RGB, 15],
    ['failure layers', LAYER_RGB, 20],
    ['plot series (first five)', SERIES_RGB.slice(0, 5), 12],
  ];
  for (const [name, set, min] of groups) {
    const w = worstPair(set);
    assert.ok(w.dE >= min, `${name}: worst pair ${w.where} has CIEDE2000 ${w.dE.toFixed(1)} < ${min}`);
  }
  // the check bites: the old PNG axis colours (tab10) put A3 red and A5 green ~7 apart for a deuteranope
  const old: RGB8[] = [[31, 119, 180], [255, 127, 14], [214, 39, 40], [148, 103, 189], [44, 160, 44], [140, 86, 75]];
  assert.ok(worstPair(old).dE < 12, 'tab10 axis colours must fail the same bar');
});

test('categorical colours are the published Okabe-Ito values', () => {
  const hex = (c: RGB8): string => c.map((v) => v.toString(16).padStart(2, '0')).join('').toUpperCase();
  const published = ['000000', 'E69F00', '56B4E9', '009E73', 'F0E442', '0072B2', 'D55E00', 'CC79A7'];
  assert.deepEqual(Object.values(OKABE_ITO).map(hex), published);
  for (const c of [...AXIS_RGB, ...REGIME_RGB, ...LAYER_RGB.slice(1), ...SERIES_RGB]) assert.ok(published.includes(hex(c)), hex(c));
  assert.equal(new Set(AXIS_RGB.map(hex)).size, 6);
});

/** The 256 "rrggbb" entries of a d3-scale-chromatic map, read from the shipped source text. */
function d3Table(name: string): string[] {
  // the package's exports hide package.json: resolve its entry file and walk up to the package folder
  const dir = dirname(dirname(fileURLToPath(import.meta.resolve('d3-scale-chromatic'))));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version, '3.1.1');
  const src = readFileSync(join(dir, 'dist', 'd3-scale-chromatic.mjs'), 'utf8');
  const m = new RegExp(`var ${name} = ramp\\(colors\\("([0-9a-f]+)"\\)\\)`).exec(src);
  assert.ok(m, `${name} table not found`);
  return m[1]!.match(/.{6}/g)!;
}

test('viridis, magma and inferno are d3-scale-chromatic@3.1.1 tables entry for entry', () => {
  for (const name of ['viridis', 'magma', 'inferno'] as const) {
    const table = d3Table(name);
    assert.equal(table.length, 256);
    const lut = colormapLut(name);
    for (let i = 0; i < 256; i++) {
      const got = [...lut.subarray(3 * i, 3 * i + 3)].map((v) => v.toString(16).padStart(2, '0')).join('');
      assert.equal(got, table[i], `${name}[${i}]`);
    }
  }
  // published matplotlib end and middle points (van der Walt & Smith)
  const at = (n: 'viridis' | 'magma', i: number) => [...colormapLut(n).subarray(3 * i, 3 * i + 3)];
  assert.deepEqual(at('viridis', 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(at('viridis', 128), [0x21, 0x91, 0x8c]);
  assert.deepEqual(at('viridis', 255), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(at('magma', 255), [0xfc, 0xfd, 0xbf]);
});

test('the viewer app, the report plots and the names use the same palette', () => {
  const to255 = (c: number[]) => c.map((v) => Math.round(v * 255));
  assert.deepEqual(AXIS_COLORS.slice(1).map(to255), AXIS_RGB.map((c) => [...c]));
  assert.deepEqual(REGIME_COLORS.map(to255), REGIME_RGB.map((c) => [...c]));
  assert.deepEqual(LAYER_COLORS.map(to255), LAYER_RGB.map((c) => [...c]));
  assert.deepEqual(to255(viridis(0.5)), [...colormapLut('viridis').subarray(3 * 128, 3 * 128 + 3)]);
  assert.equal(PALETTE[0], '#0072b2');
  assert.deepEqual([...AXIS_LABELS], [...AXIS_PLAIN_NAMES]);
  assert.equal(AXIS_PLAIN_NAMES[4], 'A5 high frequency');
});
