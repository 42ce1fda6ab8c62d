/** Atomic file replacement: write beside the target, then rename (a reader never sees a half-written file). */
import { rename, rm, writeFile } from 'node:fs/promises';
import { renameSync, rmSync, writeFileSync } from 'node:fs';

let counter = 0;

/** A temporary path in the same folder as `file` (so the final rename stays on one filesystem). */
export function tempPathFor(file: string): string {
  counter += 1;
  return `${file}.tmp-${process.pid}-${counter}`;
}

/**
 * Run `write(tmp)` and rename `tmp` to `file` when it succeeds; remove `tmp` when it fails.
 * @param file Final path.
 * @param write Writes the complete content to the temporary path it is given.
 */
export async function writeAtomically(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    await write(tmp);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Atomic write of a string or buffer. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeAtomically(file, (tmp) => writeFile(tmp, data));
}

/** Synchronous twin of {@link writeFileAtomic}. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
