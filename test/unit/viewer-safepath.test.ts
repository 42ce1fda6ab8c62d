/** Path-traversal refusals of the viewer's file routes: .., encoded and double-encoded variants, absolute, symlinks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRefusal, rawPathIsSafe, resolveInside } from '../../src/viewer/safePath.ts';

const root = mkdtempSync(join(tmpdir(), 'bs-safepath-'));
const served = join(root, 'served');
mkdirSync(join(served, 'analysis'), { recursive: true });
writeFileSync(join(served, 'analysis', 'report.md'), 'ok');
writeFileSync(join(root, 'secret.txt'), 'secret');
symlinkSync(join(root, 'secret.txt'), join(served, 'escape.txt'));
symlinkSync(root, join(served, 'up'));
symlinkSync(join(served, 'analysis', 'report.md'), join(served, 'inner-link.md'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('a plain relative path inside the root resolves to its real path', async () => {
  assert.equal(
    await resolveInside(served, 'analysis/report.md'),
    realpathSync(join(served, 'analysis', 'report.md')),
  );
  assert.equal(
    await resolveInside(served, 'inner-link.md'),
    realpathSync(join(served, 'analysis', 'report.md')),
  );
});

test('refuses .., %2e%2e, %252e (double encoding), encoded slashes and backslashes, absolute paths', async () => {
  for (const p of [
    '../secret.txt',
    'analysis/../../secret.txt',
    '%2e%2e/secret.txt',
    '%2E%2E%2Fsecret.txt',
    '%252e%252e/secret.txt',
    'analysis%2f..%2f..%2fsecret.txt',
    '..%5csecret.txt',
    '..\\secret.txt',
    '/etc/passwd',
    '%2fetc%2fpasswd',
    'C:/Windows/win.ini',
    'analysis//report.md',
    './analysis/report.md',
  ]) {
    const r = await resolveInside(served, p);
    assert.ok(isRefusal(r), `${p} was served as ${String(r)}`);
    assert.ok(r.status === 403 || r.status === 400, `${p}: ${r.status}`);
  }
  assert.equal(rawPathIsSafe('/results/%252e%252e/x'), false);
  assert.equal(rawPathIsSafe('/results/analysis/report.md'), true);
});

test('refuses symlinks that lead out of the root (file and folder links)', async () => {
  for (const p of ['escape.txt', 'up/secret.txt']) {
    const r = await resolveInside(served, p);
    assert.ok(isRefusal(r) && r.status === 403, `${p}: ${JSON.stringify(r)}`);
  }
});

test('a missing file or a folder is 404, not served', async () => {
  for (const p of ['nope.txt', 'analysis']) {
    const r = await resolveInside(served, p);
    assert.ok(isRefusal(r) && r.status === 404, `${p}: ${JSON.stringify(r)}`);
  }
});
