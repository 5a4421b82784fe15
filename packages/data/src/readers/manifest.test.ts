import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, parseManifest } from './manifest';
import { writeImage } from './test-images';

describe('manifest reader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netaug-man-'));
    mkdirSync(join(dir, 'imgs'));
    for (let i = 0; i < 4; i++) await writeImage(join(dir, 'imgs', `${i}.png`), 10 + i, 12, i, 'png');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('CSV with header: relative paths resolve against the manifest folder; labels sorted', async () => {
    const f = join(dir, 'm.csv');
    writeFileSync(
      f,
      'path,label\nimgs/0.png,dog\nimgs/1.png,cat\n"imgs/2.png",dog\n' +
        `${join(dir, 'imgs', '3.png')},bird\n`,
    );
    const ds = await loadManifest(f, { size: 6, cacheDir: false });
    expect(ds.classNames).toEqual(['bird', 'cat', 'dog']);
    expect(Array.from(ds.labels)).toEqual([2, 1, 2, 0]);
    expect(ds.format).toBe('manifest');
    expect((await ds.get(0)).image.length).toBe(6 * 6 * 3);
  });

  it('JSON manifest with integer labels keeps them as indices', async () => {
    const f = join(dir, 'm.json');
    writeFileSync(
      f,
      JSON.stringify([
        { path: 'imgs/0.png', label: 2 },
        { path: 'imgs/1.png', label: 0 },
      ]),
    );
    const ds = await loadManifest(f, { size: 6, cacheDir: false });
    expect(ds.classNames).toEqual(['0', '1', '2']);
    expect(Array.from(ds.labels)).toEqual([2, 0]);
  });

  it('a missing path → DATA_NOT_FOUND naming the line and file', async () => {
    const f = join(dir, 'missing.csv');
    writeFileSync(f, 'imgs/0.png,a\nimgs/nope.png,b\n');
    await expect(loadManifest(f, { size: 6, cacheDir: false })).rejects.toMatchObject({
      code: 'DATA_NOT_FOUND',
      message: expect.stringMatching(/line 2.*imgs\/nope\.png/),
    });
  });

  it('a malformed row → DATA_FORMAT', () => {
    expect(() => parseManifest('a.png\n', 'x.csv')).toThrow(expect.objectContaining({ code: 'DATA_FORMAT' }));
  });
});
