/**
 * `verify` and the analysis readers against a tampered results folder (issue 15, item 4): symbolic links (a part
 * file, a partition folder) and manifests planted where no blindspot command writes one are reported and fail the
 * check (they used to be skipped or trusted while sql/analyze/view read them); a manifest line naming a path
 * outside its folder is corrupt; the readers refuse links and part files no manifest lists, and a run.json of the
 * wrong shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPartsListed, listFiles, verify, verifyPassed, writeManifest } from '../../src/store/manifest.ts';
import { BlindspotError } from '../../src/errors.ts';
import { readRunJson } from '../../src/analysis/open.ts';
import { runCli } from '../helpers/cli.ts';

const roots: string[] = [];
test.after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A results-like tree with its manifest, and a file outside it. */
async function tree(): Promise<{ dir: string; outside: string }> {
  const root = mkdtempSync(join(tmpdir(), 'bs-verify-'));
  roots.push(root);
  const dir = join(root, 'R');
  mkdirSync(join(dir, 'blocks/model=a/path=notta'), { recursive: true });
  mkdirSync(join(dir, 'images/model=a/path=notta'), { recursive: true });
  writeFileSync(join(dir, 'blocks/model=a/path=notta/part-00000.parquet'), 'blocks');
  writeFileSync(join(dir, 'images/model=a/path=notta/part-00000.parquet'), 'images');
  writeFileSync(join(dir, 'run.json'), '{}\n');
  await writeManifest(dir, await listFiles(dir));
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'part-00000.parquet'), 'planted');
  return { dir, outside };
}

const corrupt = (re: RegExp) => (e: unknown) => e instanceof BlindspotError && e.code === 'E_CORRUPT' && re.test(e.message);

test('a symlinked part file and a symlinked partition folder are reported (LINK) and fail verify; the readers refuse them', async () => {
  const { dir, outside } = await tree();
  await checkPartsListed(dir); // the untouched tree passes
  symlinkSync(join(outside, 'part-00000.parquet'), join(dir, 'blocks/model=a/path=notta/part-00001.parquet'));
  symlinkSync(outside, join(dir, 'blocks/model=evil'));
  const r = await verify(dir);
  assert.equal(verifyPassed(r), false);
  assert.deepEqual(r.special, ['blocks/model=a/path=notta/part-00001.parquet', 'blocks/model=evil']);
  assert.equal(r.ok, 3);
  await assert.rejects(checkPartsListed(dir), corrupt(/^.*: blocks\/model=a\/path=notta\/part-00001\.parquet is a symbolic link or special file, which a run never writes; run blindspot verify$/));
  const cli = await runCli(['verify', dir]);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /^LINK {5}blocks\/model=a\/path=notta\/part-00001\.parquet\nLINK {5}blocks\/model=evil\nFAILED: 3 file\(s\) match; 0 missing, 0 changed, 0 extra, 2 link\(s\)\/special \(MANIFEST\.sha256\)\n$/);
});

test('a manifest planted inside blocks/ is FOREIGN: the file it lists stays EXTRA; the readers refuse the unlisted part', async () => {
  const { dir } = await tree();
  const part = join(dir, 'blocks/model=a/path=notta');
  writeFileSync(join(part, 'part-00009.parquet'), 'injected');
  await writeManifest(part, ['part-00009.parquet']);
  const r = await verify(dir);
  assert.equal(verifyPassed(r), false);
  assert.deepEqual(r.foreign, ['blocks/model=a/path=notta/MANIFEST.sha256']);
  assert.deepEqual(r.extra, ['blocks/model=a/path=notta/part-00009.parquet']);
  assert.equal(r.passed, false, 'a broken folder does not pass, whatever r.ok counts');
  assert.deepEqual(r.manifests, ['MANIFEST.sha256']);
  await assert.rejects(checkPartsListed(dir), corrupt(/blocks\/model=a\/path=notta\/MANIFEST\.sha256 is listed in no MANIFEST\*\.sha256/));
  // analysis/MANIFEST.sha256 (written by analyze) stays trusted.
  mkdirSync(join(dir, 'analysis'));
  writeFileSync(join(dir, 'analysis/report.md'), '# r\n');
  await writeManifest(join(dir, 'analysis'), ['report.md']);
  assert.deepEqual((await verify(dir)).manifests, ['MANIFEST.sha256', 'analysis/MANIFEST.sha256']);
});

test('a manifest line naming ../ or an absolute path is corrupt (verify would hash files outside the folder)', async () => {
  const { dir } = await tree();
  const hash = '0'.repeat(64);
  for (const bad of ['../outside/part-00000.parquet', '/etc/passwd', 'blocks/../../x']) {
    writeFileSync(join(dir, 'MANIFEST.sha256'), `${hash}  ${bad}\n`);
    await assert.rejects(verify(dir), corrupt(/line 1 names a path outside the manifest's folder/));
  }
});

test('a file name with a newline or backslash: the manifest escapes it as GNU sha256sum does; sha256sum -c and verify pass', async () => {
  const { dir } = await tree();
  mkdirSync(join(dir, 'csv/model=a/path=notta'), { recursive: true });
  const odd = ['csv/model=a/path=notta/two\nlines.csv', 'csv/model=a/path=notta/back\\slash.csv'];
  for (const f of odd) writeFileSync(join(dir, f), f);
  await writeManifest(dir, (await listFiles(dir)).filter((f) => f !== 'MANIFEST.sha256'));
  const text = readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8');
  // The same lines coreutils writes for these names.
  const theirs = execFileSync('sha256sum', ['--', ...odd], { cwd: dir, encoding: 'utf8' });
  for (const line of theirs.trimEnd().split('\n')) assert.ok(text.includes(line + '\n'), line);
  execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: dir });
  const r = await verify(dir);
  assert.ok(verifyPassed(r), JSON.stringify(r));
  assert.equal(r.ok, 5);
});

test('a structurally corrupt run.json is one E_CORRUPT line, not analysed with defaults', async () => {
  const { dir } = await tree();
  const file = join(dir, 'run.json');
  for (const [text, why] of [
    ['[1, 2]', 'not a run file: expected a JSON object'],
    ['"run"', 'not a run file: expected a JSON object'],
    ['{"diagnose": 5}', 'field "diagnose": expected an object'],
    ['{"diagnose": [1]}', 'field "diagnose": expected an object'],
    ['{"models": {}}', 'field "models": expected an array'],
  ] as const) {
    writeFileSync(file, text);
    assert.throws(() => readRunJson(dir), (e: unknown) => e instanceof BlindspotError && e.code === 'E_CORRUPT' && e.message === `${file}: ${why}`);
  }
});
