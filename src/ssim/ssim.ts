/**
 * `ssim` and `msssim` on decoded images: validation, data range, colour policy, shave, mode, then the pure
 * kernels. Synchronous and pure (no I/O).
 */
import { BlindspotError } from '../errors.ts';
import { shave, toGreyPlanes } from '../image/color.ts';
import type { Image } from '../image/types.ts';
import { resolveDataRange } from './dataRange.ts';
import { boxDownsample, matlab2009Factor } from './downsample.ts';
import { ssimMap, type SamplePlane, type SsimConstants } from './kernel.ts';
import { lcsMaps, windowMoments } from './moments.ts';
import { MSSSIM_MIN_SIDE, msssimPlanes } from './msssim.ts';
import { DEFAULT_SSIM_OPTIONS, resolveSsimOptions, type SsimMode, type SsimOptions } from './options.ts';
import { mse, psnrFromMse } from './psnr.ts';
import { checkFinite, checkSameSize, imageLabel, mayHoldNonFinite } from './validate.ts';
import { gaussianTaps, uniformTaps } from './window.ts';

/** Scores of one colour channel (per-channel policy). */
export interface SsimChannelResult {
  mssim: number;
  psnr: number;
  /** MS-SSIM of this channel, or null when not computed. */
  msssim: number | null;
  map: Float64Array;
  lMap?: Float64Array;
  cMap?: Float64Array;
  sMap?: Float64Array;
}

/** What `ssim` returns: the fields of `blindspot ssim --json` plus the maps. */
export interface SsimResult {
  /** Mean SSIM (per-channel: the mean over channels). */
  mssim: number;
  /** PSNR in dB over all compared samples (+Infinity for identical inputs). */
  psnr: number;
  /** MS-SSIM (per-channel: the mean over channels), or null when the image is too small or it was not asked for. */
  msssim: number | null;
  mode: SsimMode;
  dataRange: number;
  /** Size of the compared image (after shave, before any matlab2009 downsampling). */
  width: number;
  height: number;
  /** matlab2009's downsampling factor (1 for the other modes). */
  downsample: number;
  /** SSIM map (per-channel: the mean of the channel maps), row-major, `mapWidth * mapHeight`. */
  map: Float64Array;
  mapWidth: number;
  mapHeight: number;
  /** Luminance, contrast and structure maps (option `maps`, single-plane policies; per-channel: in `channels`). */
  lMap?: Float64Array;
  cMap?: Float64Array;
  sMap?: Float64Array;
  /** Per-channel policy on a colour image: R, G, B. */
  channels?: SsimChannelResult[];
  /** Non-fatal remarks (data range, decoder warnings). */
  warnings: string[];
  /** The resolved options. */
  options: SsimOptions;
}

/** Window taps and covariance normalisation of a mode. */
function modeWindow(mode: SsimMode): { taps: Float64Array; covNorm: number } {
  if (mode === 'skimage') {
    const n = 7;
    return { taps: uniformTaps(n), covNorm: (n * n) / (n * n - 1) };
  }
  return { taps: gaussianTaps(11, 1.5), covNorm: 1 };
}

interface Prepared {
  options: SsimOptions;
  dataRange: number;
  warnings: string[];
  width: number;
  height: number;
  gtPlanes: SamplePlane[];
  testPlanes: SamplePlane[];
}

/**
 * The plane(s) to compare. A single-channel image without shave is used as it is (no copy: its samples are
 * already the grey plane); everything else goes through the colour policy.
 */
function planesOf(
  img: Image,
  shaveBy: number,
  color: SsimOptions['color'],
): { width: number; height: number; planes: SamplePlane[] } {
  if (img.channels === 1 && shaveBy === 0)
    return { width: img.width, height: img.height, planes: [img.data] };
  return toGreyPlanes(shave(img, shaveBy), color);
}

