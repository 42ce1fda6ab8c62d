/**
 * DICOM RLE Lossless (1.2.840.10008.1.2.5), written from DICOM PS3.5 Annex G. One frame is one fragment: a 64-byte
 * header (number of segments, then 15 little-endian uint32 segment offsets) followed by PackBits segments. Each
 * segment holds one byte plane of one sample: for every sample (colour component), its most significant byte
 * first. So a frame is always "planar", whatever PlanarConfiguration says.
 */
import { BlindspotError } from '../errors.ts';

/**
 * Decode one RLE frame into native little-endian bytes, component planes one after another
 * (R plane, G plane, B plane for colour), `bytesPerSample` bytes per sample.
 * @param frame the frame's fragment bytes (header + segments)
 * @param pixels rows * columns
 * @param samplesPerPixel 1 or 3
 * @param bytesPerSample BitsAllocated / 8 (1, 2 or 4)
 * @param path the file (for messages)
 * @throws BlindspotError E_CORRUPT (segment count or offsets do not fit, a segment decodes short).
 */
export function decodeRleFrame(
  frame: Uint8Array,
  pixels: number,
  samplesPerPixel: number,
  bytesPerSample: number,
  path: string,
): Uint8Array {
  const expected = samplesPerPixel * bytesPerSample;
  if (frame.length < 64) throw corrupt('the RLE header is shorter than 64 bytes', path);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = dv.getUint32(0, true);
  if (segments !== expected) {
    throw corrupt(
      `RLE frame has ${segments} segments, expected ${expected} (${samplesPerPixel} samples x ${bytesPerSample} bytes)`,
      path,
    );
  }
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) {
      throw corrupt(
        `RLE segment ${s} offsets ${start}..${end} fall outside the ${frame.length}-byte frame`,
        path,
      );
    }
    const component = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // MSB segment first; output little endian
    const base = component * pixels * bytesPerSample + byteInSample;
    const got = unpackBits(frame, start, end, out, base, bytesPerSample, pixels);
    if (got < pixels) throw corrupt(`RLE segment ${s} decodes to ${got} bytes, expected ${pixels}`, path);
  }
  return out;
}

/**
 * PackBits (PS3.5 G.3.1): header byte n as int8; 0..127 = copy the next n + 1 bytes, -127..-1 = repeat the next
 * byte 1 - n times, -128 = nothing. Writes at most `count` bytes to out[base + k * step]; returns how many.
 */
function unpackBits(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  base: number,
  step: number,
  count: number,
): number {
  let i = start;
  let k = 0;
  while (i < end && k < count) {
    const h = src[i++]!;
    if (h < 128) {
      const n = Math.min(h + 1, end - i, count - k);
      for (let j = 0; j < n; j++) out[base + (k + j) * step] = src[i + j]!;
      i += h + 1;
      k += n;
    } else if (h > 128) {
      if (i >= end) break;
      const v = src[i++]!;
      const n = Math.min(257 - h, count - k);
      for (let j = 0; j < n; j++) out[base + (k + j) * step] = v;
      k += n;
    }
  }
  return k;
}

function corrupt(message: string, path: string): BlindspotError {
  return new BlindspotError('E_CORRUPT', `DICOM ${message}`, path);
}
