import { NetAugError, type Dataset, type Sample } from '@netaug/core';
import { deriveRng, STREAM_SUBSET } from './seed';
import { hasLabels, type DatasetSpec, type LabeledDataset } from './types';

/** A dataset restricted to (and reordered by) `indices` of a base dataset. */
export class DatasetView implements LabeledDataset {
  readonly size: number;
  readonly labels: Int32Array;
  readonly format = 'view' as const;

  constructor(
    readonly base: LabeledDataset,
    readonly indices: Int32Array,
  ) {
    this.size = indices.length;
    this.labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      if (indices[i] < 0 || indices[i] >= base.size)
        throw new NetAugError('INVALID_ARGUMENT', `View index ${indices[i]} out of range [0, ${base.size})`);
      this.labels[i] = base.labels[indices[i]];
    }
  }
  get shape() {
    return this.base.shape;
  }
  get classNames() {
    return this.base.classNames;
  }
  get source() {
    return this.base.source;
  }
  get inMemory() {
    return this.base.inMemory;
  }
  get(index: number): Sample | Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new NetAugError('INVALID_ARGUMENT', `Index ${index} out of range [0, ${this.size})`);
    }
    return this.base.get(this.indices[index]);
  }
  workerSpec(): DatasetSpec | undefined {
    const base = this.base.workerSpec?.();
    return base ? { kind: 'view', base, indices: this.indices } : undefined;
  }
}

function requireLabels(ds: Dataset, what: string): LabeledDataset {
  if (!hasLabels(ds)) {
    throw new NetAugError('INVALID_ARGUMENT', `${what} needs a dataset with a labels array`, {
      hint: 'use a dataset made by @netaug/data, or pass stratified: false',
    });
  }
  return ds;
}

/** Indices 0..n-1 grouped by label, each group shuffled with `rng`-derived order. */
function shuffledByClass(ds: LabeledDataset, seed: number): Int32Array[] {
  const groups: number[][] = ds.classNames.map(() => []);
  for (let i = 0; i < ds.size; i++) (groups[ds.labels[i]] ??= []).push(i);
  return groups.map((g, c) => deriveRng(seed, STREAM_SUBSET, c).shuffle(Int32Array.from(g)));
}

/** Options of {@link subset}. */
export interface SubsetOptions {
  /**
   * `true` (default): per-class quotas proportional to class frequency (largest-remainder rounding), so a
   * balanced dataset gives a balanced subset; `false`: a uniformly random sample of `n` examples.
   */
  stratified?: boolean;
}

/**
 * `n` examples chosen with `seed` (a pure function of (dataset labels, n, seed)). Stratified by default:
 * each class contributes in proportion to its frequency (exactly `n / classes` each for a balanced dataset
 * when divisible). Returned indices are sorted (the dataset's own order is kept; loaders shuffle anyway).
 */
export function subset(ds: Dataset, n: number, seed = 0, options: SubsetOptions = {}): DatasetView {
  const base = requireLabels(ds, 'subset');
  if (!Number.isInteger(n) || n < 0 || n > base.size)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `subset size must be an integer in [0, ${base.size}], got ${n}`,
    );
  let chosen: Int32Array;
  if (options.stratified === false) {
    chosen = deriveRng(seed, STREAM_SUBSET, 0xffffffff).permutation(base.size).slice(0, n);
  } else {
    const groups = shuffledByClass(base, seed);
    const exact = groups.map((g) => (g.length * n) / base.size);
    const quota = exact.map(Math.floor);
    let rest = n - quota.reduce((a, b) => a + b, 0);
    const order = exact
      .map((e, i) => [e - Math.floor(e), i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of order) {
      if (rest === 0) break;
      if (quota[i] < groups[i].length) {
        quota[i]++;
        rest--;
      }
    }
    const out: number[] = [];
    groups.forEach((g, c) => out.push(...g.subarray(0, quota[c])));
    chosen = Int32Array.from(out);
  }
  chosen.sort();
  return new DatasetView(base, chosen);
}