/** A non-finite score from finite-looking input: find the bad sample and report it (E_NONFINITE). */
function assertFiniteResult(value: number, gt: Image, test: Image): void {
  if (Number.isNaN(value) || value === Infinity || value === -Infinity) {
    checkFinite(gt, 'ground truth');
    checkFinite(test, 'test image');
  }
}

/** Shared front half of `ssim` and `msssim`: checks, data range, shave, colour. */
function prepare(gt: Image, test: Image, partial: Partial<SsimOptions> | undefined): Prepared {
  const options = resolveSsimOptions(partial);
  checkSameSize(gt, test);
  // Integer decoders cannot produce NaN/Inf: scan float and in-memory images up front; anything else is caught
  // by the non-finite-result check in `ssim`/`msssim`, which then scans to name the sample.
  if (mayHoldNonFinite(gt)) checkFinite(gt, 'ground truth');
  if (mayHoldNonFinite(test)) checkFinite(test, 'test image');
  const { dataRange, warnings } = resolveDataRange(gt, test, options.dataRange);
  const allWarnings = [...gt.warnings, ...test.warnings, ...warnings];
  const g = planesOf(gt, options.shave, options.color);
  const t = planesOf(test, options.shave, options.color);
  if (g.planes.length !== t.planes.length) {
    throw new BlindspotError(
      'E_SIZE_MISMATCH',
      `${test.channels} channel(s) do not match the ground truth ${imageLabel(gt, 'ground truth')} ` +
        `(${gt.channels}) under the per-channel colour policy`,
      imageLabel(test, 'test image'),
    );
  }
  return {
    options,
    dataRange,
    warnings: allWarnings,
    width: g.width,
    height: g.height,
    gtPlanes: g.planes,
    testPlanes: t.planes,
  };
}

function tooSmall(
  gt: Image,
  what: string,
  width: number,
  height: number,
  window: number,
  shaveBy: number,
): BlindspotError {
  const shaved = shaveBy > 0 ? ` after shaving ${shaveBy}` : '';
  return new BlindspotError(
    'E_TOO_SMALL',
    `image is ${width}x${height}${shaved}, smaller than the ${window}x${window} window of ${what}`,
    imageLabel(gt, 'ground truth'),
  );
}

