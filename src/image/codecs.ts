/**
 * Compressed DICOM frame decoders, each loaded on first use (the WebAssembly codecs take 50-350 ms to start):
 * JPEG 2000 and HTJ2K through @cornerstonejs/codec-openjpeg (OpenJPEG with its HT block decoder), JPEG-LS through
 * @cornerstonejs/codec-charls, JPEG lossless (process 14) through jpeg-lossless-decoder-js. Every decoder returns
 * the samples as little-endian bytes plus the layout it found, so dicom.ts unpacks them like native pixel data.
 */
import { createRequire } from 'node:module';
import { BlindspotError } from '../errors.ts';

/** One decoded frame: samples as host (little-endian) bytes. */
export interface DecodedFrame {
  bytes: Uint8Array;
  width: number;
  height: number;
  components: number;
  /** 1 or 2 bytes per sample. */
  bytesPerSample: number;
  /** True when colour planes follow each other (R plane, G plane, B plane) instead of RGBRGB... */
  planar: boolean;
}

/** The codec family of a compressed transfer syntax. */
export type CodecKind = 'jpeg2000' | 'jpegls' | 'jpeglossless';

/** Emscripten module surface used here (decoders own WebAssembly memory and must be deleted). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getInterleaveMode?(): number;
  delete(): void;
}
interface WasmCodec {
  J2KDecoder?: new () => WasmDecoder;
  JpegLSDecoder?: new () => WasmDecoder;
  getExceptionMessage?(e: unknown): string;
}
type Factory = (options: { print: () => void; printErr: () => void }) => Promise<WasmCodec>;

const require = createRequire(import.meta.url);
const loaded = new Map<string, Promise<WasmCodec>>();

/** Load an Emscripten codec once; its console chatter ([INFO] lines from OpenJPEG) is silenced. */
function wasmCodec(specifier: string): Promise<WasmCodec> {
  let p = loaded.get(specifier);
  if (p === undefined) {
    const factory = require(specifier) as Factory;
    p = factory({ print: () => undefined, printErr: () => undefined });
    loaded.set(specifier, p);
  }
  return p;
}

function fail(what: string, frame: number, path: string, detail?: string): BlindspotError {
  const why = detail === undefined ? '' : `: ${detail.split('\n')[0]}`;
  return new BlindspotError(
    'E_CORRUPT',
    `DICOM ${what} frame ${frame} does not decode (truncated or corrupt)${why}`,
    path,
  );
}

/** Run an Emscripten decoder over one codestream and copy its output out of WebAssembly memory. */
async function decodeWasm(
  specifier: string,
  kind: 'J2KDecoder' | 'JpegLSDecoder',
  what: string,
  codestream: Uint8Array,
  frame: number,
  path: string,
): Promise<DecodedFrame> {
  const codec = await wasmCodec(specifier);
  const Decoder = codec[kind]!;
  const d = new Decoder();
  try {
    d.getEncodedBuffer(codestream.length).set(codestream);
    d.decode();
    const info = d.getFrameInfo();
    const planar = info.componentCount > 1 && d.getInterleaveMode?.() === 0;
    return {
      bytes: d.getDecodedBuffer().slice(),
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bytesPerSample: info.bitsPerSample > 8 ? 2 : 1,
      planar,
    };
  } catch (e) {
    const detail = typeof e === 'number' ? codec.getExceptionMessage?.(e) : (e as Error)?.message;
    throw fail(what, frame, path, detail);
  } finally {
    d.delete();
  }
}

/** The part of jpeg-lossless-decoder-js used here (the package ships no type declarations). */
interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array;
  frame: { dimX: number; dimY: number; numComp: number };
}

function decodeJpegLossless(codestream: Uint8Array, frame: number, path: string): Promise<DecodedFrame> {
  const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };
  // A fresh decoder per frame: it keeps the byte width of the previous image.
  const d = new Decoder();
  let out: Uint8Array | Uint16Array;
  try {
    const copy = new Uint8Array(codestream); // a copy with its own ArrayBuffer (Buffer.slice would share)
    out = d.decode(copy.buffer, 0, copy.byteLength);
  } catch (e) {
    return Promise.reject(fail('JPEG lossless', frame, path, (e as Error)?.message));
  }
  const f = d.frame;
  return Promise.resolve({
    bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
    width: f.dimX,
    height: f.dimY,
    components: f.numComp,
    bytesPerSample: out.BYTES_PER_ELEMENT,
    planar: false,
  });
}

/**
 * Decode one compressed frame.
 * @param kind the codec family (from the transfer syntax)
 * @param codestream the frame's bytes (fragments already joined)
 * @param frame the frame index (for messages)
 * @param path the file (for messages)
 * @throws BlindspotError E_CORRUPT when the codec rejects the codestream.
 */
export function decodeCompressedFrame(
  kind: CodecKind,
  codestream: Uint8Array,
  frame: number,
  path: string,
): Promise<DecodedFrame> {
  switch (kind) {
    case 'jpeg2000':
      return decodeWasm(
        '@cornerstonejs/codec-openjpeg/decodewasmjs',
        'J2KDecoder',
        'JPEG 2000',
        codestream,
        frame,
        path,
      );
    case 'jpegls':
      return decodeWasm(
        '@cornerstonejs/codec-charls/decodewasmjs',
        'JpegLSDecoder',
        'JPEG-LS',
        codestream,
        frame,
        path,
      );
    case 'jpeglossless':
      return decodeJpegLossless(codestream, frame, path);
  }
}
