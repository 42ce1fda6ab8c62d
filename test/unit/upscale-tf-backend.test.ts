import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTf, loadLayersModelFromDir, packageDir, tfInfo } from '../../src/tf/backend.ts';
import { registeredWasmGradientImpl } from '../../src/tf/wasmGradients.ts';

test('initTf: wasm backend with SIMD from node_modules, idempotent, gradient kernels wired in', async () => {
  const tf = await initTf();
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(await initTf('wasm'), tf);
  const info = await tfInfo();
  assert.equal(info.wasmSimd, true);
  assert.equal(registeredWasmGradientImpl(), 'ops');
  // the filter gradient of a conv layer is one of the kernels wasm 4.22 lacks: it must run now, and match the
  // analytic value: y = conv(x, w) with x all ones (1x3x3x1), 2x2 'valid' -> dL/dw = sum of y's windows = 4 each
  const x = tf.ones([1, 3, 3, 1]) as import('@tensorflow/tfjs').Tensor4D;
  const g = tf.grad((w: import('@tensorflow/tfjs').Tensor) =>
    tf.sum(tf.conv2d(x, w as import('@tensorflow/tfjs').Tensor4D, 1, 'valid')),
  )(tf.ones([2, 2, 1, 1]));
  assert.deepEqual(Array.from(await g.data()), [4, 4, 4, 4]);
});

test('initTf("cpu") switches backends and back; the same tf namespace', async () => {
  const tf = await initTf('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(Array.from(await tf.add(tf.tensor([1, 2]), 1).data()), [2, 3]);
  await initTf('wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('model loading offline: UpscalerJS package found; missing model.json and shard are E_NOT_FOUND naming the file', async () => {
  const tf = await initTf();
  const dir = packageDir('@upscalerjs/esrgan-slim');
  const model = await loadLayersModelFromDir(tf, join(dir, 'models', 'x2'));
  assert.deepEqual(model.inputs[0]!.shape, [null, null, null, 3]);
  assert.throws(
    () => packageDir('@upscalerjs/no-such-model'),
    /npm package "@upscalerjs\/no-such-model" is not installed/,
  );
  const empty = await mkdtemp(join(tmpdir(), 'bs-tf-'));
  await assert.rejects(loadLayersModelFromDir(tf, empty), {
    code: 'E_NOT_FOUND',
    message: `${join(empty, 'model.json')}: model.json not found`,
  });
  await writeFile(
    join(empty, 'model.json'),
    JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [] }] }),
  );
  await assert.rejects(loadLayersModelFromDir(tf, empty), {
    code: 'E_NOT_FOUND',
    message: `${join(empty, 'w.bin')}: weight shard missing`,
  });
});
