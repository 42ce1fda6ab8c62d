import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { imageStem, listGtImages, listImageFiles, matchGtStem, pairOutputs } from '../../src/dataset/discover.ts';
import { parseModelFlag, parseShard, readRunFile, resolveRunOptions } from '../../src/dataset/options.ts';
import { shardParts, type PlannedPart } from '../../src/dataset/plan.ts';
import { summarizeBlockField } from '../../src/dataset/summary.ts';
import { quantileSorted } from '../../src/tier3/regimes.ts';
import { BlindspotError } from '../../src/errors.ts';

const gt = new Set(['img', 'img_1', 'img_10', 'a-b', 'scan.v2']);

test('pairing: exact stem, suffix after a separator, longest GT stem wins, no match without a separator', () => {
  assert.equal(matchGtStem('img_1', gt), 'img_1');
  assert.equal(matchGtStem('img_1_LR_bicubic_x0.50', gt), 'img_1');
  assert.equal(matchGtStem('img_1_x2', gt), 'img_1');
  assert.equal(matchGtStem('img_10-swinir', gt), 'img_10');
  assert.equal(matchGtStem('img_1 copy', gt), 'img_1');
  assert.equal(matchGtStem('img_2', gt), 'img'); // "img" + "_" is a prefix; img_2 is not a GT stem
  assert.equal(matchGtStem('imgX', gt), undefined);
  assert.equal(matchGtStem('img_100', gt), 'img'); // img_10 is followed by "0", not a separator
  assert.equal(matchGtStem('a-b_x4', gt), 'a-b');
  assert.equal(matchGtStem('scan.v2.sr', gt), 'scan.v2');
  assert.equal(matchGtStem('other', gt), undefined);
});

test('pairing agrees with a brute-force reading of the rule (property)', () => {
  const part = fc.constantFrom('a', 'b', '_', '-', '.', 'ab', '1');
  fc.assert(
    fc.property(fc.uniqueArray(fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join('')), { minLength: 1, maxLength: 6 }), fc.array(part, { minLength: 1, maxLength: 6 }).map((p) => p.join('')), (stems, out) => {
      const set = new Set(stems);
      // Brute force: every GT stem equal to `out`, or a prefix of it followed by a separator; take the longest.
      const candidates = stems.filter((s) => out === s || (out.startsWith(s) && '_-. '.includes(out[s.length]!)));
      const expected = candidates.sort((x, y) => y.length - x.length)[0];
      assert.equal(matchGtStem(out, set), expected);
    }),
    { numRuns: 1000 },
  );
});

test('pairOutputs lists ambiguous outputs together and unmatched ones apart', () => {
  const p = pairOutputs(gt, [
    { name: 'img_1.png', stem: 'img_1' },
    { name: 'img_1_x2.png', stem: 'img_1_x2' },
    { name: 'img_10.png', stem: 'img_10' },
    { name: 'zzz.png', stem: 'zzz' },
  ]);
  assert.deepEqual(p.outputs.get('img_1'), ['img_1.png', 'img_1_x2.png']);
  assert.deepEqual(p.outputs.get('img_10'), ['img_10.png']);
  assert.deepEqual(p.unmatched, ['zzz.png']);
});

test('image stems: known extensions only, .nii.gz as one extension, case-insensitive', () => {
  assert.equal(imageStem('a.PNG'), 'a');
  assert.equal(imageStem('vol.nii.gz'), 'vol');
  assert.equal(imageStem('x.tiff'), 'x');
  assert.equal(imageStem('notes.txt'), undefined);
  assert.equal(imageStem('.png'), undefined);
});

