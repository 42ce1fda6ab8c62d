/**
 * Image folders for DeepSSIM: list the image files of a folder (sorted, so results are deterministic), decode
 * them, turn each into the model's z-scored square plane, and hash the set (the model card's data hash). Bad
 * files are skipped and reported through `onSkip`; a folder with no usable image is an error.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { BlindspotError, isBlindspotError } from '../errors.ts';
import { readImage } from '../image/read.ts';
import { preparePlane } from './plane.ts';

/** File extensions taken as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.bmp', '.gif'];

/** A decoded folder: one z-scored `size x size` plane per usable image, in file-name order. */
export interface ImageFolder {
  dir: string;
  /** File names (no folder), sorted. */
  names: string[];
  files: string[];
  planes: Float32Array[];
  size: number;
  /** SHA-256 over the sorted (name, file SHA-256) list of the usable images. */
  dataHash: string;
  /** Files that could not be used, with the one-line reason. */
  skipped: { file: string; reason: string }[];
}

/**
 * Image files of a folder (not recursive), sorted by name.
 * @throws BlindspotError E_NOT_FOUND when the folder does not exist, E_EMPTY when it holds no image file.
 */
export async function listImageFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new BlindspotError('E_NOT_FOUND', 'not a folder', dir);
    entries = await readdir(dir);
  } catch (e) {
    if (isBlindspotError(e)) throw e;
    throw new BlindspotError('E_NOT_FOUND', 'no such folder', dir);
  }
  const files = entries
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
  if (files.length === 0) {
    throw new BlindspotError('E_EMPTY', `no image files (${IMAGE_EXTENSIONS.join(', ')}) in the folder`, dir);
  }
  return files;
}

/**
 * Read every image of a folder as a z-scored plane of `size x size`.
 * @param dir the folder.
 * @param size plane side (the model's input size).
 * @param onProgress called after each file (done, total).
 * @throws BlindspotError E_NOT_FOUND / E_EMPTY for a missing folder or one without any decodable image.
 */
export async function readImageFolder(
  dir: string,
  size: number,
  onProgress?: (done: number, total: number, skipped?: { file: string; reason: string }) => void,
): Promise<ImageFolder> {
  const files = await listImageFiles(dir);
  const out: ImageFolder = { dir, names: [], files: [], planes: [], size, dataHash: '', skipped: [] };
  const hash = createHash('sha256');
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    let skip: { file: string; reason: string } | undefined;
    try {
      const bytes = await readFile(file);
      const img = await readImage(file);
      out.planes.push(preparePlane(img, size).data);
      out.names.push(basename(file));
      out.files.push(file);
      hash.update(`${basename(file)}\0${createHash('sha256').update(bytes).digest('hex')}\n`);
    } catch (e) {
      if (!isBlindspotError(e)) throw e;
      skip = { file, reason: e.message.startsWith(file) ? e.message.slice(file.length + 2) : e.message };
      out.skipped.push(skip);
    }
    onProgress?.(i + 1, files.length, skip);
  }
  if (out.planes.length === 0) {
    throw new BlindspotError('E_EMPTY', `none of the ${files.length} image file(s) could be decoded (first: ${basename(out.skipped[0]!.file)}: ${out.skipped[0]!.reason})`, dir);
  }
  out.dataHash = hash.digest('hex');
  return out;
}
