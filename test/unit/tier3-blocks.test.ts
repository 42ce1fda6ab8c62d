/**
 * Block kernel (DESIGN §3b) against independent references written plainly here: two-pass moments, scikit-image's
 * default SSIM of a patch from its formula, clamped-edge Sobel/Laplacian fields, and analytic blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateBlockColumns, type BlockColumns } from '../../src/tier3/columns.ts';
import { blockGrid, diagnoseBlocks } from '../../src/tier3/blocks.ts';
import { resolveDiagnoseOptions, type DiagnoseOptions } from '../../src/tier3/options.ts';
import { damageOf, layerOf, LAYER_HIDDEN, regimeOf, REGIME_SILENT } from '../../src/tier3/regimes.ts';
import { skimagePatchSsim } from '../helpers/skimagePatch.ts';
import { mulberry32 } from '../helpers/rng.ts';

const rng = mulberry32;

function run(x: Float64Array, y: Float64Array, w: number, h: number, partial: Partial<DiagnoseOptions> = {}) {
  const o = { ...resolveDiagnoseOptions(partial), dataRange: partial.dataRange ?? 255 };
  const g = blockGrid(w, h, o.blockSize, o.stride);
  const cols = allocateBlockColumns(g.blockCount);
  diagnoseBlocks(x, y, w, h, o, cols);
  return { cols, g, o };
}

const f64 = (c: BlockColumns, name: string) => c[name] as Float64Array;

/** A random 8-bit pair: blocks with varied mean and texture amplitude; y = gain * x + offset + noise, rounded. */
function randomPair(w: number, h: number, seed: number): { x: Float64Array; y: Float64Array } {
  const r = rng(seed);
  const x = new Float64Array(w * h);
  const y = new Float64Array(w * h);
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      const mean = 10 + r() * 235;
      const amp = r() < 0.3 ? r() * 2 : r() * 60;
      const gain = r() < 0.2 ? -1 : 0.3 + r() * 1.2;
      const off = (r() - 0.5) * 30;
      const noise = r() * 10;
      for (let j = by; j < Math.min(h, by + 8); j++) {
        for (let i = bx; i < Math.min(w, bx + 8); i++) {
          const t = (r() - 0.5) * 2 * amp;
          const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
          x[j * w + i] = clamp(mean + t);
          y[j * w + i] = clamp(mean + gain * t + off + (r() - 0.5) * noise);
        }
      }
    }
  }
  return { x, y };
}

/** Plain two-pass population moments of the B x B patch at (x0, y0). */
function plainMoments(x: Float64Array, y: Float64Array, w: number, x0: number, y0: number, B: number) {
  let mx = 0,
    my = 0;
  for (let j = 0; j < B; j++)
    for (let i = 0; i < B; i++) {
      mx += x[(y0 + j) * w + x0 + i]!;
      my += y[(y0 + j) * w + x0 + i]!;
    }
  mx /= B * B;
  my /= B * B;
  let vx = 0,
    vy = 0,
    cxy = 0,
    de = 0,
    ve = 0;
  for (let j = 0; j < B; j++)
    for (let i = 0; i < B; i++) {
      const a = x[(y0 + j) * w + x0 + i]! - mx,
        b = y[(y0 + j) * w + x0 + i]! - my;
      vx += a * a;
      vy += b * b;
      cxy += a * b;
      de += b - a;
    }
  const n = B * B;
  de /= n;
  for (let j = 0; j < B; j++)
    for (let i = 0; i < B; i++) {
      const e = y[(y0 + j) * w + x0 + i]! - my - (x[(y0 + j) * w + x0 + i]! - mx) - de;
      ve += e * e;
    }
  return { mx, my, vx: vx / n, vy: vy / n, cxy: cxy / n, ve: ve / n };
}


