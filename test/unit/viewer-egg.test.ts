/** Egg geometry (DESIGN §3b Shell–Membrane–Yolk): analytic radii, spoke directions, the None pole. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AXIS_VECTORS, NONE_POLE, eggDirection, eggRadius } from '../../src/viewer/egg.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('radius: yolk 0..0.45 for Silent (log10 kappa), membrane 0.45..0.60, shell 0.60..1 linear in kappa', () => {
  close(eggRadius(0, 0), 0);
  // Silent: linear in log10(kappa) from 1e-6 (centre) to 0.5 (yolk edge), so near-zero kappas spread out
  close(eggRadius(1e-6, 0), 0);
  close(eggRadius(1e-4, 0), (0.45 * 2) / (6 + Math.log10(0.5)));
  close(eggRadius(0.01, 0), (0.45 * 4) / (6 + Math.log10(0.5)));
  close(eggRadius(0.5, 0), 0.45);
  close(eggRadius(0.9, 0), 0.45); // a Silent block never leaves the yolk
  close(eggRadius(0, 1), 0.45);
  close(eggRadius(0.25, 1), 0.525);
  close(eggRadius(0.5, 1), 0.6);
  close(eggRadius(0.5, 2), 0.6);
  close(eggRadius(0.75, 2), 0.8);
  close(eggRadius(1, 2), 1);
});

test('axis spokes are six distinct unit vectors 60° from the bottom pole, 60° apart in azimuth', () => {
  assert.equal(AXIS_VECTORS.length, 6);
  for (const [k, v] of AXIS_VECTORS.entries()) {
    close(Math.hypot(...v), 1);
    close(Math.acos(-v[1]), Math.PI / 3, 1e-12); // angle to (0,-1,0)
    const next = AXIS_VECTORS[(k + 1) % 6]!;
    const h = Math.hypot(v[0], v[2]) * Math.hypot(next[0], next[2]);
    close((v[0] * next[0] + v[2] * next[2]) / h, Math.cos(Math.PI / 3), 1e-12); // neighbours 60° apart
  }
});

test('no damage sits on the None pole; one axis at severity 1 sits exactly on its spoke', () => {
  assert.deepEqual([...eggDirection([0, 0, 0, 0, 0, 0])], [...NONE_POLE]);
  assert.deepEqual([...eggDirection([NaN, 0, 0, 0, 0, 0])], [...NONE_POLE]);
  for (let k = 0; k < 6; k++) {
    const sev = [0, 0, 0, 0, 0, 0];
    sev[k] = 1;
    const d = eggDirection(sev);
    for (let c = 0; c < 3; c++) close(d[c]!, AXIS_VECTORS[k]![c]!);
  }
});

test('partial damage s on one axis lies on the great circle from the pole to that spoke: normalise((1-s) pole + s axis)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (k, s) => {
      const sev = [0, 0, 0, 0, 0, 0];
      sev[k] = s;
      const u = AXIS_VECTORS[k]!;
      const raw = [
        (1 - s) * NONE_POLE[0] + s * u[0],
        (1 - s) * NONE_POLE[1] + s * u[1],
        (1 - s) * NONE_POLE[2] + s * u[2],
      ];
      const n = Math.hypot(...raw);
      const d = eggDirection(sev);
      for (let c = 0; c < 3; c++) close(d[c]!, raw[c]! / n, 1e-12);
    }),
  );
});

test('every damage vector gives a unit direction (non-negative mixtures never cancel to zero)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
      (sev) => {
        const d = eggDirection(sev);
        close(Math.hypot(d[0]!, d[1]!, d[2]!), 1, 1e-9);
      },
    ),
  );
});
