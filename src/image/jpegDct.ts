/**
 * Sequential DCT JPEG with Huffman coding (ITU-T T.81 processes 1, 2 and 4: baseline and extended, 8- or 12-bit),
 * grey (one component) only, written here from T.81 Annexes A, B, C, F. It exists for DICOM JPEG Extended 12-bit
 * (1.2.840.10008.1.2.4.51), which sharp's 8-bit libjpeg cannot decode; 8-bit JPEG still goes through sharp.
 * The inverse DCT is the exact separable float form (A.3.3), rounded to the nearest integer and clamped to
 * 0..2^P-1, so samples can differ by one count from libjpeg's integer IDCT.
 */

/** Why a codestream cannot be decoded here (the caller words the error). */
export class JpegDctError extends Error {
  readonly unsupported: boolean;
  constructor(message: string, unsupported = false) {
    super(message);
    this.unsupported = unsupported;
  }
}

/** Natural (row-major) index of the k-th coefficient in zig-zag order (T.81 Figure A.6). */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

/** IDCT basis: BASIS[x * 8 + u] = C(u)/2 cos((2x + 1) u pi / 16), C(0) = 1/sqrt(2), else 1. */
const BASIS = (() => {
  const b = new Float64Array(64);
  for (let x = 0; x < 8; x++)
    for (let u = 0; u < 8; u++)
      b[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return b;
})();

/** A Huffman table as code-length lookup (T.81 F.2.2.3: MAXCODE, VALPTR, MINCODE per length). */
interface Huffman {
  maxcode: Int32Array; // per length 1..16, -1 when none
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valptr[l] = k;
      mincode[l] = code;
      code += n;
      k += n;
      maxcode[l] = code - 1;
    }
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff; // sentinel: decode stops after 16 bits
  return { maxcode, valptr, mincode, values };
}

