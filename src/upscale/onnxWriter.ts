/**
 * A minimal ONNX writer: the protobuf wire format (varints, length-delimited fields, fixed32 floats) for the few
 * messages an inference graph needs — ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto — written from onnx/onnx.proto's field numbers. Repeated scalars are written unpacked, which
 * every protobuf parser accepts for proto2 files like onnx.proto. No dependency: only this writes ONNX here, and
 * onnxruntime reads it.
 */

/** A node attribute, with its ONNX type spelled out (an integer 2 and a float 2.0 differ in ONNX). */
export type OnnxAttribute =
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'ints'; value: readonly number[] }
  | { name: string; type: 'floats'; value: readonly number[] };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly OnnxAttribute[];
}

/** An initializer (constant): float32 or int64 data, row-major. */
export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32 with a shape whose entries are sizes or symbolic names ('H'). */
export interface OnnxValueInfo {
  name: string;
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  /** Default opset of the ai.onnx domain (default 17). */
  opset?: number;
  producer?: string;
  docString?: string;
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;
const FLOAT = 1;
const INT64 = 7;
const IR_VERSION = 8;

/** Protobuf encoder: fields appended to a list of chunks, concatenated once. */
class Pb {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private scratch: number[] = [];

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: number | bigint): void {
    const s = this.scratch;
    s.length = 0;
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      s.push(x ? byte | 0x80 : byte);
    } while (x);
    this.push(Uint8Array.from(s));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function attribute(a: OnnxAttribute): Pb {
  const m = new Pb().string(1, a.name);
  switch (a.type) {
    case 'float':
      return m.float(2, a.value).int(20, 1);
    case 'int':
      return m.int(3, a.value).int(20, 2);
    case 'string':
      return m.string(4, a.value).int(20, 3);
    case 'floats':
      for (const v of a.value) m.float(7, v);
      return m.int(20, 6);
    case 'ints':
      for (const v of a.value) m.int(8, v);
      return m.int(20, 7);
  }
}

function node(n: OnnxNode): Pb {
  const m = new Pb();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.op);
  for (const a of n.attributes ?? []) m.message(5, attribute(a));
  return m;
}

function tensor(t: OnnxTensor): Pb {
  const m = new Pb();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  m.string(8, t.name);
  // raw_data is little-endian, like the typed array on every platform Node supports
  return m.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function valueInfo(v: OnnxValueInfo): Pb {
  const shape = new Pb();
  for (const d of v.shape)
    shape.message(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().string(2, d));
  const tensorType = new Pb().int(1, FLOAT).message(2, shape);
  return new Pb().string(1, v.name).message(2, new Pb().message(1, tensorType));
}

/**
 * Serialise a graph as an ONNX ModelProto (IR version 8, default opset 17).
 * @returns the bytes of a `.onnx` file
 */
export function writeOnnxModel(g: OnnxGraph): Uint8Array {
  const graph = new Pb();
  for (const n of g.nodes) graph.message(1, node(n));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const model = new Pb().int(1, IR_VERSION).string(2, g.producer ?? 'blindspot');
  if (g.docString) model.string(6, g.docString);
  model.message(7, graph);
  model.message(8, new Pb().string(1, '').int(2, g.opset ?? 17));
  return model.finish();
}
