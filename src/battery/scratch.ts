/**
 * Per-thread scratch buffers for the battery's full-image intermediates (Sobel fields, Canny maps, FFT spectra):
 * a dataset run scores thousands of same-size pairs, and reusing ~25 MB per image spares the allocation, the page
 * zeroing and the garbage collection. A buffer is valid until the next request for the same key on this thread,
 * so kernels use it only when their caller asks (`reuse`), never for what a public call returns by default.
 */
type Typed = Int16Array | Int32Array | Uint8Array | Float64Array;

const buffers = new Map<string, Typed>();

/**
 * A buffer of `length` elements for `key`, made by `make` when absent or of another length. Contents are whatever
 * the last user left (callers clear what they need).
 */
export function scratch<T extends Typed>(key: string, length: number, make: (n: number) => T): T {
  const b = buffers.get(key);
  if (b !== undefined && b.length === length) return b as T;
  const n = make(length);
  buffers.set(key, n);
  return n;
}