function mean(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Structural similarity of a test image against its ground truth, exactly as the chosen convention computes it
 * (DESIGN §3), with PSNR and, for images of at least 176 pixels a side, MS-SSIM.
 *
 * @param gt ground truth (x in the formula)
 * @param test image under test (y), same width and height
 * @param options mode (default `wang`), dataRange (default from the images), color (default `luma`), shave
 *   (default 0), K1 (0.01), K2 (0.03), maps (false), msssim (true); see `SsimOptions`
 * @returns MSSIM, PSNR, MS-SSIM, the SSIM map and, with `maps`, the l, c, s maps
 * @throws BlindspotError E_SIZE_MISMATCH (naming both files), E_NONFINITE, E_NO_DATA_RANGE, E_TOO_SMALL,
 *   E_INVALID_OPTION
 * @example
 * const r = ssim(await readImage('gt.png'), await readImage('sr.png'), { color: 'ycbcr-y', shave: 4 });
 * console.log(r.mssim, r.psnr);
 * @see Z. Wang et al., IEEE TIP 13(4) 2004, doi:10.1109/TIP.2003.819861
 */
export function ssim(gt: Image, test: Image, options?: Partial<SsimOptions>): SsimResult {
  const p = prepare(gt, test, options);
  const { mode } = p.options;
  const { taps, covNorm } = modeWindow(mode);
  const n = taps.length;
  let width = p.width;
  let height = p.height;
  let gtPlanes = p.gtPlanes;
  let testPlanes = p.testPlanes;
  const factor = mode === 'matlab2009' ? matlab2009Factor(width, height) : 1;
  if (factor > 1) {
    gtPlanes = gtPlanes.map((d) => boxDownsample(d, p.width, p.height, factor).data);
    testPlanes = testPlanes.map((d) => boxDownsample(d, p.width, p.height, factor).data);
    width = Math.ceil(p.width / factor);
    height = Math.ceil(p.height / factor);
  }
  if (width < n || height < n) {
    const what = factor > 1 ? `mode ${mode} (after downsampling by ${factor})` : `mode ${mode}`;
    throw tooSmall(gt, what, width, height, n, p.options.shave);
  }
  const L = p.dataRange;
  const consts: SsimConstants = { C1: (p.options.K1 * L) ** 2, C2: (p.options.K2 * L) ** 2, covNorm };
  const wantMsssim = p.options.msssim && Math.min(p.width, p.height) >= MSSSIM_MIN_SIDE;

  const channels: SsimChannelResult[] = [];
  let sumSq = 0;
  let count = 0;
  for (let i = 0; i < p.gtPlanes.length; i++) {
    // Wang mode already computes MS-SSIM's first scale: ask for its cs mean too and reuse it.
    const reuse = wantMsssim && mode === 'wang' && consts.covNorm === 1;
    const r = ssimMap(gtPlanes[i]!, testPlanes[i]!, width, height, taps, consts, { withCs: reuse });
    // The kernel sums (x - y)² while it reads the planes; after a matlab2009 downsample it saw other planes.
    const err =
      factor === 1 ? r.sumSquaredError / p.gtPlanes[i]!.length : mse(p.gtPlanes[i]!, p.testPlanes[i]!);
    sumSq += err * p.gtPlanes[i]!.length;
    count += p.gtPlanes[i]!.length;
    const ch: SsimChannelResult = {
      mssim: r.mssim,
      psnr: psnrFromMse(err, L),
      msssim: wantMsssim
        ? msssimPlanes(p.gtPlanes[i]!, p.testPlanes[i]!, p.width, p.height, consts, reuse ? r : undefined)
            .msssim
        : null,
      map: r.map,
    };
    if (p.options.maps) {
      const lcs = lcsMaps(
        windowMoments(gtPlanes[i]!, testPlanes[i]!, width, height, taps, covNorm),
        consts.C1,
        consts.C2,
      );
      ch.lMap = lcs.l;
      ch.cMap = lcs.c;
      ch.sMap = lcs.s;
    }
    channels.push(ch);
  }

  const first = channels[0]!;
  const mapWidth = width - n + 1;
  const mapHeight = height - n + 1;
  // mssim is NaN when any compared sample is NaN or ±Inf; the MSE is non-finite then too.
  assertFiniteResult(sumSq, gt, test);
  for (const c of channels) assertFiniteResult(c.mssim, gt, test);
  const result: SsimResult = {
    mssim: channels.length === 1 ? first.mssim : mean(channels.map((c) => c.mssim)),
    psnr: psnrFromMse(sumSq / count, L),
    msssim: wantMsssim ? mean(channels.map((c) => c.msssim!)) : null,
    mode,
    dataRange: L,
    width: p.width,
    height: p.height,
    downsample: factor,
    map: first.map,
    mapWidth,
    mapHeight,
    warnings: p.warnings,
    options: p.options,
  };
  if (channels.length === 1) {
    if (first.lMap) {
      result.lMap = first.lMap;
      result.cMap = first.cMap!;
      result.sMap = first.sMap!;
    }
  } else {
    const avg = new Float64Array(first.map.length);
    for (const c of channels) for (let i = 0; i < avg.length; i++) avg[i] += c.map[i]!;
    for (let i = 0; i < avg.length; i++) avg[i] /= channels.length;
    result.map = avg;
    result.channels = channels;
  }
  return result;
}

/**
 * MS-SSIM (Wang's msssim.m: five scales, weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333, Gaussian 11x11 window,
 * 2x2 average downsampling with symmetric borders). The `mode` option does not apply; color, shave, dataRange,
 * K1, K2 do. Per-channel: the mean over channels.
 * @param gt ground truth
 * @param test image under test, same size
 * @param options see `SsimOptions`
 * @throws BlindspotError E_TOO_SMALL when the smallest side is below 176 pixels, and the errors of `ssim`
 * @see Z. Wang, E. P. Simoncelli, A. C. Bovik, Asilomar 2003, doi:10.1109/ACSSC.2003.1292216
 */
export function msssim(gt: Image, test: Image, options?: Partial<SsimOptions>): number {
  const p = prepare(gt, test, options);
  if (Math.min(p.width, p.height) < MSSSIM_MIN_SIDE) {
    throw new BlindspotError(
      'E_TOO_SMALL',
      `image is ${p.width}x${p.height}: MS-SSIM needs at least ${MSSSIM_MIN_SIDE} pixels a side (5 scales of an 11x11 window)`,
      imageLabel(gt, 'ground truth'),
    );
  }
  const L = p.dataRange;
  const k = { C1: (p.options.K1 * L) ** 2, C2: (p.options.K2 * L) ** 2 };
  const values = p.gtPlanes.map((g, i) => msssimPlanes(g, p.testPlanes[i]!, p.width, p.height, k).msssim);
  const value = mean(values);
  for (const [i, g] of p.gtPlanes.entries()) assertFiniteResult(mse(g, p.testPlanes[i]!), gt, test);
  return value;
}

/** Tier-1 image scalars of one grey plane pair (see {@link tier1Scalars}). */
export interface Tier1Scalars {
  /** SSIM, `wang` mode (11x11 Gaussian, sigma 1.5). */
  ssim: number;
  /** MS-SSIM (5 scales); null below 176 pixels a side. */
  msssim: number | null;
  /** PSNR in dB (Infinity for identical planes). */
  psnr: number;
}

// One map buffer per thread: Tier 1 keeps only the means, so the 8 bytes/pixel map is never handed out.
let tier1Map: Float64Array | undefined;

/**
 * Refuse planes smaller than the 11x11 Gaussian window of Tier 1 SSIM (the map would have no pixel).
 * @throws BlindspotError E_TOO_SMALL naming `file` when given.
 */
export function checkTier1Size(width: number, height: number, file?: string): void {
  if (width < 11 || height < 11) {
    throw new BlindspotError('E_TOO_SMALL', `image is ${width}x${height}, smaller than the 11x11 window of SSIM (wang)`, file);
  }
}

/**
 * SSIM (wang), MS-SSIM and PSNR of two grey planes whose data range is known — what `ssim(gt, test, { mode:
 * 'wang', dataRange: L })` reports, without its input checks and without allocating the SSIM map (for block runs
 * that score thousands of pairs). Planes must be finite and at least 11x11.
 * @throws BlindspotError E_TOO_SMALL below 11x11.
 */
export function tier1Scalars(
  x: SamplePlane,
  y: SamplePlane,
  width: number,
  height: number,
  L: number,
  K1 = DEFAULT_SSIM_OPTIONS.K1,
  K2 = DEFAULT_SSIM_OPTIONS.K2,
): Tier1Scalars {
  checkTier1Size(width, height);
  const taps = gaussianTaps(11, 1.5);
  const consts: SsimConstants = { C1: (K1 * L) ** 2, C2: (K2 * L) ** 2, covNorm: 1 };
  const need = (width - taps.length + 1) * (height - taps.length + 1);
  if (tier1Map === undefined || tier1Map.length < need) tier1Map = new Float64Array(need);
  const wantMsssim = Math.min(width, height) >= MSSSIM_MIN_SIDE;
  const r = ssimMap(x, y, width, height, taps, consts, { withCs: wantMsssim, out: tier1Map });
  return {
    ssim: r.mssim,
    msssim: wantMsssim ? msssimPlanes(x, y, width, height, consts, r).msssim : null,
    psnr: psnrFromMse(r.sumSquaredError / (width * height), L),
  };
}
