import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_FASHION_MNIST_DIR } from './builtin';
import { detectFormat, inspectDataset } from './inspect';
import { makeImageFolder } from './readers/test-images';

describe('inspectDataset', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'netaug-insp-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('describes an IDX folder (the embedded Fashion-MNIST subset)', async () => {
    expect(detectFormat(EMBEDDED_FASHION_MNIST_DIR)).toBe('idx');
    const info = await inspectDataset(EMBEDDED_FASHION_MNIST_DIR);
    expect(info.format).toBe('idx');
    expect(info.splits.train).toEqual({ count: 10000, perClass: new Array(10).fill(1000) });
    expect(info.splits.test?.count).toBe(2000);
    expect(info.shape).toEqual([28, 28, 1]);
    expect(info.numClasses).toBe(10);
    expect(info.mean[0]).toBeGreaterThan(0.25); // Fashion-MNIST mean ≈ 0.286, std ≈ 0.353
    expect(info.mean[0]).toBeLessThan(0.32);
    expect(info.std[0]).toBeGreaterThan(0.32);
    expect(info.std[0]).toBeLessThan(0.38);
  });

  it('describes a built-in by name with its source', async () => {
    const info = await inspectDataset('fashion-mnist', { dataDir: EMBEDDED_FASHION_MNIST_DIR });
    expect(info.format).toBe('builtin');
    expect(info.source).toContain('dataDir');
    expect(info.classNames[9]).toBe('Ankle boot');
  });

  it('describes an ImageFolder with train/val splits and a CSV manifest', async () => {
    await makeImageFolder(join(dir, 'f', 'train'), ['x', 'y'], 3);
    await makeImageFolder(join(dir, 'f', 'val'), ['x', 'y'], 1);
    expect(detectFormat(join(dir, 'f'))).toBe('image-folder');
    const info = await inspectDataset(join(dir, 'f'), { cacheDir: false });
    expect(info.splits.train).toEqual({ count: 6, perClass: [3, 3] });
    expect(info.splits.test).toEqual({ count: 2, perClass: [1, 1] });
    expect(info.classNames).toEqual(['x', 'y']);
    expect(info.shape[2]).toBe(3);
    expect(info.mean.length).toBe(3);
    const m = join(dir, 'f', 'm.csv');
    writeFileSync(m, 'train/x/img0.jpg,x\ntrain/y/img1.png,y\n');
    expect(detectFormat(m)).toBe('manifest');
    const mi = await inspectDataset(m, { size: 8, cacheDir: false });
    expect(mi).toMatchObject({ format: 'manifest', numClasses: 2, shape: [8, 8, 3] });
  });
});
