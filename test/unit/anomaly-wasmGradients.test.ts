/**
 * The wasm gradient kernels (src/tf/wasmGradients.ts) against the cpu backend's own kernels, which serve as the
 * independent reference, on random tensors over strides, paddings, dilations and channel multipliers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf } from '../../src/tf/backend.ts';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from '../../src/tf/wasmGradients.ts';
import { mulberry32 } from '../helpers/rng.ts';

const tf = await initTf('wasm');

/** Deterministic uniform [-1, 1) samples (mulberry32). */
function randomArray(n: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rnd() * 2 - 1;
  return out;
}

type Inputs = Record<string, { shape: number[]; data: Float32Array }>;

function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: Inputs, attrs: Record<string, unknown>) {
  return tf.tidy(() => {
    const prev = tf.getBackend();
    tf.setBackend(backend);
    const ts: Record<string, import('@tensorflow/tfjs').Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
    const out = tf.engine().runKernel(kernel, ts, attrs as never) as import('@tensorflow/tfjs').Tensor;
    const r = { shape: out.shape, data: out.dataSync().slice() };
    tf.setBackend(prev);
    return r;
  });
}

function assertClose(kernel: string, label: string, inputs: Inputs, attrs: Record<string, unknown>) {
  const ref = runOn('cpu', kernel, inputs, attrs);
  const got = runOn('wasm', kernel, inputs, attrs);
  assert.deepEqual(got.shape, ref.shape, `${label}: shape`);
  let scale = 0;
  for (const v of ref.data) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got.data[i]! - ref.data[i]!);
    assert.ok(
      d <= 2e-5 * Math.max(1, scale),
      `${label}: element ${i} wasm ${got.data[i]} cpu ${ref.data[i]}`,
    );
  }
}

/** Forward output size for the dy shape, from tfjs's own geometry. */
function outShape(
  x: number[],
  f: number[],
  strides: number,
  dil: number,
  pad: 'same' | 'valid' | number,
  dw: boolean,
) {
  const info = tf.backend_util.computeConv2DInfo(x as never, f as never, strides, dil, pad, undefined, dw);
  return info.outShape;
}

test('registerWasmGradientKernels registers the missing kernels plus the faster Conv2DBackpropInput, idempotently', () => {
  registerWasmGradientKernels();
  for (const k of WASM_GRADIENT_KERNELS) assert.ok(tf.getKernel(k, 'wasm'), `${k} registered`);
  assert.deepEqual(registerWasmGradientKernels(), []);
});

const PADS: ('same' | 'valid' | number)[] = ['same', 'valid', 1];

test('Conv2DBackpropFilter and Conv2DBackpropInput on wasm equal the cpu kernels (filters 1x1..5x4, strides 1-3, same/valid/explicit)', () => {
  let seed = 1;
  for (const [kh, kw] of [
    [1, 1],
    [3, 3],
    [5, 4],
  ] as const) {
    for (const s of [1, 2, 3]) {
      for (const pad of PADS) {
        const x = [2, 11, 9, 3];
        const f = [kh, kw, 3, 4];
        const dy = outShape(x, f, s, 1, pad, false);
        const inputs = {
          x: { shape: x, data: randomArray(2 * 11 * 9 * 3, seed++) },
          dy: {
            shape: dy,
            data: randomArray(
              dy.reduce((a, b) => a * b, 1),
              seed++,
            ),
          },
        };
        const attrs = {
          strides: [s, s],
          pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          filterShape: f,
        };
        assertClose('Conv2DBackpropFilter', `k${kh}x${kw} s${s} ${pad}`, inputs, attrs);
        const w = {
          shape: f,
          data: randomArray(
            f.reduce((a, b) => a * b, 1),
            seed++,
          ),
        };
        const inAttrs = {
          strides: [s, s],
          pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          inputShape: x,
        };
        assertClose(
          'Conv2DBackpropInput',
          `input k${kh}x${kw} s${s} ${pad}`,
          { dy: inputs.dy, filter: w },
          inAttrs,
        );
      }
    }
  }
});

