/**
 * The upscalers blindspot ships: three real ESRGAN-family networks whose weights come inside npm packages
 * (UpscalerJS, MIT), and two classical references. Light module: names and facts only, no TensorFlow.js.
 */

/** Model names accepted by `upscale` / `pipeline` (CLI `--model`). */
export const UPSCALE_MODEL_NAMES = [
  'esrgan-slim',
  'esrgan-medium',
  'esrgan-thick',
  'bicubic',
  'lanczos3',
] as const;
export type UpscaleModelName = (typeof UPSCALE_MODEL_NAMES)[number];

/** Facts about one upscaler. */
export interface UpscaleModelInfo {
  name: UpscaleModelName;
  kind: 'network' | 'classical';
  /** npm package holding the weights (networks only). */
  package?: string;
  /** Architecture as published by the package: RDN (slim, medium) or RRDN (thick). */
  architecture?: 'rdn' | 'rrdn';
  /** Value range the network expects and returns: [0, 255] (RDN) or [0, 1] (RRDN). */
  valueMax?: 255 | 1;
  /** Integer scales available. */
  scales: readonly number[];
  description: string;
}

const ESRGAN_SCALES = [2, 3, 4, 8] as const;
const CLASSICAL_SCALES = [2, 3, 4, 5, 6, 7, 8] as const;

/** The registry. Value ranges and custom layers are read from the packages' model definitions. */
export const UPSCALE_MODELS: Readonly<Record<UpscaleModelName, UpscaleModelInfo>> = Object.freeze({
  'esrgan-slim': {
    name: 'esrgan-slim',
    kind: 'network',
    package: '@upscalerjs/esrgan-slim',
    architecture: 'rdn',
    valueMax: 255,
    scales: ESRGAN_SCALES,
    description: 'UpscalerJS ESRGAN Slim (RDN C1-D2-G4-G064, DIV2K), ~0.9 MB per scale',
  },
  'esrgan-medium': {
    name: 'esrgan-medium',
    kind: 'network',
    package: '@upscalerjs/esrgan-medium',
    architecture: 'rdn',
    valueMax: 255,
    scales: ESRGAN_SCALES,
    description: 'UpscalerJS ESRGAN Medium (RDN C1-D10-G64-G064, DIV2K), ~2.8 MB per scale',
  },
  'esrgan-thick': {
    name: 'esrgan-thick',
    kind: 'network',
    package: '@upscalerjs/esrgan-thick',
    architecture: 'rrdn',
    valueMax: 1,
    scales: ESRGAN_SCALES,
    description: 'UpscalerJS ESRGAN Thick (RRDN C4-D3-G32-G064, DIV2K), ~27 MB per scale; slow on CPU',
  },
  bicubic: {
    name: 'bicubic',
    kind: 'classical',
    scales: CLASSICAL_SCALES,
    description: 'MATLAB imresize bicubic (Keys a = -0.5)',
  },
  lanczos3: {
    name: 'lanczos3',
    kind: 'classical',
    scales: CLASSICAL_SCALES,
    description: 'Lanczos-3 (libvips via sharp)',
  },
});

/** True when `name` is a known upscaler. */
export function isUpscaleModelName(name: string): name is UpscaleModelName {
  return (UPSCALE_MODEL_NAMES as readonly string[]).includes(name);
}
