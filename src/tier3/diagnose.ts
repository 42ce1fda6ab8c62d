/**
 * `diagnose(gt, test)`: Tier 1-3 diagnostics of one image pair (DESIGN §3b), no I/O. Colour images are reduced to
 * one grey plane by the SSIM colour policy; the block kernel fills the columns; the summary adds the Tier-1
 * scalars (SSIM wang, MS-SSIM, PSNR) and the Tier-2 block-field statistics.
 */
import { toGreyPlanes } from '../image/color.ts';
import type { Image } from '../image/types.ts';
import { resolveDataRange } from '../ssim/dataRange.ts';
import type { SamplePlane } from '../ssim/kernel.ts';
import { checkTier1Size, tier1Scalars } from '../ssim/ssim.ts';
import { checkFinite, checkSameSize, mayHoldNonFinite } from '../ssim/validate.ts';
import { blockGrid, createDiagnoseScratch, diagnoseBlocks, type DiagnoseScratch } from './blocks.ts';
import { allocateBlockColumns, type BlockColumns } from './columns.ts';
import {
  resolveDiagnoseOptions,
  ssimConstants,
  type DiagnoseOptions,
  type ResolvedDiagnoseOptions,
} from './options.ts';
import {
  blindSpotFields,
  gtReference,
  summarizeBlindSpot,
  type BlindSpotSummary,
  type DisplayWindow,
  type GtReference,
} from './reference.ts';
import { summarizeDefinition, type BlockFieldSummary } from './summary.ts';

/** Tier-1 image scalars. */
export interface Tier1Summary {
  /** SSIM, `wang` mode (11x11 Gaussian, sigma 1.5), on the same grey plane and data range. */
  ssim: number;
  /** MS-SSIM (5 scales); null when the image is too small for it. */
  msssim: number | null;
  /** PSNR in dB (Infinity for identical images). */
  psnr: number;
}

/** What the GT alone set for the pair (DESIGN §3c), as recorded in summaries and images.parquet. */
export interface ReferenceSummary {
  roi: { source: 'auto' | 'user' | 'all'; blocks: number; pixels: { inside: number; background: number; collimator: number; label: number } };
  display: DisplayWindow;
  /** Data units per display grey level. */
  unit: number;
  /** GT noise sd (Immerkaer 1996), data units. */
  noiseSd: number;
  /** Floors in data units (visibleAc: null when off). */
  floors: { floorAc: number; visibleAc: number | null; floorDc: number };
  occupied: { lo: number; hi: number; share: number };
}

export interface DiagnoseSummary extends BlockFieldSummary {
  width: number;
  height: number;
  gridRows: number;
  gridCols: number;
  blockCount: number;
  dataRange: number;
  tier1: Tier1Summary;
  reference: ReferenceSummary;
  /** How blind SSIM is at the floored definition's T over the ROI blocks, before looking at the test image. */
  blindSpot: BlindSpotSummary;
}

export interface DiagnoseResult {
  /** One typed array per block column (src/tier3/columns.ts); block k = row * gridCols + col. */
  columns: BlockColumns;
  blockCount: number;
  gridRows: number;
  gridCols: number;
  width: number;
  height: number;
  summary: DiagnoseSummary;
  /** The options used, dataRange and displayWidth resolved. */
  options: ResolvedDiagnoseOptions & { dataRange: number; displayWidth: number };
  /** The GT reference (ROI mask, display window, floors). */
  reference: GtReference;
  /** The grey planes that were compared (GT, test), for pictures (a grey image's own samples, not a copy). */
  planes: { gt: SamplePlane; test: SamplePlane };
  warnings: string[];
}

/**
 * Buffers reused between calls on one thread (a dataset worker scores thousands of pairs): block columns and
 * kernel scratch are allocated once per size. With a holder, the returned `columns` alias it and are overwritten
 * by the next call.
 */
export interface DiagnoseBuffers {
  columns?: BlockColumns;
  capacity?: number;
  scratch?: DiagnoseScratch;
  /** The last GT's reference, reused while the same GT image object comes back with the same options. */
  reference?: { gt: Image; key: string; value: GtReference };
}

/** The options the GT reference depends on, as a cache key (a mask image is compared by identity below). */
function referenceKey(o: ResolvedDiagnoseOptions, L: number, gridKey: string): string {
  const { autoRoi, displayWidth, floorAc, floorNoiseFactor, visibleAc, hiddenDmu, color } = o;
  return JSON.stringify({ r: typeof o.roi === 'string' ? o.roi : 'mask', autoRoi, displayWidth, floorAc, floorNoiseFactor, visibleAc, hiddenDmu, color, L, gridKey });
}

function greyPlane(img: Image, color: DiagnoseOptions['color']): SamplePlane {
  // A grey image's samples already are the plane (the kernels read float32 and float64 alike).
  return img.channels === 1 ? img.data : toGreyPlanes(img, color).planes[0]!;
}

