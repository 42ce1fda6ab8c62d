/**
 * The same ncnn graphs run with TensorFlow.js (NHWC): the `--backend wasm|cpu` path for Real-ESRGAN and ncnn
 * models, and the other side of the ONNX Runtime vs TF.js benchmark. Weights go from ncnn's [out][in][kh][kw] to
 * TF.js's [kh][kw][in][out]; PyTorch's pixel shuffle (channel c*r*r + i*r + j) becomes a channel gather then TF.js's
 * depthToSpace (channel (i*r + j)*C + c).
 */
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { BlindspotError } from '../errors.ts';
import { initTf, type Tf, type TfBackendName } from '../tf/backend.ts';
import { arrayParam, intParam, type NcnnNet } from './ncnn.ts';
import type { SrNetwork } from './onnxBackend.ts';

type Op = (tf: Tf, inputs: Tensor[]) => Tensor;

/**
 * Build a TF.js runner for a loaded ncnn network (its valueMax is 1: Real-ESRGAN's range).
 * @throws BlindspotError E_UNSUPPORTED for a layer variant TF.js has no kernel for here
 */
export async function ncnnOnTf(net: NcnnNet, backend: TfBackendName, valueMax = 1): Promise<SrNetwork> {
  const tf = await initTf(backend);
  const ops: { inputs: string[]; outputs: string[]; op: Op | null }[] = [];
  for (const l of net.layers) {
    const unsupported = (what: string) =>
      new BlindspotError('E_UNSUPPORTED', `layer ${l.name} (${l.type}) on TF.js: ${what}`, net.paramPath);
    let op: Op | null = null;
    switch (l.type) {
      case 'Input':
      case 'Split':
      case 'Noop':
        op = null;
        break;
      case 'Convolution': {
        const o = intParam(l, 0, 0);
        const kw = intParam(l, 1, 0);
        const kh = intParam(l, 11, kw);
        const c = l.weight!.length / (o * kh * kw);
        const w = tf.tidy(() => tf.tensor4d(l.weight!, [o, c, kh, kw]).transpose([2, 3, 1, 0]) as Tensor4D);
        const b = l.bias ? tf.tensor1d(l.bias) : null;
        const pl = intParam(l, 4, 0);
        const pt = intParam(l, 14, pl);
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [
          [0, 0],
          [pt, intParam(l, 16, pt)],
          [pl, intParam(l, 15, pl)],
          [0, 0],
        ];
        const sw = intParam(l, 3, 1);
        const dw = intParam(l, 2, 1);
        const strides: [number, number] = [intParam(l, 13, sw), sw];
        const dil: [number, number] = [intParam(l, 12, dw), dw];
        const act = intParam(l, 9, 0);
        const ap = arrayParam(l, 10);
        if (act > 4) throw unsupported(`activation_type ${act}`);
        op = (t, [x]) => {
          let y: Tensor = t.conv2d(x as Tensor4D, w, strides, pad, 'NHWC', dil);
          if (b) y = t.add(y, b);
          if (act === 1) y = t.relu(y);
          else if (act === 2) y = t.leakyRelu(y, ap[0] ?? 0);
          else if (act === 3) y = t.clipByValue(y, ap[0] ?? 0, ap[1] ?? 0);
          else if (act === 4) y = t.sigmoid(y);
          return y;
        };
        break;
      }
      case 'ReLU': {
        const slope = intParam(l, 0, 0);
        op = (t, [x]) => (slope === 0 ? t.relu(x!) : t.leakyRelu(x!, slope));
        break;
      }
      case 'Sigmoid':
        op = (t, [x]) => t.sigmoid(x!);
        break;
      case 'PReLU': {
        const a = l.slope!.length === 1 ? tf.scalar(l.slope![0]!) : tf.tensor1d(l.slope!);
        op = (t, [x]) => t.prelu(x!, a);
        break;
      }
      case 'Eltwise': {
        const kind = intParam(l, 0, 1);
        const coeffs = arrayParam(l, 1);
        if (kind === 1)
          op = (t, xs) => t.addN(xs.map((x, i) => ((coeffs[i] ?? 1) === 1 ? x : t.mul(x, coeffs[i]!))));
        else if (kind === 0) op = (t, xs) => xs.reduce((a, x) => t.mul(a, x));
        else if (kind === 2) op = (t, xs) => xs.reduce((a, x) => t.maximum(a, x));
        else throw unsupported(`op_type ${kind}`);
        break;
      }
      case 'BinaryOp': {
        const kind = intParam(l, 0, 0);
        const scalar = intParam(l, 1, 0) ? intParam(l, 2, 0) : null;
        const fns = [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.pow];
        const rev = kind === 7 || kind === 8;
        const fn = fns[rev ? kind - 6 : kind];
        if (!fn) throw unsupported(`op_type ${kind}`);
        op = (_t, [a, b]) => {
          const rhs: Tensor | number = scalar === null ? b! : scalar;
          return rev ? fn(rhs, a!) : fn(a!, rhs);
        };
        break;
      }
      case 'Concat': {
        const axis = intParam(l, 0, 0);
        if (axis !== 0 && axis !== -3) throw unsupported(`axis ${axis} (only the channel axis)`);
        op = (t, xs) => t.concat(xs, 3);
        break;
      }
      case 'Interp': {
        const type = intParam(l, 0, 0);
        const s = intParam(l, 1, 1);
        const align = intParam(l, 6, 0) === 1;
        if (type !== 1 && type !== 2) throw unsupported(`resize_type ${type}`);
        op = (t, [x]) => {
          const [, h, w] = x!.shape as number[];
          const size: [number, number] = [h! * s, w! * s];
          return type === 1
            ? t.image.resizeNearestNeighbor(x as Tensor4D, size)
            : t.image.resizeBilinear(x as Tensor4D, size, align, !align);
        };
        break;
      }
      case 'PixelShuffle': {
        const r = intParam(l, 0, 1);
        const dcr = intParam(l, 1, 0) === 1;
        op = (t, [x]) => {
          const cin = x!.shape[3]!;
          const c = cin / (r * r);
          let y = x!;
          if (!dcr) {
            const perm = new Int32Array(cin);
            for (let i = 0; i < r; i++)
              for (let j = 0; j < r; j++)
                for (let k = 0; k < c; k++) perm[(i * r + j) * c + k] = k * r * r + i * r + j;
            y = t.gather(x!, t.tensor1d(perm, 'int32'), 3);
          }
          return t.depthToSpace(y as Tensor4D, r, 'NHWC');
        };
        break;
      }
      default:
        throw unsupported('not supported');
    }
    ops.push({ inputs: l.inputs, outputs: l.outputs, op });
  }
  const scale = net.scale;
  return {
    scale,
    valueMax,
    backend,
    source: net.paramPath,
    predict: async (rgb, width, height) => {
      const y = tf.tidy(() => {
        const blobs = new Map<string, Tensor>();
        blobs.set(net.input, tf.tensor4d(rgb, [1, height, width, 3]));
        for (const { inputs, outputs, op } of ops) {
          if (op === null) {
            const src = blobs.get(inputs[0] ?? net.input) ?? blobs.get(net.input)!;
            for (const o of outputs) blobs.set(o, src);
          } else
            blobs.set(
              outputs[0]!,
              op(
                tf,
                inputs.map((i) => blobs.get(i)!),
              ),
            );
        }
        return tf.clipByValue(blobs.get(net.output)!, 0, valueMax);
      });
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
  };
}