/** Entropy-coded segment reader: MSB first, 0xFF00 is a 0xFF byte, a marker ends the data (zeros follow). */
class Bits {
  private pos: number;
  private acc = 0;
  private n = 0;
  constructor(
    private readonly b: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }
  bit(): number {
    if (this.n === 0) {
      let byte = 0;
      if (this.pos < this.b.length) {
        byte = this.b[this.pos]!;
        if (byte === 0xff) {
          const next = this.b[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else byte = 0; // a marker: feed zeros, stay in front of it
        } else this.pos += 1;
      }
      this.acc = byte;
      this.n = 8;
    }
    this.n -= 1;
    return (this.acc >> this.n) & 1;
  }
  receive(s: number): number {
    let v = 0;
    for (let i = 0; i < s; i++) v = (v << 1) | this.bit();
    return v;
  }
  decode(h: Huffman): number {
    let code = this.bit();
    let l = 1;
    while (code > h.maxcode[l]!) {
      code = (code << 1) | this.bit();
      l += 1;
      if (l > 16) throw new JpegDctError('bad Huffman code');
    }
    return h.values[h.valptr[l]! + code - h.mincode[l]!]!;
  }
  /** Skip to the byte after the next RSTn marker (restart interval), resetting the bit buffer. */
  restart(): void {
    this.n = 0;
    while (
      this.pos + 1 < this.b.length &&
      !(this.b[this.pos] === 0xff && this.b[this.pos + 1]! >= 0xd0 && this.b[this.pos + 1]! <= 0xd7)
    )
      this.pos += 1;
    this.pos += 2;
  }
  get position(): number {
    return this.pos;
  }
}

/** EXTEND (T.81 F.2.2.1): a received s-bit value v as a signed difference. */
const extend = (v: number, s: number): number => (s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v);

/** A decoded grey JPEG: samples 0..2^precision - 1, row-major. */
export interface JpegDctImage {
  width: number;
  height: number;
  precision: number;
  data: Uint16Array;
}

/**
 * Decode a one-component sequential DCT JPEG (SOF0 or SOF1, Huffman).
 * @param jpeg the codestream (SOI ... EOI)
 * @throws JpegDctError (`unsupported` set for progressive, arithmetic, lossless or multi-component streams).
 */
export function decodeJpegDct(jpeg: Uint8Array): JpegDctImage {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new JpegDctError('no SOI marker');
  const qt: Uint16Array[] = [];
  const dc: Huffman[] = [];
  const ac: Huffman[] = [];
  let restartInterval = 0;
  let frame: { precision: number; width: number; height: number; tq: number } | undefined;
  let p = 2;
  const u16 = (at: number): number => (jpeg[at]! << 8) | jpeg[at + 1]!;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new JpegDctError(`expected a marker at byte ${p}`);
    const m = jpeg[p + 1]!;
    if (m === 0xff) {
      p += 1; // fill byte
      continue;
    }
    const len = u16(p + 2);
    const seg = p + 4;
    const end = p + 2 + len;
    if (end > jpeg.length) throw new JpegDctError('a marker segment runs past the end');
    if (m === 0xdb) {
      for (let q = seg; q < end;) {
        const pq = jpeg[q]! >> 4;
        const table = new Uint16Array(64);
        for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = pq === 0 ? jpeg[q + 1 + k]! : u16(q + 1 + 2 * k);
        qt[jpeg[q]! & 15] = table;
        q += 1 + 64 * (pq === 0 ? 1 : 2);
      }
    } else if (m === 0xc4) {
      for (let q = seg; q < end;) {
        const counts = jpeg.subarray(q + 1, q + 17);
        const total = counts.reduce((s, c) => s + c, 0);
        const h = buildHuffman(counts, jpeg.slice(q + 17, q + 17 + total));
        (jpeg[q]! >> 4 === 0 ? dc : ac)[jpeg[q]! & 15] = h;
        q += 17 + total;
      }
    } else if (m === 0xc0 || m === 0xc1) {
      const nf = jpeg[seg + 5]!;
      if (nf !== 1)
        throw new JpegDctError(`${nf}-component DCT JPEG is not supported here (grey only)`, true);
      frame = { precision: jpeg[seg]!, height: u16(seg + 1), width: u16(seg + 3), tq: jpeg[seg + 8]! };
      if (frame.precision !== 8 && frame.precision !== 12)
        throw new JpegDctError(`sample precision ${frame.precision}`);
    } else if ((m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xc3) {
      throw new JpegDctError(
        `JPEG process of marker FF${m.toString(16).toUpperCase()} (progressive, lossless or arithmetic) is not supported here`,
        true,
      );
    } else if (m === 0xdd) {
      restartInterval = u16(seg);
    } else if (m === 0xda) {
      if (frame === undefined) throw new JpegDctError('scan before the frame header');
      const td = jpeg[seg + 2]! >> 4;
      const ta = jpeg[seg + 2]! & 15;
      return decodeScan(jpeg, end, frame, qt[frame.tq], dc[td], ac[ta], restartInterval);
    } else if (m === 0xd9) break;
    p = end;
  }
  throw new JpegDctError('no scan');
}

function decodeScan(
  jpeg: Uint8Array,
  start: number,
  f: { precision: number; width: number; height: number },
  q: Uint16Array | undefined,
  dc: Huffman | undefined,
  ac: Huffman | undefined,
  restartInterval: number,
): JpegDctImage {
  if (q === undefined || dc === undefined || ac === undefined)
    throw new JpegDctError('a table the scan uses is missing');
  const { width, height, precision } = f;
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  const out = new Uint16Array(width * height);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  const max = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  const bits = new Bits(jpeg, start);
  let pred = 0;
  for (let b = 0; b < bw * bh; b++) {
    if (restartInterval > 0 && b > 0 && b % restartInterval === 0) {
      bits.restart();
      pred = 0;
    }
    coef.fill(0);
    const t = bits.decode(dc);
    pred += extend(bits.receive(t), t);
    coef[0] = pred * q[0]!;
    for (let k = 1; k < 64;) {
      const rs = bits.decode(ac);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r !== 15) break; // EOB
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) throw new JpegDctError('AC coefficient index past 63');
      const z = ZIGZAG[k]!;
      coef[z] = extend(bits.receive(s), s) * q[z]!;
      k += 1;
    }
    // Separable IDCT: rows (over u), then columns (over v).
    for (let v = 0; v < 8; v++)
      for (let x = 0; x < 8; x++) {
        let sum = 0;
        for (let u = 0; u < 8; u++) sum += BASIS[x * 8 + u]! * coef[v * 8 + u]!;
        tmp[v * 8 + x] = sum;
      }
    const by = Math.floor(b / bw) * 8;
    const bx = (b % bw) * 8;
    for (let y = 0; y < 8 && by + y < height; y++)
      for (let x = 0; x < 8 && bx + x < width; x++) {
        let sum = 0;
        for (let v = 0; v < 8; v++) sum += BASIS[y * 8 + v]! * tmp[v * 8 + x]!;
        // Half-way values (DC-only blocks) round up, as libjpeg does; the epsilon absorbs the float error of the
        // basis products, which otherwise puts -127.5 just below the tie.
        const val = Math.floor(sum + 0.5 + 1e-6) + shift;
        out[(by + y) * width + bx + x] = val < 0 ? 0 : val > max ? max : val;
      }
  }
  return { width, height, precision, data: out };
}
