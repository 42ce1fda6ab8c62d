import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles, parseManifest, verify, verifyPassed, writeManifest } from '../../src/store/manifest.ts';
import { BlindspotError } from '../../src/errors.ts';

function makeTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bs-manifest-'));
  mkdirSync(join(dir, 'blocks/model=a/path=notta'), { recursive: true });
  writeFileSync(join(dir, 'blocks/model=a/path=notta/part-00000.parquet'), Buffer.from([1, 2, 3, 4]));
  writeFileSync(join(dir, 'run.json'), '{"x":1}\n');
  writeFileSync(join(dir, 'b c.txt'), 'space in name\n');
  return dir;
}

test('manifest equals coreutils sha256sum output for the same files and passes sha256sum -c', async () => {
  const dir = makeTree();
  try {
    const files = await listFiles(dir);
    assert.deepEqual(files, ['b c.txt', 'blocks/model=a/path=notta/part-00000.parquet', 'run.json']);
    await writeManifest(dir, files);
    const ours = readFileSync(join(dir, 'MANIFEST.sha256'), 'utf8');
    const theirs = execFileSync('sha256sum', files, { cwd: dir, encoding: 'utf8' });
    assert.equal(ours, theirs);
    execFileSync('sha256sum', ['-c', '--quiet', 'MANIFEST.sha256'], { cwd: dir });
    const r = await verify(dir);
    assert.ok(verifyPassed(r));
    assert.equal(r.passed, true);
    assert.equal(r.ok, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify names a flipped byte as changed, a deleted file as missing and a new file as extra', async () => {
  const dir = makeTree();
  try {
    await writeManifest(dir, await listFiles(dir));
    const part = join(dir, 'blocks/model=a/path=notta/part-00000.parquet');
    const bytes = readFileSync(part);
    bytes[2] ^= 0x01;
    writeFileSync(part, bytes);
    unlinkSync(join(dir, 'run.json'));
    writeFileSync(join(dir, 'blocks/model=a/stray.txt'), 'x');
    const r = await verify(dir);
    assert.equal(verifyPassed(r), false);
    assert.deepEqual(r.changed, ['blocks/model=a/path=notta/part-00000.parquet']);
    assert.deepEqual(r.missing, ['run.json']);
    assert.deepEqual(r.extra, ['blocks/model=a/stray.txt']);
    assert.equal(r.ok, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a manifest in a subfolder covers that subfolder; .staging is never extra', async () => {
  const dir = makeTree();
  try {
    await writeManifest(dir, await listFiles(dir));
    mkdirSync(join(dir, 'analysis'));
    writeFileSync(join(dir, 'analysis/report.md'), '# r\n');
    await writeManifest(join(dir, 'analysis'), ['report.md']);
    mkdirSync(join(dir, '.staging'));
    writeFileSync(join(dir, '.staging/x'), 'y');
    const r = await verify(dir);
    assert.ok(verifyPassed(r), JSON.stringify(r));
    assert.equal(r.ok, 4);
    assert.deepEqual(r.manifests, ['MANIFEST.sha256', 'analysis/MANIFEST.sha256']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad manifests and folders give one-line errors', async () => {
  assert.throws(() => parseManifest('abc  x\n', 'M'), (e: unknown) => e instanceof BlindspotError && e.message === 'M: line 1 is not "SHA256  path": "abc  x"');
  const dir = mkdtempSync(join(tmpdir(), 'bs-manifest-'));
  try {
    await assert.rejects(verify(dir), (e: unknown) => e instanceof BlindspotError && e.message === `${dir}: no MANIFEST.sha256 found`);
    await assert.rejects(verify(join(dir, 'nope')), /nope: not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
