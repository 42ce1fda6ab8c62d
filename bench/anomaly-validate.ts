/**
 * A validation of the Anomaly Score that can fail: it tests the paper's claims (Hwang et al., CVPR 2024) per
 * feature extractor, on chest X-rays and brain MR slices, and exits 1 when a claim does not hold.
 *
 * Per domain: real images split into a reference set A and a held-out set B (n each). Sets derived from B, image
 * by image (so every generated image has its real source, with the same random streams, keyed by file name):
 * - `bicubic`: MATLAB-bicubic down- and up-sampling (x4 X-ray, x2 MR): a smooth "generated-like" image;
 * - `checker`: local checkerboard artefacts (the period-2 pattern of transposed convolutions, drawn at about 4
 *   px of the extractor's input, amplitude 16/255, in 6 square patches): FID moves little, the image is unnatural;
 * - `window` / `window-dark`: another window/level (window 10-90% of the range and gamma 0.6 / gamma 1.6):
 *   natural, but shifted distributions; the one that moves FID more is the probe of (b).
 *
 * Tests (each gives holds / fails, with numbers):
 * (a) paired sign tests, generated vs its source: C lower, V higher, AS-i higher (the paper's "generated"
 *     signature), one-sided exact p < 0.05; a significant result in the other direction is reported as such;
 * (b) AS vs FID: the natural shift keeps AS at the real-vs-real level (permutation p >= 0.05) although its Fréchet
 *     distance rises significantly (permutation p < 0.05 over 500 re-splits of the pooled features), and
 *     `checker` raises AS (permutation p < 0.05);
 * (c) the permutation null of D at (n, n) from A ∪ B: 95% quantile, next to every observed D;
 * (d) per-image AUROC of AS-i (generated vs held-out real) against a kNN feature-distance baseline (mean
 *     distance to the 3 nearest reference features): AS-i holds when its AUROC is significant (Mann-Whitney
 *     one-sided p < 0.05) and at least the baseline's.
 *
 * Usage: node --import tsx bench/anomaly-validate.ts [--n 12] [--extractors mobilenet_v2[,inception_v3]]
 *          [--dinov2 model.safetensors] [--domains cxr,mr] [--out DIR] [--seed 0]
 * (`npm run validate:anomaly`). Cost: 6n images per domain and extractor (C + V each).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { readImage } from '../src/image/read.ts';
import type { Image } from '../src/image/types.ts';
import { ks2dPermutation } from '../src/anomaly/ks2d.ts';
import { createAnomalySession, type ScoreItem, type SetScores } from '../src/anomaly/score.ts';
import { frechetDistance } from '../src/anomaly/stats.ts';
import { createRng } from '../src/anomaly/rng.ts';
import { auroc, knnDistance, signTest } from '../src/anomaly/validationStats.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '12' },
    extractors: { type: 'string', default: 'mobilenet_v2' },
    dinov2: { type: 'string' },
    domains: { type: 'string', default: 'cxr,mr' },
    out: { type: 'string', default: 'bench/anomaly-validation' },
    seed: { type: 'string', default: '0' },
    permutations: { type: 'string', default: '2000' },
  },
});
const N = Number(values.n);
const SEED = Number(values.seed);
const PERMS = Number(values.permutations);
const FID_PERMS = 500;
const DATA = process.env['BLINDSPOT_DATA'] ?? join(import.meta.dirname, '../../shared/data/medical');
const DOMAINS: Record<string, { dir: string; scale: number; interleave: boolean }> = {
  // X-rays: split by file-name order, so a patient's follow-up images stay on one side.
  cxr: { dir: join(DATA, 'cxr_nih/512'), scale: 4, interleave: false },
  // MR slices (brain2d/128, several sources): evenly spaced, alternating A/B, so both halves mix the sources.
  mr: { dir: join(DATA, 'brain2d/128'), scale: 2, interleave: true },
};
const extractors = values.extractors!.split(',').filter(Boolean);
if (values.dinov2) extractors.push(`dinov2:${values.dinov2}`);

const u8 = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** Checkerboard artefacts: 6 patches (a fifth of the side each) of +-16/255 in cells of `cell` px. */
function checker(img: Image, key: string): Image {
  const { width: w, height: h } = img;
  const data = Float32Array.from(img.data);
  const cell = Math.max(1, Math.round((2 * w) / 224)); // ~2 px of the 224² input per cell: period ~4 px
  const side = Math.round(w / 5);
  let s = 0;
  for (let i = 0; i < key.length; i++) s = (s * 31 + key.charCodeAt(i)) >>> 0;
  for (let p = 0; p < 6; p++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x0 = Math.floor(((s >>> 8) / 2 ** 24) * (w - side));
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const y0 = Math.floor(((s >>> 8) / 2 ** 24) * (h - side));
    for (let y = y0; y < y0 + side; y++) {
      for (let x = x0; x < x0 + side; x++) {
        const sign = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 === 0 ? 1 : -1;
        data[y * w + x] = u8(data[y * w + x]! + 16 * sign);
      }
    }
  }
  return { ...img, data };
}