/**
 * Tier 1-3 diagnostics of one GT/test pair.
 * @param gt - ground truth image (grey or RGB; RGB is reduced by `options.color`).
 * @param test - test image of the same size.
 * @param options - `DiagnoseOptions` subset; defaults `DEFAULT_DIAGNOSE_OPTIONS` (B = 8, stride = B, K1 0.01,
 *   K2 0.03, L = the images' natural range, DESIGN §3b gates).
 * @returns columns, grid, summary (Tier 1 + Tier 2 statistics) and the resolved options.
 * @throws BlindspotError E_SIZE_MISMATCH, E_NONFINITE, E_NO_DATA_RANGE (float input without dataRange),
 *   E_TOO_SMALL (smaller than one block or than the 11x11 SSIM window), E_INVALID_OPTION.
 * @example const r = diagnose(await readImage('gt.png'), await readImage('sr.png')); r.summary.all.ssimBlk.mean
 */
export function diagnose(
  gt: Image,
  test: Image,
  options?: Partial<DiagnoseOptions>,
  buffers?: DiagnoseBuffers,
): DiagnoseResult {
  const o = resolveDiagnoseOptions(options);
  checkSameSize(gt, test);
  // Integer decoders cannot produce NaN/Inf (see mayHoldNonFinite); float and in-memory images are scanned.
  if (mayHoldNonFinite(gt)) checkFinite(gt, 'ground truth');
  if (mayHoldNonFinite(test)) checkFinite(test, 'test image');
  const range = resolveDataRange(gt, test, o.dataRange ?? undefined);
  const L = range.dataRange;
  const { width, height } = gt;
  const grid = blockGrid(width, height, o.blockSize, o.stride, gt.source !== '' ? gt.source : undefined);
  checkTier1Size(width, height, gt.source !== '' ? gt.source : undefined);
  const x = greyPlane(gt, o.color);
  const y = greyPlane(test, o.color);
  const b = buffers ?? {};
  if (b.columns === undefined || (b.capacity ?? 0) < grid.blockCount) {
    b.columns = allocateBlockColumns(grid.blockCount);
    b.capacity = grid.blockCount;
    b.reference = undefined; // its in_roi bytes lived in the old columns
  }
  if (b.scratch === undefined || b.scratch.width !== width || b.scratch.blockSize !== o.blockSize) {
    b.scratch = createDiagnoseScratch(width, o.blockSize);
  }
  const columns = b.columns;
  const key = referenceKey(o, L, `${width}x${height}/${grid.blockSize}/${grid.stride}`);
  const cached = b.reference;
  const ref =
    cached && cached.gt === gt && cached.key === key && (typeof o.roi === 'string' || cached.value.roi.source === 'user')
      ? cached.value
      : gtReference(gt, x, grid, o, L, columns.in_roi as Uint8Array);
  b.reference = { gt, key, value: ref };
  const resolved = { ...o, dataRange: L, displayWidth: ref.display.width };
  diagnoseBlocks(x, y, width, height, resolved, columns, b.scratch);

  const warnings = [...new Set([...gt.warnings, ...test.warnings, ...range.warnings, ...ref.warnings])];
  // Tier 1 on the same grey planes, L, K1 and K2 (= ssim() in wang mode); MS-SSIM is null below 176 px a side.
  const tier1 = tier1Scalars(x, y, width, height, L, o.K1, o.K2);
  const { C1, C2 } = ssimConstants(o, L);
  const floored = summarizeDefinition(columns, grid.blockCount, resolved, C2, {
    definition: 'floored-roi',
    use: ref.roi.source === 'all' ? null : ref.inRoi,
    floors: ref.floors,
    fallback: { threshold: o.fallbackThreshold, minBlocks: o.minRoiBlocks },
  });
  const published = summarizeDefinition(columns, grid.blockCount, resolved, C2, {
    definition: 'published',
    use: null,
    floors: { floorAc: 0, visibleAc: Infinity, floorDc: (o.hiddenDmu * L) / 255 },
    fallback: null,
  });
  if (floored.thresholds.note !== '') warnings.push(`hidden threshold: ${floored.thresholds.note}`);
  if (!(published.thresholds.hidden < 1)) {
    warnings.push('published definition: T90 = 1 (identical blocks fill the top decile), so its Hidden layer is empty by construction; the floored ROI figures use their own T');
  }
  const T = floored.thresholds.hidden;
  const fields = blindSpotFields(columns.sx!, columns.mx!, grid.blockCount, T, C1, C2, ref.unit);
  const blindSpot = summarizeBlindSpot(fields, ref.inRoi, T, ref.floors.floorAc / ref.unit, o.visibleAc);
  const summary: DiagnoseSummary = {
    width,
    height,
    gridRows: grid.gridRows,
    gridCols: grid.gridCols,
    blockCount: grid.blockCount,
    dataRange: L,
    tier1,
    floored,
    published,
    reference: {
      roi: { source: ref.roi.source, blocks: ref.roiBlocks, pixels: ref.roi.counts },
      display: ref.display,
      unit: ref.unit,
      noiseSd: ref.noiseSd,
      floors: { floorAc: ref.floors.floorAc, visibleAc: Number.isFinite(ref.floors.visibleAc) ? ref.floors.visibleAc : null, floorDc: ref.floors.floorDc },
      occupied: ref.occupied,
    },
    blindSpot,
  };
  return {
    columns,
    blockCount: grid.blockCount,
    gridRows: grid.gridRows,
    gridCols: grid.gridCols,
    width,
    height,
    summary,
    options: resolved,
    reference: ref,
    planes: { gt: x, test: y },
    warnings,
  };
}
