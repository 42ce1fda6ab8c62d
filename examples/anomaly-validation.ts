/**
 * Validation of the Anomaly Score on real chest X-rays (NIH ChestX-ray14 images in ../shared/data).
 *
 * Real set: the NIH CXRs (512² copies), split by file-name order into a reference half A and a held-out half B.
 * Generated sets: B itself (real vs real: AS must be low) and B under controlled degradations at three strengths
 * (Gaussian blur, additive Gaussian noise, JPEG, hallucination-like texture injection). For every set: AS (2-D KS D
 * between the (C, V) points of A and the set) with p, mean AS-i, and a Fréchet distance (FID formula) between the
 * clean MobileNetV2 features of A and the set, all from the same forward passes. Per degradation: Spearman's rho
 * between strength (0 = undegraded B, 1..3) and AS, and the same for the Fréchet distance.
 *
 * Upscaler sets: B downscaled x4 (MATLAB bicubic) and brought back by bicubic, ESRGAN-slim and ESRGAN-medium
 * (src/upscale), reported as rows without a strength order.
 *
 * Usage: node --import tsx examples/anomaly-validation.ts [--n N] [--data DIR] [--out DIR] [--seed S]
 *          [--sets degradations,upscalers]
 *   N = images per half (default 30: 420 images, ~18 min at ~2.6 s per image on one core).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { readImage } from '../src/image/read.ts';
import type { Image } from '../src/image/types.ts';
import { createRng } from '../src/anomaly/rng.ts';
import { asFromSets, createAnomalySession, type ScoreItem, type SetScores } from '../src/anomaly/score.ts';
import { frechetDistance, spearman } from '../src/anomaly/stats.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '30' },
    data: { type: 'string', default: '../shared/data/medical/cxr_nih/512' },
    out: { type: 'string', default: 'examples/anomaly-validation' },
    seed: { type: 'string', default: '0' },
    sets: { type: 'string', default: 'degradations,upscalers' },
  },
});
const SETS = new Set(values.sets!.split(','));
const N = Number(values.n);
const SEED = Number(values.seed);
const dataDir = values.data!;
const outDir = values.out!;

type Degrade = (img: Image, strength: number, key: string) => Promise<Image>;

/** 8-bit grey Image -> sharp pipeline -> 8-bit grey Image. */
async function viaSharp(img: Image, f: (s: Sharp) => Sharp, jpegQuality?: number): Promise<Image> {
  const u8 = Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.round(v))));
  let s = f(sharp(u8, { raw: { width: img.width, height: img.height, channels: 1 } }));
  if (jpegQuality !== undefined) {
    const jpg = await s.jpeg({ quality: jpegQuality }).toBuffer();
    s = sharp(jpg).toColourspace('b-w');
  }
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels]!;
  return { ...img, data: out, warnings: [] };
}

const DEGRADATIONS: Record<string, { strengths: number[]; unit: string; apply: Degrade }> = {
  blur: {
    strengths: [1, 2, 4],
    unit: 'Gaussian sigma (px at 512²)',
    apply: (img, s) => viaSharp(img, (p) => p.blur(s)),
  },
  noise: {
    strengths: [5, 15, 40],
    unit: 'additive Gaussian sigma (of 255)',
    apply: async (img, s, key) => {
      const rng = createRng(SEED, `noise:${key}`);
      const data = Float32Array.from(img.data, (v) =>
        Math.max(0, Math.min(255, Math.round(v + s * rng.normal()))),
      );
      return { ...img, data };
    },
  },
  jpeg: { strengths: [50, 20, 5], unit: 'JPEG quality', apply: (img, q) => viaSharp(img, (p) => p, q) },
  texture: {
    strengths: [2, 5, 10],
    unit: 'textured discs (radius 40 px, grating + grain, amplitude 35/255)',
    apply: async (img, count, key) => {
      // Hallucination-like: plausible-looking fine texture pasted where the anatomy has none.
      const rng = createRng(SEED, `texture:${key}`);
      const data = Float32Array.from(img.data);
      const { width: w, height: h } = img;
      for (let d = 0; d < count; d++) {
        const cx = 60 + rng.uniform() * (w - 120);
        const cy = 60 + rng.uniform() * (h - 120);
        const theta = rng.uniform() * Math.PI;
        const period = 4 + rng.uniform() * 4;
        const kx = (Math.cos(theta) * 2 * Math.PI) / period;
        const ky = (Math.sin(theta) * 2 * Math.PI) / period;
        for (let y = Math.floor(cy - 40); y <= cy + 40; y++) {
          for (let x = Math.floor(cx - 40); x <= cx + 40; x++) {
            const r = Math.hypot(x - cx, y - cy);
            if (r > 40 || x < 0 || y < 0 || x >= w || y >= h) continue;
            const fade = 0.5 + 0.5 * Math.cos((Math.PI * r) / 40);
            const t = 35 * fade * (0.7 * Math.sin(kx * x + ky * y) + 0.3 * rng.normal());
            const i = y * w + x;
            data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + t)));
          }
        }
      }
      return { ...img, data };
    },
  },
};

function items(names: string[], transform?: (img: Image, name: string) => Promise<Image>): ScoreItem[] {
  return names.map((n) => ({
    name: n,
    file: join(dataDir, n),
    load: async () => {
      const img = await readImage(join(dataDir, n));
      return transform ? transform(img, n) : img;
    },
  }));
}