test('SSIM identity [1 - dmu^2/(mx^2+my^2+C1)] * [1 - se^2/(sx^2+sy^2+C2)] equals l*c*s to 1e-12 on random blocks', () => {
  const W = 96,
    H = 80;
  const { x, y } = randomPair(W, H, 7);
  const { cols, g } = run(x, y, W, H);
  const C1 = (0.01 * 255) ** 2,
    C2 = (0.03 * 255) ** 2;
  for (let k = 0; k < g.blockCount; k++) {
    const mx = f64(cols, 'mx')[k]!,
      my = f64(cols, 'my')[k]!,
      sx = f64(cols, 'sx')[k]!,
      sy = f64(cols, 'sy')[k]!;
    const dmu = f64(cols, 'dmu')[k]!,
      se = f64(cols, 'se')[k]!;
    const identity =
      (1 - (dmu * dmu) / (mx * mx + my * my + C1)) * (1 - (se * se) / (sx * sx + sy * sy + C2));
    const lcs = f64(cols, 'l')[k]! * f64(cols, 'c')[k]! * f64(cols, 's')[k]!;
    assert.ok(Math.abs(identity - lcs) <= 1e-12, `block ${k}: identity ${identity} vs l*c*s ${lcs}`);
    assert.ok(
      Math.abs(f64(cols, 'ssim')[k]! - lcs) <= 1e-15,
      'failed: Math.abs(f64(cols, "ssim")[k]! - lcs) <= 1e-15',
    );
  }
});

