/**
 * Discovery of image files and pairing of model outputs with ground-truth images by file stem
 * (rule documented in docs/dataset-runs.md, "Pairing rule").
 */
import { readdir } from 'node:fs/promises';
import { BlindspotError } from '../errors.ts';
import { compareCodeUnits } from '../store/manifest.ts';

/** Extensions read by src/image (lower case, longest first so `.nii.gz` wins over `.gz`). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze([
  '.nii.gz',
  '.jpeg',
  '.tiff',
  '.webp',
  '.png',
  '.jpg',
  '.tif',
  '.bmp',
  '.gif',
  '.dcm',
  '.nii',
]);

/** Characters that may follow a GT stem inside an output stem. */
export const STEM_SEPARATORS: readonly string[] = Object.freeze(['_', '-', '.', ' ']);

export interface ImageFile {
  /** File name inside its folder. */
  name: string;
  /** Name without its image extension. */
  stem: string;
}

/** Stem of an image file name, or undefined when the extension is not an image one. */
export function imageStem(name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const ext of IMAGE_EXTENSIONS) {
    if (lower.endsWith(ext) && name.length > ext.length) return name.slice(0, name.length - ext.length);
  }
  return undefined;
}

/**
 * The image files directly inside `dir` (hidden files skipped), sorted by name (code units).
 * @throws BlindspotError E_UNREADABLE when the folder cannot be read.
 */
export async function listImageFiles(dir: string): Promise<ImageFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BlindspotError('E_UNREADABLE', code === 'ENOENT' ? 'folder not found' : code === 'ENOTDIR' ? 'not a folder' : `cannot read folder (${code})`, dir);
  }
  const out: ImageFile[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || !(e.isFile() || e.isSymbolicLink())) continue;
    const stem = imageStem(e.name);
    if (stem !== undefined) out.push({ name: e.name, stem });
  }
  return out.sort((a, b) => compareCodeUnits(a.name, b.name));
}

/**
 * The GT stem an output stem belongs to: the longest GT stem equal to it or followed in it by a separator.
 * @param outputStem Stem of a model output file.
 * @param gtStems The GT stems (any order).
 * @returns the GT stem, or undefined when none matches.
 */
export function matchGtStem(outputStem: string, gtStems: ReadonlySet<string>): string | undefined {
  if (gtStems.has(outputStem)) return outputStem;
  // Candidates are the prefixes of the output stem that end just before a separator; the longest wins.
  for (let i = outputStem.length - 1; i > 0; i--) {
    if (STEM_SEPARATORS.includes(outputStem[i]!)) {
      const prefix = outputStem.slice(0, i);
      if (gtStems.has(prefix)) return prefix;
    }
  }
  return undefined;
}

export interface Pairing {
  /** GT stem -> the output file names that match it (more than one = ambiguous). */
  outputs: Map<string, string[]>;
  /** Output file names that match no GT stem. */
  unmatched: string[];
}

/**
 * Pair the files of one model folder with the GT stems.
 * @param gtStems GT stems.
 * @param outputs The model folder's image files.
 */
export function pairOutputs(gtStems: ReadonlySet<string>, outputs: readonly ImageFile[]): Pairing {
  const map = new Map<string, string[]>();
  const unmatched: string[] = [];
  for (const f of outputs) {
    const gt = matchGtStem(f.stem, gtStems);
    if (gt === undefined) unmatched.push(f.name);
    else {
      const list = map.get(gt);
      if (list) list.push(f.name);
      else map.set(gt, [f.name]);
    }
  }
  return { outputs: map, unmatched };
}

/**
 * The GT images of `dir`, one per stem.
 * @throws BlindspotError E_EMPTY when there is none; E_INVALID_OPTION when two files share a stem.
 */
export async function listGtImages(dir: string): Promise<ImageFile[]> {
  const files = await listImageFiles(dir);
  if (files.length === 0) throw new BlindspotError('E_EMPTY', 'no image files (png, jpg, tif, bmp, gif, webp, dcm, nii)', dir);
  const seen = new Map<string, string>();
  for (const f of files) {
    const prev = seen.get(f.stem);
    if (prev !== undefined) throw new BlindspotError('E_INVALID_OPTION', `two GT files share the stem "${f.stem}": ${prev}, ${f.name}`, dir);
    seen.set(f.stem, f.name);
  }
  return files.sort((a, b) => compareCodeUnits(a.stem, b.stem));
}