function featureMatrix(s: SetScores): { data: Float32Array; n: number; dim: number } {
  const f = s.features ?? [];
  const dim = f[0]?.length ?? 0;
  const data = new Float32Array(f.length * dim);
  f.forEach((v, i) => data.set(v, i * dim));
  return { data, n: f.length, dim };
}

const t0 = performance.now();
const all = (await readdir(dataDir)).filter((f) => f.endsWith('.png')).sort();
if (all.length < 2 * N) throw new Error(`need ${2 * N} images in ${dataDir}, found ${all.length}`);
const A = all.slice(0, N);
const B = all.slice(N, 2 * N);
const session = await createAnomalySession({ seed: SEED, keepFeatures: true, batchSize: 4 });
const progress = (p: { set: string; done: number; total: number }) => {
  if (p.done === p.total)
    process.stderr.write(
      `  ${p.set}: ${p.done}/${p.total} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
    );
};
const ref = await session.score(items(A), 'A (reference)', progress);
const refF = featureMatrix(ref);

interface Row {
  set: string;
  degradation: string;
  strength: number;
  n: number;
  as: number;
  p: number;
  meanC: number;
  meanV: number;
  meanAsi: number;
  frechet: number;
}
const rows: Row[] = [];
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const addRow = (set: string, degradation: string, strength: number, s: SetScores) => {
  const { as, p } = asFromSets(ref, s);
  const f = featureMatrix(s);
  rows.push({
    set,
    degradation,
    strength,
    n: s.images.length,
    as,
    p,
    meanC: mean(s.images.map((i) => i.complexity)),
    meanV: mean(s.images.map((i) => i.vulnerability)),
    meanAsi: mean(s.images.map((i) => i.asi)),
    frechet: f.n >= 2 && refF.n >= 2 ? frechetDistance(refF.data, refF.n, f.data, f.n, f.dim) : NaN,
  });
  // Partial results survive an interrupted run.
  void mkdir(outDir, { recursive: true }).then(() =>
    writeFile(join(outDir, 'partial.json'), JSON.stringify(rows, null, 2) + '\n'),
  );
};
const real = await session.score(items(B), 'B (real vs real)', progress);
addRow('B (real)', 'none', 0, real);
for (const [name, d] of Object.entries(SETS.has('degradations') ? DEGRADATIONS : {})) {
  for (const [level, s] of d.strengths.entries()) {
    const scored = await session.score(
      items(B, (img, key) => d.apply(img, s, key)),
      `${name} ${s}`,
      progress,
    );
    addRow(`${name} ${s}`, name, level + 1, scored);
  }
}
// The upscaler study's path: MATLAB-bicubic downscale x4, then the model back to 512² (src/upscale).
const UPSCALERS = ['bicubic', 'esrgan-slim', 'esrgan-medium'] as const;
if (SETS.has('upscalers')) {
  const { upscaleFromGt } = await import('../src/upscale/upscale.ts');
  for (const model of UPSCALERS) {
    const scored = await session.score(
      items(B, async (img) => (await upscaleFromGt(img, { model, scale: 4 })).output),
      `${model} x4`,
      progress,
    );
    addRow(`${model} x4`, `upscale`, NaN, scored);
  }
}
const seconds = (performance.now() - t0) / 1000;
const rho: Record<string, { as: number; frechet: number }> = {};
for (const name of Object.keys(SETS.has('degradations') ? DEGRADATIONS : {})) {
  const rs = [rows[0]!, ...rows.filter((r) => r.degradation === name)];
  rho[name] = {
    as: spearman(
      rs.map((r) => r.strength),
      rs.map((r) => r.as),
    ),
    frechet: spearman(
      rs.map((r) => r.strength),
      rs.map((r) => r.frechet),
    ),
  };
}
const imagesScored = ref.images.length + rows.reduce((a, r) => a + r.n, 0);
const result = {
  data: dataDir,
  reference: A,
  heldOut: B,
  n: N,
  seed: SEED,
  extractor: session.extractor,
  passesPerImage: session.passes,
  degradations: Object.fromEntries(
    Object.entries(DEGRADATIONS).map(([k, d]) => [k, { strengths: d.strengths, unit: d.unit }]),
  ),
  rows,
  spearman: rho,
  seconds,
  imagesScored,
  secondsPerImage: seconds / imagesScored,
  referenceScores: ref.images,
};
session.dispose();
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const lines = [
  `| set | AS (2-D KS D) | p | mean C | mean V | mean AS-i | Fréchet |`,
  `|---|---|---|---|---|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.set} | ${f4(r.as)} | ${f4(r.p)} | ${f4(r.meanC)} | ${f4(r.meanV)} | ${f4(r.meanAsi)} | ${f4(r.frechet)} |`,
  ),
  '',
  `| degradation | Spearman rho (strength vs AS) | Spearman rho (strength vs Fréchet) |`,
  `|---|---|---|`,
  ...Object.entries(rho).map(([k, v]) => `| ${k} | ${f4(v.as)} | ${f4(v.frechet)} |`),
  '',
  `${N} reference + ${N} per set, ${imagesScored} images scored in ${seconds.toFixed(0)} s (${(seconds / imagesScored).toFixed(1)} s/image), extractor ${session.extractor.name} sha256 ${session.extractor.sha256.slice(0, 16)}…, seed ${SEED}.`,
];
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'results.json'), JSON.stringify(result, null, 2) + '\n');
await writeFile(join(outDir, 'table.md'), lines.join('\n') + '\n');
process.stdout.write(lines.join('\n') + '\n');