test('whole-block moments equal a plain two-pass computation (1e-9) on random blocks', () => {
  const W = 64,
    H = 64;
  const { x, y } = randomPair(W, H, 11);
  const { cols, g } = run(x, y, W, H);
  for (let k = 0; k < g.blockCount; k++) {
    const r = Math.floor(k / g.gridCols),
      c = k % g.gridCols;
    const p = plainMoments(x, y, W, c * 8, r * 8, 8);
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what} block ${k}: ${a} vs ${b}`);
    near(f64(cols, 'mx')[k]!, p.mx, 'mx');
    near(f64(cols, 'my')[k]!, p.my, 'my');
    near(f64(cols, 'sx')[k]!, Math.sqrt(p.vx), 'sx');
    near(f64(cols, 'sy')[k]!, Math.sqrt(p.vy), 'sy');
    near(f64(cols, 'sxy')[k]!, p.cxy, 'sxy');
    near(f64(cols, 'se')[k]!, Math.sqrt(p.ve), 'se');
    near(f64(cols, 'dmu')[k]!, p.my - p.mx, 'dmu');
    const C2 = (0.03 * 255) ** 2;
    near(f64(cols, 'kappa')[k]!, (p.vx + p.vy) / (p.vx + p.vy + C2), 'kappa');
    near(f64(cols, 'r_ac')[k]!, p.ve / Math.max(p.vx, 1 / 12), 'R');
    near(f64(cols, 'a6')[k]!, Math.sqrt((p.my - p.mx) ** 2 + p.ve), 'RMSE');
  }
});

for (const B of [8, 16]) {
  test(`ssim_blk equals scikit-image default SSIM of the ${B}x${B} patch (1e-12), with its l and cs means`, () => {
    const W = 5 * B,
      H = 4 * B;
    const { x, y } = randomPair(W, H, 100 + B);
    const { cols, g } = run(x, y, W, H, { blockSize: B });
    assert.equal(g.blockCount, 20);
    for (let k = 0; k < g.blockCount; k++) {
      const r = Math.floor(k / g.gridCols),
        c = k % g.gridCols;
      const ref = skimagePatchSsim(x, y, W, c * B, r * B, B, 255);
      assert.ok(
        Math.abs(f64(cols, 'ssim_blk')[k]! - ref.ssim) <= 1e-12,
        `block ${k}: ${f64(cols, 'ssim_blk')[k]} vs ${ref.ssim}`,
      );
      assert.ok(
        Math.abs(f64(cols, 'l_blk')[k]! - ref.l) <= 1e-12,
        'failed: Math.abs(f64(cols, "l_blk")[k]! - ref.l) <= 1e-12',
      );
      assert.ok(
        Math.abs(f64(cols, 'cs_blk')[k]! - ref.cs) <= 1e-12,
        'failed: Math.abs(f64(cols, "cs_blk")[k]! - ref.cs) <= 1e-12',
      );
    }
  });
}

test('ssim_blk with stride 3 (overlapping blocks) equals the reference on each shifted patch (1e-12)', () => {
  const W = 40,
    H = 33;
  const { x, y } = randomPair(W, H, 5);
  const { cols, g } = run(x, y, W, H, { stride: 3 });
  assert.equal(g.gridRows, Math.floor((33 - 8) / 3) + 1);
  assert.equal(g.gridCols, Math.floor((40 - 8) / 3) + 1);
  for (let k = 0; k < g.blockCount; k++) {
    const r = Math.floor(k / g.gridCols),
      c = k % g.gridCols;
    assert.equal((cols.x0 as Int32Array)[k], c * 3);
    const ref = skimagePatchSsim(x, y, W, c * 3, r * 3, 8, 255);
    assert.ok(
      Math.abs(f64(cols, 'ssim_blk')[k]! - ref.ssim) <= 1e-12,
      'failed: Math.abs(f64(cols, "ssim_blk")[k]! - ref.ssim) <= 1e-12',
    );
  }
});

test('identical blocks: ssim_blk = ssim = 1, every axis 0, nothing fails', () => {
  const W = 32,
    H = 32;
  const { x } = randomPair(W, H, 3);
  const { cols, g } = run(x, x.slice(), W, H);
  for (let k = 0; k < g.blockCount; k++) {
    assert.equal(f64(cols, 'ssim_blk')[k], 1);
    assert.ok(
      Math.abs(f64(cols, 'ssim')[k]! - 1) <= 1e-15,
      'failed: Math.abs(f64(cols, "ssim")[k]! - 1) <= 1e-15',
    );
    for (const a of ['a1', 'a2', 'a4', 'a4_log2_energy', 'a5', 'a6'])
      assert.equal(Math.abs(f64(cols, a)[k]!), 0, `${a} block ${k}`);
    const a3 = f64(cols, 'a3')[k]!;
    assert.ok(Number.isNaN(a3) || Math.abs(a3) <= 1e-12, `a3 block ${k}: ${a3}`);
    assert.equal((cols.fail_count as Int32Array)[k], 0);
  }
});

test('constant shift d on a flat block: l = (2m(m+d)+C1)/(m^2+(m+d)^2+C1); only A1 (and the total residual A6 = |d|) respond', () => {
  const C1 = (0.01 * 255) ** 2;
  for (const [m, d] of [
    [3, 5],
    [200, 5],
    [100, 12],
    [100, -9],
  ] as const) {
    const x = new Float64Array(16 * 16).fill(m);
    const y = new Float64Array(16 * 16).fill(m + d);
    const { cols, g } = run(x, y, 16, 16);
    const l = (2 * m * (m + d) + C1) / (m * m + (m + d) ** 2 + C1);
    for (let k = 0; k < g.blockCount; k++) {
      assert.ok(
        Math.abs(f64(cols, 'l')[k]! - l) <= 1e-15,
        'failed: Math.abs(f64(cols, "l")[k]! - l) <= 1e-15',
      );
      assert.ok(
        Math.abs(f64(cols, 'ssim')[k]! - l) <= 1e-15,
        'failed: Math.abs(f64(cols, "ssim")[k]! - l) <= 1e-15',
      );
      assert.ok(
        Math.abs(f64(cols, 'ssim_blk')[k]! - l) <= 1e-14,
        `ssim_blk ${f64(cols, 'ssim_blk')[k]} vs ${l}`,
      );
      assert.equal(f64(cols, 'a1')[k], d);
      assert.equal(f64(cols, 'a6')[k], Math.abs(d));
      for (const a of ['a2', 'a4_log2_energy', 'a5']) assert.equal(f64(cols, a)[k], 0, a);
      assert.equal(f64(cols, 'a4')[k], 0);
      for (const gname of ['g2', 'g3', 'g4', 'g5']) assert.equal((cols[gname] as Uint8Array)[k], 0, gname);
      const fails = Math.abs(d) >= 8;
      assert.equal((cols.fail_mask as Int32Array)[k], fails ? 1 | 32 : 0);
      assert.equal(f64(cols, 'sev1')[k], Math.min(1, Math.abs(d) / 8));
    }
    // DESIGN's Luminance Instability figures: a +5 shift scores 0.68 at mean 3 but 0.9997 at mean 200
    if (m === 3) assert.ok(Math.abs(l - 0.6855) < 5e-4, String(l));
    if (m === 200) assert.ok(Math.abs(l - 0.9997) < 5e-5, String(l));
  }
});

test('erasing texture of sd 1 (8-bit): ssim_blk >= 0.95 (0.983), R = 1, Silent, hidden-type damage', () => {
  // stripes +1 +1 -1 -1 around m = 120: integer samples, population sd exactly 1
  const W = 8,
    H = 8,
    m = 120;
  const x = new Float64Array(W * H);
  for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) x[j * W + i] = m + ((i >> 1) % 2 === 0 ? 1 : -1);
  const y = new Float64Array(W * H).fill(m);
  const { cols } = run(x, y, W, H);
  const C2 = (0.03 * 255) ** 2;
  assert.equal(f64(cols, 'sx')[0], 1);
  assert.equal(f64(cols, 'sy')[0], 0);
  const ssimBlk = f64(cols, 'ssim_blk')[0]!;
  assert.ok(ssimBlk >= 0.95 && ssimBlk < 0.99, String(ssimBlk));
  assert.equal(f64(cols, 'r_ac')[0], 1);
  assert.ok(Number.isNaN(f64(cols, 'rho')[0]!), 'failed: Number.isNaN(f64(cols, "rho")[0]!)');
  // Silent for the published-style T (0.95) and for this pair's own p90 (the block's own ssim_blk)
  for (const T of [0.95, ssimBlk]) {
    assert.equal(regimeOf(1, f64(cols, 'kappa')[0]!, T, C2), REGIME_SILENT, `T=${T}`);
    // the published test (no floor): R = 1 is AC damage, so the block is Hidden
    const published = damageOf(f64(cols, 'se')[0]!, f64(cols, 'r_ac')[0]!, f64(cols, 'dmu')[0]!, { floorAc: 0, visibleAc: Infinity, floorDc: 8 }, 1);
    assert.equal(layerOf(ssimBlk, published.ac || published.dc, 0.5, T), LAYER_HIDDEN);
    // DESIGN §3c: with the default 2-grey-level floor an error of sd 1 is not damage (the GT's own noise level)
    const floored = damageOf(f64(cols, 'se')[0]!, f64(cols, 'r_ac')[0]!, f64(cols, 'dmu')[0]!, { floorAc: 2, visibleAc: 4, floorDc: 8 }, 1);
    assert.equal(floored.ac || floored.dc, false);
  }
  // the A3-A6 gates miss it (A2's gate max(sx,sy) >= 1 is met exactly, and its log2 ratio is exactly -1)
  assert.equal(f64(cols, 'a2')[0], -1);
  for (const gname of ['g3', 'g4', 'g5']) assert.equal((cols[gname] as Uint8Array)[0], 0, gname);
});

test('inverting strong texture: rho = -1, A3 fails (1 - rho = 2), SSIM low', () => {
  const W = 16,
    H = 16,
    m = 128;
  const r = rng(9);
  const x = new Float64Array(W * H);
  const y = new Float64Array(W * H);
  for (let i = 0; i < W * H; i++) {
    const t = Math.round((r() - 0.5) * 100);
    x[i] = m + t;
    y[i] = m - t;
  }
  const { cols, g } = run(x, y, W, H);
  for (let k = 0; k < g.blockCount; k++) {
    assert.ok(
      Math.abs(f64(cols, 'rho')[k]! + 1) <= 1e-12,
      'failed: Math.abs(f64(cols, "rho")[k]! + 1) <= 1e-12',
    );
    assert.ok(
      Math.abs(f64(cols, 'a3')[k]! - 2) <= 1e-12,
      'failed: Math.abs(f64(cols, "a3")[k]! - 2) <= 1e-12',
    );
    assert.equal((cols.g3 as Uint8Array)[k], 1);
    assert.ok(
      ((cols.fail_mask as Int32Array)[k]! & 4) !== 0,
      'failed: ((cols.fail_mask as Int32Array)[k]! & 4) !== 0',
    );
    assert.ok(f64(cols, 'ssim_blk')[k]! < 0, 'failed: f64(cols, "ssim_blk")[k]! < 0');
    assert.ok(f64(cols, 'ssim')[k]! < 0, 'failed: f64(cols, "ssim")[k]! < 0');
    assert.ok(Math.abs(f64(cols, 'r_ac')[k]! - 4) <= 1e-12, 'inversion gives R = 4');
  }
});

test('border and ring on a 1024x1024 image: ring 0 on the outer ring, 63 at the centre, boxes row-major', () => {
  const W = 1024;
  const z = new Float64Array(W * W);
  const { cols, g } = run(z, z, W, W);
  assert.equal(g.gridRows, 128);
  assert.equal(g.gridCols, 128);
  const ring = cols.ring as Int32Array;
  const border = cols.is_border as Uint8Array;
  let borderCount = 0;
  for (let k = 0; k < g.blockCount; k++) {
    const r = Math.floor(k / 128),
      c = k % 128;
    // distance in blocks to the nearest image edge, written out per side
    const dTop = r,
      dLeft = c,
      dBottom = 127 - r,
      dRight = 127 - c;
    assert.equal(ring[k], Math.min(dTop, dLeft, dBottom, dRight));
    assert.equal(border[k], ring[k] === 0 ? 1 : 0);
    borderCount += border[k]!;
    assert.equal((cols.y0 as Int32Array)[k], r * 8);
    assert.equal((cols.x1 as Int32Array)[k], c * 8 + 8);
  }
  assert.equal(borderCount, 4 * 127);
  assert.equal(ring[0], 0);
  assert.equal(ring[63 * 128 + 63], 63);
  assert.equal(ring[64 * 128 + 64], 63);
  assert.equal(ring[127 * 128 + 127], 0);
  assert.equal(Math.max(...ring), 63);
});

/** Sobel/8 gradients and 4-neighbour Laplacian of a plane, with coordinates clamped at the image edge. */
function plainFields(p: Float64Array, w: number, h: number) {
  const at = (i: number, j: number) =>
    p[Math.min(h - 1, Math.max(0, j)) * w + Math.min(w - 1, Math.max(0, i))]!;
  const gx = new Float64Array(w * h),
    gy = new Float64Array(w * h),
    lap = new Float64Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      gx[j * w + i] =
        (at(i + 1, j - 1) +
          2 * at(i + 1, j) +
          at(i + 1, j + 1) -
          at(i - 1, j - 1) -
          2 * at(i - 1, j) -
          at(i - 1, j + 1)) /
        8;
      gy[j * w + i] =
        (at(i - 1, j + 1) +
          2 * at(i, j + 1) +
          at(i + 1, j + 1) -
          at(i - 1, j - 1) -
          2 * at(i, j - 1) -
          at(i + 1, j - 1)) /
        8;
      lap[j * w + i] = at(i - 1, j) + at(i + 1, j) + at(i, j - 1) + at(i, j + 1) - 4 * at(i, j);
    }
  }
  return { gx, gy, lap };
}

test('A4/A5 read a 1-pixel halo clamped at the image edge: equal a plain full-image Sobel/Laplacian reference (1e-12)', () => {
  const W = 40,
    H = 32;
  const { x, y } = randomPair(W, H, 21);
  const { cols, g, o } = run(x, y, W, H);
  const fx = plainFields(x, W, H),
    fy = plainFields(y, W, H);
  for (let k = 0; k < g.blockCount; k++) {
    const r = Math.floor(k / g.gridCols),
      c = k % g.gridCols;
    let dot = 0,
      ex = 0,
      ey = 0,
      lx = 0,
      ly = 0;
    for (let j = r * 8; j < r * 8 + 8; j++)
      for (let i = c * 8; i < c * 8 + 8; i++) {
        const q = j * W + i;
        dot += fx.gx[q]! * fy.gx[q]! + fx.gy[q]! * fy.gy[q]!;
        ex += fx.gx[q]! ** 2 + fx.gy[q]! ** 2;
        ey += fy.gx[q]! ** 2 + fy.gy[q]! ** 2;
        lx += fx.lap[q]! ** 2;
        ly += fy.lap[q]! ** 2;
      }
    const cos = dot / Math.sqrt(ex * ey);
    const close = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what} block ${k}: ${a} vs ${b}`);
    close(f64(cols, 'a4')[k]!, 1 - cos, 'a4');
    close(
      f64(cols, 'a4_log2_energy')[k]!,
      Math.log2((ey / 64 + o.a4EnergyFloor) / (ex / 64 + o.a4EnergyFloor)),
      'a4 energy',
    );
    close(f64(cols, 'a5')[k]!, Math.log2((ly / 64 + o.a5EnergyFloor) / (lx / 64 + o.a5EnergyFloor)), 'a5');
    assert.equal((cols.g4 as Uint8Array)[k], ex / 64 >= o.a4Gate ** 2 ? 1 : 0);
    assert.equal((cols.g5 as Uint8Array)[k], Math.max(lx, ly) / 64 >= o.a5Gate ** 2 ? 1 : 0);
  }
});

