/**
 * Reader for ncnn models (`.param` text graph + `.bin` weights), the format Upscayl and Real-ESRGAN-ncnn-vulkan
 * ship Real-ESRGAN in. Re-implemented from ncnn's documented formats (wiki "param and model file structure",
 * "operation param weight table"): only the layer types super-resolution nets use are accepted, and every byte of
 * the `.bin` must be consumed — a weight file that is short, long or misread is an error, never a silent mismatch.
 *
 * Weights come back as float32 in ncnn's (= ONNX's) layout: convolution [out][in][kh][kw], then bias; PReLU slopes.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BlindspotError } from '../errors.ts';

const MAGIC = 7767517;
const TAG_FP16 = 0x01306b47;

/** One layer: ncnn type, name, input/output blob names and its key=value parameters (arrays as number[]). */
export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: Map<number, number | number[]>;
  /** Convolution: [out][in][kh][kw] float32. */
  weight?: Float32Array;
  /** Convolution bias (num_output). */
  bias?: Float32Array;
  /** PReLU slopes (one per channel, or one shared). */
  slope?: Float32Array;
}

/** A parsed ncnn network. */
export interface NcnnNet {
  layers: NcnnLayer[];
  /** Name of the (single) input blob. */
  input: string;
  /** Name of the (single) output blob: the one blob produced and never consumed. */
  output: string;
  /** Learned parameters (weights + biases + slopes). */
  parameterCount: number;
  /** SHA-256 (hex) of the .param and .bin bytes together: the conversion cache key. */
  sha256: string;
  /** Output size / input size (from the graph: conv strides, Interp scales, PixelShuffle factors). */
  scale: number;
  paramPath: string;
  binPath: string;
}

/** Layer types the converter and the TF.js runner understand. */
export const NCNN_LAYER_TYPES = [
  'Input',
  'Split',
  'Convolution',
  'ReLU',
  'PReLU',
  'Sigmoid',
  'Eltwise',
  'BinaryOp',
  'Concat',
  'Interp',
  'PixelShuffle',
  'Noop',
] as const;

/** Integer parameter `id` of a layer, or `def`. */
export function intParam(l: NcnnLayer, id: number, def: number): number {
  const v = l.params.get(id);
  return typeof v === 'number' ? v : def;
}

/** Array parameter `id` of a layer, or []. */
export function arrayParam(l: NcnnLayer, id: number): number[] {
  const v = l.params.get(id);
  return Array.isArray(v) ? v : [];
}

function corrupt(file: string, what: string): BlindspotError {
  return new BlindspotError('E_CORRUPT', `not a valid ncnn model: ${what}`, file);
}

/** Parse the `.param` text. */
export function parseNcnnParam(text: string, file: string): NcnnLayer[] {
  const lines = text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (Number(lines[0]) !== MAGIC) throw corrupt(file, `first line is not the magic number ${MAGIC}`);
  const counts = (lines[1] ?? '').split(/\s+/).map(Number);
  const layerCount = counts[0]!;
  if (counts.length !== 2 || !Number.isInteger(layerCount) || layerCount <= 0) {
    throw corrupt(file, 'line 2 is not "layer_count blob_count"');
  }
  if (lines.length - 2 !== layerCount) {
    throw corrupt(file, `header says ${layerCount} layers, file has ${lines.length - 2}`);
  }
  const layers: NcnnLayer[] = [];
  for (let i = 2; i < lines.length; i++) {
    const f = lines[i]!.split(/\s+/);
    const nIn = Number(f[2]);
    const nOut = Number(f[3]);
    if (f.length < 4 || !Number.isInteger(nIn) || !Number.isInteger(nOut) || f.length < 4 + nIn + nOut) {
      throw corrupt(file, `line ${i + 1} is not a layer line`);
    }
    const params = new Map<number, number | number[]>();
    for (const kv of f.slice(4 + nIn + nOut)) {
      const m = /^(-?\d+)=(.+)$/.exec(kv);
      if (!m) throw corrupt(file, `line ${i + 1}: bad parameter "${kv}"`);
      const key = Number(m[1]);
      if (key <= -23300) {
        const vals = m[2]!.split(',').map(Number);
        if (vals.some((v) => !Number.isFinite(v)) || vals[0] !== vals.length - 1) {
          throw corrupt(file, `line ${i + 1}: bad array parameter "${kv}"`);
        }
        params.set(-key - 23300, vals.slice(1));
      } else {
        const v = Number(m[2]);
        if (!Number.isFinite(v)) throw corrupt(file, `line ${i + 1}: bad parameter "${kv}"`);
        params.set(key, v);
      }
    }
    layers.push({
      type: f[0]!,
      name: f[1]!,
      inputs: f.slice(4, 4 + nIn),
      outputs: f.slice(4 + nIn, 4 + nIn + nOut),
      params,
    });
  }
  return layers;
}