/** Another window/level: window [lo, hi] of the range, then a gamma (0.6: brighter, 1.6: darker). */
function windowLevel(img: Image, lo: number, hi: number, gamma: number): Image {
  const data = Float32Array.from(img.data, (v) =>
    u8(255 * Math.min(1, Math.max(0, (v / 255 - lo) / (hi - lo))) ** gamma),
  );
  return { ...img, data };
}

async function bicubic(img: Image, scale: number): Promise<Image> {
  const { upscaleFromGt } = await import('../src/upscale/upscale.ts');
  const out = (await upscaleFromGt(img, { model: 'bicubic', scale })).output;
  return { ...out, data: Float32Array.from(out.data, u8) };
}

async function grey8(file: string): Promise<Image> {
  const img = await readImage(file);
  if (img.channels === 1) return img;
  const { data } = await sharp(file).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { ...img, channels: 1, data: Float32Array.from(data) };
}

function items(dir: string, names: string[], f?: (img: Image, name: string) => Promise<Image> | Image) {
  return names.map<ScoreItem>((n) => ({
    name: n,
    file: join(dir, n),
    load: async () => {
      const img = await grey8(join(dir, n));
      return f ? f(img, n) : img;
    },
  }));
}

const cv = (s: SetScores) =>
  [s.images.map((i) => i.complexity), s.images.map((i) => i.vulnerability)] as const;
