/**
 * The one visual language of blindspot: every colour a PNG heatmap, the analysis report or the viewer app draws
 * comes from here, so "A3 structure" or "Silent" look the same everywhere.
 *
 * - Categories use the Okabe-Ito palette (Okabe & Ito 2008), chosen per group so that every pair stays apart
 *   (CIEDE2000) for normal vision and under simulated deuteranopia and protanopia (Machado et al. 2009);
 *   test/unit/render-palette.test.ts checks it.
 * - Continuous values use the exact 256-entry perceptual maps of d3-scale-chromatic@3.1.1 (viridis, magma, inferno;
 *   cividis is d3's published polynomial), not a ramp rebuilt from a few anchors.
 * - SSIM maps use a fixed scale, SSIM_SCALE (0 to 1), so two maps compare; an automatic scale is opt-in.
 *
 * Colours are [r, g, b] in 0..255. The module is pure and runs in Node and in the browser bundle.
 */
import { interpolateBlues, interpolateCividis, interpolateInferno, interpolateMagma, interpolateViridis } from 'd3-scale-chromatic';

export type RGB8 = readonly [number, number, number];

/** The eight Okabe-Ito colours. */
export const OKABE_ITO = Object.freeze({
  black: [0, 0, 0] as RGB8,
  orange: [230, 159, 0] as RGB8,
  skyBlue: [86, 180, 233] as RGB8,
  bluishGreen: [0, 158, 115] as RGB8,
  yellow: [240, 228, 66] as RGB8,
  blue: [0, 114, 178] as RGB8,
  vermillion: [213, 94, 0] as RGB8,
  reddishPurple: [204, 121, 167] as RGB8,
});

/** Neutral grey for "none" / Intact (not an Okabe-Ito hue on purpose: it means "nothing to see"). */
export const NEUTRAL: RGB8 = [153, 153, 153];

/** Axis codes with their plain names, as every legend, table and tooltip shows them. */
export const AXIS_PLAIN_NAMES = Object.freeze([
  'A1 luminance',
  'A2 contrast',
  'A3 structure',
  'A4 edges',
  'A5 high frequency',
  'A6 residual',
] as const);

/**
 * One colour per axis A1..A6 (index 0 = A1). Black is left out (invisible on the viewer's dark background); of the
 * remaining seven Okabe-Ito colours this six keeps the largest worst-pair CIEDE2000 under deuteranopia/protanopia.
 */
export const AXIS_RGB: readonly RGB8[] = Object.freeze([
  OKABE_ITO.yellow, // A1 luminance: brightness
  OKABE_ITO.skyBlue, // A2 contrast
  OKABE_ITO.vermillion, // A3 structure
  OKABE_ITO.bluishGreen, // A4 edges
  OKABE_ITO.reddishPurple, // A5 high frequency
  OKABE_ITO.blue, // A6 residual
]);

/** Regime names (codes 0, 1, 2 as in src/tier3/regimes.ts) and colours: none shared with a failure layer. */
export const REGIME_PLAIN_NAMES = Object.freeze(['Silent', 'Membrane', 'Responsive'] as const);
export const REGIME_RGB: readonly RGB8[] = Object.freeze([
  OKABE_ITO.orange, // Silent: SSIM cannot see damage here
  OKABE_ITO.skyBlue, // Membrane
  OKABE_ITO.bluishGreen, // Responsive
]);

/** Failure-layer names (codes 0..3 as in src/tier3/regimes.ts) and colours. */
export const LAYER_PLAIN_NAMES = Object.freeze(['Intact', 'Visible', 'Gray', 'Hidden'] as const);
export const LAYER_RGB: readonly RGB8[] = Object.freeze([
  NEUTRAL, // Intact
  OKABE_ITO.vermillion, // Visible: SSIM sees the damage
  OKABE_ITO.yellow, // Gray zone between the two thresholds
  OKABE_ITO.blue, // Hidden: damage SSIM rates as good
]);

/** Colours for series in plots (models, configurations), in this order; Okabe-Ito's own order, black last. */
export const SERIES_RGB: readonly RGB8[] = Object.freeze([
  OKABE_ITO.blue,
  OKABE_ITO.orange,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.vermillion,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.yellow,
  OKABE_ITO.black,
]);

/** Continuous colour maps. */
export type ColormapName = 'viridis' | 'magma' | 'inferno' | 'cividis' | 'blues' | 'grey';
export const COLORMAP_NAMES: readonly ColormapName[] = Object.freeze(['viridis', 'magma', 'inferno', 'cividis', 'blues', 'grey']);

/**
 * Fixed scale of every SSIM map (pixel map and block SSIM): 0 to 1. SSIM can be negative; such values take the
 * first colour. Documented in docs/diagnose.md; pass `scale: 'auto'` (CLI `--map-scale auto`) for the data's range.
 */
export const SSIM_SCALE = Object.freeze({ min: 0, max: 1 });

const INTERPOLATORS: Record<Exclude<ColormapName, 'grey'>, (t: number) => string> = {
  viridis: interpolateViridis,
  magma: interpolateMagma,
  inferno: interpolateInferno,
  cividis: interpolateCividis,
  blues: interpolateBlues,
};

/** Parse "#rrggbb" or "rgb(r, g, b)" as d3 returns them. */
export function parseCssColor(s: string): RGB8 {
  if (s[0] === '#') return [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16)) as unknown as RGB8;
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(s);
  if (!m) throw new Error(`not a colour: ${s}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const cache = new Map<ColormapName, Uint8Array>();

/**
 * 256 x RGB lookup table for `name`. viridis/magma/inferno are d3's 256-entry tables, entry i read at the centre of
 * its interval ((i + 0.5) / 256) so each entry is the published colour exactly; the others are sampled at i / 255.
 */
export function colormapLut(name: ColormapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const lut = new Uint8Array(256 * 3);
  const tabled = name === 'viridis' || name === 'magma' || name === 'inferno';
  for (let i = 0; i < 256; i++) {
    const c: RGB8 = name === 'grey' ? [i, i, i] : parseCssColor(INTERPOLATORS[name](tabled ? (i + 0.5) / 256 : i / 255));
    lut.set(c, i * 3);
  }
  cache.set(name, lut);
  return lut;
}

/** Colour of `t` in [0, 1] (clamped; NaN -> 0) on map `name`. */
export function colormapRgb(name: ColormapName, t: number): RGB8 {
  const lut = colormapLut(name);
  const i = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 255);
  return [lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!];
}

export function rgbHex(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/** CSS colour of an RGB8, with optional alpha. */
export function cssColor(c: RGB8, alpha = 1): string {
  return alpha === 1 ? rgbHex(c[0], c[1], c[2]) : `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}
