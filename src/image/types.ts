/** Where the samples came from; decides the default SSIM data range (DESIGN §3). */
export type ImageFormat = 'png' | 'jpeg' | 'tiff' | 'gif' | 'bmp' | 'webp' | 'dicom' | 'nifti' | 'raw';

/**
 * A decoded image: interleaved samples (channel-last, row-major) as floats, plus what SSIM needs to know about
 * them. `data.length === width * height * channels`.
 */
export interface Image {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA; alpha is dropped by the colour policies). */
  channels: number;
  data: Float32Array | Float64Array;
  /** Bits per stored sample in the source: 8, 16 (PNG/TIFF/DICOM BitsAllocated), 32/64 for float sources. */
  bitDepth: number;
  /** True when the source samples are floating point (no natural range). */
  isFloat: boolean;
  /**
   * The natural data range L of the samples, or null when there is none (float input): 8-bit -> 255;
   * DICOM -> 2^BitsStored - 1; other 16-bit -> 65535. See `resolveDataRange` in ssim/.
   */
  dataRange: number | null;
  /** The file this came from ('' for images built in memory). Used in every error message. */
  source: string;
  format: ImageFormat;
  /** Format-specific facts worth recording (DICOM tags, NIfTI slice, frame...). */
  meta: Record<string, unknown>;
  /** Non-fatal remarks (e.g. 16-bit data with BitsStored 12). */
  warnings: string[];
}

/** Build an in-memory grey image (tests, synthetic data). Samples are copied into a Float64Array. */
export function greyImage(
  width: number,
  height: number,
  data: ArrayLike<number>,
  opts: { bitDepth?: number; dataRange?: number | null; source?: string } = {},
): Image {
  const bitDepth = opts.bitDepth ?? 8;
  return {
    width,
    height,
    channels: 1,
    data: Float64Array.from(data),
    bitDepth,
    isFloat: false,
    dataRange: opts.dataRange === undefined ? 2 ** bitDepth - 1 : opts.dataRange,
    source: opts.source ?? '',
    format: 'raw',
    meta: {},
    warnings: [],
  };
}
