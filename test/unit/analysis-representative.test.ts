/** The GT under report.html's maps is area-averaged, not sampled: checked against hand-computed means. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxDownsample } from '../../src/analysis/representative.ts';

test('boxDownsample: each output pixel is the mean of the input pixels it covers', () => {
  // 4x4 -> 2x2: means of the four 2x2 quadrants
  const src = Float64Array.from([1, 2, 10, 20, 3, 4, 30, 40, 5, 5, 0, 0, 5, 5, 0, 8]);
  assert.deepEqual([...boxDownsample(src, 4, 4, 2, 2)], [2.5, 25, 5, 2]);
  // 5 wide -> 2 wide (rows of 1): output 0 covers x 0..1, output 1 covers x 2..4
  assert.deepEqual([...boxDownsample(Float64Array.from([1, 3, 6, 6, 9]), 5, 1, 2, 1)], [2, 7]);
  // same size: the plane itself
  const same = Float64Array.from([7, 8]);
  assert.equal(boxDownsample(same, 2, 1, 2, 1), same);
});
