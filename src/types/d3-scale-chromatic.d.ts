// The few d3-scale-chromatic@3.1.1 functions the palette uses (the package ships no types).
declare module 'd3-scale-chromatic' {
  /** Colour at t in [0, 1] as a CSS string ("#rrggbb" for the 256-entry maps, "rgb(r, g, b)" otherwise). */
  export function interpolateViridis(t: number): string;
  export function interpolateMagma(t: number): string;
  export function interpolateInferno(t: number): string;
  export function interpolateCividis(t: number): string;
  export function interpolateBlues(t: number): string;
}
