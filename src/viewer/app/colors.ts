/** Colours of the viewer: one per failure layer, regime and axis, and a viridis ramp for SSIM. */
export type RGB = [number, number, number];

export const LAYER_COLORS: RGB[] = [
  [0.42, 0.48, 0.56], // Intact
  [1.0, 0.35, 0.31], // Visible
  [1.0, 0.69, 0.0], // Gray
  [0.69, 0.36, 1.0], // Hidden
];
export const REGIME_COLORS: RGB[] = [
  [1.0, 0.82, 0.4], // Silent (yolk)
  [0.56, 0.88, 0.94], // Membrane
  [0.68, 0.71, 0.74], // Responsive (shell)
];
export const AXIS_COLORS: RGB[] = [
  [0.55, 0.6, 0.68], // none
  [0.3, 0.79, 0.94], // A1
  [0.28, 0.58, 0.94], // A2
  [0.97, 0.15, 0.52], // A3
  [0.48, 0.83, 0.54], // A4
  [1.0, 0.82, 0.4], // A5
  [0.94, 0.28, 0.44], // A6
];

const VIRIDIS: RGB[] = [
  [0.267, 0.005, 0.329],
  [0.283, 0.141, 0.458],
  [0.254, 0.265, 0.53],
  [0.207, 0.372, 0.553],
  [0.164, 0.471, 0.558],
  [0.128, 0.567, 0.551],
  [0.135, 0.659, 0.518],
  [0.267, 0.749, 0.441],
  [0.478, 0.821, 0.318],
  [0.741, 0.873, 0.15],
  [0.993, 0.906, 0.144],
];

/** Viridis at t in [0, 1]. */
export function viridis(t: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

export const css = (c: RGB, alpha = 1): string =>
  `rgba(${Math.round(c[0] * 255)},${Math.round(c[1] * 255)},${Math.round(c[2] * 255)},${alpha})`;
