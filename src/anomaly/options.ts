/** Options of the Anomaly Score entry points (library and `blindspot anomaly`). */
import { invalidOption, mergeOptions } from '../errors.ts';

export interface AnomalyOptions {
  /** 'mobilenet_v2' (default), 'inception_v3', 'dinov2:PATH' (DINOv2 safetensors), or a TF.js model folder. */
  extractor: string;
  /** At most this many images per set, the first N in file-name order (0 = all). Default 0. */
  n: number;
  /** Seed of the noise directions and PGD starts (each image's stream also mixes in its file name). Default 0. */
  seed: number;
  /** Use the official repository's PGD update (descent on the MSE) instead of the paper's ascent. Default false. */
  officialCompat: boolean;
  /** Images per PGD batch. Default 4. */
  batchSize: number;
  /** TF.js backend. Default 'wasm'. */
  backend: 'wasm' | 'cpu';
  /** Keep each image's clean feature vector in the result (for Fréchet distances). Default false. */
  keepFeatures: boolean;
}

export const DEFAULT_ANOMALY_OPTIONS: Readonly<AnomalyOptions> = Object.freeze({
  extractor: 'mobilenet_v2',
  n: 0,
  seed: 0,
  officialCompat: false,
  batchSize: 4,
  backend: 'wasm',
  keepFeatures: false,
});

/**
 * Merge and check options.
 * @throws BlindspotError E_INVALID_OPTION naming the bad option.
 */
export function resolveAnomalyOptions(partial?: Partial<AnomalyOptions>): AnomalyOptions {
  const o = mergeOptions(DEFAULT_ANOMALY_OPTIONS, partial, 'anomaly');
  if (typeof o.extractor !== 'string' || o.extractor === '')
    throw invalidOption('extractor', 'a name or a folder', o.extractor);
  if (!Number.isInteger(o.n) || o.n < 0) throw invalidOption('n', 'an integer >= 0', o.n);
  if (!Number.isInteger(o.seed)) throw invalidOption('seed', 'an integer', o.seed);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 64)
    throw invalidOption('batchSize', 'an integer in 1..64', o.batchSize);
  if (o.backend !== 'wasm' && o.backend !== 'cpu') throw invalidOption('backend', 'wasm|cpu', o.backend);
  if (typeof o.officialCompat !== 'boolean')
    throw invalidOption('officialCompat', 'a boolean', o.officialCompat);
  if (typeof o.keepFeatures !== 'boolean') throw invalidOption('keepFeatures', 'a boolean', o.keepFeatures);
  return o;
}
