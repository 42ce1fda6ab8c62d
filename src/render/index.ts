export { renderHeatmapPng, renderCategoricalPng } from './heatmap.ts';
export type { HeatmapOptions, CategoricalOptions, Category, Underlay } from './heatmap.ts';
export {
  AXIS_PLAIN_NAMES,
  AXIS_RGB,
  colormapLut,
  colormapRgb,
  COLORMAP_NAMES,
  cssColor,
  LAYER_PLAIN_NAMES,
  LAYER_RGB,
  NEUTRAL,
  OKABE_ITO,
  REGIME_PLAIN_NAMES,
  REGIME_RGB,
  SERIES_RGB,
  SSIM_SCALE,
} from './palette.ts';
export type { ColormapName, RGB8 } from './palette.ts';
