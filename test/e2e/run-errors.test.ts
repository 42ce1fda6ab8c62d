/**
 * Bad inputs of a dataset run: bad pairs are logged in errors.jsonl with their reason while the run goes on (exit
 * code 1); bad options and folders stop before any work with one line (exit code 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { buildDataset, GT_NAMES, type BuiltDataset } from '../fixtures/dataset/buildDataset.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { parseModelFlag } from '../../src/dataset/options.ts';
import { verify, verifyPassed } from '../../src/store/manifest.ts';
import { BlindspotError } from '../../src/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-run-errors-'));
let ds: BuiltDataset;
const [A, B, C] = GT_NAMES.map((n) => n.replace(/\.png$/, '')) as [string, string, string];
test.before(async () => {
  ds = await buildDataset(join(root, 'data'));
  // blur/notta: A's output missing; blur/tta: B's output 80x80 (size mismatch);
  // jpeg/notta: C's output is not an image (corrupt); jpeg/tta: A has two outputs (ambiguous).
  unlinkSync(join(ds.dirs.blurNotta, `${A}_x2.png`));
  await sharp(join(ds.gt, `${B}.png`)).resize(80, 80).toColourspace('b-w').png().toFile(join(ds.dirs.blurTta, `${B}-tta.tmp.png`));
  unlinkSync(join(ds.dirs.blurTta, `${B}-tta.png`));
  copyFileSync(join(ds.dirs.blurTta, `${B}-tta.tmp.png`), join(ds.dirs.blurTta, `${B}-tta.png`));
  unlinkSync(join(ds.dirs.blurTta, `${B}-tta.tmp.png`));
  writeFileSync(join(ds.dirs.jpegNotta, `${C}.jpg`), Buffer.from('this is not a JPEG file at all'));
  copyFileSync(join(ds.dirs.jpegTta, `${A}_LR_bicubic_x0.50.png`), join(ds.dirs.jpegTta, `${A}_copy.png`));
  writeFileSync(join(ds.dirs.jpegTta, 'unrelated.png'), 'x');
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('bad pairs (missing, size mismatch, corrupt, ambiguous) go to errors.jsonl; every other pair is written', async () => {
  const out = join(root, 'R');
  const s = await runDataset({ gt: ds.gt, models: ds.modelFlags.map(parseModelFlag), out, partSize: 2 }, { inline: true });
  assert.equal(s.pairs, 12);
  assert.equal(s.failed, 4);
  assert.equal(s.ok, 8);
  const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const byKey = new Map(errors.map((e) => [`${e.model}/${e.path}/${e.image}`, e]));
  assert.equal(byKey.size, 4);
  const missing = byKey.get(`blur/notta/${A}`)!;
  assert.equal(missing.code, 'E_NOT_FOUND');
  assert.equal(missing.reason, `${ds.dirs.blurNotta}: no output file matches GT stem "${A}"`);
  assert.equal(missing.test_file, null);
  const mismatch = byKey.get(`blur/tta/${B}`)!;
  assert.equal(mismatch.code, 'E_SIZE_MISMATCH');
  assert.equal(mismatch.test_file, `${B}-tta.png`);
  assert.match(mismatch.reason, /96x96.*80x80|80x80.*96x96/);
  const corrupt = byKey.get(`jpeg/notta/${C}`)!;
  assert.ok(['E_CORRUPT', 'E_UNSUPPORTED'].includes(corrupt.code), corrupt.code);
  assert.ok(corrupt.reason.includes(`${C}.jpg`), corrupt.reason);
  const ambiguous = byKey.get(`jpeg/tta/${A}`)!;
  assert.equal(ambiguous.reason, `${ds.dirs.jpegTta}: 2 output files match GT stem "${A}" (ambiguous): ${A}_LR_bicubic_x0.50.png, ${A}_copy.png`);
  // The run is complete and auditable despite the failures.
  assert.ok(verifyPassed(await verify(out)));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { failed: number; unmatched: Record<string, string[]> };
  assert.equal(run.failed, 4);
  assert.deepEqual(run.unmatched, { 'jpeg/tta': ['unrelated.png'] });
});

test('the CLI exits 1 when some pair failed, and 2 with one line for bad folders and options', async () => {
  const out = join(root, 'C');
  const r = await runCli(['run', '--gt', ds.gt, '--model', `jpeg=${ds.dirs.jpegNotta}`, '--out', out, '--workers', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /2\/3 pairs ok, 1 failed; .* errors in errors.jsonl/);

  const cases: [string[], string][] = [
    [['run', '--gt', join(root, 'nope'), '--model', `m=${ds.dirs.jpegNotta}`, '--out', join(root, 'X')], `blindspot run: ${join(root, 'nope')}: folder not found`],
    [['run', '--gt', ds.gt, '--model', `m=${join(root, 'nodir')}`, '--out', join(root, 'X')], `blindspot run: ${join(root, 'nodir')}: folder not found`],
    [['run', '--model', `m=${ds.dirs.jpegNotta}`, '--out', join(root, 'X')], 'blindspot run: missing --gt DIR (or a run file with gt)'],
    [['run', '--gt', ds.gt, '--model', `m=${ds.dirs.jpegNotta}`, '--out', join(root, 'X'), '--columns', 'most'], 'blindspot run: invalid --columns: expected core|full, got "most"'],
    [['run', '--gt', ds.gt, '--model', `m=${ds.dirs.jpegNotta}`, '--out', join(root, 'X'), '--block', '4'], 'blindspot run: invalid --block: expected an integer >= 7 <= 4096, got "4"'],
    [['run', '--gt', ds.gt, '--model', `jpeg=${ds.dirs.jpegNotta}`, '--out', out, '--columns', 'core'], `blindspot run: ${out}: holds a finished run with other options (run.json); choose another --out or delete it`],
  ];
  for (const [args, line] of cases) {
    const x = await runCli(args);
    assert.equal(x.code, 2, `${args.join(' ')}\n${x.stderr}`);
    assert.equal(x.stderr.trim(), line);
  }
});

test('bad run options fail before any file is written', async () => {
  const out = join(root, 'never');
  await assert.rejects(
    runDataset({ gt: ds.gt, models: [{ name: 'a', path: 'notta', dir: ds.dirs.blurNotta }], out, diagnose: { blockSize: 3 } }),
    (e: unknown) => e instanceof BlindspotError && e.code === 'E_INVALID_OPTION' && /blockSize/.test(e.message),
  );
  await assert.rejects(runDataset({ gt: ds.gt, models: [{ name: 'a/b', path: 'notta', dir: ds.dirs.blurNotta }], out }), /invalid model name/);
  assert.throws(() => readFileSync(join(out, 'run.json')));
});