test('A4/A5 of a block are the same on the full image and on a crop holding the block and its 1-pixel halo', () => {
  const W = 48,
    H = 40;
  const { x, y } = randomPair(W, H, 33);
  const full = run(x, y, W, H);
  const crop = (p: Float64Array, x0: number, y0: number, s: number) => {
    const out = new Float64Array(s * s);
    for (let j = 0; j < s; j++) for (let i = 0; i < s; i++) out[j * s + i] = p[(y0 + j) * W + x0 + i]!;
    return out;
  };
  for (const [br, bc] of [
    [1, 1],
    [2, 3],
    [3, 4],
  ] as const) {
    // a 10x10 crop around block (br, bc); with stride 1 its block (1, 1) is the original block, halo included
    const cx = crop(x, bc * 8 - 1, br * 8 - 1, 10),
      cy = crop(y, bc * 8 - 1, br * 8 - 1, 10);
    const part = run(cx, cy, 10, 10, { stride: 1 });
    const kFull = br * full.g.gridCols + bc;
    const kCrop = 1 * part.g.gridCols + 1;
    for (const a of ['a4', 'a4_log2_energy', 'a5', 'ssim_blk', 'mx', 'se']) {
      assert.ok(
        Math.abs(f64(full.cols, a)[kFull]! - f64(part.cols, a)[kCrop]!) <= 1e-12,
        `${a} of block (${br},${bc})`,
      );
    }
  }
});

