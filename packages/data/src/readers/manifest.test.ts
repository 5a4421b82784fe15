import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetAugError } from '@netaug/core';
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

  /** The error `p` rejects with (fails the test when `p` resolves). */
  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: NetAugError) => e,
    );
  const opts = { size: 6, cacheDir: false as const };
  /** Writes `text` to `name` in the test folder and returns its path. */
  const manifest = (name: string, text: string | object) => {
    const f = join(dir, name);
    writeFileSync(f, typeof text === 'string' ? text : JSON.stringify(text));
    return f;
  };

  describe('class list', () => {
    it('JSON "classes" fixes names and order; labels are names or indices into it', async () => {
      const f = manifest('classes.json', {
        classes: ['cat', 'dog', 'bird'],
        items: [
          { path: 'imgs/0.png', label: 'bird' },
          { path: 'imgs/1.png', label: 0 },
          { path: 'imgs/2.png', label: '1' },
          { path: 'imgs/3.png', label: 'cat' },
        ],
      });
      const ds = await loadManifest(f, opts);
      expect(ds.classNames).toEqual(['cat', 'dog', 'bird']);
      expect(Array.from(ds.labels)).toEqual([2, 0, 1, 0]);
    });

    it('a label not in the JSON class list → DATA_FORMAT naming the item, the label and the known classes', async () => {
      const f = manifest('unknown.json', {
        classes: ['cat', 'dog'],
        items: [
          { path: 'imgs/0.png', label: 'cat' },
          { path: 'imgs/1.png', label: 'cow' },
          { path: 'imgs/2.png', label: 'dog' },
        ],
      });
      const e = await rejection(loadManifest(f, opts));
      expect(e).toBeInstanceOf(NetAugError);
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toContain(`${f} item 1: label 'cow' is not in the class list (2 classes: cat, dog)`);
      const big = Array.from({ length: 15 }, (_, i) => `c${i}`);
      const g = manifest('unknown-big.json', {
        classes: big,
        items: [
          { path: 'imgs/0.png', label: 'c0' },
          { path: 'imgs/1.png', label: 15 },
        ],
      });
      const e2 = await rejection(loadManifest(g, opts));
      expect(e2.code).toBe('DATA_FORMAT');
      expect(e2.message).toContain(
        `item 1: label '15' is not in the class list (15 classes: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, … (5 more))`,
      );
    });

    it('the classes option does the same for CSV', async () => {
      const f = manifest('classes.csv', 'imgs/0.png,dog\nimgs/1.png,cat\nimgs/2.png,1\nimgs/3.png,0\n');
      const ds = await loadManifest(f, { ...opts, classes: ['dog', 'cat'] });
      expect(ds.classNames).toEqual(['dog', 'cat']);
      expect(Array.from(ds.labels)).toEqual([0, 1, 1, 0]);
      const e = await rejection(loadManifest(f, { ...opts, classes: ['dog', 'bird'] }));
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toContain(`${f} line 2: label 'cat' is not in the class list (2 classes: dog, bird)`);
    });

    it('a bad class list → INVALID_ARGUMENT (option) or DATA_FORMAT (JSON); option and JSON list must agree', async () => {
      const f = manifest('classes2.csv', 'imgs/0.png,dog\nimgs/1.png,cat\n');
      const e = await rejection(loadManifest(f, { ...opts, classes: ['dog', 'cat', 'dog'] }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain("classes option: class 'dog' appears twice in the class list");
      const g = manifest('classes2.json', {
        classes: ['cat', 'dog'],
        items: [
          { path: 'imgs/0.png', label: 'dog' },
          { path: 'imgs/1.png', label: 'cat' },
        ],
      });
      const e2 = await rejection(loadManifest(g, { ...opts, classes: ['dog', 'cat'] }));
      expect(e2.code).toBe('INVALID_ARGUMENT');
      expect(e2.message).toContain(
        `the classes option (dog, cat) differs from the "classes" of ${g} (cat, dog)`,
      );
      const h = manifest('classes3.json', { classes: ['cat', 7], items: [] });
      const e3 = await rejection(loadManifest(h, opts));
      expect(e3.code).toBe('DATA_FORMAT');
      expect(e3.message).toContain(
        `${h}: "classes": the class list must be a non-empty array of non-empty strings`,
      );
    });
  });

  describe('numeric labels', () => {
    it('a -1 or 1.5 among integer labels → DATA_FORMAT naming the row (not a silent switch to text classes)', async () => {
      const lines = Array.from({ length: 4 }, (_, i) => `imgs/${i}.png,${[0, 1, -1, 2][i]}`);
      const f = manifest('neg.csv', `path,label\n${lines.join('\n')}\n`);
      const e = await rejection(loadManifest(f, opts));
      expect(e).toBeInstanceOf(NetAugError);
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toContain(`${f}: labels look numeric but line 4 has '-1'`);
      expect(e.hint).toContain('classes option');
      const g = manifest('frac.json', [
        { path: 'imgs/0.png', label: 0 },
        { path: 'imgs/1.png', label: 1.5 },
        { path: 'imgs/2.png', label: 2 },
      ]);
      const e2 = await rejection(loadManifest(g, opts));
      expect(e2.code).toBe('DATA_FORMAT');
      expect(e2.message).toContain(`${g}: labels look numeric but item 1 has '1.5'`);
      expect(e2.hint).toContain('"classes"');
    });

    it('labels that are all decimals (no integer) stay text classes', async () => {
      const f = manifest('dec.csv', 'imgs/0.png,0.5\nimgs/1.png,1.5\nimgs/2.png,0.5\n');
      const ds = await loadManifest(f, opts);
      expect(ds.classNames).toEqual(['0.5', '1.5']);
      expect(Array.from(ds.labels)).toEqual([0, 1, 0]);
    });
  });

  describe('CSV header', () => {
    it("a first line that looks like a header without 'path' and 'label' → DATA_FORMAT listing its columns", async () => {
      const f = manifest('hdr-num.csv', 'file,class\nimgs/0.png,0\nimgs/1.png,1\n');
      const e = await rejection(loadManifest(f, opts));
      expect(e).toBeInstanceOf(NetAugError);
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toContain(
        `${f}: line 1 looks like a header but has no 'path' and 'label' columns (found: file, class)`,
      );
      expect(e.hint).toContain('name the columns path,label');
      const g = manifest('hdr-text.csv', 'image,category\nimgs/0.png,cat\nimgs/1.png,dog\n');
      const e2 = await rejection(loadManifest(g, opts));
      expect(e2.code).toBe('DATA_FORMAT');
      expect(e2.message).toContain(
        "line 1 looks like a header but has no 'path' and 'label' columns (found: image, category)",
      );
      const h = manifest('hdr-classes.csv', '# list\nfile,class\nimgs/0.png,cat\nimgs/1.png,dog\n');
      const e3 = await rejection(loadManifest(h, { ...opts, classes: ['cat', 'dog'] }));
      expect(e3.message).toContain(
        "line 2 looks like a header but has no 'path' and 'label' columns (found: file, class)",
      );
    });

    it('a path,label header in any order and case, and headerless files, still work', async () => {
      const f = manifest('hdr-order.csv', 'Label,extra,PATH\n1,x,imgs/0.png\n0,y,imgs/1.png\n');
      const ds = await loadManifest(f, opts);
      expect(Array.from(ds.labels)).toEqual([1, 0]);
      expect(ds.paths).toEqual([join(dir, 'imgs', '0.png'), join(dir, 'imgs', '1.png')]);
      const g = manifest('no-hdr.csv', 'imgs/0.png,1\nimgs/1.png,0\nimgs/2.png,1\n');
      expect(Array.from((await loadManifest(g, opts)).labels)).toEqual([1, 0, 1]);
    });
  });

  describe('duplicates', () => {
    it('the same image listed twice with one label: kept, with one warning naming the count and the first', async () => {
      const f = manifest(
        'dup.csv',
        'imgs/0.png,cat\nimgs/1.png,dog\n./imgs/0.png,cat\nimgs/2.png,dog\nimgs/1.png,dog\n',
      );
      const warnings: string[] = [];
      const ds = await loadManifest(f, { ...opts, warn: (m) => warnings.push(m) });
      expect(ds.size).toBe(5);
      expect(warnings).toEqual([
        `${f}: 2 duplicate rows list an image already listed, first: line 3 repeats line 1 (${join(dir, 'imgs', '0.png')}); each copy counts as a separate example`,
      ]);
    });

    it('the same image with two labels → DATA_FORMAT naming both rows', async () => {
      const f = manifest('dup-conflict.json', [
        { path: 'imgs/0.png', label: 'cat' },
        { path: 'imgs/1.png', label: 'dog' },
        { path: join(dir, 'imgs', '0.png'), label: 'dog' },
      ]);
      const e = await rejection(loadManifest(f, opts));
      expect(e).toBeInstanceOf(NetAugError);
      expect(e.code).toBe('DATA_FORMAT');
      expect(e.message).toContain(
        `${f}: ${join(dir, 'imgs', '0.png')} is listed with two labels: item 0 ('cat') and item 2 ('dog')`,
      );
    });
  });

  it('labels of a single class → DATA_FORMAT "only one class"', async () => {
    const f = manifest('one.csv', 'imgs/0.png,cat\nimgs/1.png,cat\n');
    const e = await rejection(loadManifest(f, opts));
    expect(e).toBeInstanceOf(NetAugError);
    expect(e.code).toBe('DATA_FORMAT');
    expect(e.message).toContain(`only one class ('cat') found in ${f}: classification needs at least 2`);
    const g = manifest('one.json', [
      { path: 'imgs/0.png', label: 0 },
      { path: 'imgs/1.png', label: 0 },
    ]);
    const e2 = await rejection(loadManifest(g, opts));
    expect(e2.code).toBe('DATA_FORMAT');
    expect(e2.message).toContain(`only one class ('0') found in ${g}: classification needs at least 2`);
  });

  it('a row pointing at a dangling symbolic link or a link loop → an error naming the row and the link', async () => {
    const link = join(dir, 'imgs', 'gone.png');
    const target = join(dir, 'imgs', 'deleted.png');
    symlinkSync(target, link);
    const loop = join(dir, 'imgs', 'loop.png');
    symlinkSync(loop, loop);
    const f = manifest('links.csv', 'imgs/0.png,a\nimgs/gone.png,b\n');
    const e = await rejection(loadManifest(f, { ...opts, skipCorrupt: true }));
    expect(e).toBeInstanceOf(NetAugError);
    expect(e.code).toBe('DATA_NOT_FOUND');
    expect(e.message).toContain(`${f} line 2: dangling symbolic link ${link} → ${target}`);
    const g = manifest('loop.csv', 'imgs/0.png,a\nimgs/loop.png,b\n');
    const e2 = await rejection(loadManifest(g, opts));
    expect(e2.code).toBe('DATA_FORMAT');
    expect(e2.message).toContain(`${g} line 2: symbolic link loop at ${loop}`);
  });
});
