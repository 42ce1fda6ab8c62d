/**
 * Scan outputs: `scan.csv` (one row per generated image and neighbour rank), `scan.json` (the whole result) and
 * `contact-sheet.html` (each flagged pair side by side with its cosine; thumbnails inlined as PNG data URIs so
 * the page is one self-contained file). Fixed number formats, no timestamps: same inputs, same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImageFolder } from './folder.ts';
import { minMax } from './plane.ts';
import type { ScanResult } from './scan.ts';

/** CSV text of a scan (header + one row per generated image x neighbour rank). */
export function scanCsv(result: ScanResult): string {
  const lines = ['generated,rank,train,cosine,label'];
  for (const m of result.matches) {
    m.neighbours.forEach((n, r) => {
      lines.push([csvField(m.generated), r + 1, csvField(n.train), n.cosine.toFixed(6), r === 0 ? m.label : ''].join(','));
    });
  }
  return lines.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** An 8-bit PNG of a z-scored plane (min-max scaled), for thumbnails. */
export async function planePng(plane: Float32Array, size: number): Promise<Buffer> {
  const { min, max } = minMax(plane);
  const scale = max > min ? 255 / (max - min) : 0;
  const px = Buffer.alloc(size * size);
  for (let i = 0; i < px.length; i++) px[i] = Math.round((plane[i]! - min) * scale);
  return sharp(px, { raw: { width: size, height: size, channels: 1 } }).png({ compressionLevel: 9 }).toBuffer();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A self-contained HTML contact sheet of the flagged (Duplicate and Similar) generated images. */
export async function contactSheetHtml(result: ScanResult, train: ImageFolder, generated: ImageFolder): Promise<string> {
  const trainIndex = new Map(train.names.map((n, i) => [n, i]));
  const genIndex = new Map(generated.names.map((n, i) => [n, i]));
  const cache = new Map<string, string>();
  const uri = async (key: string, plane: Float32Array): Promise<string> => {
    let u = cache.get(key);
    if (u === undefined) {
      u = `data:image/png;base64,${(await planePng(plane, train.size)).toString('base64')}`;
      cache.set(key, u);
    }
    return u;
  };
  const flagged = result.matches
    .filter((m) => m.label !== 'Different')
    .sort((a, b) => b.neighbours[0]!.cosine - a.neighbours[0]!.cosine || a.generated.localeCompare(b.generated));
  const rows: string[] = [];
  for (const m of flagged) {
    const best = m.neighbours[0]!;
    const g = await uri(`g:${m.generated}`, generated.planes[genIndex.get(m.generated)!]!);
    const t = await uri(`t:${best.train}`, train.planes[trainIndex.get(best.train)!]!);
    rows.push(
      `<div class="pair ${m.label.toLowerCase()}"><figure><img src="${g}" alt=""><figcaption>generated<br>${escapeHtml(m.generated)}</figcaption></figure>` +
        `<figure><img src="${t}" alt=""><figcaption>training<br>${escapeHtml(best.train)}</figcaption></figure>` +
        `<div class="score"><b>${m.label}</b><br>cosine ${best.cosine.toFixed(4)}</div></div>`,
    );
  }
  const c = result.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DeepSSIM memorization scan</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
.pair{display:inline-flex;align-items:center;gap:.6em;margin:.4em;padding:.5em;border-radius:6px;background:#fff;border:3px solid #ccc}
.pair.duplicate{border-color:#d62728}.pair.similar{border-color:#ff7f0e}
figure{margin:0;text-align:center;font-size:11px;max-width:140px;word-break:break-all}
img{width:128px;height:128px;image-rendering:pixelated;display:block}
.score{font-size:13px;min-width:7em}
</style></head><body>
<h1>DeepSSIM memorization scan</h1>
<p>${result.generatedImages} generated images against ${result.trainImages} training images; model <code>${escapeHtml(result.model.dir)}</code>
(${escapeHtml(result.model.backbone)}, ${result.model.size}&times;${result.model.size}). Thresholds: Duplicate &gt; ${result.options.duplicate}, Different &le; ${result.options.similar}.</p>
<p><b>${c.Duplicate}</b> Duplicate, <b>${c.Similar}</b> Similar, <b>${c.Different}</b> Different. Flagged pairs (best training match), highest cosine first:</p>
${rows.join('\n')}
</body></html>
`;
}

/** Write scan.csv, scan.json and contact-sheet.html into `outDir` (created if needed); returns the paths. */
export async function writeScanOutputs(outDir: string, result: ScanResult, train: ImageFolder, generated: ImageFolder): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files = [join(outDir, 'scan.csv'), join(outDir, 'scan.json'), join(outDir, 'contact-sheet.html')];
  await writeFile(files[0]!, scanCsv(result));
  await writeFile(files[1]!, JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(6)) : v), 2) + '\n');
  await writeFile(files[2]!, await contactSheetHtml(result, train, generated));
  return files;
}