/** Sequential reader of the `.bin` following ncnn's ModelBin rules. */
class BinReader {
  offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly file: string,
  ) {}

  private need(bytes: number, what: string): void {
    if (this.offset + bytes > this.buf.length) {
      throw corrupt(
        this.file,
        `weights end at byte ${this.buf.length}, ${what} needs ${this.offset + bytes} (truncated?)`,
      );
    }
  }

  /** Raw float32 (ncnn type 1: biases, slopes). */
  raw(n: number, what: string): Float32Array {
    this.need(4 * n, what);
    // copy (the offset need not be 4-aligned in the Buffer's memory), then view as little-endian float32
    const out = new Float32Array(new Uint8Array(this.buf.subarray(this.offset, this.offset + 4 * n)).buffer);
    this.offset += 4 * n;
    return out;
  }

  /** Tagged weights (ncnn type 0): a 4-byte tag, then fp16 (padded to 4 bytes) or, for tag 0, float32. */
  tagged(n: number, what: string): Float32Array {
    this.need(4, what);
    const tag = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    if (tag === TAG_FP16) {
      this.need(2 * n, what);
      const out = new Float32Array(n);
      const halves = new Uint16Array(
        new Uint8Array(this.buf.subarray(this.offset, this.offset + 2 * n)).buffer,
      );
      const table = halfTable();
      for (let i = 0; i < n; i++) out[i] = table[halves[i]!]!;
      this.offset += (2 * n + 3) & ~3;
      return out;
    }
    if (tag === 0) return this.raw(n, what);
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `${what}: weight storage tag 0x${tag.toString(16)} (int8 or table-quantized) is not supported; use fp16/fp32 weights`,
      this.file,
    );
  }
}

let halves: Float32Array | undefined;
/** All 65,536 half-precision values as float32 (a table lookup per weight instead of bit arithmetic). */
function halfTable(): Float32Array {
  if (!halves) {
    halves = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halves[h] = halfToFloat(h);
  }
  return halves;
}

/** IEEE 754 half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Read the weights each layer owns, in file order. */
function readWeights(layers: NcnnLayer[], bin: BinReader, file: string): number {
  let count = 0;
  for (const l of layers) {
    const what = `layer ${l.name}`;
    if (!(NCNN_LAYER_TYPES as readonly string[]).includes(l.type)) {
      throw new BlindspotError(
        'E_UNSUPPORTED',
        `layer ${l.name} has type ${l.type}; supported: ${NCNN_LAYER_TYPES.join(', ')}`,
        file,
      );
    }
    if (l.type === 'Convolution') {
      const out = intParam(l, 0, 0);
      const kw = intParam(l, 1, 0);
      const kh = intParam(l, 11, kw);
      const size = intParam(l, 6, 0);
      if (intParam(l, 8, 0) !== 0)
        throw new BlindspotError('E_UNSUPPORTED', `${what}: int8 convolution`, file);
      if (out <= 0 || kw <= 0 || size <= 0 || size % (out * kw * kh) !== 0) {
        throw corrupt(file, `${what}: weight_data_size ${size} does not fit ${out} outputs of ${kh}x${kw}`);
      }
      l.weight = bin.tagged(size, what);
      if (intParam(l, 5, 0)) l.bias = bin.raw(out, what);
      count += size + (l.bias?.length ?? 0);
    } else if (l.type === 'PReLU') {
      l.slope = bin.raw(Math.max(1, intParam(l, 0, 1)), what);
      count += l.slope.length;
    }
  }
  return count;
}

