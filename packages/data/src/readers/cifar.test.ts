import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR10_CLASSES, loadCifar, readCifarFiles } from './cifar';

/** Pixel of record r, channel ch, row y, column x — an injective-enough known pattern. */
const pix = (r: number, ch: number, y: number, x: number) => (r * 7 + ch * 50 + y * 3 + x) % 256;

function record(r: number, labels: number[]): Buffer {
  const b = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, i) => (b[i] = l));
  for (let ch = 0; ch < 3; ch++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) b[labels.length + ch * 1024 + y * 32 + x] = pix(r, ch, y, x);
  return b;
}

describe('CIFAR binary reader', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'netaug-cifar-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads 20 CIFAR-10 records back exactly (CHW planes → HWC)', async () => {
    const f = join(dir, 'test_batch.bin');
    writeFileSync(f, Buffer.concat(Array.from({ length: 20 }, (_, r) => record(r, [r % 10]))));
    const ds = await readCifarFiles([f]);
    expect(ds.size).toBe(20);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.classNames).toEqual(CIFAR10_CLASSES);
    for (const r of [0, 7, 19]) {
      const s = ds.get(r);
      expect(s.label).toBe(r % 10);
      for (const [y, x] of [
        [0, 0],
        [5, 17],
        [31, 31],
      ]) {
        for (let ch = 0; ch < 3; ch++)
          expect(s.image[(y * 32 + x) * 3 + ch]).toBeCloseTo(pix(r, ch, y, x) / 255, 7);
      }
    }
    expect(Array.from(ds.labels)).toEqual(Array.from({ length: 20 }, (_, r) => r % 10));
    const folder = await loadCifar(dir, { split: 'test' });
    expect(folder.format).toBe('cifar10');
    expect(folder.size).toBe(20);
  });

  it('reads CIFAR-100 fine and coarse labels', async () => {
    const d = join(dir, 'c100');
    mkdirSync(d);
    writeFileSync(join(d, 'train.bin'), Buffer.concat([record(0, [3, 42]), record(1, [19, 99])]));
    const fine = await loadCifar(d, { split: 'train' });
    const coarse = await loadCifar(d, { split: 'train', labelKind: 'coarse' });
    expect(fine.format).toBe('cifar100');
    expect(Array.from(fine.labels)).toEqual([42, 99]);
    expect(Array.from(coarse.labels)).toEqual([3, 19]);
    expect(fine.classNames.length).toBe(100);
    expect(coarse.classNames.length).toBe(20);
  });

  it('a file that is not whole records → DATA_FORMAT naming it', async () => {
    const f = join(dir, 'broken.bin');
    writeFileSync(f, Buffer.alloc(3073 * 2 + 5));
    await expect(readCifarFiles([f])).rejects.toMatchObject({
      code: 'DATA_FORMAT',
      message: expect.stringContaining(f),
    });
  });
});
