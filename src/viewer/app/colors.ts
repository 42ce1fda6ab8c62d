/**
 * Colours of the viewer in three.js' 0..1 floats, all taken from the project palette (src/render/palette.ts) so the
 * app, the PNG heatmaps and the report agree: one per failure layer, regime and axis, and exact viridis for SSIM.
 */
import { AXIS_RGB, colormapRgb, LAYER_RGB, NEUTRAL, REGIME_RGB, SSIM_SCALE, type RGB8 } from '../../render/palette.ts';

export type RGB = [number, number, number];

const unit = (c: RGB8): RGB => [c[0] / 255, c[1] / 255, c[2] / 255];

export const LAYER_COLORS: RGB[] = LAYER_RGB.map(unit);
export const REGIME_COLORS: RGB[] = REGIME_RGB.map(unit);
/** Index 0 = no failing axis, 1..6 = A1..A6. */
export const AXIS_COLORS: RGB[] = [unit(NEUTRAL), ...AXIS_RGB.map(unit)];
/** The fixed SSIM scale of every map (0 to 1). */
export const SSIM_RANGE: [number, number] = [SSIM_SCALE.min, SSIM_SCALE.max];

/** Viridis at t in [0, 1] (d3's exact 256-entry table). */
export function viridis(t: number): RGB {
  return unit(colormapRgb('viridis', t));
}

export const css = (c: RGB, alpha = 1): string =>
  `rgba(${Math.round(c[0] * 255)},${Math.round(c[1] * 255)},${Math.round(c[2] * 255)},${alpha})`;
