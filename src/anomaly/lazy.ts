/**
 * Light entry points for the package barrel: the Anomaly Score's TensorFlow.js parts load on first call.
 * (Importing src/index.ts never loads TF.js.)
 */
import type { AnomalyOptions } from './options.ts';
import type { AnomalyProgress, AnomalyScoreIResult, AnomalyScoreResult, AnomalySession } from './score.ts';

/**
 * AS between a folder of real and a folder of generated images (see src/anomaly/score.ts `anomalyScore`).
 * Hwang, Lee & Lee, CVPR 2024, arXiv:2312.10634.
 * @throws BlindspotError for bad folders, options or extractors.
 */
export async function anomalyScore(
  realDir: string,
  generatedDir: string,
  options?: Partial<AnomalyOptions>,
  onProgress?: (p: AnomalyProgress) => void,
): Promise<AnomalyScoreResult> {
  return (await import('./score.ts')).anomalyScore(realDir, generatedDir, options, onProgress);
}

/**
 * AS-i (= V / C) of every image in a folder (see src/anomaly/score.ts `anomalyScoreI`).
 * @throws BlindspotError for a bad folder, options or extractor.
 */
export async function anomalyScoreI(
  dir: string,
  options?: Partial<AnomalyOptions>,
  onProgress?: (p: AnomalyProgress) => void,
): Promise<AnomalyScoreIResult> {
  return (await import('./score.ts')).anomalyScoreI(dir, options, onProgress);
}

/** Load TF.js and the extractor once and score many sets (see src/anomaly/score.ts). */
export async function createAnomalySession(options?: Partial<AnomalyOptions>): Promise<AnomalySession> {
  return (await import('./score.ts')).createAnomalySession(options);
}
