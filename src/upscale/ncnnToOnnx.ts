/**
 * ncnn graph -> ONNX graph, op by op (ncnn's "operation param weight table" -> the ONNX operator spec):
 * Convolution (+ fused ReLU / LeakyReLU / Clip / Sigmoid) -> Conv [+ activation], PReLU -> PRelu, Eltwise -> Mul by
 * each coefficient + Sum, BinaryOp -> Add/Sub/Mul/Div/Max/Min, Concat (channel axis) -> Concat, Interp -> Resize,
 * PixelShuffle -> DepthToSpace (mode CRD = PyTorch's pixel_shuffle, ncnn mode 0), Split/Noop -> aliases.
 * Input: float32 NCHW [1, C, H, W] named `input`, H and W dynamic; output `output`. Weights as float32.
 */
import { BlindspotError } from '../errors.ts';
import { arrayParam, intParam, type NcnnLayer, type NcnnNet } from './ncnn.ts';
import { writeOnnxModel, type OnnxNode, type OnnxTensor } from './onnxWriter.ts';

/** Convert a loaded ncnn network to the bytes of an equivalent ONNX model. */
export function ncnnToOnnx(net: NcnnNet): Uint8Array {
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const alias = new Map<string, string>();
  const val = (blob: string): string => alias.get(blob) ?? blob;
  let k = 0;
  const constant = (values: number[], dims: number[] = [values.length]): string => {
    const name = `const_${k++}`;
    inits.push({ name, dims, data: Float32Array.from(values) });
    return name;
  };
  let channels = 3;
  for (const l of net.layers) {
    const ins = l.inputs.map(val);
    const out = l.outputs[0]!;
    const unsupported = (what: string) =>
      new BlindspotError('E_UNSUPPORTED', `layer ${l.name} (${l.type}): ${what}`, net.paramPath);
    switch (l.type) {
      case 'Input':
        channels = intParam(l, 2, 3) || 3;
        alias.set(out, 'input');
        break;
      case 'Split':
      case 'Noop':
        for (const o of l.outputs) alias.set(o, ins[0]!);
        break;
      case 'Convolution':
        convolution(l, ins[0]!, out, nodes, inits, unsupported);
        break;
      case 'ReLU': {
        const slope = intParam(l, 0, 0);
        nodes.push(
          slope === 0
            ? { op: 'Relu', inputs: ins, outputs: [out] }
            : {
                op: 'LeakyRelu',
                inputs: ins,
                outputs: [out],
                attributes: [{ name: 'alpha', type: 'float', value: slope }],
              },
        );
        break;
      }
      case 'Sigmoid':
        nodes.push({ op: 'Sigmoid', inputs: ins, outputs: [out] });
        break;
      case 'PReLU': {
        const s = l.slope!;
        const slope = `${l.name}_slope`;
        inits.push({ name: slope, dims: s.length === 1 ? [1] : [s.length, 1, 1], data: s });
        nodes.push({ op: 'PRelu', inputs: [ins[0]!, slope], outputs: [out] });
        break;
      }
      case 'Eltwise': {
        const op = intParam(l, 0, 1);
        const coeffs = arrayParam(l, 1);
        if (op === 1) {
          const terms = ins.map((x, i) => {
            const c = coeffs[i] ?? 1;
            if (c === 1) return x;
            const y = `${out}_term${i}`;
            nodes.push({ op: 'Mul', inputs: [x, constant([c], [])], outputs: [y] });
            return y;
          });
          nodes.push({ op: 'Sum', inputs: terms, outputs: [out] });
        } else if (op === 0 || op === 2) {
          if (coeffs.some((c) => c !== 1)) throw unsupported('coefficients on product/max');
          nodes.push({ op: op === 0 ? 'Mul' : 'Max', inputs: ins, outputs: [out] });
        } else throw unsupported(`op_type ${op}`);
        break;
      }
      case 'BinaryOp': {
        const op = intParam(l, 0, 0);
        const ops = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Sub', 'Div'];
        if (op > 8) throw unsupported(`op_type ${op}`);
        const pair = intParam(l, 1, 0) ? [ins[0]!, constant([intParam(l, 2, 0)], [])] : [ins[0]!, ins[1]!];
        // 7 = rsub, 8 = rdiv: b op a
        nodes.push({ op: ops[op]!, inputs: op >= 7 ? [pair[1]!, pair[0]!] : pair, outputs: [out] });
        break;
      }
      case 'Concat': {
        const axis = intParam(l, 0, 0);
        if (axis < -3 || axis > 2) throw unsupported(`axis ${axis}`);
        nodes.push({
          op: 'Concat',
          inputs: ins,
          outputs: [out],
          attributes: [{ name: 'axis', type: 'int', value: axis < 0 ? axis : axis + 1 }],
        });
        break;
      }
      case 'Interp': {
        const type = intParam(l, 0, 0);
        const s = intParam(l, 1, 1);
        const attrs: OnnxNode['attributes'] =
          type === 1
            ? [
                { name: 'mode', type: 'string', value: 'nearest' },
                { name: 'coordinate_transformation_mode', type: 'string', value: 'asymmetric' },
                { name: 'nearest_mode', type: 'string', value: 'floor' },
              ]
            : type === 2
              ? [
                  { name: 'mode', type: 'string', value: 'linear' },
                  {
                    name: 'coordinate_transformation_mode',
                    type: 'string',
                    value: intParam(l, 6, 0) ? 'align_corners' : 'half_pixel',
                  },
                ]
              : [];
        if (attrs.length === 0) throw unsupported(`resize_type ${type}`);
        nodes.push({
          op: 'Resize',
          inputs: [ins[0]!, '', constant([1, 1, s, s])],
          outputs: [out],
          attributes: attrs,
        });
        break;
      }
      case 'PixelShuffle': {
        const mode = intParam(l, 1, 0) ? 'DCR' : 'CRD';
        nodes.push({
          op: 'DepthToSpace',
          inputs: ins,
          outputs: [out],
          attributes: [
            { name: 'blocksize', type: 'int', value: intParam(l, 0, 1) },
            { name: 'mode', type: 'string', value: mode },
          ],
        });
        break;
      }
      default:
        throw unsupported('not supported');
    }
  }
  const last = val(net.output);
  if (last !== 'output') {
    const producer = nodes.find((n) => n.outputs[0] === last);
    if (producer && last === net.output) (producer.outputs as string[])[0] = 'output';
    else nodes.push({ op: 'Identity', inputs: [last], outputs: ['output'] });
  }
  return writeOnnxModel({
    name: 'ncnn',
    nodes,
    initializers: inits,
    inputs: [{ name: 'input', shape: [1, channels, 'H', 'W'] }],
    outputs: [{ name: 'output', shape: [1, 'C', 'OH', 'OW'] }],
    producer: 'blindspot ncnn converter',
    docString: `converted from ${net.paramPath} (sha256 ${net.sha256})`,
  });
}