test('16-bit data: with the display width W = L, x*257 at L=65535 gives the 8-bit axes, gates and failures', () => {
  const W = 48,
    H = 48;
  const { x, y } = randomPair(W, H, 44);
  const x16 = x.map((v) => v * 257),
    y16 = y.map((v) => v * 257);
  const a = run(x, y, W, H);
  const b = run(x16, y16, W, H, { dataRange: 65535 });
  for (let k = 0; k < a.g.blockCount; k++) {
    for (const name of [
      'ssim_blk',
      'ssim',
      'a1',
      'a2',
      'a3',
      'a4',
      'a4_log2_energy',
      'a5',
      'a6',
      'sev1',
      'sev2',
      'sev6',
      'kappa',
      'lambda',
    ]) {
      const u = f64(a.cols, name)[k]!,
        v = f64(b.cols, name)[k]!;
      assert.ok(
        (Number.isNaN(u) && Number.isNaN(v)) || Math.abs(u - v) <= 1e-9 * Math.max(1, Math.abs(u)),
        `${name} block ${k}: ${u} vs ${v}`,
      );
    }
    assert.equal(f64(b.cols, 'dmu')[k], 257 * f64(a.cols, 'dmu')[k]!);
    // R's floor is one rounding step of the data itself (1/12 squared units), so it is scale-free wherever the GT
    // block has texture
    if (f64(a.cols, 'sx')[k]! > 1) assert.ok(Math.abs(f64(a.cols, 'r_ac')[k]! - f64(b.cols, 'r_ac')[k]!) <= 1e-9 * Math.max(1, f64(a.cols, 'r_ac')[k]!), `r_ac block ${k}`);
    assert.equal((b.cols.fail_mask as Int32Array)[k], (a.cols.fail_mask as Int32Array)[k]);
  }
});

test('options: unknown key and a block smaller than the 7x7 window are one-line errors', () => {
  assert.throws(
    () => resolveDiagnoseOptions({ blok: 8 } as never),
    /unknown diagnose option "blok" \(allowed: blockSize, stride/,
  );
  assert.throws(() => resolveDiagnoseOptions({ blockSize: 6 }), {
    message: 'invalid blockSize: expected an integer from 7 to 4096 (default 8), got 6',
  });
  assert.throws(() => resolveDiagnoseOptions({ a3FailRho: 1 }), /invalid a3FailRho/);
  assert.equal(resolveDiagnoseOptions({ blockSize: 16 }).stride, 16);
  assert.throws(() => blockGrid(7, 20, 8, 8, 'a.png'), {
    message: 'a.png: image 7x20 is smaller than one 8x8 block',
  });
});
