/**
 * The work list of a run: every (GT image, model, path) pair, GT stems sorted, cut into parts of `partSize`
 * consecutive images per configuration; the sorted part list is what `--shard K/N` splits. Pure given the folder
 * listings.
 */
import { join } from 'node:path';
import { compareCodeUnits } from '../store/manifest.ts';
import { listGtImages, listImageFiles, pairOutputs, type ImageFile } from './discover.ts';
import type { ModelFolder, RunOptions } from './options.ts';

export interface PlannedPair {
  /** GT stem = the `image` key. */
  image: string;
  /** Index of the image in the sorted GT list. */
  imageIndex: number;
  gtName: string;
  gtFile: string;
  model: string;
  path: string;
  /** Output file names that matched (exactly one for a processable pair). */
  candidates: string[];
  testDir: string;
  /** Mask files that matched the GT stem (exactly one needed), or null when the run has no mask folder. */
  masks: string[] | null;
  maskDir: string | null;
}

export interface PlannedPart {
  model: string;
  path: string;
  /** Part number within its configuration (part-NNNNN). */
  part: number;
  pairs: PlannedPair[];
}

export interface RunPlan {
  gtImages: ImageFile[];
  /** Every configuration, sorted by (model, path). */
  configurations: ModelFolder[];
  /** All parts, sorted by (part, model, path) — the order shards split. */
  parts: PlannedPart[];
  /** Output files that match no GT stem, per "model/path". */
  unmatched: Record<string, string[]>;
}

/** Hive partition folder of a configuration. */
export function partitionDir(model: string, path: string): string {
  return `model=${model}/path=${path}`;
}

/** `part-00007` */
export function partName(part: number): string {
  return `part-${String(part).padStart(5, '0')}`;
}

/**
 * List the folders and build the plan.
 * @throws BlindspotError from discovery (unreadable folders, empty GT folder, duplicate GT stems).
 */
export async function buildPlan(o: Pick<RunOptions, 'gt' | 'models' | 'partSize'> & Partial<Pick<RunOptions, 'maskDir'>>): Promise<RunPlan> {
  const gtImages = await listGtImages(o.gt);
  const stems = new Set(gtImages.map((g) => g.stem));
  const maskDir = o.maskDir ?? null;
  const masks = maskDir === null ? null : pairOutputs(stems, await listImageFiles(maskDir)).outputs;
  const configurations = [...o.models].sort((a, b) => compareCodeUnits(a.name, b.name) || compareCodeUnits(a.path, b.path));
  const unmatched: Record<string, string[]> = {};
  const parts: PlannedPart[] = [];
  for (const cfg of configurations) {
    const pairing = pairOutputs(stems, await listImageFiles(cfg.dir));
    if (pairing.unmatched.length > 0) unmatched[`${cfg.name}/${cfg.path}`] = pairing.unmatched;
    gtImages.forEach((g, imageIndex) => {
      const part = Math.floor(imageIndex / o.partSize);
      if (imageIndex % o.partSize === 0) parts.push({ model: cfg.name, path: cfg.path, part, pairs: [] });
      parts[parts.length - 1]!.pairs.push({
        image: g.stem,
        imageIndex,
        gtName: g.name,
        gtFile: join(o.gt, g.name),
        model: cfg.name,
        path: cfg.path,
        candidates: pairing.outputs.get(g.stem) ?? [],
        testDir: cfg.dir,
        masks: masks === null ? null : (masks.get(g.stem) ?? []),
        maskDir,
      });
    });
  }
  parts.sort((a, b) => a.part - b.part || compareCodeUnits(a.model, b.model) || compareCodeUnits(a.path, b.path));
  return { gtImages, configurations, parts, unmatched };
}

/**
 * The parts of shard `index` of `count` (1-based): those whose position in the sorted list is index-1 mod count.
 */
export function shardParts(parts: readonly PlannedPart[], shard: { index: number; count: number } | null): PlannedPart[] {
  if (shard === null) return [...parts];
  return parts.filter((_, i) => i % shard.count === shard.index - 1);
}