function convolution(
  l: NcnnLayer,
  x: string,
  out: string,
  nodes: OnnxNode[],
  inits: OnnxTensor[],
  unsupported: (what: string) => Error,
): void {
  const o = intParam(l, 0, 0);
  const kw = intParam(l, 1, 0);
  const kh = intParam(l, 11, kw);
  const dw = intParam(l, 2, 1);
  const sw = intParam(l, 3, 1);
  const pl = intParam(l, 4, 0);
  const pt = intParam(l, 14, pl);
  const pr = intParam(l, 15, pl);
  const pb = intParam(l, 16, pt);
  if (pl < 0 || pt < 0) throw unsupported('"same" padding (negative pad values)');
  const c = l.weight!.length / (o * kh * kw);
  const w = `${l.name}_W`;
  inits.push({ name: w, dims: [o, c, kh, kw], data: l.weight! });
  const inputs = [x, w];
  if (l.bias) {
    inputs.push(`${l.name}_B`);
    inits.push({ name: `${l.name}_B`, dims: [o], data: l.bias });
  }
  const act = intParam(l, 9, 0);
  const ap = arrayParam(l, 10);
  const y = act === 0 ? out : `${out}_conv`;
  nodes.push({
    op: 'Conv',
    inputs,
    outputs: [y],
    name: l.name,
    attributes: [
      { name: 'kernel_shape', type: 'ints', value: [kh, kw] },
      { name: 'strides', type: 'ints', value: [intParam(l, 13, sw), sw] },
      { name: 'dilations', type: 'ints', value: [intParam(l, 12, dw), dw] },
      { name: 'pads', type: 'ints', value: [pt, pl, pb, pr] },
    ],
  });
  if (act === 0) return;
  if (act === 1) nodes.push({ op: 'Relu', inputs: [y], outputs: [out] });
  else if (act === 2) {
    nodes.push({
      op: 'LeakyRelu',
      inputs: [y],
      outputs: [out],
      attributes: [{ name: 'alpha', type: 'float', value: ap[0] ?? 0 }],
    });
  } else if (act === 3) {
    const lo = `${l.name}_min`;
    const hi = `${l.name}_max`;
    inits.push(
      { name: lo, dims: [], data: Float32Array.of(ap[0] ?? 0) },
      { name: hi, dims: [], data: Float32Array.of(ap[1] ?? 0) },
    );
    nodes.push({ op: 'Clip', inputs: [y, lo, hi], outputs: [out] });
  } else if (act === 4) nodes.push({ op: 'Sigmoid', inputs: [y], outputs: [out] });
  else throw unsupported(`activation_type ${act}`);
}
