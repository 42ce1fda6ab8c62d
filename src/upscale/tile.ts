/**
 * Tiled inference with overlap: the input is cut into `tile` x `tile` cores, each run with `overlap` pixels of
 * real context on every side (clipped at the image edge), and only each core's output is kept. Memory is bounded
 * by the tile size; there are no seams because every kept output pixel saw `overlap` input pixels of context, and
 * the image edges see exactly what an untiled run sees.
 */

/** Runs a model on one w x h interleaved image with `channels` samples per pixel; returns (w*s) x (h*s). */
export type TileRunner = (data: Float32Array, width: number, height: number) => Promise<Float32Array>;

/** Copy the rectangle [x0, x1) x [y0, y1) out of an interleaved image. */
export function cropInterleaved(
  data: Float32Array,
  width: number,
  channels: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): Float32Array {
  const w = x1 - x0;
  const out = new Float32Array(w * (y1 - y0) * channels);
  for (let y = y0; y < y1; y++) {
    const s = (y * width + x0) * channels;
    out.set(data.subarray(s, s + w * channels), (y - y0) * w * channels);
  }
  return out;
}

/**
 * Run `runner` over an image tile by tile.
 * @param tile core size in input pixels; 0 (or an image no larger than one tile) runs the whole image at once
 * @param overlap context pixels added on each side of a core (input pixels)
 * @param scale the runner's integer scale factor
 */
export async function runTiled(
  data: Float32Array,
  width: number,
  height: number,
  channels: number,
  scale: number,
  tile: number,
  overlap: number,
  runner: TileRunner,
): Promise<Float32Array> {
  if (tile <= 0 || (width <= tile && height <= tile)) return runner(data, width, height);
  const ow = width * scale;
  const out = new Float32Array(ow * height * scale * channels);
  for (let ty = 0; ty < height; ty += tile) {
    for (let tx = 0; tx < width; tx += tile) {
      const cx1 = Math.min(width, tx + tile);
      const cy1 = Math.min(height, ty + tile);
      const ex0 = Math.max(0, tx - overlap);
      const ey0 = Math.max(0, ty - overlap);
      const ex1 = Math.min(width, cx1 + overlap);
      const ey1 = Math.min(height, cy1 + overlap);
      const ew = ex1 - ex0;
      const part = await runner(cropInterleaved(data, width, channels, ex0, ey0, ex1, ey1), ew, ey1 - ey0);
      // keep the core: output rows (ty - ey0)*s .. (cy1 - ey0)*s, columns (tx - ex0)*s .. (cx1 - ex0)*s
      const pw = ew * scale;
      const rowLen = (cx1 - tx) * scale * channels;
      for (let y = (ty - ey0) * scale, oy = ty * scale; oy < cy1 * scale; y++, oy++) {
        const s = (y * pw + (tx - ex0) * scale) * channels;
        out.set(part.subarray(s, s + rowLen), (oy * ow + tx * scale) * channels);
      }
    }
  }
  return out;
}