/** Options of {@link splitDataset}. */
export interface SplitOptions {
  /** Fraction of examples that go to `val` (0 < f < 1). */
  valFraction: number;
  seed?: number;
  /** Keep class proportions in both parts (default true; needs labels). */
  stratified?: boolean;
}

/**
 * Splits a dataset into disjoint `train` and `val` views (every example in exactly one), reproducibly
 * from `seed`. Stratified by default: each class is split by the fraction (rounded per class).
 */
export function splitDataset(ds: Dataset, options: SplitOptions): { train: DatasetView; val: DatasetView } {
  const base = requireLabels(ds, 'splitDataset');
  const f = options.valFraction;
  if (!(f > 0 && f < 1)) throw new NetAugError('INVALID_ARGUMENT', `valFraction must be in (0, 1), got ${f}`);
  const seed = options.seed ?? 0;
  const val: number[] = [];
  const train: number[] = [];
  if (options.stratified === false) {
    const p = deriveRng(seed, STREAM_SUBSET, 0xfffffffe).permutation(base.size);
    const k = Math.round(base.size * f);
    val.push(...p.subarray(0, k));
    train.push(...p.subarray(k));
  } else {
    for (const g of shuffledByClass(base, seed)) {
      const k = Math.round(g.length * f);
      val.push(...g.subarray(0, k));
      train.push(...g.subarray(k));
    }
  }
  const sorted = (a: number[]) => Int32Array.from(a).sort();
  return { train: new DatasetView(base, sorted(train)), val: new DatasetView(base, sorted(val)) };
}

/**
 * The examples of some classes only, relabelled `0…k−1` in the order given (for transfer learning: pretrain on
 * some classes, fine-tune on the others). `classes` are class names or class indices of `ds`.
 */
export function selectClasses(ds: Dataset, classes: (string | number)[]): ClassSubsetView {
  const base = requireLabels(ds, 'selectClasses');
  if (!classes.length) throw new NetAugError('INVALID_ARGUMENT', 'selectClasses: give at least one class');
  const ids = classes.map((c) => {
    const i = typeof c === 'number' ? c : base.classNames.indexOf(c);
    if (!Number.isInteger(i) || i < 0 || i >= base.classNames.length) {
      throw new NetAugError('INVALID_ARGUMENT', `class '${c}' is not one of the data's classes`, {
        hint: `classes are names or indices 0–${base.classNames.length - 1}: ${base.classNames.join(', ')}`,
      });
    }
    return i;
  });
  if (new Set(ids).size !== ids.length)
    throw new NetAugError('INVALID_ARGUMENT', `selectClasses: a class is listed twice: ${classes.join(', ')}`);
  return new ClassSubsetView(base, ids);
}

/** A dataset restricted to some classes, relabelled in the order of `classIds` (see {@link selectClasses}). */
export class ClassSubsetView implements LabeledDataset {
  readonly size: number;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
  readonly classNames: string[];
  readonly format = 'view' as const;
  private readonly map: Map<number, number>;

  constructor(
    readonly base: LabeledDataset,
    readonly classIds: number[],
  ) {
    this.map = new Map(classIds.map((c, i) => [c, i]));
    const idx: number[] = [];
    for (let i = 0; i < base.size; i++) if (this.map.has(base.labels[i])) idx.push(i);
    this.indices = Int32Array.from(idx);
    this.size = idx.length;
    this.labels = Int32Array.from(idx, (i) => this.map.get(base.labels[i])!);
    this.classNames = classIds.map((c) => base.classNames[c]);
  }
  get shape() {
    return this.base.shape;
  }
  get source() {
    return this.base.source;
  }
  get inMemory() {
    return this.base.inMemory;
  }
  async get(index: number): Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new NetAugError('INVALID_ARGUMENT', `Index ${index} out of range [0, ${this.size})`);
    }
    const s = await this.base.get(this.indices[index]);
    return { ...s, label: this.labels[index] };
  }
  workerSpec(): DatasetSpec | undefined {
    // workers rebuild views by index; the relabelling happens here, in the loader's thread
    return undefined;
  }
}
