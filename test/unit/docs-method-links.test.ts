/**
 * User-facing text cites documents that ship: no "DESIGN §..." or "cross-team contract" in README, docs, the CLI's
 * help and report texts, the viewer app or the SQL comments of views.sql (code comments may cite DESIGN), and every
 * link to docs/method.md#anchor names a heading that exists there (GitHub's anchor rule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';

const read = (rel: string): string => readFileSync(join(REPO_ROOT, rel), 'utf8');
const docs = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const sources = [
  ...readdirSync(join(REPO_ROOT, 'src/cli/commands')).map((f) => `src/cli/commands/${f}`),
  ...['src/analysis/analyze.ts', 'src/analysis/reportText.ts', 'src/analysis/representative.ts', 'src/analysis/crops.ts', 'src/analysis/views.ts'],
  ...readdirSync(join(REPO_ROOT, 'src/viewer/app')).map((f) => `src/viewer/app/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (h: string): string =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

test('no user-facing text cites DESIGN or the cross-team contract', () => {
  const bad: string[] = [];
  for (const f of docs) read(f).split('\n').forEach((l, i) => /DESIGN|cross-team contract/.test(l) && bad.push(`${f}:${i + 1}`));
  for (const f of sources) {
    read(f)
      .split('\n')
      .forEach((l, i) => {
        // code comments may cite the design document; SQL comments go into views.sql, which users read
        const t = l.trim();
        const comment = t.startsWith('//') || t.startsWith('*') || t.startsWith('/*');
        if (!comment && /DESIGN|cross-team contract/.test(l)) bad.push(`${f}:${i + 1}`);
      });
  }
  assert.deepEqual(bad, []);
});

test('every link to docs/method.md#anchor names one of its headings', () => {
  const anchors = new Set(
    read('docs/method.md')
      .split('\n')
      .filter((l) => /^#{1,4} /.test(l))
      .map((l) => slug(l.replace(/^#+ /, ''))),
  );
  assert.ok(anchors.has('two-definitions') && anchors.has('damage'), [...anchors].join(', '));
  const links: string[] = [];
  for (const f of [...docs, ...sources]) for (const m of read(f).matchAll(/method\.md#([\w-]+)/g)) links.push(`${f}: ${m[1]}`);
  assert.ok(links.length >= 8, `${links.length} links`);
  assert.deepEqual(
    links.filter((l) => !anchors.has(l.split(': ')[1]!)),
    [],
  );
});
