// report.md/html text that concludes: the Tier-1 intervals, the plain-language numbers and plots that say
// "none in this run" instead of drawing an empty axis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conclusionMarkdown, tier1Markdown } from '../../src/analysis/reportText.ts';
import { barPlotSvg, linePlotSvg } from '../../src/analysis/plots.ts';

test('Tier-1 table: mean and Student-t 95% interval per configuration (t(0.975, 3) = 3.182 from the published table)', () => {
  const ssim = [0.9, 0.92, 0.94, 0.96];
  const rows = ssim.map((v, i) => ({ model: 'm', path: 'notta', ssim: v, msssim: null, psnr: i === 0 ? Infinity : 30 + i }));
  const md = tier1Markdown(rows);
  const mean = 0.93;
  const sd = Math.sqrt(ssim.reduce((a, v) => a + (v - mean) ** 2, 0) / 3);
  const half = (3.1824 * sd) / 2;
  assert.ok(md.includes(`| m | notta | 4 | ${mean.toFixed(4)} [${(mean - half).toFixed(4)}, ${(mean + half).toFixed(4)}] | n/a |`), md);
  // PSNR: the identical pair (inf) is left out -> mean of 31, 32, 33 = 32.00
  assert.match(md, /\| 32\.00 \[/);
});

test('conclusion: counts and shares of both definitions, in words', () => {
  const headline = [{ model: 'esrgan', path: 'notta', hidden_blocks: 40, hidden_ac_blocks: 37, hidden_dc_blocks: 3, visible_blocks: 200, t90: 0.9866, hidden_blocks_published: 249, se_max_median: 1.4 }];
  const layers = [{ model: 'esrgan', path: 'notta', blocks: 1960 }, { model: 'esrgan', path: 'notta', blocks: 40 }];
  const pub = [{ model: 'esrgan', path: 'notta', blocks: 24576 }];
  const md = conclusionMarkdown(headline, layers, pub);
  assert.match(md, /of 2,000 blocks inside the region of interest, \*\*40 \(2\.0%\) are Hidden Collapse\*\*/);
  assert.match(md, /37 texture, 3 brightness/);
  assert.match(md, /counts 249 Hidden blocks of 24,576 \(1\.0%\)/);
  assert.match(md, /up to 1\.4 display grey levels/);
  const none = conclusionMarkdown([{ ...headline[0], hidden_blocks: 0 }], layers, pub);
  assert.match(none, /^No configuration has Hidden Collapse blocks/);
});

test('plots: all-zero bars say "none in this run"; the histogram has a log axis with decade ticks', () => {
  const empty = barPlotSvg('t', ['A1 luminance', 'A2 contrast'], [{ label: 'm', values: [0, 0] }], 'share');
  assert.match(empty, /none in this run/);
  assert.doesNotMatch(empty, /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#0072b2"\/>\n/);
  assert.match(empty, /A1<tspan[^>]*>luminance<\/tspan>/);
  const bars = barPlotSvg('t', ['A1'], [{ label: 'm', values: [0.004] }], 'share');
  assert.match(bars, />0\.4%</);
  const hist = linePlotSvg('h', [0.1, 0.5, 0.9], [{ label: 'm', values: [0.001, 0, 0.999] }], 'x', 'share', { logY: true });
  for (const tick of ['0.001', '0.01', '0.1', '1']) assert.ok(hist.includes(`>${tick}<`), tick);
  assert.match(hist, /\(log scale\)/);
  assert.equal((hist.match(/<circle/g) ?? []).length, 2, 'the zero bin breaks the line into two points');
});