const feats = (s: SetScores) => s.features ?? [];
function fid(a: SetScores, b: SetScores): number {
  const fa = feats(a);
  const fb = feats(b);
  const dim = fa[0]!.length;
  const flat = (f: Float32Array[]) => {
    const o = new Float64Array(f.length * dim);
    f.forEach((v, i) => o.set(v, i * dim));
    return o;
  };
  return frechetDistance(flat(fa), fa.length, flat(fb), fb.length, dim);
}
/** Permutation p of the Fréchet distance between A and a set: the pooled features re-split `perms` times. */
function fidPermutationP(a: SetScores, b: SetScores, perms: number, seed: number): number {
  const pool = [...feats(a), ...feats(b)];
  const n1 = feats(a).length;
  const dim = pool[0]!.length;
  const flat = (f: Float32Array[]) => {
    const o = new Float64Array(f.length * dim);
    f.forEach((v, i) => o.set(v, i * dim));
    return o;
  };
  const observed = fid(a, b);
  const rng = createRng(seed, 'fid-permutation');
  let above = 0;
  for (let k = 0; k < perms; k++) {
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const x = pool.slice(0, n1);
    const y = pool.slice(n1);
    if (frechetDistance(flat(x), x.length, flat(y), y.length, dim) >= observed) above++;
  }
  return (1 + above) / (1 + perms);
}
/** One-sided Mann-Whitney p of AUROC > 0.5 (normal approximation, no tie correction). */
function aurocP(a: number, n1: number, n2: number): number {
  const z = ((a - 0.5) * n1 * n2) / Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  return 0.5 * erfc(z / Math.SQRT2);
}
function erfc(x: number): number {
  // Numerical Recipes erfc (Chebyshev), relative error < 1.2e-7.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

interface Claim {
  extractor: string;
  domain: string;
  claim: string;
  result: 'holds' | 'fails' | 'opposite' | 'inconclusive';
  detail: string;
}
const claims: Claim[] = [];
const tables: string[] = [];
const raw: Record<string, unknown> = {};
const t0 = performance.now();
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const fp = (v: number) => (v < 0.001 ? v.toExponential(1) : v.toFixed(3));

async function flush(): Promise<string> {
  const seconds = (performance.now() - t0) / 1000;
  const claimTable =
    '| extractor | domain | claim | result | numbers |\n|---|---|---|---|---|\n' +
    claims
      .map((c) => `| ${c.extractor} | ${c.domain} | ${c.claim} | **${c.result}** | ${c.detail} |`)
      .join('\n') +
    '\n';
  const md = `${tables.join('\n')}\n${claimTable}\nn = ${N} per set, seed ${SEED}, ${PERMS} permutations of D, ${FID_PERMS} of FID, ${seconds.toFixed(0)} s.\n`;
  await mkdir(values.out!, { recursive: true });
  await writeFile(join(values.out!, 'table.md'), md);
  await writeFile(
    join(values.out!, 'results.json'),
    JSON.stringify({ n: N, seed: SEED, permutations: PERMS, seconds, claims, raw }, null, 1) + '\n',
  );
  return md;
}

for (const spec of extractors) {
  const session = await createAnomalySession({
    extractor: spec,
    seed: SEED,
    keepFeatures: true,
    batchSize: 2,
  });
  const exName = session.extractor.name;
  for (const domain of values.domains!.split(',')) {
    const d = DOMAINS[domain];
    if (!d) throw new Error(`unknown domain ${domain}`);
    const all = (await readdir(d.dir)).filter((f) => f.endsWith('.png')).sort();
    let A: string[];
    let B: string[];
    if (d.interleave) {
      const picked = Array.from(
        { length: 2 * N },
        (_, i) => all[Math.floor(((i + 0.5) * all.length) / (2 * N))]!,
      );
      A = picked.filter((_, i) => i % 2 === 0);
      B = picked.filter((_, i) => i % 2 === 1);
    } else {
      A = all.slice(0, N);
      B = all.slice(N, 2 * N);
    }
    const progress = (p: { set: string; done: number; total: number }) => {
      if (p.done === p.total)
        process.stderr.write(
          `  ${exName} ${domain} ${p.set}: ${p.total} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
        );
    };
    const ref = await session.score(items(d.dir, A), 'A', progress);
    const real = await session.score(items(d.dir, B), 'B', progress);
    const gens: Record<string, SetScores> = {
      bicubic: await session.score(
        items(d.dir, B, (img) => bicubic(img, d.scale)),
        'bicubic',
        progress,
      ),
      checker: await session.score(
        items(d.dir, B, (img, n) => checker(img, n)),
        'checker',
        progress,
      ),
      window: await session.score(
        items(d.dir, B, (img) => windowLevel(img, 0.1, 0.9, 0.6)),
        'window',
        progress,
      ),
      'window-dark': await session.score(
        items(d.dir, B, (img) => windowLevel(img, 0, 1, 1.6)),
        'window-dark',
        progress,
      ),
    };
    const nullD = ks2dPermutation(...cv(ref), ...cv(real), PERMS, SEED).nullD;
    const q95 = nullD[Math.floor(0.95 * nullD.length)]!;
    const fidRR = fid(ref, real);
    const knnRef = feats(ref);
    const knnReal = knnDistance(feats(real), knnRef);
    const rows: string[] = [];
    const setRow = (name: string, s: SetScores) => {
      const perm = ks2dPermutation(...cv(ref), ...cv(s), PERMS, SEED);
      const byName = new Map(s.images.map((i) => [i.name, i]));
      const pairs = real.images
        .filter((i) => byName.has(i.name))
        .map((i) => [i, byName.get(i.name)!] as const);
      const sC = signTest(
        pairs.map((p) => p[0].complexity),
        pairs.map((p) => p[1].complexity),
        -1,
      );
      const sV = signTest(
        pairs.map((p) => p[0].vulnerability),
        pairs.map((p) => p[1].vulnerability),
        1,
      );
      const sA = signTest(
        pairs.map((p) => p[0].asi),
        pairs.map((p) => p[1].asi),
        1,
      );
      const aAsi =
        name === 'B'
          ? NaN
          : auroc(
              s.images.map((i) => i.asi),
              real.images.map((i) => i.asi),
            );
      const aKnn = name === 'B' ? NaN : auroc(knnDistance(feats(s), knnRef), knnReal);
      const fd = fid(ref, s);
      const fdP = fidPermutationP(ref, s, FID_PERMS, SEED);
      const sign = (t: typeof sC) => (name === 'B' ? '–' : `${t.k}/${t.n} (p ${fp(t.pOneSided)})`);
      rows.push(
        `| ${name} | ${f3(perm.D)} | ${fp(perm.p)} | ${f3(q95)} | ${f3(fd)} (${f3(fd / fidRR)}x) | ${fp(fdP)} | ${sign(sC)} | ${sign(sV)} | ${sign(sA)} | ${f3(aAsi)} | ${f3(aKnn)} |`,
      );
      return { D: perm.D, pPerm: perm.p, fid: fd, fidP: fdP, sC, sV, sA, aAsi, aKnn, n: s.images.length };
    };
    const rr = setRow('B', real);
    const res: Record<string, ReturnType<typeof setRow>> = { B: rr };
    for (const [k, s] of Object.entries(gens)) res[k] = setRow(k, s);
    raw[`${exName}/${domain}`] = {
      A,
      B,
      q95,
      fidRealVsReal: fidRR,
      rows: res,
      scores: {
        A: ref.images,
        B: real.images,
        ...Object.fromEntries(Object.entries(gens).map(([k, s]) => [k, s.images])),
      },
    };
    const add = (claim: string, result: Claim['result'], detail: string) =>
      claims.push({ extractor: exName, domain, claim, result, detail });
    add(
      '(c) real vs real D inside the permutation null',
      rr.pPerm >= 0.05 ? 'holds' : 'fails',
      `D ${f3(rr.D)}, null 95% ${f3(q95)}, p ${fp(rr.pPerm)}`,
    );
    for (const g of ['bicubic', 'checker'] as const) {
      const r = res[g]!;
      const dir = (t: typeof r.sC, what: string) => {
        // The other tail: n - k of n in the opposite direction.
        const pOpp = signTest(
          Array(t.n).fill(0),
          Array.from({ length: t.n }, (_, i) => (i < t.n - t.k ? 1 : -1)),
          1,
        ).pOneSided;
        add(
          `(a) ${g}: ${what}`,
          t.pOneSided < 0.05 ? 'holds' : pOpp < 0.05 ? 'opposite' : 'fails',
          `${t.k}/${t.n}, one-sided p ${fp(t.pOneSided)}${pOpp < 0.05 ? `; opposite direction p ${fp(pOpp)}` : ''}`,
        );
      };
      dir(r.sC, 'C lower than its source');
      dir(r.sV, 'V higher than its source');
      dir(r.sA, 'AS-i higher than its source');
      const pA = aurocP(r.aAsi, r.n, real.images.length);
      add(
        `(d) ${g}: AS-i separates generated from real, at least as well as kNN`,
        pA < 0.05 && r.aAsi >= r.aKnn ? 'holds' : 'fails',
        `AUROC AS-i ${f3(r.aAsi)} (p ${fp(pA)}), kNN ${f3(r.aKnn)}`,
      );
    }
    // Of the two natural shifts, the one that moves FID more (smaller FID permutation p) is the probe.
    const w = res['window']!.fidP <= res['window-dark']!.fidP ? res['window']! : res['window-dark']!;
    const c = res['checker']!;
    add(
      '(b) natural shift (window/level) moves FID but keeps AS at the real-vs-real level',
      w.fidP >= 0.05 ? 'inconclusive' : w.pPerm >= 0.05 ? 'holds' : 'fails',
      `AS ${f3(w.D)} (perm p ${fp(w.pPerm)}), FID ${f3(w.fid / fidRR)}x real-vs-real (perm p ${fp(w.fidP)})` +
        (w.fidP >= 0.05 ? '; the shift did not move FID significantly' : ''),
    );
    add(
      '(b) unnatural artefacts (checker) raise AS',
      c.pPerm < 0.05 ? 'holds' : 'fails',
      `AS ${f3(c.D)} (perm p ${fp(c.pPerm)}), FID ${f3(c.fid / fidRR)}x real-vs-real (perm p ${fp(c.fidP)})`,
    );
    tables.push(
      `#### ${exName}, ${domain} (n = ${N} per set)\n\n` +
        '| set vs A | AS (D) | perm p | null D 95% | Fréchet (x real) | FID perm p | C lower | V higher | AS-i higher | AUROC AS-i | AUROC kNN |\n' +
        '|---|---|---|---|---|---|---|---|---|---|---|\n' +
        rows.join('\n') +
        '\n',
    );
    await flush(); // partial results survive an interrupted run
  }
  session.dispose();
}
const md = await flush();
process.stdout.write(md);
const failed = claims.filter((c) => c.result === 'fails' || c.result === 'opposite').length;
const held = claims.filter((c) => c.result === 'holds').length;
process.stdout.write(
  `\n${held}/${claims.length} claims hold, ${failed} fail, ${claims.length - held - failed} inconclusive.\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
