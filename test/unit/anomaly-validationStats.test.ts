/**
 * The validation's statistics against hand-computed answers: the exact sign test (binomial tails written out),
 * AUROC with a tie, and the kNN feature-distance baseline on points on a line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, knnDistance, signTest } from '../../src/anomaly/validationStats.ts';

test('sign test: 10 of 12 up gives P(X >= 10) = (66 + 12 + 1) / 4096, ties dropped, direction respected', () => {
  const before = Array(14).fill(0);
  const after = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, 0, 0];
  const up = signTest(before, after, 1);
  assert.equal(up.k, 10);
  assert.equal(up.n, 12);
  assert.ok(Math.abs(up.pOneSided - 79 / 4096) < 1e-13);
  assert.ok(Math.abs(up.pTwoSided - 158 / 4096) < 1e-13);
  const down = signTest(before, after, -1);
  assert.equal(down.k, 2);
  // P(X >= 2) = 1 - (1 + 12) / 4096.
  assert.ok(Math.abs(down.pOneSided - (1 - 13 / 4096)) < 1e-13);
  assert.ok(Math.abs(down.pTwoSided - 158 / 4096) < 1e-13);
  assert.equal(signTest([1, 2], [1, 2], 1).pTwoSided, 1);
});

test('AUROC counts a tie as one half; 1 = perfect separation, 0.5 = none', () => {
  assert.equal(auroc([3, 4], [1, 2, 3]), 5.5 / 6);
  assert.equal(auroc([5, 6], [1, 2]), 1);
  assert.equal(auroc([1, 2], [1, 2]), 0.5);
});

test('kNN distance: mean distance to the k nearest reference vectors', () => {
  const ref = [[0], [1], [2], [10]].map((v) => Float32Array.from(v));
  const d = knnDistance([Float32Array.from([1.5]), Float32Array.from([9])], ref, 2);
  // 1.5: nearest 1 and 2 (0.5 each); 9: nearest 10 (1) and 2 (7).
  assert.deepEqual(Array.from(d), [0.5, 4]);
});
