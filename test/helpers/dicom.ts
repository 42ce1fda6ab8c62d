/**
 * Test-side DICOM writing, independent of the decoders under test: a minimal explicit-VR little-endian PS3.10
 * writer (native or encapsulated pixel data, PS3.5 A.4), a DICOM fragment extractor that walks the items by hand,
 * and a JPEG lossless (process 14, predictor 1) encoder written from ITU-T T.81 Annex H.
 */

/** One data element. Numbers and arrays of numbers are written per VR (US binary, DS/IS as text). */
export interface DicomElement {
  tag: number; // 0xGGGGEEEE
  vr: string;
  value: Buffer | string | number | number[];
}

const LONG_VRS = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'OF']);

function valueBytes(el: DicomElement): Buffer {
  const { vr, value } = el;
  if (Buffer.isBuffer(value)) return value.length % 2 ? Buffer.concat([value, Buffer.alloc(1)]) : value;
  if (vr === 'US') {
    const vals = Array.isArray(value) ? value : [value as number];
    const b = Buffer.alloc(2 * vals.length);
    vals.forEach((v, i) => b.writeUInt16LE(v, 2 * i));
    return b;
  }
  let s = Array.isArray(value) ? value.join('\\') : String(value);
  if (s.length % 2) s += vr === 'UI' ? '\0' : ' ';
  return Buffer.from(s, 'latin1');
}

function element(tag: number, vr: string, v: Buffer, length = v.length): Buffer {
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(length, 8);
  else head.writeUInt16LE(length, 6);
  return Buffer.concat([head, v]);
}

function item(tag: number, v: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(tag, 2);
  head.writeUInt32LE(v.length, 4);
  return Buffer.concat([head, v]);
}

/**
 * Encapsulated pixel data: one list of fragments per frame. `bot` writes the Basic Offset Table (frame start
 * offsets from the first fragment item), else the table item is empty. Odd fragments are zero padded.
 */
export function encapsulate(frames: Buffer[][], bot: boolean): Buffer {
  const fragments: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const frame of frames) {
    offsets.push(at);
    for (const f of frame) {
      const it = item(0xe000, f.length % 2 ? Buffer.concat([f, Buffer.alloc(1)]) : f);
      fragments.push(it);
      at += it.length;
    }
  }
  const table = Buffer.alloc(bot ? 4 * offsets.length : 0);
  if (bot) offsets.forEach((o, i) => table.writeUInt32LE(o, 4 * i));
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([item(0xe000, table), ...fragments, end]);
}

/**
 * A PS3.10 file: preamble, meta header with the transfer syntax, then the elements in tag order (explicit VR LE).
 * An element whose value came from `encapsulate` must be given with `encapsulated: true` (undefined length).
 */
export function writeDicomFile(
  elements: (DicomElement & { encapsulated?: boolean })[],
  tsUid: string,
): Buffer {
  const meta = element(0x00020010, 'UI', valueBytes({ tag: 0x00020010, vr: 'UI', value: tsUid }));
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const body = sorted.map((e) =>
    e.encapsulated === true
      ? element(e.tag, e.vr, e.value as Buffer, 0xffffffff)
      : element(e.tag, e.vr, valueBytes(e)),
  );
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), meta, ...body]);
}

/** The fragments of the encapsulated (7FE0,0010) element of a file, found by walking its items by hand. */
export function fragmentsOf(file: Buffer): Buffer[] {
  for (let i = 132; i + 12 <= file.length; i++) {
    if (file.readUInt32LE(i) === 0x00107fe0 && file.readUInt32LE(i + 8) === 0xffffffff) {
      const out: Buffer[] = [];
      let p = i + 12;
      let first = true;
      while (p + 8 <= file.length && file.readUInt16LE(p + 2) === 0xe000) {
        const len = file.readUInt32LE(p + 4);
        if (!first) out.push(file.subarray(p + 8, p + 8 + len));
        first = false;
        p += 8 + len;
      }
      return out;
    }
  }
  throw new Error('no encapsulated pixel data');
}

/** The image elements of a grey frame set (Rows, Columns, bits, photometric, frames). */
export function greyImageElements(o: {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  frames?: number;
}): DicomElement[] {
  const els: DicomElement[] = [
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: o.rows },
    { tag: 0x00280011, vr: 'US', value: o.columns },
    { tag: 0x00280100, vr: 'US', value: o.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: o.bitsStored },
    { tag: 0x00280102, vr: 'US', value: o.bitsStored - 1 },
    { tag: 0x00280103, vr: 'US', value: o.signed ? 1 : 0 },
  ];
  if (o.frames !== undefined) els.push({ tag: 0x00280008, vr: 'IS', value: o.frames });
  return els;
}

/** MSB-first bit writer with JPEG byte stuffing (0xFF is followed by 0x00). */
class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--) {
      this.acc = (this.acc << 1) | ((value >>> b) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
  finish(): Buffer {
    while (this.n !== 0) this.write(1, 1); // pad with 1 bits (T.81 F.1.2.3)
    return Buffer.from(this.bytes);
  }
}

/**
 * JPEG lossless (SOF3, one component, predictor 1 = left neighbour, point transform 0), T.81 Annex H. One Huffman
 * table where each difference category 0..16 has the 5-bit code equal to its number.
 * @param samples raw sample words (two's complement bits as unsigned for signed data), row-major
 */
export function encodeJpegLossless(
  samples: ArrayLike<number>,
  width: number,
  height: number,
  precision: number,
): Buffer {
  const seg = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const bits = new Array<number>(16).fill(0);
  bits[4] = 17; // 17 codes of length 5
  const dht = seg(0xc4, [0x00, ...bits, ...Array.from({ length: 17 }, (_, i) => i)]);
  const sof = seg(0xc3, [precision, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const sos = seg(0xda, [1, 1, 0x00, 1, 0, 0]);
  const mod = 2 ** precision;
  const w = new BitWriter();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const pred = x > 0 ? samples[i - 1]! : y > 0 ? samples[i - width]! : 2 ** (precision - 1);
      let d = (samples[i]! - pred) % mod;
      if (d < 0) d += mod;
      if (d > mod / 2) d -= mod; // differences modulo 2^P, in (-2^(P-1), 2^(P-1)]
      const ssss = d === 0 ? 0 : Math.floor(Math.log2(Math.abs(d))) + 1;
      w.write(ssss, 5);
      if (ssss > 0 && ssss < 16) w.write(d > 0 ? d : d + 2 ** ssss - 1, ssss);
    }
  }
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, ...dht, ...sof, ...sos]),
    w.finish(),
    Buffer.from([0xff, 0xd9]),
  ]);
}
