/**
 * Geometry of the Shell–Membrane–Yolk egg (DESIGN §3b, last paragraph). Pure constants and functions, shared by
 * the server (which turns them into DuckDB SQL so that millions of blocks are placed where they are stored) and
 * the browser app (which draws the egg and places single blocks).
 *
 * Placement of a block:
 * - radius from kappa, by regime: yolk (Silent) r = 0.45 * clamp((log10 kappa + 6) / (6 + log10 0.5)), so the
 *   near-zero kappas of Silent blocks spread out instead of stacking at the centre; membrane r = 0.45 + 0.15 *
 *   clamp(kappa / 0.5); shell (Responsive, kappa >= 0.5) r = 0.60 + 0.40 * clamp((kappa - 0.5) / 0.5).
 * - direction: d = (1 - max_k sev_k) * NONE_POLE + sum_k sev_k * AXIS_VECTORS[k], normalised (the None pole when
 *   d vanishes). An undamaged block sits on the None pole; a block failing one axis (sev 1) sits on that axis'
 *   spoke; partial damage lies in between. The six spokes lie on a cone around the pole opposite the None pole,
 *   so non-negative mixtures never cancel.
 */
import { AXIS_PLAIN_NAMES } from '../render/palette.ts';

/**
 * Silent blocks have kappa near 0 (that is what makes them Silent), so a radius linear in kappa would stack them all
 * at the centre. Inside the yolk the radius is linear in log10(kappa) instead (DESIGN: "spread inside the yolk by
 * log sx"; kappa ~ (sx^2 + sy^2) / C2 there): kappa 1e-6 (or 0) at the centre, kappa 0.5 at the yolk's edge.
 */
export const YOLK_LOG_KAPPA_MIN = -6;
const YOLK_LOG_SPAN = Math.log10(0.5) - YOLK_LOG_KAPPA_MIN;

/** Yolk/membrane and membrane/shell radii. */
export const YOLK_RADIUS = 0.45;
export const MEMBRANE_RADIUS = 0.6;

/** Unit vector of "no damage": the top of the egg. */
export const NONE_POLE: readonly [number, number, number] = Object.freeze([0, 1, 0]) as readonly [
  number,
  number,
  number,
];

/** Polar angle of the axis spokes measured from the bottom pole (degrees). */
export const AXIS_CONE_DEG = 60;

/** Unit vectors of A1..A6: azimuth 60° apart on a cone of AXIS_CONE_DEG around (0, -1, 0). */
export const AXIS_VECTORS: readonly (readonly [number, number, number])[] = Object.freeze(
  [0, 1, 2, 3, 4, 5].map((k) => {
    const polar = (AXIS_CONE_DEG * Math.PI) / 180;
    const az = (k * Math.PI) / 3;
    return Object.freeze([
      Math.sin(polar) * Math.cos(az),
      -Math.cos(polar),
      Math.sin(polar) * Math.sin(az),
    ]) as readonly [number, number, number];
  }),
);

/** Axis codes with plain names: the palette's (src/render/palette.ts), the same in every legend. */
export const AXIS_LABELS = AXIS_PLAIN_NAMES;

/** Regime codes as in src/tier3/regimes.ts. */
export const REGIME_NAMES = ['Silent', 'Membrane', 'Responsive'] as const;
/** Layer codes as in src/tier3/regimes.ts. */
export const LAYER_NAMES = ['Intact', 'Visible', 'Gray', 'Hidden'] as const;
export const ATTRACTOR_NAMES = ['None', 'Single', 'Multi'] as const;

const clamp01 = (v: number): number => (v > 1 ? 1 : v > 0 ? v : 0);

/**
 * Radius of a block in the egg.
 * @param kappa responsiveness (sx²+sy²)/(sx²+sy²+C2), in [0, 1)
 * @param regime 0 Silent, 1 Membrane, 2 Responsive
 */
export function eggRadius(kappa: number, regime: number): number {
  if (regime === 0) return kappa > 0 ? YOLK_RADIUS * clamp01((Math.log10(kappa) - YOLK_LOG_KAPPA_MIN) / YOLK_LOG_SPAN) : 0;
  if (regime === 1) return YOLK_RADIUS + (MEMBRANE_RADIUS - YOLK_RADIUS) * clamp01(kappa / 0.5);
  return MEMBRANE_RADIUS + (1 - MEMBRANE_RADIUS) * clamp01((kappa - 0.5) / 0.5);
}

/**
 * Unit direction of a damage vector (severities in [0, 1], NaN counts as 0), written into `out`.
 * @returns out
 */
export function eggDirection(
  sev: ArrayLike<number>,
  out: Float64Array | number[] = new Float64Array(3),
): Float64Array | number[] {
  let maxSev = 0;
  let x = 0;
  let y = 0;
  let z = 0;
  for (let k = 0; k < 6; k++) {
    const s = sev[k]!;
    if (!(s > 0)) continue;
    const v = AXIS_VECTORS[k]!;
    x += s * v[0];
    y += s * v[1];
    z += s * v[2];
    if (s > maxSev) maxSev = s;
  }
  const w = 1 - clamp01(maxSev);
  x += w * NONE_POLE[0];
  y += w * NONE_POLE[1];
  z += w * NONE_POLE[2];
  const n = Math.hypot(x, y, z);
  if (n < 1e-9) {
    out[0] = NONE_POLE[0];
    out[1] = NONE_POLE[1];
    out[2] = NONE_POLE[2];
  } else {
    out[0] = x / n;
    out[1] = y / n;
    out[2] = z / n;
  }
  return out;
}
