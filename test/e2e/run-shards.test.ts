/**
 * Sharding: two shards written into one folder (one of them through examples/k8s/shard.sh with
 * JOB_COMPLETION_INDEX, running the real CLI) give exactly the part files of an unsharded run; the union verifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { readRunFile } from '../../src/dataset/options.ts';
import { listFiles, sha256File, verify, verifyPassed } from '../../src/store/manifest.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'bs-shards-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

async function hashes(dir: string, prefix: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await listFiles(dir)) if (prefix.some((p) => f.startsWith(p))) out.set(f, await sha256File(join(dir, f)));
  return out;
}

test('shard 1/2 (k8s shard.sh, JOB_COMPLETION_INDEX=0) + shard 2/2 = the unsharded part files, and the union verifies', async () => {
  // The data folder as shard.sh expects it: WORK_DIR/data with a run file.
  const work = join(root, 'work');
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  const ds = await buildDataset(join(root, 'built'));
  cpSync(ds.root, data, { recursive: true });
  writeFileSync(
    join(data, 'run.yaml'),
    'gt: gt\npartSize: 1\nmodels:\n  - { name: blur, notta: blur, tta: blur_tta }\n  - { name: jpeg, notta: jpeg, tta: jpeg_tta }\n',
  );
  const options = await readRunFile(join(data, 'run.yaml'));

  // Unsharded reference and shard 2/2, in-process.
  await runDataset({ ...options, out: join(root, 'ALL') }, { inline: true });
  await runDataset({ ...options, out: join(work, 'RESULTS'), shard: { index: 2, count: 2 } }, { inline: true });

  // Shard 1/2 through the Kubernetes entry script, with the real CLI on PATH.
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'blindspot'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(REPO, 'src/cli/main.ts')}" "$@"\n`);
  chmodSync(join(bin, 'blindspot'), 0o755);
  execFileSync('sh', [join(REPO, 'examples/k8s/shard.sh'), '--workers', '1'], {
    cwd: REPO,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: '0', SHARD_COUNT: '2', WORK_DIR: work },
    stdio: 'pipe',
  });

  const out = join(work, 'RESULTS');
  const files = await listFiles(out);
  for (const k of [1, 2]) {
    for (const name of [`run.shard-${k}-of-2.json`, `errors.shard-${k}-of-2.jsonl`, `MANIFEST.shard-${k}-of-2.sha256`]) assert.ok(files.includes(name), name);
  }
  assert.ok(!files.includes('images.parquet') && !files.includes('MANIFEST.sha256'));
  // 4 configurations x 3 parts (partSize 1) = 12 block parts; shard 1 has parts 0, 2, 4, ... of the sorted list.
  const union = await hashes(out, ['blocks/', 'images/']);
  const reference = await hashes(join(root, 'ALL'), ['blocks/', 'images/']);
  assert.equal(reference.size, 24);
  assert.deepEqual(union, reference);
  const shard1 = JSON.parse(readFileSync(join(out, 'run.shard-1-of-2.json'), 'utf8')) as { pairs: number };
  const shard2 = JSON.parse(readFileSync(join(out, 'run.shard-2-of-2.json'), 'utf8')) as { pairs: number };
  assert.equal(shard1.pairs + shard2.pairs, 12);
  assert.equal(shard1.pairs, 6);
  const v = await verify(out);
  assert.ok(verifyPassed(v), JSON.stringify(v));
  assert.equal(v.ok, 24 + 4); // part files + each shard's run and errors files
});
