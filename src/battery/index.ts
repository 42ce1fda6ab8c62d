/** The published engine's metric battery (docs/metrics.md): kernels, the pair entry point, LPIPS/CLIP, run glue. */
export {
  BATTERY_COLUMNS,
  BATTERY_UNITS,
  batteryDataRange,
  batteryOfGray8,
  imageStatistics,
  metricBattery,
  totalScore,
  type BatteryColumn,
  type BatteryRecord,
  type ImageStatistics,
} from './battery.ts';
export { DEFAULT_BATTERY_OPTIONS, resolveBatteryOptions, type BatteryOptions } from './options.ts';
export { toGray8, type Gray8 } from './gray8.ts';
export { canny, dilateSquare, ringing } from './canny.ts';
export { ciede2000, colorDifference, srgb8ToLab, type ColorDifference } from './color.ts';
export {
  blockArtifact,
  entropy256,
  gradientPass,
  histogram256,
  histogramCorrelation,
  rmsContrast,
  sharpnessOpencv,
  textureComplexity,
  type GradientPass,
} from './filters.ts';
export { highFrequencyRatio } from './frequency.ts';
export { localQuality, type LocalQuality } from './localQuality.ts';
export { RUN_BATTERY_COLUMNS, resolveRunBatteryOptions, runPairBattery, type RunBatteryOptions } from './run.ts';
export { clipInput, clipSimilarity, loadPerceptualModel, lpipsDistance, perceptualMetrics, type PerceptualModel, type PerceptualModels } from './perceptual.ts';
