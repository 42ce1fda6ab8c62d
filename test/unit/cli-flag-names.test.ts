/**
 * One name per idea across commands (issue 16): --gt is the GT folder, --model an upscaler, --t10/--t90 and
 * --t10-quantile/--t90-quantile the thresholds; the older spellings still parse to the same values and every
 * command's --help marks them "alias of".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../../src/cli/args.ts';
import { fixture, runCli } from '../helpers/cli.ts';

test('parseFlags: an alias reads as the current name, in both --old X and --old=X forms, and never past --', () => {
  const spec = { gt: { type: 'string' }, out: { type: 'string' } } as const;
  assert.deepEqual(parseFlags(['--in', 'a', '--out', 'b'], spec, { in: 'gt' }).values.gt, 'a');
  assert.equal(parseFlags(['--in=a'], spec, { in: 'gt' }).values.gt, 'a');
  assert.equal(parseFlags(['--gt', 'a'], spec, { in: 'gt' }).values.gt, 'a');
  assert.equal(parseFlags(['--gt', 'a'], spec, { in: 'gt' }).values.in, undefined);
  assert.deepEqual(parseFlags(['--gt', 'a', '--', '--in'], spec, { in: 'gt' }).positionals, ['--in']);
  // without the alias table the old name is an unknown flag (one coded line)
  assert.throws(() => parseFlags(['--in', 'a'], spec), /^BlindspotError: unknown option --in \(see --help\)$/);
  // a negative value after an aliased number flag still reaches the flag's own check
  assert.equal(parseFlags(['--hidden-threshold', '-0.5'], { t90: { type: 'string' } }, { 'hidden-threshold': 't90' }).values.t90, '-0.5');
});

test('an unknown flag is one line naming it, with the closest flag when one is near (typos and swapped letters)', () => {
  const spec = { 'data-range': { type: 'string' }, model: { type: 'string', multiple: true }, 't90-quantile': { type: 'string' } } as const;
  const message = (argv: string[]): string => {
    try {
      parseFlags(argv, spec, { 'hidden-quantile': 't90-quantile' });
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };
  assert.equal(message(['--data-rnge', '3']), 'unknown option --data-rnge (did you mean --data-range?)');
  assert.equal(message(['--mdoel', 'a=b']), 'unknown option --mdoel (did you mean --model?)');
  assert.equal(message(['--hiden-quantile=0.9']), 'unknown option --hiden-quantile (did you mean --hidden-quantile?)');
  assert.equal(message(['--frobnicate']), 'unknown option --frobnicate (see --help)');
  assert.equal(message(['-x']), 'unknown option -x (see --help)');
});

test('every renamed flag: --help shows the current name and marks the old one "alias of"', async () => {
  const cases: [string[], RegExp, RegExp][] = [
    [['upscale', '--help'], /--gt DIR /, /--in DIR \(alias of --gt\)/],
    [['diagnose', '--help'], /--t90 T /, /--hidden-threshold T \(alias of --t90\)/],
    [['analyze', '--help'], /--t90-quantile Q /, /--hidden-quantile Q \(alias of\s+--t90-quantile\)/],
    [['memorization', 'scan', '--help'], /--encoder MODEL_DIR /, /--model MODEL_DIR \(alias of --encoder/],
  ];
  for (const [args, current, alias] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, current, args.join(' '));
    assert.match(r.stdout, alias, args.join(' '));
  }
});

test('diagnose --hidden-threshold T and --t90 T give the same T90; --t10 sets T10', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bs-flagnames-'));
  try {
    const gt = fixture('cxr/nih_00000001_000.png');
    const sr = fixture('cxr/nih_00000001_000_box4_bicubic4.png');
    const thresholds = async (flags: string[]) => {
      const r = await runCli(['diagnose', gt, sr, '--no-png', '--json', '--out', join(root, flags.join('')), ...flags]);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { summary: { floored: { thresholds: { hidden: number; visible: number } } } }).summary.floored.thresholds;
    };
    const a = await thresholds(['--hidden-threshold', '0.93']);
    const b = await thresholds(['--t90', '0.93', '--t10', '0.4']);
    assert.equal(a.hidden, 0.93);
    assert.equal(b.hidden, 0.93);
    assert.equal(b.visible, 0.4);
    assert.notEqual(a.visible, 0.4, 'without --t10, T10 is the pair\'s own p10');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('memorization scan: --model is read as --encoder (same outcome, never an unknown option)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bs-flagnames-'));
  try {
    const out = await Promise.all(['--model', '--encoder'].map((flag) => runCli(['memorization', 'scan', '--train', root, '--generated', root, flag, join(root, 'no-model')])));
    for (const r of out) {
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.stderr, /unknown option/i);
    }
    assert.equal(out[0]!.stderr, out[1]!.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('upscale: the usage error names --gt', async () => {
  const r = await runCli(['upscale', '--out', 'y']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'blindspot upscale: --gt GT_DIR and --out OUT_DIR are required (see --help)');
});
