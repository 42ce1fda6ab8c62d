import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';

test('blindspot --help lists the commands and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: blindspot <command>/);
});

test('an unknown command is a one-line usage error with exit code 2', async () => {
  const r = await runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

const COMMANDS = ['ssim', 'diagnose', 'run', 'verify', 'analyze', 'sql', 'upscale', 'pipeline', 'view', 'anomaly', 'memorization', 'demo'];

test('every command answers --help with its usage and exit code 0', async () => {
  const top = await runCli(['--help']);
  for (const name of COMMANDS) {
    assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'), `top-level help lists ${name}`);
    const r = await runCli([name, '--help']);
    assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage: blindspot /, `${name} --help prints a usage line`);
  }
});
