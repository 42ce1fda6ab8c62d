/**
 * Complexity and vulnerability against analytic answers (linear and quadratic feature maps computed by hand in
 * the test), seed determinism, and the real MobileNetV2 extractor against tfjs-layers' own forward pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { initTf, packageDir } from '../../src/tf/backend.ts';
import { loadExtractor } from '../../src/anomaly/extractor.ts';
import { DEFAULT_MEASURE_SETTINGS, complexity, exactSign, vulnerability } from '../../src/anomaly/measure.ts';
import { createRng, unitGaussian } from '../../src/anomaly/rng.ts';

const tf = await initTf('wasm');
const SHAPE: [number, number, number] = [8, 8, 1];
const SIZE = 64;

function weights(seed: number, n: number): Float32Array {
  const r = createRng(seed, 'w');
  return Float32Array.from({ length: n }, () => 2 * r.uniform() - 1);
}

/** f(x) = w . (x - 0.5): a linear feature map with one output (affine offset keeps float32 error small). */
function linearMap(w: Float32Array) {
  const wt = tf.tensor2d(w, [SIZE, 1]);
  return (x: TfTypes.Tensor4D) =>
    tf.matMul(tf.reshape(tf.sub(x, 0.5), [x.shape[0], SIZE]), wt) as TfTypes.Tensor2D;
}

test('vulnerability: PGD ascent on a linear map f = w.x reaches eps * ||w||_1 exactly (float32)', () => {
  const w = weights(1, SIZE);
  const l1 = w.reduce((a, b) => a + Math.abs(b), 0);
  const x = new Float32Array(SIZE).fill(0.5);
  const x2 = Float32Array.from({ length: SIZE }, (_, i) => 0.3 + (0.4 * ((i * 7) % 11)) / 11);
  const { values } = vulnerability(tf, linearMap(w), [x, x2], SHAPE, [createRng(3, 'a'), createRng(3, 'b')]);
  for (const v of values) assert.ok(Math.abs(v - (8 / 255) * l1) < 1e-5 * l1, `V ${v} vs ${(8 / 255) * l1}`);
});

test("vulnerability: the official repository's update (descent) stays near 0 on the same linear map", () => {
  const w = weights(1, SIZE);
  const l1 = w.reduce((a, b) => a + Math.abs(b), 0);
  const x = new Float32Array(SIZE).fill(0.5);
  const settings = { ...DEFAULT_MEASURE_SETTINGS, officialCompat: true };
  const { values } = vulnerability(tf, linearMap(w), [x], SHAPE, [createRng(3, 'a')], settings);
  // Every second step undoes the one before: after 10 steps the image is back at its start, x + U(-1e-6, 1e-6),
  // so |w . delta| <= 1e-6 ||w||_1, plus float32 rounding of x + delta.
  assert.ok(values[0]! < 1e-5 * l1, `V ${values[0]}`);
  assert.ok(values[0]! < 1e-3 * (8 / 255) * l1);
});

test('complexity of a linear map is 0: all feature differences are parallel', () => {
  const w = weights(2, SIZE * 3);
  const wt = tf.tensor2d(w, [SIZE, 3]);
  const map = (x: TfTypes.Tensor4D) =>
    tf.matMul(tf.reshape(tf.sub(x, 0.5), [x.shape[0], SIZE]), wt) as TfTypes.Tensor2D;
  const x = new Float32Array(SIZE).fill(0.5);
  const r = complexity(tf, map, x, SHAPE, createRng(5, 'lin'));
  assert.ok(r.complexity < 1e-3, `C ${r.complexity}`);
  assert.equal(r.angles.length, 9);
});

test('complexity of the quadratic map [sum x, 100 sum (x - 0.5)^2] matches the hand-computed mean angle', () => {
  const map = (x: TfTypes.Tensor4D) => {
    const flat = tf.reshape(x, [x.shape[0], SIZE]);
    return tf.stack(
      [tf.sum(flat, 1), tf.mul(100, tf.sum(tf.square(tf.sub(flat, 0.5)), 1))],
      1,
    ) as TfTypes.Tensor2D;
  };
  const x = Float32Array.from({ length: SIZE }, (_, i) => 0.35 + 0.3 * Math.abs(Math.sin(i)));
  const r = complexity(tf, map, x, SHAPE, createRng(9, 'quad'));
  // The same direction n, drawn again from an identical stream.
  const n = unitGaussian(createRng(9, 'quad'), SIZE);
  let sn = 0;
  let sxn = 0;
  for (let i = 0; i < SIZE; i++) {
    sn += n[i]!;
    sxn += (x[i]! - 0.5) * n[i]!;
  }
  // No clamping happens (x in [0.35, 0.65], |0.1 n| < 0.1): D_k = (0.01 sn, 100 (0.02 sxn + 1e-4 (2k - 1))),
  // sn = sum n, sxn = sum (x - 0.5) n.
  const d = (k: number) => [0.01 * sn, 100 * (0.02 * sxn + 1e-4 * (2 * k - 1))] as const;
  let sum = 0;
  for (let k = 1; k <= 9; k++) {
    const [a1, b1] = d(k);
    const [a2, b2] = d(k + 1);
    sum += Math.acos((a1 * a2 + b1 * b2) / (Math.hypot(a1, b1) * Math.hypot(a2, b2)));
  }
  const expected = sum / 9;
  assert.ok(expected > 1e-3, 'the toy must bend');
  assert.ok(Math.abs(r.complexity - expected) < 0.02 * expected, `C ${r.complexity} vs ${expected}`);
});

