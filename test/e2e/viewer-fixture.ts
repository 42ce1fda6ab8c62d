/**
 * A real RESULTS folder for the viewer tests: the dataset-run fixture (three 96x96 NIH chest X-rays, two
 * "models" x notta/tta of real sharp degradations) run through `runDataset` (inline, no workers).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataset } from '../fixtures/dataset/buildDataset.ts';
import { runDataset } from '../../src/dataset/run.ts';
import { parseModelFlag } from '../../src/dataset/options.ts';

export interface ViewerFixture {
  root: string;
  results: string;
}

/** Build the dataset and run it; returns the temp root (delete it after) and the RESULTS folder. */
export async function buildViewerResults(): Promise<ViewerFixture> {
  const root = mkdtempSync(join(tmpdir(), 'bs-viewer-'));
  const ds = await buildDataset(join(root, 'data'));
  const results = join(root, 'RESULTS');
  await runDataset({ gt: ds.gt, models: ds.modelFlags.map(parseModelFlag), out: results }, { inline: true });
  return { root, results };
}
