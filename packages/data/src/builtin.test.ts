import { existsSync } from 'node:fs';
import { isNetAugError } from '@netaug/core';
import {
  EMBEDDED_FASHION_MNIST_DIR,
  SYSTEM_FASHION_MNIST_DIR,
  builtinCandidates,
  loadBuiltin,
  FASHION_MNIST_CLASSES,
} from './builtin';

const hasSystem = existsSync(`${SYSTEM_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

function counts(labels: Int32Array, k: number): number[] {
  const c = new Array(k).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe('loadBuiltin', () => {
  it('loads the embedded Fashion-MNIST subset: 10,000 / 2,000, balanced, 28×28×1', async () => {
    const train = await loadBuiltin('fashion-mnist', { split: 'train', dataDir: EMBEDDED_FASHION_MNIST_DIR });
    const test = await loadBuiltin('fashion-mnist', { split: 'test', dataDir: EMBEDDED_FASHION_MNIST_DIR });
    expect(train.size).toBe(10000);
    expect(test.size).toBe(2000);
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(counts(train.labels, 10)).toEqual(new Array(10).fill(1000));
    expect(counts(test.labels, 10)).toEqual(new Array(10).fill(200));
    expect(train.sourceKind).toBe('dataDir');
    const s = train.get(0);
    expect(s.image.length).toBe(784);
    expect(Math.max(...s.image)).toBeLessThanOrEqual(1);
    expect(Math.max(...s.image)).toBeGreaterThan(0.5);
  });

  it('looks in dataDir, $NETAUG_DATA, the Debian folder, then the embedded subset', () => {
    const old = process.env.NETAUG_DATA;
    process.env.NETAUG_DATA = '/env-dir';
    try {
      expect(builtinCandidates('fashion-mnist', { dataDir: '/my-dir' })).toEqual([
        { kind: 'dataDir', dir: '/my-dir' },
        { kind: 'env', dir: '/env-dir' },
        { kind: 'system', dir: SYSTEM_FASHION_MNIST_DIR },
        { kind: 'embedded', dir: EMBEDDED_FASHION_MNIST_DIR },
      ]);
      expect(builtinCandidates('mnist').map((c) => c.kind)).toEqual(['env', 'system']);
    } finally {
      if (old === undefined) delete process.env.NETAUG_DATA;
      else process.env.NETAUG_DATA = old;
    }
  });

  it('falls back to the embedded subset when nothing else is found', async () => {
    const old = process.env.NETAUG_DATA;
    process.env.NETAUG_DATA = '/nonexistent-netaug';
    try {
      const ds = await loadBuiltin('fashion-mnist', { split: 'test', dataDir: '/nonexistent-too' });
      expect(ds.sourceKind).toBe(hasSystem ? 'system' : 'embedded');
      expect(ds.size).toBe(hasSystem ? 10000 : 2000);
    } finally {
      if (old === undefined) delete process.env.NETAUG_DATA;
      else process.env.NETAUG_DATA = old;
    }
  });

  (hasSystem ? it : it.skip)(
    'reads the full Debian dataset when given its folder (60,000 train)',
    async () => {
      const ds = await loadBuiltin('fashion-mnist', { split: 'train', dataDir: SYSTEM_FASHION_MNIST_DIR });
      expect(ds.size).toBe(60000);
      expect(ds.sourceKind).toBe('dataDir');
      expect(ds.sourceDir).toBe(SYSTEM_FASHION_MNIST_DIR);
      expect(counts(ds.labels, 10)).toEqual(new Array(10).fill(6000));
    },
  );

  it('mnist without files is DATA_NOT_FOUND with a hint', async () => {
    const old = process.env.NETAUG_DATA;
    delete process.env.NETAUG_DATA;
    try {
      await loadBuiltin('mnist', { dataDir: '/nonexistent-netaug' });
      throw new Error('expected failure');
    } catch (e) {
      if (existsSync('/usr/share/datasets/mnist')) return;
      expect(isNetAugError(e) && e.code).toBe('DATA_NOT_FOUND');
    } finally {
      if (old !== undefined) process.env.NETAUG_DATA = old;
    }
  });
});

describe('assets path from the built package', () => {
  const dist = require('node:path').join(__dirname, '..', 'dist', 'index.js');
  (existsSync(dist) ? it : it.skip)('dist resolves the embedded subset relative to the package', () => {
    const built = require(dist) as { EMBEDDED_FASHION_MNIST_DIR: string };
    expect(built.EMBEDDED_FASHION_MNIST_DIR).toBe(EMBEDDED_FASHION_MNIST_DIR);
    expect(existsSync(`${built.EMBEDDED_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`)).toBe(true);
  });
});