test('folder listing: hidden and non-image files skipped; duplicate GT stems and empty folders are errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-discover-'));
  try {
    for (const n of ['b.png', 'a.jpg', '.hidden.png', 'readme.txt']) writeFileSync(join(dir, n), 'x');
    mkdirSync(join(dir, 'sub.png'));
    assert.deepEqual((await listImageFiles(dir)).map((f) => f.name), ['a.jpg', 'b.png']);
    writeFileSync(join(dir, 'a.tif'), 'x');
    await assert.rejects(listGtImages(dir), (e: unknown) => e instanceof BlindspotError && e.message === `${dir}: two GT files share the stem "a": a.jpg, a.tif`);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(listGtImages(empty), /empty: no image files/);
    await assert.rejects(listImageFiles(join(dir, 'missing')), (e: unknown) => e instanceof BlindspotError && e.message === `${join(dir, 'missing')}: folder not found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run file: YAML and JSON, relative folders resolved against the file, one message per bad field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-runfile-'));
  try {
    const yaml = join(dir, 'run.yaml');
    writeFileSync(yaml, 'gt: data/gt\ncolumns: core\nmodels:\n  - { name: swinir, notta: out/s, tta: /abs/s_tta }\n');
    const o = await readRunFile(yaml);
    assert.equal(o.gt, join(dir, 'data/gt'));
    assert.equal(o.columns, 'core');
    assert.deepEqual(o.models, [
      { name: 'swinir', path: 'notta', dir: join(dir, 'out/s') },
      { name: 'swinir', path: 'tta', dir: '/abs/s_tta' },
    ]);
    const cases: [string, string][] = [
      ['{"gt": 3, "models": []}', 'field "gt": expected a folder path, got 3'],
      ['{"gt": "g", "models": []}', 'field "models": expected a list of { name, notta?, tta? }, got []'],
      ['{"gt": "g", "models": [{"name": "a b", "notta": "x"}]}', 'field "models[0].name": expected a name of letters, digits, ".", "_", "-", got "a b"'],
      ['{"gt": "g", "models": [{"name": "a"}]}', 'field "models[0]": expected a notta and/or tta folder, got nothing'],
      ['{"gt": "g", "models": [{"name": "a", "notta": "x", "TTA": "y"}]}', 'field "models[0].TTA": expected one of name, notta, tta, got "TTA"'],
      ['{"gt": "g", "models": [{"name": "a", "notta": "x"}], "columns": "all"}', 'field "columns": expected core|full, got "all"'],
      ['{"gt": "g", "models": [{"name": "a", "notta": "x"}], "workers": -1}', 'field "workers": expected an integer >= 0 (0 = all cores), got -1'],
      ['{"gt": "g", "models": [{"name": "a", "notta": "x"}], "shard": "3/2"}', 'field "shard": expected K/N with 1 <= K <= N, got "3/2"'],
      ['{"gt": "g", "models": [{"name": "a", "notta": "x"}], "image": 3}', 'field "image": expected a mapping of image read options (frame, axis, slice, volume, rescale), got 3'],
      ['{"gt": "g", "modles": []}', 'field "modles": expected one of gt, out, models, columns, csv, workers, shard, partSize, diagnose, maskDir, image, battery, got "modles"'],
    ];
    const json = join(dir, 'run.json');
    for (const [text, message] of cases) {
      writeFileSync(json, text);
      await assert.rejects(readRunFile(json), (e: unknown) => e instanceof BlindspotError && e.message === `${json}: ${message}`);
    }
    writeFileSync(json, '{"gt": ');
    await assert.rejects(readRunFile(json), (e: unknown) => e instanceof BlindspotError && e.code === 'E_CORRUPT' && e.message.startsWith(`${json}: not valid JSON`));
    await assert.rejects(readRunFile(join(dir, 'nope.yaml')), /nope.yaml: cannot read run file \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flags: --model NAME[:path]=DIR, --shard K/N, option checks', () => {
  assert.deepEqual(parseModelFlag('swinir=out/s'), { name: 'swinir', path: 'notta', dir: 'out/s' });
  assert.deepEqual(parseModelFlag('swinir:tta=out/s=t'), { name: 'swinir', path: 'tta', dir: 'out/s=t' });
  assert.throws(() => parseModelFlag('swinir:x8=d'), /invalid --model path: expected notta\|tta, got "x8"/);
  assert.throws(() => parseModelFlag('nodir'), /invalid --model: expected NAME=DIR/);
  assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
  assert.throws(() => parseShard('0/4'), /invalid --shard: expected K\/N with 1 <= K <= N \(e.g. 2\/4\), got "0\/4"/);
  const base = { gt: 'g', out: 'o', models: [{ name: 'm', path: 'notta' as const, dir: 'd' }] };
  assert.equal(resolveRunOptions(base).partSize, 32);
  assert.throws(() => resolveRunOptions({ ...base, models: [...base.models, ...base.models] }), /invalid models: expected each \(model, path\) once, got "m\/notta"/);
  assert.throws(() => resolveRunOptions({ ...base, partSize: 0 }), /invalid partSize/);
  assert.throws(() => resolveRunOptions({ ...base, bogus: 1 } as never), /unknown run option "bogus"/);
});

test('shards partition the part list: disjoint, complete, round-robin in sorted order', () => {
  const parts: PlannedPart[] = Array.from({ length: 11 }, (_, i) => ({ model: 'm', path: 'notta', part: i, pairs: [] }));
  const shards = [1, 2, 3].map((k) => shardParts(parts, { index: k, count: 3 }).map((p) => p.part));
  assert.deepEqual(shards, [
    [0, 3, 6, 9],
    [1, 4, 7, 10],
    [2, 5, 8],
  ]);
  assert.equal(shardParts(parts, null).length, 11);
});

test('block-field summary agrees with a plain two-pass computation (quantiles type 7 as numpy)', () => {
  // numpy.quantile([1, 2, 3, 4], 0.1) = 1.3; 0.9 -> 3.7
  assert.ok(Math.abs(quantileSorted([1, 2, 3, 4], 0.1) - 1.3) < 1e-12);
  assert.ok(Math.abs(quantileSorted([1, 2, 3, 4], 0.9) - 3.7) < 1e-12);
  const n = 36;
  const ssim = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * 1.7) * 0.4 + 0.5));
  const row = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 6));
  const col = Int32Array.from({ length: n }, (_, i) => i % 6);
  const ring = Int32Array.from({ length: n }, (_, i) => Math.min(row[i]!, col[i]!, 5 - row[i]!, 5 - col[i]!));
  const border = Uint8Array.from(ring, (r) => (r === 0 ? 1 : 0));
  const s = summarizeBlockField(ssim, border, row, col, ring, n);
  const all = [...ssim];
  const nb = all.filter((_, i) => !border[i]);
  const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
  const sd = (a: number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));
  assert.ok(Math.abs(s.blk_mean - mean(all)) < 1e-12);
  assert.ok(Math.abs(s.blk_std - sd(all)) < 1e-12);
  assert.ok(Math.abs(s.blk_mean_nb - mean(nb)) < 1e-12);
  assert.ok(Math.abs(s.blk_std_nb - sd(nb)) < 1e-12);
  assert.equal(s.blk_min, Math.min(...all));
  const k = all.indexOf(Math.min(...all));
  assert.deepEqual([s.blk_min_row, s.blk_min_col, s.blk_min_ring], [row[k], col[k], ring[k]]);
  const sorted = [...nb].sort((a, b) => a - b);
  const h = (sorted.length - 1) * 0.9;
  assert.ok(Math.abs(s.blk_p90_nb - (sorted[Math.floor(h)]! + (h - Math.floor(h)) * (sorted[Math.ceil(h)]! - sorted[Math.floor(h)]!))) < 1e-12);
  assert.equal(s.blocks, n);
});
