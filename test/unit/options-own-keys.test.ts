/**
 * Options objects accept only their own keys (issue 15): `toString`, `constructor`, `__proto__` and
 * `hasOwnProperty` are inherited by every object, so an `in` check let them through as "known" options
 * (a run file's `diagnose: { constructor: 1 }` was accepted and recorded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeOptions, BlindspotError } from '../../src/errors.ts';
import { resolveDiagnoseOptions } from '../../src/tier3/options.ts';
import { readRunFile } from '../../src/dataset/options.ts';

const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

test('mergeOptions rejects inherited Object.prototype names as unknown options', () => {
  for (const k of INHERITED) {
    const partial = JSON.parse(`{"${k}": 1}`) as Record<string, unknown>; // JSON.parse makes "__proto__" an own key
    assert.throws(
      () => mergeOptions(Object.freeze({ a: 1 }), partial, 'test'),
      (e: unknown) => e instanceof BlindspotError && e.code === 'E_INVALID_OPTION' && e.message === `unknown test option "${k}" (allowed: a)`,
    );
    assert.throws(() => resolveDiagnoseOptions(partial as never), (e: unknown) => e instanceof BlindspotError && e.message.startsWith(`unknown diagnose option "${k}"`));
  }
});

test('a run file with diagnose: { constructor: 1 } is refused with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-ownkeys-'));
  try {
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ gt: 'gt', models: [{ name: 'm', notta: 'm' }], diagnose: { constructor: 1 } }));
    // Refused when the run file is read or, at the latest, when its diagnose options are resolved (runDataset).
    await assert.rejects(
      readRunFile(file).then((o) => resolveDiagnoseOptions(o.diagnose as never)),
      (e: unknown) => e instanceof BlindspotError && /unknown diagnose option "constructor"/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
