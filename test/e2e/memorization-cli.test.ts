/**
 * `blindspot memorization train|scan|eval` end to end on the committed brain slices: a tiny model is trained, then a
 * generated folder holding an exact copy of a training image is scanned; the benchmark runs on two seeds with the
 * shipped model; bad inputs exit 2 with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixture, runCli } from '../helpers/cli.ts';

const BRAIN = fixture('brain');
const work = mkdtempSync(join(tmpdir(), 'blindspot-memo-'));
const modelDir = join(work, 'model');

function oneLineError(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => !l.startsWith('reading') && !l.startsWith('skipped'));
  assert.equal(lines.length, 1, `one line, got: ${stderr}`);
  assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
  return lines[0]!;
}

test('memorization --help and train --help exit 0 and name the sub-commands and options', async () => {
  const top = await runCli(['memorization', '--help']);
  assert.equal(top.code, 0);
  for (const s of ['train', 'scan', 'eval']) assert.ok(top.stdout.includes(s));
  const tr = await runCli(['memorization', 'train', '--help']);
  assert.equal(tr.code, 0);
  for (const s of ['--images', '--size', '--epochs', '--out']) assert.ok(tr.stdout.includes(s));
});

test('train writes a TF.js model and a card with data hash, options, validation MSE and correlations', async () => {
  const r = await runCli(
    ['memorization', 'train', '--images', BRAIN, '--out', modelDir, '--size', '64', '--epochs', '2', '--pairs', '16', '--batch', '8', '--trainable-from', 'head', '--json'],
    { timeoutMs: 240_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(/epoch 2: train MSE [\d.]+ +validation MSE [\d.]+/.test(r.stderr), 'per-epoch train/validation MSE on stderr');
  for (const f of ['model.json', 'weights.bin', 'card.json']) assert.ok(existsSync(join(modelDir, f)), f);
  const card = JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8'));
  assert.equal(card.format, 'blindspot-deepssim');
  assert.equal(card.size, 64);
  assert.equal(card.embeddingDim, 256);
  assert.equal(card.training.images, 13);
  assert.match(card.training.dataHash, /^[0-9a-f]{64}$/);
  assert.equal(card.training.options.epochs, 2);
  assert.equal(card.training.options.learningRate, 1e-3);
  assert.equal(card.training.history.length, 2);
  assert.ok(Number.isFinite(card.validation.mse) && Number.isFinite(card.validation.spearman));
  assert.deepEqual(JSON.parse(r.stdout).training.dataHash, card.training.dataHash);
});

test('scan finds an exact copy of a training image as its top-1 with cosine > 0.99, labelled Duplicate', async () => {
  const gen = join(work, 'generated');
  mkdirSync(gen, { recursive: true });
  copyFileSync(join(BRAIN, 'mni_icbm152_t1_axial_z90.png'), join(gen, 'copy_of_z90.png'));
  // A horizontally flipped copy of another training slice, for the contact sheet.
  await sharp(join(BRAIN, 'antspy_r27slice.png')).flop().png().toFile(join(gen, 'flipped_r27.png'));
  const out = join(work, 'scan');
  const r = await runCli(['memorization', 'scan', '--train', BRAIN, '--generated', gen, '--model', modelDir, '--k', '3', '--out', out], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
  const copy = result.matches.find((m: { generated: string }) => m.generated === 'copy_of_z90.png');
  assert.equal(copy.neighbours[0].train, 'mni_icbm152_t1_axial_z90.png');
  assert.ok(copy.neighbours[0].cosine > 0.99, `cosine ${copy.neighbours[0].cosine}`);
  assert.equal(copy.label, 'Duplicate');
  assert.equal(copy.neighbours.length, 3);
  const csv = readFileSync(join(out, 'scan.csv'), 'utf8');
  assert.ok(csv.startsWith('generated,rank,train,cosine,label\n'));
  assert.ok(csv.includes('copy_of_z90.png,1,mni_icbm152_t1_axial_z90.png,'));
  const html = readFileSync(join(out, 'contact-sheet.html'), 'utf8');
  assert.ok(html.includes('copy_of_z90.png') && html.includes('data:image/png;base64,'));
  assert.ok(r.stdout.includes('Duplicate  copy_of_z90.png ~ mni_icbm152_t1_axial_z90.png'));
});

test('scan without --encoder uses the shipped model: the flipped copy is found as a Duplicate of its source', async () => {
  const gen = join(work, 'generated');
  const out = join(work, 'scan-shipped');
  const r = await runCli(['memorization', 'scan', '--train', BRAIN, '--generated', gen, '--k', '2', '--out', out, '--json'], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
  assert.match(result.model.dir, /models[/\\]deepssim-spatial[/\\]?$/);
  assert.equal(result.model.backbone, 'spatial');
  const flipped = result.matches.find((m: { generated: string }) => m.generated === 'flipped_r27.png');
  assert.equal(flipped.neighbours[0].train, 'antspy_r27slice.png');
  assert.equal(flipped.label, 'Duplicate');
});

test('bad input: empty folder, folder of unreadable files, missing flag -> exit 2 with one line naming the problem', async () => {
  const empty = join(work, 'empty');
  mkdirSync(empty, { recursive: true });
  const r1 = await runCli(['memorization', 'train', '--images', empty, '--out', join(work, 'm1')]);
  assert.equal(r1.code, 2);
  assert.equal(oneLineError(r1.stderr), `blindspot memorization: ${empty}: no image files (.png, .jpg, .jpeg, .tif, .tiff, .webp, .bmp, .gif) in the folder`);

  const junk = join(work, 'junk');
  mkdirSync(junk, { recursive: true });
  writeFileSync(join(junk, 'a.png'), 'not a png');
  writeFileSync(join(junk, 'b.jpg'), Buffer.alloc(10));
  const r2 = await runCli(['memorization', 'train', '--images', junk, '--out', join(work, 'm2')]);
  assert.equal(r2.code, 2);
  assert.ok(r2.stderr.includes(`skipped ${join(junk, 'a.png')}:`), 'each unreadable file is named');
  assert.match(oneLineError(r2.stderr), new RegExp(`^blindspot memorization: ${junk}: none of the 2 image file\\(s\\) could be decoded \\(first: a.png: .+\\)$`));

  const r3 = await runCli(['memorization', 'scan', '--train', BRAIN, '--model', modelDir]);
  assert.equal(r3.code, 2);
  assert.equal(oneLineError(r3.stderr), 'blindspot memorization: --generated DIR is required (see --help)');
});

test('bad model folders: no card, a card of another format, a card that does not match the network -> exit 2, one line', async () => {
  const noCard = join(work, 'nocard');
  mkdirSync(noCard, { recursive: true });
  const args = (m: string) => ['memorization', 'scan', '--train', BRAIN, '--generated', BRAIN, '--model', m, '--out', join(work, 'x')];
  const r1 = await runCli(args(noCard));
  assert.equal(r1.code, 2);
  assert.match(oneLineError(r1.stderr), /card\.json: no model card \(card\.json\) in the model folder/);

  const other = join(work, 'other');
  mkdirSync(other, { recursive: true });
  writeFileSync(join(other, 'card.json'), JSON.stringify({ format: 'something-else', version: 1 }));
  const r2 = await runCli(args(other));
  assert.equal(r2.code, 2);
  assert.match(oneLineError(r2.stderr), /not a DeepSSIM model card \(format "something-else", expected "blindspot-deepssim"\)/);

  const mismatched = join(work, 'mismatched');
  mkdirSync(mismatched, { recursive: true });
  for (const f of readdirSync(modelDir)) copyFileSync(join(modelDir, f), join(mismatched, f));
  const card = JSON.parse(readFileSync(join(mismatched, 'card.json'), 'utf8'));
  writeFileSync(join(mismatched, 'card.json'), JSON.stringify({ ...card, size: 128 }));
  const r3 = await runCli(args(mismatched));
  assert.equal(r3.code, 2);
  assert.match(oneLineError(r3.stderr), /model card does not match the network: card says 128x128x3 -> 256, model\.json has 64x64x3 -> 256/);
});

test('eval on the committed slices: the paper-protocol table with the ORACLE, every pixel baseline and the shipped DeepSSIM', async () => {
  const out = join(work, 'eval');
  const r = await runCli(
    ['memorization', 'eval', '--images', BRAIN, '--size', '64', '--seeds', '1,2', '--duplicates', '4', '--similar', '4', '--different', '4', '--no-backbone', '--out', out],
    { timeoutMs: 240_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(readFileSync(join(out, 'benchmark.json'), 'utf8'));
  assert.deepEqual(
    result.methods.map((m: { method: string }) => m.method),
    [
      'ORACLE: exact SSIM of the un-augmented pair',
      'pixel SSIM',
      'NCC',
      'L2 (negative RMSE)',
      'flip-invariant NCC (best of 8 dihedral)',
      'flip-invariant SSIM (best of 8 dihedral)',
      'DeepSSIM, shipped model',
    ],
  );
  assert.deepEqual(result.seeds.map((s: { seed: number }) => s.seed), [1, 2]);
  for (const m of result.methods) {
    assert.equal(m.perSeed.length, 2);
    assert.ok(m.pairCalibratedF1.mean >= 0 && m.pairCalibratedF1.mean <= 1);
    assert.ok(m.sourceFound === null || (m.sourceFound.mean >= 0 && m.sourceFound.mean <= 1));
  }
  assert.equal(result.methods[3].pairFixedF1, null, 'L2 has no similarity scale for the fixed thresholds');
  assert.ok(readFileSync(join(out, 'benchmark.md'), 'utf8').includes('| method | per-pair macro-F1, fixed 0.85/0.60'));
  const bad = await runCli(['memorization', 'eval', '--images', BRAIN, '--seeds', '1,x']);
  assert.equal(bad.code, 2);
  assert.match(oneLineError(bad.stderr), /--seeds must be comma-separated integers >= 0, got "1,x"/);
});
