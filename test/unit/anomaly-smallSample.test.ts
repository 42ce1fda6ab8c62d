/**
 * Small-sample guards of AS (issue 19 item 3): refuse fewer than 2 images per set, warn when
 * n1 n2/(n1 + n2) < 20, and report a permutation-null p next to the asymptotic one. The Monte Carlo permutation p
 * is checked against the exact p from an enumeration of all 70 splits of 4 + 4 points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asFromPoints } from '../../src/anomaly/asStat.ts';
import { ks2d, ks2dPermutation } from '../../src/anomaly/ks2d.ts';
import { BlindspotError } from '../../src/errors.ts';

const pts = (n: number, shift: number, phase: number) =>
  Array.from({ length: n }, (_, i) => ({
    complexity: Math.sin(1.37 * i + phase) + shift,
    vulnerability: Math.cos(0.91 * i + 2 * phase) + 0.3 * Math.sin(1.37 * i + phase),
  }));

test('AS refuses a set of one image (E_TOO_SMALL) and an empty set (E_EMPTY), naming the folder', () => {
  assert.throws(
    () => asFromPoints(pts(1, 0, 0), pts(5, 0, 1), 0, 'real/', 'gen/'),
    (e: unknown) =>
      e instanceof BlindspotError &&
      e.code === 'E_TOO_SMALL' &&
      e.message === 'real/: AS needs at least 2 scored real images, got 1',
  );
  assert.throws(
    () => asFromPoints(pts(5, 0, 0), pts(1, 0, 1), 0, 'real/', 'gen/'),
    (e: unknown) => e instanceof BlindspotError && e.code === 'E_TOO_SMALL' && /^gen\/: /.test(e.message),
  );
  assert.throws(
    () => asFromPoints(pts(5, 0, 0), [], 0),
    (e: unknown) => e instanceof BlindspotError && e.code === 'E_EMPTY',
  );
});

test('AS warns below n1*n2/(n1+n2) = 20 with a permutation p, and not at or above it', () => {
  const small = asFromPoints(pts(30, 0, 0), pts(30, 0.2, 1), 3);
  assert.equal(small.effectiveN, 15);
  assert.match(small.warning ?? '', /^small sets \(30 real, 30 generated; n1\*n2\/\(n1\+n2\) = 15\.0 < 20\)/);
  assert.equal(small.permutations, 2000);
  assert.ok(small.pPermutation! > 0 && small.pPermutation! <= 1);
  assert.equal(small.as, ks2d(...xy(pts(30, 0, 0)), ...xy(pts(30, 0.2, 1))).D);
  // 40 + 40 is exactly N_e = 20: no warning, no permutation.
  const big = asFromPoints(pts(40, 0, 0), pts(40, 0.2, 1));
  assert.equal(big.effectiveN, 20);
  assert.equal(big.warning, undefined);
  assert.equal(big.pPermutation, undefined);
  // Deterministic for a seed.
  assert.equal(asFromPoints(pts(30, 0, 0), pts(30, 0.2, 1), 3).pPermutation, small.pPermutation);
});

function xy(p: { complexity: number; vulnerability: number }[]) {
  return [p.map((q) => q.complexity), p.map((q) => q.vulnerability)] as const;
}

/** ks2d's D of two point lists (the enumeration below only needs the statistic). */
function plainD(a: [number, number][], b: [number, number][]): number {
  return ks2d(
    a.map((p) => p[0]),
    a.map((p) => p[1]),
    b.map((p) => p[0]),
    b.map((p) => p[1]),
  ).D;
}

test('permutation p converges to the exhaustive split p at a tiny size (4 + 4 points: 70 splits)', () => {
  const a = pts(4, 0, 0);
  const b = pts(4, 0.8, 1);
  const all = [...a, ...b].map((p) => [p.complexity, p.vulnerability] as [number, number]);
  const observed = plainD(all.slice(0, 4), all.slice(4));
  let ge = 0;
  let total = 0;
  for (let m = 0; m < 256; m++) {
    let bits = 0;
    for (let i = 0; i < 8; i++) bits += (m >> i) & 1;
    if (bits !== 4) continue;
    const s1 = all.filter((_, i) => (m >> i) & 1);
    const s2 = all.filter((_, i) => !((m >> i) & 1));
    if (plainD(s1, s2) >= observed - 1e-12) ge++;
    total++;
  }
  assert.equal(total, 70);
  const exact = ge / total;
  const r = ks2dPermutation(...xy(a), ...xy(b), 20000, 1);
  assert.equal(r.D, observed);
  // Binomial sd at 20000 draws <= 0.0036: 5 sd.
  assert.ok(Math.abs(r.p - exact) < 0.018, `permutation p ${r.p} vs exhaustive ${exact}`);
  assert.equal(r.nullD.length, 20000);
  for (let i = 1; i < r.nullD.length; i++) assert.ok(r.nullD[i]! >= r.nullD[i - 1]!);
});

test('permutation p is small for separated sets and large for a set against a shuffle of itself', () => {
  const far = ks2dPermutation(...xy(pts(15, 0, 0)), ...xy(pts(15, 3, 0.5)), 500, 0);
  assert.ok(far.p <= 2 / 501, `separated: p ${far.p}`);
  const same = ks2dPermutation(...xy(pts(15, 0, 0)), ...xy(pts(15, 0, 0)), 500, 0);
  assert.ok(same.p > 0.5, `identical: p ${same.p}`);
  assert.throws(() => ks2dPermutation([1, 2], [1, 2], [3, 4], [3, 4], 0), /invalid permutations/);
});
