/** Perceptual colour maps as 256-entry RGB lookup tables (interpolated from published anchor colours). */
export type ColormapName = 'viridis' | 'magma' | 'coolwarm' | 'grey';

// Anchor colours sampled at equal steps from matplotlib's viridis / magma and Moreland's cool-warm.
const ANCHORS: Record<ColormapName, string[]> = {
  viridis: ['440154', '482878', '3e4989', '31688e', '26828e', '1f9e89', '35b779', '6ece58', 'b5de2b', 'fde725'],
  magma: ['000004', '180f3d', '440f76', '721f81', '9e2f7f', 'cd4071', 'f1605d', 'fd9668', 'feca8d', 'fcfdbf'],
  coolwarm: ['3b4cc0', '6788ee', '9abbff', 'c9d7f0', 'edd1c2', 'f7a889', 'e26952', 'b40426'],
  grey: ['000000', 'ffffff'],
};

const cache = new Map<ColormapName, Uint8Array>();

/** 256 x RGB lookup table for `name`. */
export function colormapLut(name: ColormapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const anchors = ANCHORS[name].map((h) => [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (anchors.length - 1);
    const k = Math.min(anchors.length - 2, Math.floor(t));
    const f = t - k;
    for (let ch = 0; ch < 3; ch++) lut[i * 3 + ch] = Math.round(anchors[k]![ch]! * (1 - f) + anchors[k + 1]![ch]! * f);
  }
  cache.set(name, lut);
  return lut;
}

export function rgbHex(r: number, g: number, b: number): string {
  return '#' + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}