/** The graph's spatial scale: walk the layers, tracking each blob's size relative to the input. */
function graphScale(layers: NcnnLayer[], file: string): Map<string, number> {
  const s = new Map<string, number>();
  for (const l of layers) {
    let v = l.type === 'Input' ? 1 : s.get(l.inputs[0]!);
    if (v === undefined) throw corrupt(file, `layer ${l.name} reads blob ${l.inputs[0]} before it is made`);
    if (l.type === 'Convolution') v /= intParam(l, 3, 1);
    else if (l.type === 'PixelShuffle') v *= intParam(l, 0, 1);
    else if (l.type === 'Interp') {
      if (intParam(l, 3, 0) || intParam(l, 4, 0) || intParam(l, 5, 0)) {
        throw new BlindspotError('E_UNSUPPORTED', `layer ${l.name}: Interp to a fixed or dynamic size`, file);
      }
      const hs = intParam(l, 1, 1);
      if (hs !== intParam(l, 2, 1))
        throw new BlindspotError('E_UNSUPPORTED', `layer ${l.name}: anisotropic Interp`, file);
      v *= hs;
    }
    for (const o of l.outputs) s.set(o, v);
  }
  return s;
}

/** The model files of an ncnn model directory (one .param/.bin pair) or of an explicit .param path. */
export async function findNcnnFiles(dirOrParam: string): Promise<{ paramPath: string; binPath: string }> {
  if (dirOrParam.endsWith('.param'))
    return { paramPath: dirOrParam, binPath: dirOrParam.replace(/\.param$/, '.bin') };
  let names: string[];
  try {
    names = await readdir(dirOrParam);
  } catch {
    throw new BlindspotError(
      'E_UNREADABLE',
      'not a readable ncnn model directory (expected NAME.param + NAME.bin)',
      dirOrParam,
    );
  }
  const params = names.filter((n) => n.endsWith('.param')).sort();
  if (params.length !== 1) {
    throw new BlindspotError(
      'E_INVALID_OPTION',
      `expected one .param file, found ${params.length}${params.length ? ` (${params.join(', ')}): name one as ncnn:DIR/NAME.param` : ''}`,
      dirOrParam,
    );
  }
  const p = join(dirOrParam, params[0]!);
  return { paramPath: p, binPath: p.replace(/\.param$/, '.bin') };
}

async function readOrThrow(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new BlindspotError('E_UNREADABLE', 'cannot read ncnn model file', path);
  }
}

/**
 * Load an ncnn model: parse the graph, read every weight, check that the .bin was consumed exactly.
 * @param paramPath the `.param` file (the `.bin` is next to it, same name)
 * @throws BlindspotError E_UNREADABLE, E_CORRUPT (bad text, truncated or oversized weights), E_UNSUPPORTED
 */
export async function loadNcnn(
  paramPath: string,
  binPath = paramPath.replace(/\.param$/, '.bin'),
): Promise<NcnnNet> {
  const paramBytes = await readOrThrow(paramPath);
  const binBytes = await readOrThrow(binPath);
  const layers = parseNcnnParam(paramBytes.toString('utf8'), paramPath);
  const reader = new BinReader(binBytes, binPath);
  const parameterCount = readWeights(layers, reader, binPath);
  if (reader.offset !== binBytes.length) {
    throw corrupt(
      binPath,
      `the graph uses ${reader.offset} bytes of weights, the file has ${binBytes.length}`,
    );
  }
  const inputs = layers.filter((l) => l.type === 'Input');
  if (inputs.length !== 1 || inputs[0]!.outputs.length !== 1)
    throw corrupt(paramPath, 'expected exactly one Input layer');
  const consumed = new Set(layers.flatMap((l) => l.inputs));
  const produced = layers.flatMap((l) => l.outputs);
  const outs = produced.filter((b) => !consumed.has(b));
  if (outs.length !== 1)
    throw corrupt(
      paramPath,
      `expected one output blob, found ${outs.length} (${outs.slice(0, 4).join(', ')})`,
    );
  const scales = graphScale(layers, paramPath);
  const scale = scales.get(outs[0]!)!;
  if (!Number.isInteger(scale) || scale < 1) {
    throw new BlindspotError(
      'E_UNSUPPORTED',
      `graph scale is ${scale}; an integer upscaling factor is needed`,
      paramPath,
    );
  }
  const sha256 = createHash('sha256').update(paramBytes).update(binBytes).digest('hex');
  return {
    layers,
    input: inputs[0]!.outputs[0]!,
    output: outs[0]!,
    parameterCount,
    sha256,
    scale,
    paramPath,
    binPath,
  };
}
