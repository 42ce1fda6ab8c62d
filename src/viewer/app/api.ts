/** Typed fetches of the viewer's JSON API (src/viewer/server.ts). */
export interface Meta {
  dir: string;
  columnSet: 'full' | 'core';
  configs: { model: string; path: string; blocks: number; t10: number; t90: number }[];
  models: string[];
  paths: string[];
  cellCount: number;
  radiusBins: number;
  params: { blockSize: number; stride: number };
  hasAnalysis: boolean;
  notices: string[];
  version: string | null;
  sampleSize: number;
}

export interface Cells {
  count: number;
  models: string[];
  paths: string[];
  id: number[];
  model: number[];
  path: number[];
  layer: number[];
  regime: number[];
  attractor: number[];
  border: number[];
  persistent: number[];
  dom: number[];
  n: number[];
  images: number[];
  nAc: number[];
  nDc: number[];
  severity: number[];
  ssim: number[];
  kappa: number[];
  from: number[];
  to: number[];
}

export type Row = Record<string, unknown>;
export type Columns = Record<string, unknown[]>;

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

export const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();
