/**
 * `blindspot anomaly` end to end with a small user-supplied TF.js extractor (--extractor DIR with a card.json),
 * so the run stays fast: real images are crops of a committed NIH chest X-ray fixture, generated images are
 * blurred crops plus one corrupt file. Checks the printed AS against ks2d on the written CSV (independent
 * recomputation), the weights hash against the file's own SHA-256, the report files, skipping of the bad
 * image, and byte-identical outputs on a second run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixture, runCli } from '../helpers/cli.ts';
import { ks2d } from '../../src/anomaly/ks2d.ts';

const root = await mkdtemp(join(tmpdir(), 'anomaly-e2e-'));
after(() => rm(root, { recursive: true, force: true }));
const realDir = join(root, 'real');
const genDir = join(root, 'generated');
const modelDir = join(root, 'model');
await mkdir(realDir);
await mkdir(genDir);
await mkdir(modelDir);

// Images: 5 crops 96x96 of the fixture; generated = the same crops blurred (sigma 3), plus a corrupt file.
const src = fixture('cxr/nih_00000001_000.png');
const offsets = [
  [40, 60],
  [200, 180],
  [300, 90],
  [120, 300],
  [260, 320],
];
for (const [i, [x, y]] of offsets.entries()) {
  const crop = sharp(src).extract({ left: x!, top: y!, width: 96, height: 96 });
  await crop
    .clone()
    .png()
    .toFile(join(realDir, `r${i}.png`));
  await crop
    .clone()
    .blur(3)
    .png()
    .toFile(join(genDir, `g${i}.png`));
}
await writeFile(join(genDir, 'broken.png'), Buffer.from('not a png at all'));

// A small conv-net extractor saved as a TF.js layers model (fixed weights), with a card.json.
{
  const { initTf } = await import('../../src/tf/backend.ts');
  const tf = await initTf('wasm');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [32, 32, 3],
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization({ movingMeanInitializer: 'zeros', movingVarianceInitializer: 'ones' }),
      tf.layers.reLU({ maxValue: 6 }),
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        padding: 'same',
        depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
      tf.layers.conv2d({
        filters: 16,
        kernelSize: 1,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.globalAveragePooling2d({}),
    ],
  });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await writeFile(join(modelDir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(join(modelDir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(
    join(modelDir, 'card.json'),
    JSON.stringify({ name: 'tiny-cnn', inputSize: 32, channels: 3 }),
  );
}

function parseCsv(text: string) {
  const rows = text
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  return rows.map(([set, file, c, v, asi]) => ({
    set: set!,
    file: file!,
    c: Number(c),
    v: Number(v),
    asi: Number(asi),
  }));
}

test('blindspot anomaly --real --generated: AS equals ks2d of the written (C, V), report files, bad image skipped, --images deterministic', async () => {
  const out1 = join(root, 'out1');
  const out2 = join(root, 'out2');
  const args = [
    'anomaly',
    '--real',
    realDir,
    '--generated',
    genDir,
    '--extractor',
    modelDir,
    '--seed',
    '7',
    '--json',
  ];
  const r1 = await runCli([...args, '--out', out1], { timeoutMs: 120_000 });
  assert.equal(r1.code, 0, r1.stderr);
  const res = JSON.parse(r1.stdout) as {
    as: number;
    p: number;
    extractor: { name: string; sha256: string };
    sets: Record<string, { errors: { file: string }[] }>;
  };
  const rows = parseCsv(await readFile(join(out1, 'scores.csv'), 'utf8'));
  assert.equal(rows.filter((r) => r.set === 'real').length, 5);
  assert.equal(rows.filter((r) => r.set === 'generated').length, 5);
  for (const r of rows) {
    assert.ok(r.c > 0 && r.c < Math.PI && r.v > 0, `${r.file}: C ${r.c} V ${r.v}`);
    assert.ok(Math.abs(r.asi - r.v / r.c) <= 1e-12 * r.asi);
  }
  const real = rows.filter((r) => r.set === 'real');
  const gen = rows.filter((r) => r.set === 'generated');
  const ref = ks2d(
    real.map((r) => r.c),
    real.map((r) => r.v),
    gen.map((r) => r.c),
    gen.map((r) => r.v),
  );
  assert.equal(res.as, ref.D);
  assert.equal(res.p, ref.p);
  // 5 vs 5 images: n1*n2/(n1+n2) = 2.5 < 20, so a warning and a permutation p come with the asymptotic p.
  const small = res as unknown as { effectiveN: number; pPermutation: number; permutations: number };
  assert.equal(small.effectiveN, 2.5);
  assert.equal(small.permutations, 2000);
  assert.ok(small.pPermutation > 0 && small.pPermutation <= 1);
  assert.match(r1.stderr, /warning: small sets \(5 real, 5 generated; n1\*n2\/\(n1\+n2\) = 2\.5 < 20\)/);
  const saved = JSON.parse(await readFile(join(out1, 'result.json'), 'utf8')) as { pPermutation: number };
  assert.equal(saved.pPermutation, small.pPermutation);
  assert.equal(res.extractor.name, 'tiny-cnn');
  assert.equal(
    res.extractor.sha256,
    createHash('sha256')
      .update(await readFile(join(modelDir, 'weights.bin')))
      .digest('hex'),
  );
  assert.deepEqual(
    res.sets['generated']!.errors.map((e) => e.file),
    [join(genDir, 'broken.png')],
  );
  assert.match(r1.stderr, /skipped .*broken\.png/);

  const png = await sharp(join(out1, 'scatter.png')).metadata();
  assert.equal(png.format, 'png');
  assert.ok((png.width ?? 0) >= 700);
  const html = await readFile(join(out1, 'ranking.html'), 'utf8');
  assert.equal((html.match(/data:image\/png;base64,/g) ?? []).length, 10);
  const svg = await readFile(join(out1, 'scatter.svg'), 'utf8');
  assert.equal((svg.match(/<circle cx=/g) ?? []).length, 10 + 2);

  // Same seed, same file names -> the same C and V when the images are scored again in another run and set.
  const r2 = await runCli(
    [
      'anomaly',
      '--images',
      realDir,
      '--extractor',
      modelDir,
      '--seed',
      '7',
      '--n',
      '3',
      '--json',
      '--out',
      out2,
    ],
    {
      timeoutMs: 120_000,
    },
  );
  assert.equal(r2.code, 0, r2.stderr);
  const res2 = JSON.parse(r2.stdout) as {
    as?: number;
    sets: { images: { images: { name: string; complexity: number; vulnerability: number }[] } };
  };
  assert.equal(res2.as, undefined);
  assert.deepEqual(
    res2.sets.images.images.map((i) => [i.name, i.complexity, i.vulnerability]),
    real.slice(0, 3).map((r) => [r.file, r.c, r.v]),
  );
  assert.match(
    await readFile(join(out2, 'scores.csv'), 'utf8'),
    /^set,file,complexity,vulnerability,as_i\nimages,r0\.png,/,
  );
});

test('blindspot anomaly: a missing folder and a bad flag exit 2 with one line', async () => {
  const missing = await runCli(['anomaly', '--real', join(root, 'nope'), '--generated', genDir]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr.trim(), /nope: no such folder$/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const bad = await runCli(['anomaly', '--images', realDir, '--n', '1.5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --n/);
});

test('blindspot anomaly: a set of one image is refused (exit 2, one line)', async () => {
  const one = await runCli(
    ['anomaly', '--real', realDir, '--generated', genDir, '--extractor', modelDir, '--n', '1'],
    { timeoutMs: 120_000 },
  );
  assert.equal(one.code, 2, one.stderr);
  assert.match(one.stderr.trim().split('\n').pop()!, /real: AS needs at least 2 real images, got 1$/);
});
