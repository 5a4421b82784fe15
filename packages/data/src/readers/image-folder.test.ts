import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';
import { loadImageFolder } from './image-folder';
import { makeImageFolder } from './test-images';

describe('ImageFolder reader', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'netaug-if-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads 3 classes of mixed JPEG/PNG sizes to one shape, sorted class names, right labels', async () => {
    const root = join(dir, 'ok');
    await makeImageFolder(root, ['zebra', 'ant', 'moth'], 4);
    const ds = await loadImageFolder(root, { size: [12, 10], cacheDir: false });
    expect(ds.classNames).toEqual(['ant', 'moth', 'zebra']);
    expect(ds.size).toBe(12);
    expect(ds.shape).toEqual([12, 10, 3]);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(ds.paths[8]).toContain(join('zebra', 'img0.jpg'));
    const s = await ds.get(9);
    expect(s.label).toBe(2);
    expect(s.image.length).toBe(12 * 10 * 3);
    expect(Math.min(...s.image)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...s.image)).toBeLessThanOrEqual(1);
    const gray = await loadImageFolder(root, { size: 8, channels: 1, cacheDir: false });
    expect(gray.shape).toEqual([8, 8, 1]);
    expect((await gray.get(0)).image.length).toBe(64);
  });

  it('hits the disk cache on the second read (decoded once), with identical pixels', async () => {
    const root = join(dir, 'ok');
    const cacheDir = join(dir, 'cache');
    const a = await loadImageFolder(root, { size: 16, cacheDir });
    const first = await Promise.all(Array.from({ length: a.size }, (_, i) => a.get(i)));
    expect(a.stats).toMatchObject({ decoded: 12, cacheHits: 0 });
    const again = await a.get(3);
    expect(a.stats).toMatchObject({ decoded: 12, cacheHits: 1 });
    expect(Array.from(again.image)).toEqual(Array.from(first[3].image));
    const b = await loadImageFolder(root, { size: 16, cacheDir }); // a new process would see the same
    await Promise.all(Array.from({ length: b.size }, (_, i) => b.get(i)));
    expect(b.stats).toMatchObject({ decoded: 0, cacheHits: 12 });
    const c = await loadImageFolder(root, { size: 20, cacheDir }); // another size misses
    await c.get(0);
    expect(c.stats).toMatchObject({ decoded: 1, cacheHits: 0 });
  });

  it('an empty class folder → DATA_NOT_FOUND naming it', async () => {
    const root = join(dir, 'empty');
    await makeImageFolder(root, ['a'], 1);
    mkdirSync(join(root, 'b'));
    const e = await loadImageFolder(root, { size: 8, cacheDir: false }).then(
      () => null,
      (x) => x,
    );
    expect(e).toBeInstanceOf(NetAugError);
    expect(e.code).toBe('DATA_NOT_FOUND');
    expect(e.message).toContain(join(root, 'b'));
  });

  it('a non-image file or garbage JPEG → DATA_FORMAT naming it; skipCorrupt skips and counts', async () => {
    const root = join(dir, 'bad');
    await makeImageFolder(root, ['a', 'b'], 2);
    writeFileSync(join(root, 'a', 'notes.txt'), 'hello');
    writeFileSync(join(root, 'b', 'garbage.jpg'), 'this is not a jpeg');
    const e = await loadImageFolder(root, { size: 8, cacheDir: false }).then(
      () => null,
      (x) => x,
    );
    expect(e?.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(join(root, 'a', 'notes.txt'));
    rmSync(join(root, 'a', 'notes.txt'));
    const e2 = await loadImageFolder(root, { size: 8, cacheDir: false }).then(
      () => null,
      (x) => x,
    );
    expect(e2?.code).toBe('DATA_FORMAT');
    expect(e2.message).toContain(join(root, 'b', 'garbage.jpg'));
    writeFileSync(join(root, 'a', 'notes.txt'), 'hello');
    const warnings: string[] = [];
    const ds = await loadImageFolder(root, {
      size: 8,
      cacheDir: false,
      skipCorrupt: true,
      warn: (m) => warnings.push(m),
    });
    expect(ds.size).toBe(4);
    expect(ds.stats.skipped).toBe(2);
    expect(ds.skippedFiles.map((s) => s.file).sort()).toEqual([
      join(root, 'a', 'notes.txt'),
      join(root, 'b', 'garbage.jpg'),
    ]);
    expect(warnings.length).toBe(2);
  });

  it('a corrupt JPEG found only at decode time (validate: false) → DATA_FORMAT naming it, or skipped with skipCorrupt', async () => {
    const root = join(dir, 'trunc');
    await makeImageFolder(root, ['a', 'b'], 3);
    const f = join(root, 'a', 'img2.jpg');
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const ds = await loadImageFolder(root, { size: 8, cacheDir: false, validate: false });
    const idx = ds.paths.indexOf(f);
    await expect(ds.get(idx)).rejects.toMatchObject({
      code: 'DATA_FORMAT',
      message: expect.stringContaining(f),
    });
    const skip = await loadImageFolder(root, {
      size: 8,
      cacheDir: false,
      validate: false,
      skipCorrupt: true,
      warn: () => undefined,
    });
    const s = await skip.get(idx);
    expect(s.label).toBe(skip.labels[idx + 1]); // the next readable example
    expect(s.image).toEqual((await skip.get(idx + 1)).image);
    expect(skip.stats.skipped).toBe(1);
  });

  /** The rejection of `p` (fails the test when `p` resolves). */
  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: NetAugError) => e,
    );

  it('a single class folder → DATA_FORMAT "only one class" naming the class and the folder', async () => {
    const root = join(dir, 'one');
    await makeImageFolder(root, ['cat'], 2);
    const e = await rejection(loadImageFolder(root, { size: 8, cacheDir: false }));
    expect(e).toBeInstanceOf(NetAugError);
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(`only one class ('cat') found in ${root}: classification needs at least 2`);
    expect(e.hint).toContain('one sub-folder per class');
  });

  it('one class left after skipCorrupt → DATA_FORMAT "only one class" saying files were skipped', async () => {
    const root = join(dir, 'one-left');
    await makeImageFolder(root, ['a'], 2);
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', 'x.jpg'), 'not a jpeg');
    const e = await rejection(
      loadImageFolder(root, { size: 8, cacheDir: false, skipCorrupt: true, warn: () => undefined }),
    );
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(
      `only one class ('a') found in ${root} after skipping 1 unreadable file: classification needs at least 2`,
    );
  });

  it('dangling symbolic links and link loops → typed errors naming them; skipCorrupt skips and counts them', async () => {
    const root = join(dir, 'links');
    await makeImageFolder(root, ['a', 'b'], 2);
    symlinkSync(join(root, 'a', 'img0.jpg'), join(root, 'a', 'good.jpg')); // a working link is an image
    const dangling = join(root, 'a', 'dangling.jpg');
    const target = join(root, 'nowhere.jpg');
    symlinkSync(target, dangling);
    const e = await rejection(loadImageFolder(root, { size: 8, cacheDir: false }));
    expect(e).toBeInstanceOf(NetAugError);
    expect(e.code).toBe('DATA_NOT_FOUND');
    expect(e.message).toContain(`dangling symbolic link ${dangling} → ${target}`);
    expect(e.hint).toContain('skipCorrupt');

    rmSync(dangling);
    const loop = join(root, 'b', 'loop.png');
    symlinkSync(loop, loop);
    const e2 = await rejection(loadImageFolder(root, { size: 8, cacheDir: false }));
    expect(e2).toBeInstanceOf(NetAugError);
    expect(e2.code).toBe('DATA_FORMAT');
    expect(e2.message).toContain(`symbolic link loop at ${loop}`);

    symlinkSync(target, dangling);
    const warnings: string[] = [];
    const ds = await loadImageFolder(root, {
      size: 8,
      cacheDir: false,
      skipCorrupt: true,
      warn: (m) => warnings.push(m),
    });
    expect(ds.size).toBe(5);
    expect(ds.paths).toContain(join(root, 'a', 'good.jpg'));
    expect(ds.stats.skipped).toBe(2);
    expect(ds.skippedFiles).toEqual([
      { file: dangling, reason: `dangling symbolic link → ${target}` },
      { file: loop, reason: 'symbolic link loop' },
    ]);
    expect(warnings).toEqual([
      `skipping unreadable image ${dangling}: dangling symbolic link → ${target}`,
      `skipping unreadable image ${loop}: symbolic link loop`,
    ]);
  });

  it('no readable image left after skipCorrupt → a one-line DATA_FORMAT error naming the folder', async () => {
    const root = join(dir, 'none-readable');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'a', 'x.txt'), 'text');
    writeFileSync(join(root, 'b', 'y.jpg'), 'not a jpeg');
    const e = await rejection(
      loadImageFolder(root, { size: 8, cacheDir: false, skipCorrupt: true, warn: () => undefined }),
    );
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(`no readable images in ${root}: every file (2) was skipped as unreadable`);
    expect(e.message).not.toContain('\n');
  });
});
