/**
 * One (GT image, model output) pair: decode both, run the block engine and the Tier-1 scalars, write the pair's
 * staging files (block rows, then a JSON marker with the image row) and optionally its per-pair CSV.
 * Runs inside a worker thread (see worker.ts) or inline.
 */
import { writeBlockTable } from '../store/blockTable.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { writeStaging } from '../store/staging.ts';
import { assembleBlockPartFromStaging, writeImageRows } from '../store/parts.ts';
import { isBlindspotError } from '../errors.ts';
import { readImage, type ReadImageOptions } from '../image/read.ts';
import type { Image } from '../image/types.ts';
import { summarizeBlockField, type BlockFieldSummary } from './summary.ts';
import { loadEngine, type PairDiagnosis } from './engine.ts';
import { basename } from 'node:path';
import { resolveRunBatteryOptions, runPairBattery } from '../battery/run.ts';
import type { BatteryColumn } from '../battery/battery.ts';

/** One row of images.parquet. */
export interface ImageRow extends BlockFieldSummary, Partial<Record<BatteryColumn, number | null>> {
  image: string;
  model: string;
  path: string;
  gt_file: string;
  test_file: string;
  width: number;
  height: number;
  data_range: number;
  ssim: number | null;
  msssim: number | null;
  psnr: number | null;
  /** DESIGN §3c: the display window (data units) whose width/255 is one display grey level, and where it came from. */
  display_lo: number;
  display_hi: number;
  display_width: number;
  display_source: string;
  /** GT noise sd (Immerkaer 1996) and the damage floors, data units (visible_ac null when off). */
  noise_sd: number;
  floor_ac: number;
  visible_ac: number | null;
  floor_dc: number;
  /** 'auto' | 'user' | 'all', the mask file (user masks) and ROI blocks. */
  roi_source: string;
  mask_file: string | null;
  roi_blocks: number;
  /** The GT's p0.5..p99.5 over the ROI and its share of L. */
  occupied_lo: number;
  occupied_hi: number;
  occupied_share: number;
  /** This pair's own floored T90 (over its ROI blocks; 'fallback' when degenerate) and the blind-spot median. */
  t90_pair: number;
  t90_pair_source: string;
  se_max_median: number | null;
  /** Warnings about the pair (data range, occupancy, degenerate thresholds), joined by " | "; '' when none. */
  warnings: string;
}

/** One line of errors.jsonl. */
export interface PairError {
  image: string;
  model: string;
  path: string;
  gt_file: string;
  test_file: string | null;
  code: string;
  reason: string;
}

/** What the staging JSON marker of a pair holds. */
export type PairOutcome = { ok: true; row: ImageRow } | { ok: false; error: PairError };