test('exactSign is exact for tiny gradients, where tfjs-backend-wasm 4.22 Sign returns 0', () => {
  const v = tf.tensor1d([1e-3, 1e-7, -1e-7, 0, 3e-20, -5e-30]);
  assert.deepEqual(Array.from(exactSign(tf, v).dataSync()), [1, 1, -1, 0, 1, -1]);
});

test('same seed and key give identical C and V; another seed gives another C', () => {
  const map = (x: TfTypes.Tensor4D) => {
    const flat = tf.reshape(x, [x.shape[0], SIZE]);
    return tf.stack(
      [tf.sum(tf.sin(tf.mul(7, flat)), 1), tf.sum(tf.square(flat), 1), tf.max(flat, 1)],
      1,
    ) as TfTypes.Tensor2D;
  };
  const x = Float32Array.from({ length: SIZE }, (_, i) => 0.2 + (0.6 * ((i * 13) % 17)) / 17);
  const c1 = complexity(tf, map, x, SHAPE, createRng(42, 'img.png')).complexity;
  const c2 = complexity(tf, map, x, SHAPE, createRng(42, 'img.png')).complexity;
  const c3 = complexity(tf, map, x, SHAPE, createRng(43, 'img.png')).complexity;
  assert.equal(c1, c2);
  assert.notEqual(c1, c3);
  const v1 = vulnerability(tf, map, [x], SHAPE, [createRng(42, 'img.png')]).values[0];
  const v2 = vulnerability(tf, map, [x], SHAPE, [createRng(42, 'img.png')]).values[0];
  assert.equal(v1, v2);
});

test('MobileNetV2 extractor loads offline from nsfwjs, gives 1280-d features equal to tfjs-layers, and differentiates', async () => {
  const ex = await loadExtractor(tf, 'mobilenet_v2');
  assert.equal(ex.featureSize, 1280);
  assert.equal(ex.inputSize, 224);
  // Independent reference: the unfolded layers model cut at flatten_1, and the hash of the shipped weight bytes.
  const dir = join(packageDir('nsfwjs'), 'dist', 'models', 'mobilenet_v2');
  const require = createRequire(import.meta.url);
  const json = require(join(dir, 'model.min.js')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: TfTypes.io.WeightsManifestEntry[] }[];
  };
  const bytes = Buffer.concat(
    json.weightsManifest[0]!.paths.map((p) =>
      Buffer.from(require(join(dir, `${p}.min.js`)) as string, 'base64'),
    ),
  );
  assert.equal(ex.weightsSha256, createHash('sha256').update(bytes).digest('hex'));
  const full = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
  const cut = tf.model({
    inputs: full.inputs,
    outputs: full.getLayer('flatten_1').output as TfTypes.SymbolicTensor,
  });
  const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7) as TfTypes.Tensor4D;
  const ours = ex.apply(x);
  const ref = cut.predict(x) as TfTypes.Tensor;
  assert.deepEqual(ours.shape, [1, 1280]);
  const maxDiff = tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0]!;
  const scale = tf.max(tf.abs(ref)).dataSync()[0]!;
  assert.ok(maxDiff < 1e-4 * Math.max(1, scale), `max diff ${maxDiff}`);
  const g = tf.grad((z: TfTypes.Tensor) => tf.sum(tf.square(ex.apply(z as TfTypes.Tensor4D))))(x);
  const gd = g.dataSync();
  let nonzero = 0;
  for (const v of gd) {
    assert.ok(Number.isFinite(v));
    if (v !== 0) nonzero++;
  }
  assert.ok(nonzero > gd.length * 0.9);
  full.dispose();
  ex.dispose();
});
