// Every ```sh example in README.md and docs/*.md runs: the placeholder paths (gt.png, RESULTS, data/gt, ...) are
// replaced by small real fixture files, each command must exit 0. A command that cannot run here is skipped only
// through SKIP below, with its reason, so the docs cannot drift from the CLI again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { fixture, REPO_ROOT } from '../helpers/cli.ts';
import { greyImageElements, writeDicomFile, type DicomElement } from '../helpers/dicom.ts';

/** Commands not run here, each with why. Matched against the command after joining continuation lines. */
const SKIP: [RegExp, string][] = [
  [/^npm (install|test|ci)\b/, 'set-up and the whole suite: minutes, and the suite cannot run itself'],
  [/^npm run (demo|bench|typecheck|lint|validate)/, 'minutes of CPU (the demo and benchmarks have their own tests)'],
  [/^blindspot view\b/, 'starts a server that runs until Ctrl-C (test/e2e/viewer-server.test.ts)'],
  [/^blindspot anomaly\b/, 'loads a CNN per image, tens of seconds (test/e2e/anomaly-cli.test.ts)'],
  [/^blindspot memorization\b/, 'trains or loads a network, minutes (test/e2e/memorization-cli.test.ts)'],
  [/^blindspot (upscale|pipeline)\b/, 'runs neural upscalers over a folder, minutes (test/e2e/upscale-*.test.ts)'],
  [/--lpips|--clip/, 'needs ONNX weights the user exports (docs/metrics.md says how)'],
  [/\.\.\.|\[--/, 'a synopsis with elided arguments, not a command'],
  [/examples\/reproduction-/, "reads the reproduction's own upscaled folders from the checkout (hours of upscaling first; docs/reproduction.md)"],
];

interface Example {
  file: string;
  line: number;
  cmd: string;
}

/** The commands of every ```sh block: continuation lines joined, comments dropped, `a && b` split. */
function examples(file: string): Example[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const out: Example[] = [];
  let inSh = false;
  let buf = '';
  let start = 0;
  lines.forEach((raw, i) => {
    if (/^```/.test(raw)) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(raw);
      return;
    }
    if (!inSh) return;
    // a comment starts at '#' after whitespace outside quotes
    let text = raw;
    let q: string | null = null;
    for (let k = 0; k < raw.length; k++) {
      const c = raw[k]!;
      if (q) {
        if (c === q && raw[k - 1] !== '\\') q = null;
      } else if (c === '"' || c === "'") q = c;
      else if (c === '#' && (k === 0 || /\s/.test(raw[k - 1]!))) {
        text = raw.slice(0, k);
        break;
      }
    }
    if (!buf) start = i + 1;
    text = text.trimEnd();
    if (text.endsWith('\\')) {
      buf += text.slice(0, -1) + ' ';
      return;
    }
    buf += text;
    const cmd = buf.replace(/\s+/g, ' ').trim();
    buf = '';
    for (const part of cmd ? cmd.split(' && ') : []) out.push({ file, line: start, cmd: part.trim() });
  });
  return out;
}

const DOC_FILES = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)];

function sh(cmd: string, cwd: string): Promise<{ code: number | null; out: string }> {
  // tsx by absolute URL: the examples run in scratch folders outside the checkout
  const cli = `node --import ${import.meta.resolve('tsx')} ${JSON.stringify(join(REPO_ROOT, 'src/cli/main.ts'))}`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `blindspot() { ${cli} "$@"; }\n${cmd}`], {
      cwd,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('every shell example in README.md and docs/*.md runs (placeholders -> fixtures)', { timeout: 600_000 }, async (t) => {
  const all = DOC_FILES.flatMap(examples);
  assert.ok(all.length >= 30, `found only ${all.length} examples`);
  const root = mkdtempSync(join(tmpdir(), 'blindspot-docs-'));
  // a 96x96 chest X-ray and its blurred copy; the dataset of test/fixtures/dataset as model outputs
  const ds = await buildDataset(join(root, 'ds'));
  const gt = join(ds.gt, 'nih_00000001_000.png');
  const sr = join(ds.dirs.blurNotta, 'nih_00000001_000_x2.png');
  const mask = join(root, 'lungs.png');
  const m = Buffer.alloc(96 * 96);
  for (let y = 16; y < 80; y++) m.fill(255, y * 96 + 16, y * 96 + 80);
  await sharp(m, { raw: { width: 96, height: 96, channels: 1 } }).png().toFile(mask);
  // a DICOM series per side (a 12-slice volume; the output side with speckle)
  const series = (dir: string, bump: number): string => {
    mkdirSync(join(root, dir));
    for (let k = 0; k < 12; k++) {
      const px = Buffer.alloc(2 * 24 * 20);
      for (let i = 0; i < 24 * 20; i++) px.writeUInt16LE(Math.round(500 + 300 * Math.sin((i + 7 * k) / 9) + (i % 5 === 0 ? bump : 0)), 2 * i);
      const els: DicomElement[] = [
        ...greyImageElements({ rows: 24, columns: 20, bitsAllocated: 16, bitsStored: 12, signed: false }),
        { tag: 0x0020000e, vr: 'UI', value: '1.2.826.0.1.3680043.2.1' },
        { tag: 0x00200032, vr: 'DS', value: [0, 0, 3 * k] },
        { tag: 0x00200037, vr: 'DS', value: [1, 0, 0, 0, 1, 0] },
        { tag: 0x7fe00010, vr: 'OW', value: px },
      ];
      writeFileSync(join(root, dir, `s${k}.dcm`), writeDicomFile(els, '1.2.840.10008.1.2.1'));
    }
    return join(root, dir);
  };
  const gtSeries = series('gt_series', 0);
  const srSeries = series('sr_series', 40);
  const results = join(root, 'RESULTS');
  const subst: [RegExp, string][] = [
    [/(?<![\w/.-])(gt|HR|GT)\.png\b/g, gt],
    [/(?<![\w/.-])(sr|SR|TEST)\.png\b/g, sr],
    [/(?<![\w/.-])gt\.dcm\b/g, fixture('medical/dicom_small/MR_small.dcm')],
    [/(?<![\w/.-])test\.dcm\b/g, fixture('medical/dicom_compressed/MR_small_RLE.dcm')],
    [/(?<![\w/.-])lungs\.png\b/g, mask],
    [/(?<![\w/.-])test\/fixtures\//g, join(REPO_ROOT, 'test/fixtures') + '/'],
    [/(?<![\w/.-])gt_series\/?/g, gtSeries],
    [/(?<![\w/.-])sr_series\/?/g, srSeries],
    [/(?<![\w/.-])(data\/gt|gt\/|GT)(?![\w.])/g, ds.gt],
    [/=out\/(esrgan_tta|swinir_tta)\b/g, `=${ds.dirs.blurTta}`],
    [/=out\/\w+|=OUT\b/g, `=${ds.dirs.blurNotta}`],
    [/(?<![\w/.=-])out\/(esrgan|swinir)\b/g, ds.dirs.blurNotta],
  ];
  const prepare = (cmd: string): string => {
    let c = cmd;
    for (const [re, to] of subst) c = c.replace(re, to);
    // `run --out RESULTS` writes a fresh folder per example; everything else reads the shared RESULTS
    if (/^blindspot run\b/.test(c)) c = c.replace(/--out RESULTS\b/, `--out ${join(root, `run-${Math.random().toString(36).slice(2, 8)}`)}`);
    return c.replace(/(?<![\w/.-])RESULTS\b/g, results);
  };
  // the shared RESULTS: models named as the docs name them (esrgan, swinir, with a tta path)
  const setup = await sh(
    `blindspot run --gt ${ds.gt} --model esrgan=${ds.dirs.blurNotta} --model esrgan:tta=${ds.dirs.blurTta} ` +
      `--model swinir=${ds.dirs.jpegNotta} --model swinir:tta=${ds.dirs.jpegTta} --out ${results} --json && blindspot analyze ${results} --json`,
    root,
  );
  assert.equal(setup.code, 0, setup.out);
  // the report concludes and shows the worst blocks as GT | output | difference crops (3 panels of 32 px x4)
  const html = readFileSync(join(results, 'analysis/report.html'), 'utf8');
  assert.match(html, /What this run shows/);
  const crops = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)];
  assert.ok(crops.length >= 4, `${crops.length} crops`);
  const meta = await sharp(Buffer.from(crops[0]![1]!, 'base64')).metadata();
  assert.deepEqual([meta.width, meta.height], [3 * 128 + 2 * 6, 128]);
  // export: the derived columns and labels flat, one row per block, model/path plain strings
  const flat = join(root, 'flat.parquet');
  assert.equal((await sh(`blindspot export ${results} ${flat}`, root)).code, 0);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create()).connect();
  const cols = new Map((await con.runAndReadAll(`DESCRIBE SELECT * FROM '${flat}'`)).getRows().map((r) => [String(r[0]), String(r[1])]));
  for (const k of ['kappa', 'layer', 'regime', 'layer_published', 'se_max']) assert.ok(cols.has(k), k);
  assert.equal(cols.get('model'), 'VARCHAR');
  const [[rows]] = (await con.runAndReadAll(`SELECT count(*) FROM '${flat}'`)).getRows() as [[bigint]];
  assert.equal(Number(rows), 4 * 3 * 12 * 12, 'every block of 4 configurations x 3 images x 144 blocks');
  con.closeSync();

  const skipped = new Map<string, number>();
  const failures: string[] = [];
  for (const ex of all) {
    const skip = SKIP.find(([re]) => re.test(ex.cmd));
    if (skip) {
      skipped.set(skip[1], (skipped.get(skip[1]) ?? 0) + 1);
      continue;
    }
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const r = await sh(prepare(ex.cmd), cwd);
    if (r.code !== 0) failures.push(`${ex.file}:${ex.line} \`${ex.cmd}\` exited ${r.code}: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
  }
  t.diagnostic(`${all.length} examples, ${all.length - [...skipped.values()].reduce((a, b) => a + b, 0)} run; skipped: ${[...skipped].map(([w, n]) => `${n} (${w})`).join('; ')}`);
  assert.deepEqual(failures, []);
});
