import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runPipeline, pipelineOutputDir } from '../../src/upscale/pipeline.ts';

const DEMO = fileURLToPath(new URL('../../data/demo/cxr_nih/', import.meta.url));

test('pipeline: GT -> {esrgan-slim, bicubic} x {notta, tta} -> run -> analyze; a second call resumes without redoing work', async () => {
  const gt = await mkdtemp(join(tmpdir(), 'bs-pipe-gt-'));
  for (const name of ['nih_00000001_000', 'nih_00009285_000']) {
    await sharp(join(DEMO, `${name}.png`))
      .extract({ left: 200, top: 180, width: 48, height: 48 })
      .toColourspace('b-w')
      .png()
      .toFile(join(gt, `${name}.png`));
  }
  const out = await mkdtemp(join(tmpdir(), 'bs-pipe-out-'));
  const stages = new Set<string>();
  const first = await runPipeline({ gt, out, models: ['esrgan-slim', 'bicubic'], workers: 1 }, (p) =>
    stages.add(p.stage),
  );
  assert.deepEqual([...stages], ['upscale', 'run', 'analyze']);
  assert.deepEqual(
    first.upscaled.map((u) => [u.model, u.path, u.written, u.kept, u.failed.length]),
    [
      ['esrgan-slim', 'notta', 2, 0, 0],
      ['esrgan-slim', 'tta', 2, 0, 0],
      ['bicubic', 'notta', 2, 0, 0],
      ['bicubic', 'tta', 2, 0, 0],
    ],
  );
  assert.deepEqual(await readdir(pipelineOutputDir(out, 'esrgan-slim', 'tta')), [
    'nih_00000001_000_esrgan-slim_x2_tta.png',
    'nih_00009285_000_esrgan-slim_x2_tta.png',
    'upscale-errors.jsonl',
    'upscale.json',
  ]);
  // every GT paired with every model x path: 2 images x 2 models x 2 paths, 36 blocks (8x8) each
  assert.equal(first.run.pairs, 8);
  assert.equal(first.run.ok, 8);
  assert.equal(first.run.blocks, 8 * 36);
  for (const f of ['report.html', 'report.md', 'summary.json']) {
    assert.ok((await stat(join(first.results, 'analysis', f))).size > 0, f);
  }
  const runJson = JSON.parse(await readFile(join(first.results, 'run.json'), 'utf8'));
  assert.ok(JSON.stringify(runJson).includes('esrgan-slim'));

  const pngBefore = await readFile(
    join(pipelineOutputDir(out, 'bicubic', 'tta'), 'nih_00000001_000_bicubic_x2_tta.png'),
  );
  const second = await runPipeline({ gt, out, models: ['esrgan-slim', 'bicubic'], workers: 1 });
  assert.deepEqual(
    second.upscaled.map((u) => [u.written, u.kept]),
    [
      [0, 2],
      [0, 2],
      [0, 2],
      [0, 2],
    ],
  );
  assert.equal(second.run.alreadyComplete, true);
  assert.deepEqual(
    await readFile(join(pipelineOutputDir(out, 'bicubic', 'tta'), 'nih_00000001_000_bicubic_x2_tta.png')),
    pngBefore,
  );
});
