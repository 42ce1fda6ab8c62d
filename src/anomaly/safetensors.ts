/**
 * Reader for the safetensors format (Hugging Face; https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, ... }`
 * (plus an optional `__metadata__` string map), then the tensor bytes; offsets count from the end of the header.
 * Floating-point tensors (F32, F16, BF16, F64) are returned as Float32Array. Every structural problem is one
 * E_CORRUPT line naming the file.
 */
import { readFile } from 'node:fs/promises';
import { BlindspotError } from '../errors.ts';

/** Bytes per element of the dtypes this reader converts to float32. */
const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({ F32: 4, F16: 2, BF16: 2, F64: 8 });

/** One tensor, converted to float32. */
export interface SafeTensor {
  /** The stored dtype ('F32', 'F16', 'BF16' or 'F64'). */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** A parsed file: tensors by name plus the header's `__metadata__`. */
export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const bf16Bits = new Uint32Array(1);
const bf16Value = new Float32Array(bf16Bits.buffer);

/** IEEE half -> float32 value. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parse safetensors bytes.
 * @param bytes the whole file.
 * @param name the file name used in error messages.
 * @throws BlindspotError E_CORRUPT (bad length, header JSON, entry, dtype, or offsets), one line naming `name`.
 */
export function parseSafetensors(bytes: Uint8Array, name: string): SafetensorsFile {
  const bad = (why: string) => new BlindspotError('E_CORRUPT', `not a valid safetensors file (${why})`, name);
  if (bytes.length < 8) throw bad('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw bad(`header length ${n} exceeds the file`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw bad('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad('header is not an object');
  const base = 8 + headerLen;
  const dataLen = bytes.length - base;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object') throw bad(`entry "${key}" is not an object`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
      throw bad(`tensor "${key}" has dtype ${JSON.stringify(dtype)}; F32, F16, BF16 or F64 expected`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw bad(`tensor "${key}" has a bad shape`);
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isInteger(o) && o >= 0) ||
      off[0] > off[1] ||
      off[1] > dataLen
    )
      throw bad(`tensor "${key}" has data offsets ${JSON.stringify(off)} outside the ${dataLen} data bytes`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[dtype]!;
    if ((off[1] as number) - (off[0] as number) !== count * width)
      throw bad(`tensor "${key}" holds ${off[1] - off[0]} bytes, its ${dtype} shape needs ${count * width}`);
    const at = base + (off[0] as number);
    if (dtype === 'F32' && LITTLE_ENDIAN) {
      // Fast path: a byte copy (the offset need not be 4-aligned; Buffer.slice would be a view, so copy).
      const copy = new Uint8Array(count * 4);
      copy.set(bytes.subarray(at, at + count * 4));
      const data = new Float32Array(copy.buffer);
      tensors.set(key, { dtype, shape: shape as number[], data });
      continue;
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const p = at + i * width;
      if (dtype === 'F32') data[i] = view.getFloat32(p, true);
      else if (dtype === 'F64') data[i] = view.getFloat64(p, true);
      else if (dtype === 'F16') data[i] = halfToFloat(view.getUint16(p, true));
      else {
        // bfloat16 is the top half of a float32.
        bf16Bits[0] = view.getUint16(p, true) << 16;
        data[i] = bf16Value[0]!;
      }
    }
    tensors.set(key, { dtype, shape: shape as number[], data });
  }
  return { tensors, metadata };
}

/**
 * Read and parse a safetensors file.
 * @throws BlindspotError E_UNREADABLE when the file cannot be read, E_CORRUPT as `parseSafetensors`.
 */
export async function readSafetensors(path: string): Promise<SafetensorsFile & { bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new BlindspotError('E_UNREADABLE', `cannot read (${(e as NodeJS.ErrnoException).code})`, path);
  }
  return { ...parseSafetensors(bytes, path), bytes };
}
