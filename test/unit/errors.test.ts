import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlindspotError, invalidOption, mergeOptions } from '../../src/errors.ts';

test('BlindspotError prefixes the file and keeps a stable code', () => {
  const e = new BlindspotError('E_CORRUPT', 'not a PNG', 'a/b.png');
  assert.equal(e.message, 'a/b.png: not a PNG');
  assert.equal(e.code, 'E_CORRUPT');
});

test('invalidOption wording names option, expectation and value', () => {
  assert.equal(invalidOption('--mode', 'wang|skimage', 'foo').message, 'invalid --mode: expected wang|skimage, got "foo"');
});

test('mergeOptions rejects unknown keys and lists the allowed ones', () => {
  assert.deepEqual(mergeOptions<{ a: number; b: number }>({ a: 1, b: 2 }, { b: 3 }, 'test'), { a: 1, b: 3 });
  assert.throws(() => mergeOptions({ a: 1 }, { c: 1 } as never, 'ssim'), /unknown ssim option "c" \(allowed: a\)/);
});