test('DepthwiseConv2dNative gradients on wasm equal the cpu kernels (multiplier 1-3, strides 1-2, same/valid/explicit)', () => {
  let seed = 100;
  const cases: { k: [number, number]; m: number; s: number; d: number }[] = [
    { k: [3, 3], m: 1, s: 1, d: 1 },
    { k: [3, 3], m: 1, s: 2, d: 1 },
    { k: [3, 3], m: 2, s: 2, d: 1 },
    { k: [1, 1], m: 3, s: 1, d: 1 },
    { k: [4, 4], m: 1, s: 2, d: 1 },
  ];
  for (const { k, m, s, d } of cases) {
    for (const pad of PADS) {
      const x = [2, 10, 9, 3];
      const f = [k[0], k[1], 3, m];
      const dy = outShape(x, f, s, d, pad, true);
      const xData = randomArray(2 * 10 * 9 * 3, seed++);
      const fData = randomArray(
        f.reduce((a, b) => a * b, 1),
        seed++,
      );
      const dyData = randomArray(
        dy.reduce((a, b) => a * b, 1),
        seed++,
      );
      const common = { strides: [s, s], dilations: [d, d], pad, dimRoundingMode: undefined };
      const label = `k${k.join('x')} m${m} s${s} d${d} ${pad}`;
      assertClose(
        'DepthwiseConv2dNativeBackpropInput',
        label,
        { dy: { shape: dy, data: dyData }, filter: { shape: f, data: fData } },
        { ...common, inputShape: x },
      );
      assertClose(
        'DepthwiseConv2dNativeBackpropFilter',
        label,
        { x: { shape: x, data: xData }, dy: { shape: dy, data: dyData } },
        { ...common, filterShape: f },
      );
    }
  }
});

/**
 * Dilation > 1: tfjs's cpu backprop kernels ignore dilation (its gradients refuse it), so the reference is the
 * adjoint identity of the (linear) forward op computed on cpu: <dy, conv(x, w)> = <dx(dy, w), x> = <dw(x, dy), w>.
 */
test('depthwise gradients with dilation 2 satisfy the adjoint identity of the cpu forward op', () => {
  let seed = 500;
  for (const pad of ['same', 'valid'] as const) {
    for (const m of [1, 2]) {
      const x = [1, 11, 10, 3];
      const f = [3, 2, 3, m];
      const dyShape = outShape(x, f, 1, 2, pad, true);
      const xData = randomArray(330, seed++);
      const fData = randomArray(
        f.reduce((a, b) => a * b, 1),
        seed++,
      );
      const dyData = randomArray(
        dyShape.reduce((a, b) => a * b, 1),
        seed++,
      );
      const forward = tf.tidy(() => {
        tf.setBackend('cpu');
        const y = tf.depthwiseConv2d(
          tf.tensor4d(xData, x as never),
          tf.tensor4d(fData, f as never),
          1,
          pad,
          'NHWC',
          2,
        );
        const v = tf.sum(tf.mul(y, tf.tensor(dyData, dyShape))).dataSync()[0]!;
        tf.setBackend('wasm');
        return v;
      });
      const common = { strides: [1, 1], dilations: [2, 2], pad, dimRoundingMode: undefined };
      const dx = runOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropInput',
        { dy: { shape: dyShape, data: dyData }, filter: { shape: f, data: fData } },
        { ...common, inputShape: x },
      );
      const dw = runOn(
        'wasm',
        'DepthwiseConv2dNativeBackpropFilter',
        { x: { shape: x, data: xData }, dy: { shape: dyShape, data: dyData } },
        { ...common, filterShape: f },
      );
      let viaDx = 0;
      for (let i = 0; i < xData.length; i++) viaDx += dx.data[i]! * xData[i]!;
      let viaDw = 0;
      for (let i = 0; i < fData.length; i++) viaDw += dw.data[i]! * fData[i]!;
      assert.ok(
        Math.abs(viaDx - forward) < 1e-4 * Math.max(1, Math.abs(forward)),
        `${pad} m${m}: dx ${viaDx} vs ${forward}`,
      );
      assert.ok(
        Math.abs(viaDw - forward) < 1e-4 * Math.max(1, Math.abs(forward)),
        `${pad} m${m}: dw ${viaDw} vs ${forward}`,
      );
    }
  }
});

test('the cpu-delegating implementation gives the same filter gradient, and no tensors leak', () => {
  const before = tf.memory().numTensors;
  const x = { shape: [1, 7, 7, 2], data: randomArray(98, 7) };
  const dy = { shape: [1, 4, 4, 3], data: randomArray(48, 8) };
  const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] };
  const ops = runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
  registerWasmGradientKernels('cpu');
  const viaCpu = runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
  registerWasmGradientKernels('ops');
  for (let i = 0; i < ops.data.length; i++) assert.ok(Math.abs(ops.data[i]! - viaCpu.data[i]!) < 1e-5);
  assert.equal(tf.memory().numTensors, before);
});

