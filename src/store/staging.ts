/**
 * Staging files of a dataset run: one pair's stored block columns (the facts of the set, see storedColumnsOfSet),
 * already in their storage types, as one raw binary file (little-endian, each column padded to 8 bytes, columns
 * in schema order). Writing one is a single buffer write; the Parquet encoding happens once, when a part is
 * assembled (parts.ts).
 */
import { readFile } from 'node:fs/promises';
import { storedColumnsOfSet, type BlockColumns, type ColumnSet } from '../tier3/columns.ts';
import { BlindspotError } from '../errors.ts';
import { STORAGE_WIDTH, storageArrayOf, toStorageArray, type StorageArray } from './blockTable.ts';
import { writeFileAtomic } from './atomic.ts';

const pad8 = (n: number): number => (n + 7) & ~7;
const MAGIC = 0x42535431; // "BST1"

/** Bytes of a staging file for `n` rows of a column set (16-byte header included). */
export function stagingSize(columnSet: ColumnSet, n: number): number {
  return 16 + storedColumnsOfSet(columnSet).reduce((s, c) => s + pad8(STORAGE_WIDTH[c.storage] * n), 0);
}

/**
 * Write one pair's block columns as a staging file, atomically.
 * @throws BlindspotError E_INVALID_OPTION when a value does not fit its storage type.
 */
export async function writeStaging(file: string, columns: BlockColumns, blockCount: number, columnSet: ColumnSet): Promise<void> {
  const specs = storedColumnsOfSet(columnSet);
  // Columns are converted straight into the file's buffer (8-byte aligned offsets; padding stays zero).
  const ab = new ArrayBuffer(stagingSize(columnSet, blockCount));
  const buf = Buffer.from(ab);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(blockCount, 4);
  buf.writeUInt32LE(specs.length, 8);
  let off = 16;
  for (const spec of specs) {
    const src = columns[spec.name];
    if (src === undefined) throw new BlindspotError('E_INVALID_OPTION', `block columns: missing column "${spec.name}"`);
    toStorageArray(spec, src, blockCount, storageArrayOf(spec.storage, ab, off, blockCount));
    off += pad8(STORAGE_WIDTH[spec.storage] * blockCount);
  }
  await writeFileAtomic(file, buf);
}

/**
 * Read a staging file back as storage arrays (views on one buffer), in schema order.
 * @throws BlindspotError E_CORRUPT when the file does not match the column set.
 */
export async function readStaging(file: string, columnSet: ColumnSet): Promise<{ arrays: StorageArray[]; blockCount: number }> {
  const buf = await readFile(file);
  const specs = storedColumnsOfSet(columnSet);
  const n = buf.length >= 16 ? buf.readUInt32LE(4) : -1;
  if (buf.length < 16 || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(8) !== specs.length || buf.length !== stagingSize(columnSet, n)) {
    throw new BlindspotError('E_CORRUPT', 'not a staging file of this column set', file);
  }
  // Copy into an 8-byte aligned buffer so typed-array views are aligned.
  const ab = new ArrayBuffer(buf.length);
  new Uint8Array(ab).set(buf);
  const arrays: StorageArray[] = [];
  let off = 16;
  for (const spec of specs) {
    arrays.push(storageArrayOf(spec.storage, ab, off, n));
    off += pad8(STORAGE_WIDTH[spec.storage] * n);
  }
  return { arrays, blockCount: n };
}
