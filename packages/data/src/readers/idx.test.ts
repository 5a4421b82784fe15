import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NetAugError } from '@netaug/core';
import { loadIdx, readIdxFile } from './idx';

function idx(dims: number[], data: number[] | Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 0x08;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}

async function expectFormatError(p: Promise<unknown>, file: string) {
  const e = await p.then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(NetAugError);
  expect(e.code).toBe('DATA_FORMAT');
  expect(e.message).toContain(file);
}

describe('IDX reader', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'netaug-idx-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads raw and gzip files alike (detected by magic)', async () => {
    const px = Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20);
    writeFileSync(join(dir, 'img'), idx([2, 2, 3], px));
    writeFileSync(join(dir, 'img.gz'), gzipSync(idx([2, 2, 3], px)));
    writeFileSync(join(dir, 'lab.gz'), gzipSync(idx([2], [1, 0])));
    const raw = await readIdxFile(join(dir, 'img'));
    const gz = await readIdxFile(join(dir, 'img.gz'));
    expect(raw.dims).toEqual([2, 2, 3]);
    expect(Array.from(gz.data)).toEqual(px);
    const ds = await loadIdx(join(dir, 'img.gz'), join(dir, 'lab.gz'));
    expect(ds.size).toBe(2);
    expect(ds.shape).toEqual([2, 3, 1]);
    expect(ds.get(1).label).toBe(0);
    expect(Array.from(ds.get(1).image)).toEqual(px.slice(6).map((v) => Math.fround(v / 255)));
  });

  it('wrong magic → DATA_FORMAT naming the file', async () => {
    const f = join(dir, 'bad-magic');
    writeFileSync(f, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await expectFormatError(readIdxFile(f), f);
  });

  it('truncated data (raw and gzip) → DATA_FORMAT naming the file', async () => {
    const f = join(dir, 'trunc');
    writeFileSync(f, idx([10, 28, 28], new Uint8Array(100)));
    await expectFormatError(readIdxFile(f), f);
    const g = join(dir, 'trunc.gz');
    writeFileSync(g, gzipSync(idx([10, 4, 4], new Uint8Array(160))).subarray(0, 30));
    await expectFormatError(readIdxFile(g), g);
  });

  it('label/image count mismatch → DATA_FORMAT naming both files', async () => {
    const im = join(dir, 'im3');
    const lb = join(dir, 'lb2');
    writeFileSync(im, idx([3, 2, 2], new Uint8Array(12)));
    writeFileSync(lb, idx([2], [0, 1]));
    const e = await loadIdx(im, lb).then(
      () => null,
      (x) => x,
    );
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(im);
    expect(e.message).toContain(lb);
  });

  it('missing file → DATA_NOT_FOUND', async () => {
    await expect(readIdxFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'DATA_NOT_FOUND' });
  });
});
