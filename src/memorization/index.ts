/**
 * DeepSSIM memorization detection (Scardace et al. 2025, arXiv:2509.16582): train an encoder whose cosine
 * similarity predicts SSIM under flips, rotations and re-windowing; scan generated images for copies of
 * training images; benchmark against pixel baselines on the paper's protocol. TensorFlow.js loads only when a model is trained or run.
 */
export { trainMemorizationModel, type TrainFolderProgress } from './trainFolder.ts';
export { scanMemorization, matchEmbeddings, resolveScanOptions, DEFAULT_SCAN_OPTIONS } from './scan.ts';
export type { ScanOptions, ScanResult, ScanMatch, ScanProgress } from './scan.ts';
export { writeScanOutputs, scanCsv, contactSheetHtml } from './report.ts';
export { trainDeepSsim, resolveTrainOptions, DEFAULT_TRAIN_OPTIONS, AdamW, clipByGlobalNorm, splitByImage } from './train.ts';
export type { TrainOptions, TrainProgress, TrainedDeepSsim, EpochRecord, ValidationSummary } from './train.ts';
export { readImageFolder, listImageFiles, IMAGE_EXTENSIONS, type ImageFolder } from './folder.ts';
export { loadDeepSsimModel, saveDeepSsimModel, readModelCard, modelTrainingFiles, MODEL_CARD_FORMAT, SHIPPED_MODEL_DIR, type ModelCard } from './store.ts';
export { embedPlanes } from './embed.ts';
export { buildNetwork, BACKBONES, HEAD, MOBILENET_TRAINABLE_FROM, type BackboneName, type DeepSsimNetwork } from './model.ts';
export { applyAugmentation, drawAugmentation, rotatePlane, gammaInPlace, DEFAULT_AUGMENT_OPTIONS } from './augment.ts';
export type { AugmentOptions, AppliedAugmentation } from './augment.ts';
export { ssimTarget } from './ssimTarget.ts';
export { candidatePairs, scorePairs, stratifiedSample, type Pair } from './pairs.ts';
export { preparePlane, greyPlaneOf, padToSquare, resizePlane, zScoreInPlace, type Plane } from './plane.ts';
export {
  classificationReport,
  calibrateThresholds,
  labelFor,
  cosineTopK,
  pearson,
  spearman,
  MEMORIZATION_LABELS,
  DEFAULT_LABEL_THRESHOLDS,
  type MemorizationLabel,
  type LabelThresholds,
  type ClassReport,
} from './metrics.ts';
export { createRng, type Rng } from './rng.ts';
export { loadTf } from './tfjs.ts';
export { runMemorizationBenchmark, benchmarkMarkdown, resolveBenchmarkOptions, DEFAULT_BENCHMARK_OPTIONS, scoreBenchSet, meanSd } from './benchmark.ts';
export type { BenchmarkOptions, BenchmarkResult, EmbeddingMethod, MethodSummary, SeedScores } from './benchmark.ts';
export { buildBenchSet, loadVolumeStack, dihedral, testTimeAugment, TEST_TIME_AUGMENT, DEFAULT_BENCH_SET_OPTIONS } from './benchset.ts';
export type { BenchSet, BenchPair, VolumeStack } from './benchset.ts';
export { untrainedBackboneMethod, deepSsimMethod, spatialDeepSsimMethod, modelMethod } from './benchmethods.ts';
export { shippedModelSplit, nearCopyGroups } from './split.ts';
export { createPairSampler, resolvePairSamplerOptions, DEFAULT_PAIR_SAMPLER_OPTIONS, PAIR_KINDS } from './pairSampler.ts';
export type { PairSampler, PairSamplerOptions, SampledPair, PairSource } from './pairSampler.ts';
export { spatialEncoder, trainSpatialDeepSsim, resolveSpatialTrainOptions, DEFAULT_SPATIAL_TRAIN_OPTIONS } from './spatial.ts';
export type { SpatialTrainOptions, SpatialValidation, SpatialTrained } from './spatial.ts';
