import { MemoryDataset } from './memory-dataset';
import { splitDataset, subset } from './split';

function ds(perClass: number[]): MemoryDataset {
  const n = perClass.reduce((a, b) => a + b, 0);
  const labels = new Int32Array(n);
  let i = 0;
  perClass.forEach((k, c) => {
    for (let j = 0; j < k; j++) labels[i++] = c;
  });
  return new MemoryDataset({
    pixels: new Uint8Array(n),
    labels,
    shape: [1, 1, 1],
    classNames: perClass.map((_, c) => `c${c}`),
  });
}

const count = (labels: Int32Array, k: number) => {
  const c = new Array(k).fill(0);
  labels.forEach((l) => c[l]++);
  return c;
};

describe('subset and split', () => {
  it('stratified subset keeps class proportions, is reproducible, and changes with the seed', () => {
    const d = ds([100, 100, 100, 100]);
    const a = subset(d, 40, 1);
    expect(count(a.labels, 4)).toEqual([10, 10, 10, 10]);
    expect(Array.from(subset(d, 40, 1).indices)).toEqual(Array.from(a.indices));
    expect(Array.from(subset(d, 40, 2).indices)).not.toEqual(Array.from(a.indices));
    const skew = subset(ds([50, 30, 20]), 10, 0);
    expect(count(skew.labels, 3)).toEqual([5, 3, 2]);
    const rand = subset(d, 40, 1, { stratified: false });
    expect(rand.size).toBe(40);
    expect(new Set(rand.indices).size).toBe(40);
  });

  it('split is a disjoint cover with the val fraction per class', () => {
    const d = ds([50, 30, 20]);
    const { train, val } = splitDataset(d, { valFraction: 0.2, seed: 5 });
    expect(count(val.labels, 3)).toEqual([10, 6, 4]);
    expect(train.size + val.size).toBe(100);
    const all = new Set([...train.indices, ...val.indices]);
    expect(all.size).toBe(100);
    expect((train.get(0) as { label: number }).label).toBe(train.labels[0]);
    const again = splitDataset(d, { valFraction: 0.2, seed: 5 });
    expect(Array.from(again.val.indices)).toEqual(Array.from(val.indices));
  });
});
