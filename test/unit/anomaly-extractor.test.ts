/**
 * User-supplied extractors: a TF.js layers model folder is loaded through the frozen (BN-folded) path and agrees
 * with tfjs-layers' own predict; a DeepSSIM card (format 'blindspot-deepssim') switches on per-image z-scoring,
 * so the features become invariant to an affine change of intensity (checked directly).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TfTypes from '@tensorflow/tfjs';
import { initTf } from '../../src/tf/backend.ts';
import { loadExtractor } from '../../src/anomaly/extractor.ts';
import { freezeLayersModel } from '../../src/anomaly/frozenModel.ts';

const tf = await initTf('wasm');
const root = await mkdtemp(join(tmpdir(), 'anomaly-extractor-'));
after(() => rm(root, { recursive: true, force: true }));

function tinyModel(): TfTypes.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [24, 24, 3],
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
      }),
      tf.layers.batchNormalization({
        betaInitializer: tf.initializers.constant({ value: 0.1 }),
        movingMeanInitializer: tf.initializers.constant({ value: 0.05 }),
        movingVarianceInitializer: tf.initializers.constant({ value: 2 }),
      }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({
        filters: 5,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      }),
      tf.layers.flatten(),
    ],
  });
}

async function save(model: TfTypes.LayersModel, dir: string, card: object): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      await writeFile(join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      await writeFile(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: a.modelTopology,
          format: a.format,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(join(dir, 'card.json'), JSON.stringify(card));
}

test('a user layers-model folder loads frozen and matches tfjs-layers predict (flatten output, 500-d)', async () => {
  const model = tinyModel();
  const dir = await mkdtemp(join(root, 'plain-'));
  await save(model, dir, { name: 'tiny' });
  assert.notEqual(freezeLayersModel(tf, model), null, 'every layer class of the tiny model is supported');
  const ex = await loadExtractor(tf, dir);
  assert.equal(ex.name, 'tiny');
  assert.equal(ex.inputSize, 24);
  assert.equal(ex.featureSize, 10 * 10 * 5);
  const x = tf.randomUniform([2, 24, 24, 3], 0, 1, 'float32', 3) as TfTypes.Tensor4D;
  const diff = tf.max(tf.abs(tf.sub(ex.apply(x), model.predict(x) as TfTypes.Tensor))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `max diff ${diff}`);
});

test('a DeepSSIM card z-scores each image: features of a x + b equal those of x', async () => {
  const dir = await mkdtemp(join(root, 'deepssim-'));
  await save(tinyModel(), dir, {
    format: 'blindspot-deepssim',
    version: 1,
    backbone: 'compact',
    size: 24,
    channels: 3,
  });
  const ex = await loadExtractor(tf, dir);
  assert.equal(ex.name, 'deepssim-compact');
  const x = tf.randomUniform([1, 24, 24, 3], 0.2, 0.6, 'float32', 9) as TfTypes.Tensor4D;
  const y = tf.add(tf.mul(x, 1.7), 0.1) as TfTypes.Tensor4D;
  const fx = ex.apply(x);
  const fy = ex.apply(y);
  const scale = tf.max(tf.abs(fx)).dataSync()[0]!;
  assert.ok(scale > 0);
  assert.ok(tf.max(tf.abs(tf.sub(fx, fy))).dataSync()[0]! < 1e-4 * scale);
});
