/**
 * The data split of the shipped DeepSSIM model: the 2-D slice set is cut into a training side and a benchmark
 * side by near-copy groups (images whose planes correlate at NCC >= `threshold` are one group, transitively),
 * so no picture reaches both sides as a rescaled or recompressed copy. A group's side is a fixed hash of its
 * first file name: deterministic, independent of the model and of any benchmark result.
 */
import { ncc } from './benchset.ts';

/** Near-copy groups (union-find over all pairs with NCC >= threshold); each group lists indices ascending. */
export function nearCopyGroups(planes: readonly Float32Array[], threshold = 0.9): number[][] {
  const parent = planes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < planes.length; i++) {
    for (let j = i + 1; j < planes.length; j++) {
      if (find(i) !== find(j) && ncc(planes[i]!, planes[j]!) >= threshold) parent[find(j)] = find(i);
    }
  }
  const groups = new Map<number, number[]>();
  planes.forEach((_, i) => {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  });
  return [...groups.values()];
}

/** FNV-1a (32 bit) of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Split a named image set into the model's training side and the benchmark side by near-copy groups.
 * @param names file names (the group's first name decides its side)
 * @param trainShare expected share of groups on the training side
 * @returns sorted index lists
 */
export function shippedModelSplit(names: readonly string[], planes: readonly Float32Array[], trainShare = 0.5, threshold = 0.9): { train: number[]; bench: number[]; groups: number } {
  const groups = nearCopyGroups(planes, threshold);
  const train: number[] = [];
  const bench: number[] = [];
  for (const g of groups) {
    const first = g.map((i) => names[i]!).sort()[0]!;
    ((fnv1a(first) % 1000) / 1000 < trainShare ? train : bench).push(...g);
  }
  return { train: train.sort((a, b) => a - b), bench: bench.sort((a, b) => a - b), groups: groups.length };
}
