/** Assertions on coded user errors: the code and the exact one-line message are API. */
import assert from 'node:assert/strict';
import { BlindspotError } from '../../src/errors.ts';

export async function rejectsWith(p: Promise<unknown>, code: string, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BlindspotError, `expected BlindspotError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}
