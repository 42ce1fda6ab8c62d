/** The viewer (DESIGN §3b Shell–Membrane–Yolk, issue 5): server, options, egg geometry. Heavy: import lazily. */
export { startViewer } from './server.ts';
export type { ViewerHandle } from './server.ts';
export { DEFAULT_VIEWER_OPTIONS, resolveViewerOptions } from './options.ts';
export type { ViewerOptions } from './options.ts';
export { ResultsStore, blockStatesSql, cellsSql } from './results.ts';
export type { ResultsMeta, LabelParams } from './results.ts';
export {
  eggRadius,
  eggDirection,
  AXIS_VECTORS,
  NONE_POLE,
  YOLK_RADIUS,
  MEMBRANE_RADIUS,
  AXIS_LABELS,
  LAYER_NAMES,
  REGIME_NAMES,
  ATTRACTOR_NAMES,
} from './egg.ts';
export { ensureViewerBundle, APP_BUNDLE_DIR } from './bundle.ts';
export { displayWindow, toDisplayBytes, toDisplayPng } from './displayPng.ts';
