export type { Image, ImageFormat } from './types.ts';
export { greyImage } from './types.ts';
export { readImage, decodeImageBytes, resolveReadImageOptions, DEFAULT_READ_IMAGE_OPTIONS } from './read.ts';
export type { ReadImageOptions } from './read.ts';
export { TRANSFER_SYNTAX_NAMES } from './transferSyntax.ts';
export { READ_IMAGE_FLAGS, READ_IMAGE_FLAGS_HELP, readImageOptionsFromFlags } from './flags.ts';