test('a conv net input+weight gradient on wasm matches cpu end to end (tf.grads through conv and depthwise)', () => {
  const lossOf = (backend: 'cpu' | 'wasm') =>
    tf.tidy(() => {
      tf.setBackend(backend);
      const x = tf.tensor4d(randomArray(1 * 12 * 12 * 3, 11), [1, 12, 12, 3]);
      const w1 = tf.tensor4d(randomArray(3 * 3 * 3 * 4, 12), [3, 3, 3, 4]);
      const w2 = tf.tensor4d(randomArray(3 * 3 * 4 * 1, 13), [3, 3, 4, 1]);
      const f = (
        a: import('@tensorflow/tfjs').Tensor,
        b: import('@tensorflow/tfjs').Tensor,
        c: import('@tensorflow/tfjs').Tensor,
      ) =>
        tf.sum(
          tf.square(
            tf.depthwiseConv2d(tf.relu(tf.conv2d(a as never, b as never, 2, 'same')), c as never, 1, 'same'),
          ),
        );
      const gs = tf.grads(f)([x, w1, w2]);
      const out = gs.map((g) => g.dataSync().slice());
      tf.setBackend('wasm');
      return out;
    });
  const ref = lossOf('cpu');
  const got = lossOf('wasm');
  for (let j = 0; j < ref.length; j++) {
    const scale = Math.max(1, ...Array.from(ref[j]!, Math.abs));
    for (let i = 0; i < ref[j]!.length; i++) assert.ok(Math.abs(got[j]![i]! - ref[j]![i]!) <= 2e-5 * scale);
  }
});

/** Plain-loop filter gradient: dW[a, c, i, o] = sum over b, y, x of xpad[b, y s + a - top, x s + c - left, i] dy[b, y, x, o]. */
function filterGradLoop(x: Float32Array, xs: number[], dy: Float32Array, ds: number[], k: number, s: number, top: number, left: number): Float64Array {
  const [b, h, w, ci] = xs as [number, number, number, number];
  const [, oh, ow, co] = ds as [number, number, number, number];
  const out = new Float64Array(k * k * ci * co);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let a = 0; a < k; a++)
          for (let c = 0; c < k; c++) {
            const r = y * s + a - top;
            const q = xx * s + c - left;
            if (r < 0 || r >= h || q < 0 || q >= w) continue;
            for (let i = 0; i < ci; i++) {
              const xv = x[((n * h + r) * w + q) * ci + i]!;
              for (let o = 0; o < co; o++) out[((a * k + c) * ci + i) * co + o]! += xv * dy[((n * oh + y) * ow + xx) * co + o]!;
            }
          }
  return out;
}

test('Conv2DBackpropFilter on wasm equals a plain loop at the spatial encoder shapes (batch 4, 1-48 channels, strides 1-2, same/valid)', () => {
  let seed = 900;
  for (const [h, ci, co, s] of [
    [16, 1, 16, 2],
    [12, 16, 32, 2],
    [9, 32, 32, 1],
    [8, 48, 64, 2],
    [7, 5, 3, 2],
  ] as const) {
    for (const pad of ['same', 'valid'] as const) {
      const x = [4, h, h, ci];
      const f = [3, 3, ci, co];
      const info = tf.backend_util.computeConv2DInfo(x as never, f as never, s, 1, pad);
      const dyShape = info.outShape;
      const xData = randomArray(x.reduce((a, b) => a * b, 1), seed++);
      const dyData = randomArray(dyShape.reduce((a, b) => a * b, 1), seed++);
      const ref = filterGradLoop(xData, x, dyData, dyShape, 3, s, info.padInfo.top, info.padInfo.left);
      const got = runOn('wasm', 'Conv2DBackpropFilter', { x: { shape: x, data: xData }, dy: { shape: dyShape, data: dyData } }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: f });
      assert.deepEqual(got.shape, f);
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got.data[i]! - ref[i]!) <= 1e-5 * Math.max(1, Math.abs(ref[i]!)) + 2e-5, `h${h} ${ci}->${co} s${s} ${pad}: element ${i} ${got.data[i]} vs ${ref[i]}`);
    }
  }
});
