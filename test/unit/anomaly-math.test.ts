/**
 * The Anomaly Score's pure math: the 2-D KS test against the known answers (computed with the reference
 * ndtest.ks2d2s), the Kolmogorov survival function's two series against each other, Spearman's rho against a
 * published example, and the Fréchet distance against its closed form in one dimension.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kolmogorovSurvival, ks2d } from '../../src/anomaly/ks2d.ts';
import { frechetDistance, spearman, complexityFromTrajectory } from '../../src/anomaly/stats.ts';
import { ks2d as ks2dFromIndex } from '../../src/index.ts';

/** The generators. */
function sample(n1: number, n2: number, s: number) {
  const x1: number[] = [];
  const y1: number[] = [];
  const x2: number[] = [];
  const y2: number[] = [];
  for (let i = 0; i < n1; i++) {
    const x = Math.sin(1.3 * i + 0.5);
    x1.push(x);
    y1.push(Math.cos(0.7 * i + 0.2) + 0.3 * x);
  }
  for (let j = 0; j < n2; j++) {
    const x = Math.sin(1.1 * j + 0.1) + s;
    x2.push(x);
    y2.push(Math.cos(0.9 * j + 0.4) + 0.3 * x);
  }
  return [x1, y1, x2, y2] as const;
}

for (const [n1, n2, s, D, p] of [
  [8, 8, 0, 0.3125, 0.7238149416],
  [50, 40, 0.3, 0.2275, 0.2828767834],
  [200, 200, 0.2, 0.205, 0.0041582313],
] as const) {
  test(`ks2d known answer (n1=${n1}, n2=${n2}, s=${s}): D = ${D}, p = ${p}`, () => {
    const r = ks2d(...sample(n1, n2, s));
    // D is a multiple of 1/(2 n1 n2): exact up to the last bit of the float sum.
    assert.ok(Math.abs(r.D - D) < 1e-12, `D ${r.D}`);
    assert.ok(Math.abs(r.p - p) < 1e-8, `p ${r.p}`);
  });
}

test('ks2d is exported from the package entry and is symmetric in its two samples', () => {
  const [x1, y1, x2, y2] = sample(30, 20, 0.1);
  const a = ks2dFromIndex(x1, y1, x2, y2);
  const b = ks2dFromIndex(x2, y2, x1, y1);
  assert.equal(a.D, b.D);
  assert.ok(Math.abs(a.p - b.p) < 1e-15);
});

test('ks2d of two identical samples: D = 1/n (only the origin correction) and p near 1', () => {
  const [x1, y1] = sample(40, 1, 0);
  const r = ks2d(x1, y1, x1, y1);
  assert.ok(Math.abs(r.D - 1 / 40) < 1e-15);
  assert.ok(r.p > 0.99);
});

test('ks2d rejects unequal lengths and empty samples with a coded error', () => {
  assert.throws(() => ks2d([1, 2], [1], [1], [1]), /E_INVALID_OPTION|invalid x1\/y1/);
  assert.throws(() => ks2d([], [], [1], [1]), /invalid x1\/y1/);
});

test('Kolmogorov survival: the small-lambda and large-lambda series agree where both converge', () => {
  // Both closed forms of Q(l): 2 sum (-1)^(k-1) exp(-2 k^2 l^2) and 1 - sqrt(2 pi)/l sum exp(-(2k-1)^2 pi^2/(8 l^2)).
  for (const l of [0.6, 0.8, 0.95, 1.0, 1.05, 1.3]) {
    let alt = 0;
    for (let k = 1; k < 200; k++) alt += (k % 2 ? 2 : -2) * Math.exp(-2 * k * k * l * l);
    let cdf = 0;
    for (let k = 1; k < 200; k++) cdf += Math.exp((-((2 * k - 1) ** 2) * Math.PI ** 2) / (8 * l * l));
    cdf *= Math.sqrt(2 * Math.PI) / l;
    assert.ok(Math.abs(alt - (1 - cdf)) < 1e-13, `series disagree at ${l}`);
    assert.ok(Math.abs(kolmogorovSurvival(l) - alt) < 1e-13, `Q(${l})`);
  }
  assert.equal(kolmogorovSurvival(0), 1);
  assert.ok(kolmogorovSurvival(5) < 1e-20);
});

test("Spearman's rho: scipy's documented example gives 0.8207826816681233 (ties averaged)", () => {
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-14);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
});

test('Fréchet distance in 1-D equals (mu1 - mu2)^2 + (sigma1 - sigma2)^2 (sample std)', () => {
  const a = [0.3, 1.2, -0.4, 2.2, 0.9];
  const b = [1.5, 3.1, 2.2, 0.7, 2.9, 4.4];
  const m = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const sd = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + (x - m(v)) ** 2, 0) / (v.length - 1));
  const expected = (m(a) - m(b)) ** 2 + (sd(a) - sd(b)) ** 2;
  assert.ok(Math.abs(frechetDistance(a, 5, b, 6, 1) - expected) < 1e-12);
});

test('Fréchet distance of a set with itself is 0, and grows with a mean shift by exactly |shift|^2', () => {
  const dim = 7;
  const n = 9;
  const f = Array.from({ length: n * dim }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * 0.3));
  assert.ok(Math.abs(frechetDistance(f, n, f, n, dim)) < 1e-9);
  const shifted = f.map((v, i) => v + (i % dim === 2 ? 0.5 : 0));
  assert.ok(Math.abs(frechetDistance(f, n, shifted, n, dim) - 0.25) < 1e-9);
});

test('complexity of a straight feature trajectory is 0; of a right-angle zigzag is pi/2; zero steps are skipped', () => {
  const line = [0, 0, 1, 2, 2, 4, 3, 6];
  assert.equal(complexityFromTrajectory(line, 4, 2).complexity, 0);
  const zig = [0, 0, 1, 0, 1, 1, 2, 1];
  assert.ok(Math.abs(complexityFromTrajectory(zig, 4, 2).complexity - Math.PI / 2) < 1e-15);
  const stuck = [0, 0, 1, 0, 1, 0, 1, 1];
  const r = complexityFromTrajectory(stuck, 4, 2);
  assert.ok(Number.isNaN(r.angles[0]!) && Number.isNaN(r.angles[1]!));
  assert.equal(r.complexity, 0);
});