export interface PairTask {
  image: string;
  model: string;
  path: string;
  /** GT file name (inside gtDir) and absolute-or-cwd-relative path. */
  gtName: string;
  gtFile: string;
  testName: string;
  testFile: string;
  /** Staging file paths without extension (`.bin` block rows, see store/staging.ts; `.json` marker). */
  stagingBase: string;
  /** Per-pair CSV path, or null. */
  csvFile: string | null;
  columns: 'core' | 'full';
  diagnose: Record<string, unknown>;
  /** How GT and test images are read (DICOM frame, NIfTI axis/slice/volume, rescale). */
  read: Partial<ReadImageOptions>;
  /** The GT's region-of-interest mask file, or null for the run's ROI option. */
  maskFile: string | null;
  /** Metric battery options (battery/run.ts), or null when the run has the battery off. */
  battery: Record<string, unknown> | null;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

// The GT of consecutive tasks is often the same image (tasks are dispatched image-major): keep the last one.
let lastGt: { file: string; image: Image } | undefined;

async function readGt(file: string, read: Partial<ReadImageOptions>): Promise<Image> {
  if (lastGt?.file === file) return lastGt.image;
  const image = await readImage(file, read);
  lastGt = { file, image };
  return image;
}

let lastMask: { file: string; image: Image } | undefined;

async function readMask(file: string): Promise<Image> {
  if (lastMask?.file === file) return lastMask.image;
  const image = await readImage(file);
  lastMask = { file, image };
  return image;
}

// Pairs run one at a time per thread: the engine's column buffers are reused (inline runs start many at once).
let queue: Promise<unknown> = Promise.resolve();

/**
 * Process one pair and write its staging files. Never throws for a bad pair: the error becomes the outcome
 * (and its marker); other failures (disk full, bugs) do throw.
 */
export function processPair(task: PairTask): Promise<PairOutcome> {
  const run = queue.then(() => processPairNow(task));
  queue = run.catch(() => undefined);
  return run;
}

async function processPairNow(task: PairTask): Promise<PairOutcome> {
  let outcome: PairOutcome;
  try {
    const engine = await loadEngine();
    const gt = await readGt(task.gtFile, task.read);
    const test = await readImage(task.testFile, task.read);
    const options = task.maskFile === null ? task.diagnose : { ...task.diagnose, roi: await readMask(task.maskFile) };
    const result = engine.diagnose(gt, test, options);
    await writeStaging(`${task.stagingBase}.bin`, result.columns, result.blockCount, task.columns);
    if (task.csvFile !== null) {
      await writeBlockTable(task.csvFile, result.columns, result.blockCount, {
        format: 'csv',
        columnSet: task.columns,
        keys: { image: task.image, model: task.model, path: task.path },
      });
    }
    const c = result.columns;
    const field = summarizeBlockField(c['ssim_blk']!, c['is_border']!, c['row']!, c['col']!, c['ring']!, result.blockCount);
    outcome = {
      ok: true,
      row: {
        image: task.image,
        model: task.model,
        path: task.path,
        gt_file: task.gtName,
        test_file: task.testName,
        width: gt.width,
        height: gt.height,
        data_range: result.dataRange,
        ssim: orNull(result.tier1.ssim),
        msssim: result.tier1.msssim === null ? null : orNull(result.tier1.msssim),
        psnr: orNull(result.tier1.psnr),
        ...referenceFields(result, task.maskFile),
        ...field,
        // Same decoded images, same worker pass (issue 20).
        ...(task.battery === null ? {} : await runPairBattery(gt, test, resolveRunBatteryOptions(task.battery))),
      },
    };
  } catch (e) {
    if (!isBlindspotError(e)) throw e;
    outcome = {
      ok: false,
      error: {
        image: task.image,
        model: task.model,
        path: task.path,
        gt_file: task.gtName,
        test_file: task.testName,
        code: e.code,
        reason: e.message,
      },
    };
  }
  await writeFileAtomic(`${task.stagingBase}.json`, JSON.stringify(outcome) + '\n');
  return outcome;
}

/** The DESIGN §3c columns of an image row. */
function referenceFields(r: PairDiagnosis, maskFile: string | null): Omit<ImageRow, keyof BlockFieldSummary | 'image' | 'model' | 'path' | 'gt_file' | 'test_file' | 'width' | 'height' | 'data_range' | 'ssim' | 'msssim' | 'psnr'> {
  const ref = r.reference;
  return {
    display_lo: ref.display.lo,
    display_hi: ref.display.hi,
    display_width: ref.display.width,
    display_source: ref.display.source,
    noise_sd: ref.noiseSd,
    floor_ac: ref.floors.floorAc,
    visible_ac: ref.floors.visibleAc,
    floor_dc: ref.floors.floorDc,
    roi_source: ref.roi.source,
    mask_file: maskFile === null ? null : basename(maskFile),
    roi_blocks: ref.roi.blocks,
    occupied_lo: ref.occupied.lo,
    occupied_hi: ref.occupied.hi,
    occupied_share: ref.occupied.share,
    t90_pair: r.floored.t90,
    t90_pair_source: r.floored.t90Source,
    se_max_median: orNull(r.blindSpot.seMax.median),
    warnings: r.warnings.join(' | '),
  };
}

/** A part to assemble from its staged pairs (run on a worker so that Parquet encoding runs in parallel). */
export interface AssembleJob {
  /** Staging `.bin` files of the part's successful pairs, in image order, with their image keys. */
  entries: { file: string; image: string }[];
  columns: 'core' | 'full';
  blocksFile: string;
  imagesFile: string;
  /** The image rows of those pairs (model and path are left out of the partitioned file). */
  rows: ImageRow[];
}

/** Write a part's block file and image file (both atomic). */
export async function assemblePart(job: AssembleJob): Promise<void> {
  await assembleBlockPartFromStaging(job.entries, job.columns, job.blocksFile);
  await writeImageRows(job.rows as unknown as Record<string, unknown>[], job.imagesFile, ['model', 'path']);
}
