export type { Image, ImageFormat } from './types.ts';
export { greyImage } from './types.ts';
export { readImage } from './read.ts';
export type { ReadImageOptions } from './read.ts';
