export { renderHeatmapPng, renderCategoricalPng } from './heatmap.ts';
export type { HeatmapOptions, CategoricalOptions, Category, Underlay } from './heatmap.ts';
export { colormapLut } from './colormap.ts';
export type { ColormapName } from './colormap.ts';
