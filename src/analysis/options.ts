/**
 * Parameters of the analysis views (DESIGN §3b): quantiles for T10/T90, hidden-damage thresholds, the Membrane
 * kappa cut and the SSIM constant K2 used by the Silent test. Stored beside the views (analysis/params.json).
 */
import { invalidOption, mergeOptions } from '../errors.ts';

export interface AnalyzeOptions {
  /** Quantile of non-border ssim_blk giving the visible threshold T10. Default 0.1. */
  visibleQuantile: number;
  /** Quantile of non-border ssim_blk giving the hidden threshold T90. Default 0.9. */
  hiddenQuantile: number;
  /** Hidden damage, AC: R = se^2 / max(sx^2, 1/12) >= hiddenR. Default: the run's block options (1). */
  hiddenR: number;
  /** Hidden damage, DC: |a1| (dmu on an 8-bit scale) >= hiddenDmu. Default: the run's block options (8). */
  hiddenDmu: number;
  /** Regime Membrane when not Silent and kappa < this. Default 0.5. */
  kappaMembrane: number;
  /** SSIM K2 for the Silent test sx^2 < C2 (1-T)/T with C2 = (K2 L)^2. Default: the run's block options (0.03). */
  K2: number;
  /** SSIM K1 for the brightness blind spot dmu_max (C1 = (K1 L)^2). Default: the run's block options (0.01). */
  K1: number;
  /** T90 used when a configuration's ROI T90 is 1 or rests on too few blocks. Default: the run's (0.99). */
  fallbackThreshold: number;
  /** Fewer non-border ROI blocks than this make T90 degenerate. Default: the run's (1000). */
  minRoiBlocks: number;
  /** Bins of the ssim_blk histograms in the report. Default 40. */
  histogramBins: number;
  /** 26-pattern screen thresholds: 'percentile' (per run, as the engine) or 'fixed' (its example values). Default 'percentile'. */
  patternThresholds: 'percentile' | 'fixed';
  /** Local quality the screen reads: 'patch' (64x64, local_quality_*) or 'block' (the run's blk_*). Default 'patch'. */
  patternLocalQuality: 'patch' | 'block';
}

export const DEFAULT_ANALYZE_OPTIONS: Readonly<AnalyzeOptions> = Object.freeze({
  visibleQuantile: 0.1,
  hiddenQuantile: 0.9,
  hiddenR: 1,
  hiddenDmu: 8,
  kappaMembrane: 0.5,
  K2: 0.03,
  K1: 0.01,
  fallbackThreshold: 0.99,
  minRoiBlocks: 1000,
  histogramBins: 40,
  patternThresholds: 'percentile',
  patternLocalQuality: 'patch',
});

/**
 * Merge and check analysis options.
 * @param partial Any subset; unknown keys are rejected.
 * @param runDefaults Defaults taken from the run's block options (run.json `diagnose`), applied before `partial`.
 * @throws BlindspotError E_INVALID_OPTION naming the option, its range and the value given.
 */
export function resolveAnalyzeOptions(partial?: Partial<AnalyzeOptions>, runDefaults: Partial<AnalyzeOptions> = {}): AnalyzeOptions {
  const o = mergeOptions(mergeOptions(DEFAULT_ANALYZE_OPTIONS, runDefaults, 'analyze'), partial, 'analyze');
  const unit = (k: 'visibleQuantile' | 'hiddenQuantile'): void => {
    if (!(typeof o[k] === 'number' && o[k] > 0 && o[k] < 1)) throw invalidOption(k, `a number in (0, 1) (default ${DEFAULT_ANALYZE_OPTIONS[k]})`, o[k]);
  };
  if (o.patternThresholds !== 'percentile' && o.patternThresholds !== 'fixed') throw invalidOption('patternThresholds', 'percentile|fixed (default percentile)', o.patternThresholds);
  if (o.patternLocalQuality !== 'patch' && o.patternLocalQuality !== 'block') throw invalidOption('patternLocalQuality', 'patch|block (default patch)', o.patternLocalQuality);
  unit('visibleQuantile');
  unit('hiddenQuantile');
  if (o.visibleQuantile >= o.hiddenQuantile) throw invalidOption('visibleQuantile', `less than hiddenQuantile (${o.hiddenQuantile})`, o.visibleQuantile);
  if (!(typeof o.fallbackThreshold === 'number' && o.fallbackThreshold > 0 && o.fallbackThreshold < 1)) throw invalidOption('fallbackThreshold', 'a number in (0, 1) (default 0.99)', o.fallbackThreshold);
  if (!Number.isInteger(o.minRoiBlocks) || o.minRoiBlocks < 1) throw invalidOption('minRoiBlocks', 'an integer >= 1 (default 1000)', o.minRoiBlocks);
  for (const k of ['hiddenR', 'hiddenDmu', 'K2', 'K1'] as const) {
    if (!(typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] > 0)) throw invalidOption(k, 'a positive number', o[k]);
  }
  if (!(typeof o.kappaMembrane === 'number' && o.kappaMembrane > 0 && o.kappaMembrane < 1)) throw invalidOption('kappaMembrane', 'a number in (0, 1) (default 0.5)', o.kappaMembrane);
  if (!Number.isInteger(o.histogramBins) || o.histogramBins < 2 || o.histogramBins > 1000) throw invalidOption('histogramBins', 'an integer from 2 to 1000 (default 40)', o.histogramBins);
  return o;
}
