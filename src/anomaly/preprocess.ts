/**
 * Bring a decoded image to an extractor's input: samples in [0,1] (divided by the image's natural data range;
 * float images without one are min-max scaled), resized to size x size with sharp's Lanczos-3 (stretching
 * non-square images), grey repeated to 3 channels or RGB reduced to luma (Rec. 601) for 1-channel models.
 * The resize runs on 16-bit samples, so 12/16-bit medical images keep their precision.
 */
import sharp from 'sharp';
import { BlindspotError } from '../errors.ts';
import type { Image } from '../image/types.ts';

/**
 * @param img a decoded image (1, 3 or 4 channels; alpha is dropped).
 * @param size the extractor's square input size.
 * @param channels 1 or 3.
 * @returns size*size*channels samples in [0,1], NHWC order.
 * @throws BlindspotError E_NONFINITE for NaN/Inf samples, E_TOO_SMALL for an empty image.
 */
export async function toExtractorInput(img: Image, size: number, channels: 1 | 3): Promise<Float32Array> {
  const { width, height } = img;
  if (width < 1 || height < 1)
    throw new BlindspotError('E_TOO_SMALL', 'image has no pixels', img.source || undefined);
  const inC = img.channels >= 3 ? 3 : 1;
  const stride = img.channels;
  let lo = 0;
  let range = img.dataRange ?? 0;
  if (img.dataRange === null || !(img.dataRange > 0)) {
    lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < img.data.length; i++) {
      const v = img.data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    range = hi > lo ? hi - lo : 1;
  }
  const px = width * height;
  const u16 = new Uint16Array(px * inC);
  for (let p = 0; p < px; p++) {
    for (let c = 0; c < inC; c++) {
      const v = img.data[p * stride + c]!;
      if (!Number.isFinite(v))
        throw new BlindspotError('E_NONFINITE', 'image has NaN or infinite samples', img.source || undefined);
      const t = (v - lo) / range;
      u16[p * inC + c] = Math.round(65535 * (t < 0 ? 0 : t > 1 ? 1 : t));
    }
  }
  const { data } = await sharp(u16, {
    raw: { width, height, channels: inC as 1 | 3, premultiplied: false },
  })
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace(inC === 1 ? 'grey16' : 'rgb16')
    .raw({ depth: 'ushort' })
    .toBuffer({ resolveWithObject: true });
  const resized = new Uint16Array(data.buffer, data.byteOffset, size * size * inC);
  const out = new Float32Array(size * size * channels);
  for (let p = 0; p < size * size; p++) {
    if (channels === 3) {
      for (let c = 0; c < 3; c++) out[p * 3 + c] = resized[p * inC + (inC === 3 ? c : 0)]! / 65535;
    } else {
      out[p] =
        inC === 1
          ? resized[p]! / 65535
          : (0.299 * resized[p * 3]! + 0.587 * resized[p * 3 + 1]! + 0.114 * resized[p * 3 + 2]!) / 65535;
    }
  }
  return out;
}
