/**
 * blindspot — the public, typed library API. It mirrors the CLI: every command is a function here.
 * Heavy parts (TensorFlow.js, DuckDB, the viewer) are reached through their own modules and load lazily.
 */
export { BlindspotError, isBlindspotError } from './errors.ts';
export type { ErrorCode } from './errors.ts';

// image input
export * from './image/index.ts';
