/**
 * A minimal safetensors writer for tests (format: https://huggingface.co/docs/safetensors): 8-byte LE header
 * length, JSON header, tensor bytes. F32 / F16 / BF16 / F64 encodings written by hand; `pad` inserts unused bytes
 * between tensors and `reverse` stores them in reverse name order, so offsets are exercised.
 */
export type TestDtype = 'F32' | 'F16' | 'BF16' | 'F64';

export interface TestTensor {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: TestDtype;
}

/** float -> IEEE half bits, round to nearest even (normals and subnormals; values must be in range). */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const abs = Math.abs(v);
  if (abs === 0) return sign;
  if (!Number.isFinite(abs)) return sign | 0x7c00;
  let e = Math.floor(Math.log2(abs));
  if (e < -14) {
    const m = Math.round(abs / 2 ** -24);
    return sign | m;
  }
  let m = Math.round((abs / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

/** float -> bfloat16 bits, round to nearest even. */
export function floatToBf16(v: number): number {
  const x = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const WIDTH = { F32: 4, F16: 2, BF16: 2, F64: 8 } as const;

export function encodeSafetensors(
  tensors: Record<string, TestTensor>,
  opts: { pad?: number; reverse?: boolean; metadata?: Record<string, string> } = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  if (opts.reverse) names.reverse();
  const header: Record<string, unknown> = {};
  if (opts.metadata) header['__metadata__'] = opts.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const dtype = t.dtype ?? 'F32';
    const w = WIDTH[dtype];
    const buf = new Uint8Array(t.data.length * w);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < t.data.length; i++) {
      if (dtype === 'F32' && t.data instanceof Float32Array && i === 0) {
        // Bulk copy for large tensors (little-endian hosts); the loop below is the reference encoder.
        if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) {
          buf.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
          break;
        }
      }
      const v = t.data[i]!;
      if (dtype === 'F32') dv.setFloat32(i * w, v, true);
      else if (dtype === 'F64') dv.setFloat64(i * w, v, true);
      else if (dtype === 'F16') dv.setUint16(i * w, floatToHalf(v), true);
      else dv.setUint16(i * w, floatToBf16(v), true);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + buf.length] };
    chunks.push(buf);
    offset += buf.length;
    if (opts.pad) {
      chunks.push(new Uint8Array(opts.pad).fill(0xab));
      offset += opts.pad;
    }
  }
  // The format pads the header with spaces to a multiple of 8.
  let json = JSON.stringify(header);
  while ((json.length + 8) % 8 !== 0) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
