/**
 * Anomaly Score benchmarks (one process, same run, so ratios compare like with like):
 * 1. seconds per image for complexity C and vulnerability V per extractor, with the forward/backward counts;
 * 2. MobileNetV2 input gradient: our frozen BN-folded graph vs the tfjs-layers model (peer), and the wasm
 *    gradient kernels built from wasm ops vs the cpu-delegating kernels vs (for Conv2DBackpropInput) wasm's own;
 * 3. 2-D KS time against n (O(n²)).
 * Usage: node --import tsx bench/anomaly.ts [--extractors mobilenet_v2,inception_v3] [--images 2]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as TfTypes from '@tensorflow/tfjs';
import { initTf, packageDir, tfInfo } from '../src/tf/backend.ts';
import { registerWasmGradientKernels } from '../src/tf/wasmGradients.ts';
import { loadExtractor } from '../src/anomaly/extractor.ts';
import {
  DEFAULT_MEASURE_SETTINGS,
  complexity,
  passesPerImage,
  vulnerability,
} from '../src/anomaly/measure.ts';
import { createRng } from '../src/anomaly/rng.ts';
import { ks2d } from '../src/anomaly/ks2d.ts';

const { values } = parseArgs({
  options: {
    extractors: { type: 'string', default: 'mobilenet_v2,inception_v3' },
    images: { type: 'string', default: '2' },
  },
});
const tf = await initTf('wasm');
const info = await tfInfo();
console.log(
  `TF.js ${info.version}, backend ${info.backend}, SIMD ${info.wasmSimd}, threads ${info.wasmThreads}`,
);
const nImages = Number(values.images);

function randomImage(size: number, seed: number): Float32Array {
  const r = createRng(seed, 'bench');
  return Float32Array.from({ length: size * size * 3 }, () => r.uniform());
}

// 1. seconds per image
console.log(
  '\n### Seconds per image (C: one batched forward of 11; V: 12 forwards + 10 backwards, PGD batch = images)',
);
console.log('| extractor | images | C s/image | V s/image | forwards/image | backwards/image |');
console.log('|---|---|---|---|---|---|');
for (const name of values.extractors!.split(',')) {
  const ex = await loadExtractor(tf, name);
  const n = name === 'inception_v3' ? 1 : nImages;
  const xs = Array.from({ length: n }, (_, i) => randomImage(ex.inputSize, i));
  const shape: [number, number, number] = [ex.inputSize, ex.inputSize, 3];
  const map = (x: TfTypes.Tensor4D) => ex.apply(x);
  complexity(tf, map, xs[0]!, shape, createRng(0, 'warm')); // warm-up (operator setup)
  let t = performance.now();
  for (const [i, x] of xs.entries()) complexity(tf, map, x, shape, createRng(0, `c${i}`));
  const cS = (performance.now() - t) / 1000 / n;
  t = performance.now();
  vulnerability(
    tf,
    map,
    xs,
    shape,
    xs.map((_, i) => createRng(0, `v${i}`)),
  );
  const vS = (performance.now() - t) / 1000 / n;
  const p = passesPerImage(DEFAULT_MEASURE_SETTINGS);
  console.log(
    `| ${name} | ${n} | ${cS.toFixed(2)} | ${vS.toFixed(2)} | ${p.complexityForwards + p.vulnerabilityForwards} | ${p.vulnerabilityBackwards} |`,
  );
  ex.dispose();
}

// 2. input gradient through MobileNetV2, batch 2
async function timeGrad(
  label: string,
  f: (x: TfTypes.Tensor4D) => TfTypes.Tensor,
  reps = 2,
): Promise<number> {
  const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 1) as TfTypes.Tensor4D;
  const ref = tf.tidy(() => f(x));
  const g = tf.grad((z: TfTypes.Tensor) => tf.mean(tf.squaredDifference(f(z as TfTypes.Tensor4D), ref)));
  tf.tidy(() => g(tf.add(x, 0.01)).dataSync()); // warm-up
  const t = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => g(tf.add(x, 0.01)).dataSync());
  const ms = (performance.now() - t) / reps / 2;
  console.log(`| ${label} | ${ms.toFixed(0)} |`);
  x.dispose();
  ref.dispose();
  return ms;
}
console.log('\n### MobileNetV2 input gradient (forward + backward), batch 2, ms per image');
console.log('| variant | ms/image |');
console.log('|---|---|');
const frozen = await loadExtractor(tf, 'mobilenet_v2');
const opsMs = await timeGrad('frozen BN-folded graph, ops kernels (default)', (x) => frozen.apply(x));
registerWasmGradientKernels('cpu');
const cpuMs = await timeGrad(
  'frozen graph, cpu-delegating filter/depthwise kernels + wasm Conv2DBackpropInput',
  (x) => frozen.apply(x),
  1,
);
registerWasmGradientKernels('ops');
const require = createRequire(import.meta.url);
const dir = join(packageDir('nsfwjs'), 'dist', 'models', 'mobilenet_v2');
const json = require(join(dir, 'model.min.js')) as {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: TfTypes.io.WeightsManifestEntry[] }[];
};
const bytes = Buffer.concat(
  json.weightsManifest[0]!.paths.map((p) =>
    Buffer.from(require(join(dir, `${p}.min.js`)) as string, 'base64'),
  ),
);
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
const layersMs = await timeGrad(
  'tfjs-layers model (peer: fused convs + batch-norm gradients), ops kernels',
  (x) => cut.apply(x, { training: false }) as TfTypes.Tensor,
  1,
);
console.log(
  `\nratios: layers/frozen ${(layersMs / opsMs).toFixed(2)}x, cpu-delegating/ops ${(cpuMs / opsMs).toFixed(2)}x`,
);

// 3. ks2d scaling
console.log('\n### 2-D KS (O(n²)), n points per sample');
console.log('| n | ms |');
console.log('|---|---|');
for (const n of [1000, 5000, 10000]) {
  const r = createRng(1, 'ks');
  const a = Array.from({ length: 4 }, () => Float64Array.from({ length: n }, () => r.normal()));
  const t = performance.now();
  ks2d(a[0]!, a[1]!, a[2]!, a[3]!);
  console.log(`| ${n} | ${(performance.now() - t).toFixed(0)} |`);
}
