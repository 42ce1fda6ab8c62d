/** The one options object of the viewer server (`startViewer`, `blindspot view`). */
import { invalidOption, mergeOptions } from '../errors.ts';

export interface ViewerOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port: number;
  /** Interface to bind. Default '127.0.0.1' (loopback only: the results may hold patient images). */
  host: string;
  /**
   * Most 3D cells sent to the browser. Blocks are aggregated into cells; when a finer grid would exceed this, the
   * radius bins are coarsened (20 -> 10 -> 5 -> 2). Default 100000.
   */
  maxCells: number;
  /** Blocks returned per cell sample (1..1000). Default 24. */
  sampleSize: number;
  /** Decoded display PNGs kept in memory. Default 32. */
  imageCacheSize: number;
  /**
   * Fraction of block positions (image, row, col) that feed the 3D cells, chosen by a hash so the same blocks are
   * kept on both paths and on every start; thresholds, tables and image overlays always use every block.
   * null (default) = automatic: every block up to AUTO_SAMPLE_ROWS stored block rows, above that the fraction
   * that keeps about that many (78.6M rows took 206 s and 9.8 GB to aggregate whole on 2 cores, 27 s and 0.9 GB
   * sampled).
   */
  blockSample: number | null;
}

export const DEFAULT_VIEWER_OPTIONS: Readonly<ViewerOptions> = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  maxCells: 100_000,
  sampleSize: 24,
  imageCacheSize: 32,
  blockSample: null,
});

/** Block rows that feed the 3D cells when `blockSample` is automatic. */
export const AUTO_SAMPLE_ROWS = 4_000_000;

/**
 * Merge `partial` over DEFAULT_VIEWER_OPTIONS and check ranges.
 * @throws BlindspotError E_INVALID_OPTION naming the option, the allowed range and the value.
 */
export function resolveViewerOptions(partial?: Partial<ViewerOptions>): ViewerOptions {
  const o = mergeOptions(DEFAULT_VIEWER_OPTIONS, partial, 'viewer');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
    throw invalidOption('port', 'an integer in 0..65535 (default 0 = any free port)', o.port);
  if (typeof o.host !== 'string' || o.host.length === 0)
    throw invalidOption('host', "a host name or address (default '127.0.0.1')", o.host);
  if (!Number.isInteger(o.maxCells) || o.maxCells < 100)
    throw invalidOption('maxCells', 'an integer >= 100 (default 100000)', o.maxCells);
  if (!Number.isInteger(o.sampleSize) || o.sampleSize < 1 || o.sampleSize > 1000)
    throw invalidOption('sampleSize', 'an integer in 1..1000 (default 24)', o.sampleSize);
  if (!Number.isInteger(o.imageCacheSize) || o.imageCacheSize < 0)
    throw invalidOption('imageCacheSize', 'an integer >= 0 (default 32)', o.imageCacheSize);
  if (o.blockSample !== null && (typeof o.blockSample !== 'number' || !(o.blockSample > 0 && o.blockSample <= 1)))
    throw invalidOption('blockSample', 'a number in (0, 1], or null for automatic (default)', o.blockSample);
  return o;
}
