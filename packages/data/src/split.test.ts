import { MemoryDataset } from './memory-dataset';
import { selectClasses, splitDataset, subset } from './split';

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

describe('selectClasses', () => {
  it('keeps the examples of the given classes, relabelled 0…k−1 in the order given', async () => {
    const d = ds([3, 4, 5, 6]);
    const v = selectClasses(d, ['c3', 1]);
    expect(v.classNames).toEqual(['c3', 'c1']);
    expect(v.size).toBe(10);
    expect(count(v.labels, 2)).toEqual([6, 4]);
    // every example keeps its pixels and gets its new label
    for (let i = 0; i < v.size; i++) {
      const s = await v.get(i);
      expect(s.label).toBe(v.labels[i]);
      expect(d.labels[v.indices[i]]).toBe(v.classIds[s.label]);
    }
    // a subset of it is class-balanced in the new labels
    expect(count(subset(v, 4, 0).labels, 2)).toEqual([2, 2]);
  });

  it('unknown or repeated classes are errors naming them', () => {
    const d = ds([1, 1]);
    expect(() => selectClasses(d, ['nope'])).toThrow(/class 'nope' is not one of the data's classes/);
    expect(() => selectClasses(d, [2])).toThrow(/class '2' is not one of the data's classes/);
    expect(() => selectClasses(d, [0, 'c0'])).toThrow(/listed twice/);
  });
});
