import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DIHEDRAL_COUNT,
  dihedral,
  dihedralInverse,
  inverseDihedralIndex,
} from '../../src/upscale/dihedral.ts';
import { imresize } from '../../src/upscale/imresize.ts';
import { selfEnsemble } from '../../src/upscale/upscale.ts';
import { runTiled } from '../../src/upscale/tile.ts';

/** Independent reference: the 8 transforms built from nested arrays (transpose, reverse rows). */
function grid(data: Float32Array, w: number, h: number, c: number): number[][][] {
  const g: number[][][] = [];
  for (let y = 0; y < h; y++) {
    const row: number[][] = [];
    for (let x = 0; x < w; x++) row.push(Array.from(data.subarray((y * w + x) * c, (y * w + x + 1) * c)));
    g.push(row);
  }
  return g;
}
const flipH = (g: number[][][]) => g.map((r) => [...r].reverse());
// clockwise quarter turn: new row i = old column i read bottom to top
const rotCw = (g: number[][][]) => g[0]!.map((_, i) => g.map((r) => r[i]!).reverse());
function reference(g: number[][][], k: number): number[][][] {
  let out = k >= 4 ? flipH(g) : g;
  for (let r = 0; r < k % 4; r++) out = rotCw(out);
  return out;
}
const flat = (g: number[][][]) => g.flat(2);

const imageArb = fc
  .record({ w: fc.integer({ min: 1, max: 7 }), h: fc.integer({ min: 1, max: 7 }), c: fc.constantFrom(1, 3) })
  .chain(({ w, h, c }) =>
    fc.record({
      w: fc.constant(w),
      h: fc.constant(h),
      c: fc.constant(c),
      data: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: w * h * c, maxLength: w * h * c }),
    }),
  );

test('each dihedral transform equals the nested-array reference (flip, then clockwise quarter turns)', () => {
  fc.assert(
    fc.property(imageArb, ({ w, h, c, data }) => {
      const src = Float32Array.from(data);
      for (let k = 0; k < DIHEDRAL_COUNT; k++) {
        const t = dihedral(src, w, h, c, k);
        const ref = reference(grid(src, w, h, c), k);
        assert.equal(t.height, ref.length);
        assert.equal(t.width, ref[0]!.length);
        assert.deepEqual(Array.from(t.data), flat(ref));
      }
    }),
    { numRuns: 60 },
  );
});

test('the 8 transforms and their inverses compose to the identity (and inverse-then-forward too)', () => {
  fc.assert(
    fc.property(imageArb, ({ w, h, c, data }) => {
      const src = Float32Array.from(data);
      for (let k = 0; k < DIHEDRAL_COUNT; k++) {
        const t = dihedral(src, w, h, c, k);
        const back = dihedralInverse(t.data, t.width, t.height, c, k);
        assert.equal(back.width, w);
        assert.equal(back.height, h);
        assert.deepEqual(back.data, src);
        const inv = dihedralInverse(src, w, h, c, k);
        assert.deepEqual(dihedral(inv.data, inv.width, inv.height, c, k).data, src);
      }
    }),
    { numRuns: 60 },
  );
});

test('the 8 transforms of an asymmetric image are 8 different images (a group of order 8, inverses in it)', () => {
  const w = 3;
  const h = 2;
  const src = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const seen = new Set<string>();
  for (let k = 0; k < DIHEDRAL_COUNT; k++) {
    const t = dihedral(src, w, h, 1, k);
    seen.add(`${t.width}x${t.height}:${Array.from(t.data).join(',')}`);
    assert.ok(inverseDihedralIndex(k) >= 0 && inverseDihedralIndex(k) < 8);
  }
  assert.equal(seen.size, 8);
  // a quarter turn applied four times is the identity
  let cur: { data: Float32Array; width: number; height: number } = { data: src, width: w, height: h };
  for (let i = 0; i < 4; i++) cur = dihedral(cur.data, cur.width, cur.height, 1, 1);
  assert.deepEqual(cur.data, src);
});

/** Float MATLAB bicubic x2 as an equivariant "model": symmetric kernel, symmetric index mapping. */
const bicubicX2 = async (d: Float32Array, w: number, h: number) =>
  Float32Array.from(imresize(d, w, h, 1, { scale: 2 }).data);

test('TTA of an equivariant upscaler (float bicubic) equals its plain output, on symmetric and random input', async () => {
  const n = 12;
  // dihedral-symmetric input: a function of (min(d_x, d_y), max(d_x, d_y)) with d = distance to the centre
  const sym = new Float32Array(n * n);
  const rand = new Float32Array(n * n);
  let seed = 7;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const dx = Math.abs(x - (n - 1) / 2);
      const dy = Math.abs(y - (n - 1) / 2);
      sym[y * n + x] = 40 + 10 * Math.min(dx, dy) + 3 * Math.max(dx, dy) ** 2;
      seed = (seed * 1103515245 + 12345) % 2147483648;
      rand[y * n + x] = seed % 256;
    }
  }
  for (const input of [sym, rand]) {
    const plain = await bicubicX2(input, n, n);
    const tta = await selfEnsemble(bicubicX2, input, n, n, 1, 2);
    let max = 0;
    for (let i = 0; i < plain.length; i++) max = Math.max(max, Math.abs(plain[i]! - tta[i]!));
    assert.ok(max < 1e-3, `max |tta - plain| = ${max}`); // float32 round-off only
  }
});

test('tiling with enough overlap equals the untiled result exactly for a local operator (bicubic: 2-pixel reach)', async () => {
  const w = 45;
  const h = 38;
  const data = new Float32Array(w * h);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  const whole = await bicubicX2(data, w, h);
  const tiled = await runTiled(data, w, h, 1, 2, 16, 3, bicubicX2);
  assert.deepEqual(tiled, whole);
  // with no overlap the tile edges are wrong: the test can fail
  const seams = await runTiled(data, w, h, 1, 2, 16, 0, bicubicX2);
  assert.notDeepEqual(seams, whole);
});
