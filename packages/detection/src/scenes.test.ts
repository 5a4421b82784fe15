import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetAugError } from '@netaug/core';
import { EMBEDDED_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, loadBuiltin } from '@netaug/data';
import { intersectionArea, iou } from './boxes';
import { describeDetectionDataset, formatDetectionSummary } from './describe';
import { encodePng } from './png';
import { loadCoco } from './readers/coco';
import {
  EMBEDDED_SCENES_DIR,
  EMBEDDED_SCENES_OPTIONS,
  generateScenes,
  loadEmbeddedScenes,
  renderScenes,
  writeScenes,
  type Scene,
  type SceneItems,
} from './scenes';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-scenes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let train: SceneItems;
let test: SceneItems;
beforeAll(async () => {
  const [a, b] = await Promise.all(
    (['train', 'test'] as const).map((split) =>
      loadBuiltin('fashion-mnist', { split, dataDir: EMBEDDED_FASHION_MNIST_DIR }),
    ),
  );
  train = { pixels: a.pixels, labels: a.labels, shape: a.shape, classNames: a.classNames };
  test = { pixels: b.pixels, labels: b.labels, shape: b.shape, classNames: b.classNames };
});

/** Scenes compared field by field, pixels as bytes (jest's deep equality of large typed arrays is slow). */
function expectSameScenes(a: Scene[], b: Scene[]) {
  expect(a.map(({ pixels: _, ...rest }) => rest)).toEqual(b.map(({ pixels: _, ...rest }) => rest));
  a.forEach((s, i) =>
    expect([s.index, Buffer.from(s.pixels).equals(Buffer.from(b[i].pixels))]).toEqual([s.index, true]),
  );
}

/** The boxes as COCO stores them (no generator-only fields). */
const cocoBoxes = (boxes: { x: number; y: number; w: number; h: number; label: number; area: number }[]) =>
  boxes.map(({ x, y, w, h, label, area }) => ({ x, y, w, h, label, area }));

describe('generateScenes', () => {
  it('same seed → same pixels, boxes and PNG bytes; another seed → other scenes; scene k does not depend on start', () => {
    const a = renderScenes(train, { split: 'train', count: 3, seed: 1 });
    const b = renderScenes(train, { split: 'train', count: 3, seed: 1 });
    expectSameScenes(b.scenes, a.scenes);
    const bytes = (s: (typeof a.scenes)[number]) => encodePng(s.pixels, s.width, s.height, s.channels);
    expect(bytes(b.scenes[2]).equals(bytes(a.scenes[2]))).toBe(true);
    const c = renderScenes(train, { split: 'train', count: 3, seed: 2 });
    expect(c.scenes[0].pixels).not.toEqual(a.scenes[0].pixels);
    const later = renderScenes(train, { split: 'train', count: 2, seed: 1, start: 1 });
    expectSameScenes(later.scenes, a.scenes.slice(1));
    // the split is part of the stream: the same seed gives other test scenes
    expect(renderScenes(test, { split: 'test', count: 1, seed: 1 }).scenes[0].pixels).not.toEqual(
      a.scenes[0].pixels,
    );
  });

  it('the embedded copy is what the generator gives: boxes and pixels of regenerated scenes', async () => {
    for (const split of ['train', 'test'] as const) {
      const o = EMBEDDED_SCENES_OPTIONS[split];
      const ds = await loadEmbeddedScenes(split);
      expect(ds.size).toBe(o.count);
      expect(ds.classNames).toEqual(FASHION_MNIST_CLASSES);
      for (const start of [0, o.count - 2]) {
        const regen = await generateScenes({ ...o, start, count: 2 });
        for (const s of regen.scenes) {
          expect([split, s.index, ds.annotation(s.index).boxes]).toEqual([
            split,
            s.index,
            cocoBoxes(s.boxes),
          ]);
          const px = Buffer.from((await ds.get(s.index)).image.map((v) => Math.round(v * 255)));
          expect([split, s.index, px.equals(Buffer.from(s.pixels))]).toEqual([split, s.index, true]);
          const file = join(EMBEDDED_SCENES_DIR, split, s.fileName);
          expect(readFileSync(file).equals(encodePng(s.pixels, s.width, s.height, s.channels))).toBe(true);
        }
      }
    }
  });

  it('train scenes paste training images only, test scenes test images only', async () => {
    const gen = await generateScenes(EMBEDDED_SCENES_OPTIONS.test);
    // the same scenes as from the test items given explicitly (with training items they would differ)
    expectSameScenes(renderScenes(test, EMBEDDED_SCENES_OPTIONS.test).scenes, gen.scenes);
    expect(gen.itemSource).toBe('embedded subset of @netaug/data');
    for (const s of gen.scenes) {
      for (const b of s.boxes) {
        expect(b.item).toBeLessThan(test.labels.length);
        expect(b.label).toBe(test.labels[b.item]);
      }
    }
    const tr = renderScenes(train, { ...EMBEDDED_SCENES_OPTIONS.train, count: 40 });
    const items = tr.scenes.flatMap((s) => s.boxes.map((b) => b.item));
    expect(Math.max(...items)).toBeGreaterThanOrEqual(test.labels.length); // indices only the training split has
    for (const s of tr.scenes) for (const b of s.boxes) expect(b.label).toBe(train.labels[b.item]);
  });

  it('boxes are the tight bounds of the item pixels (hand-computed with a synthetic item)', () => {
    // one 28×28 item: a block of 255 on rows 7…20, columns 4…23 (14 × 20), class 3
    const pixels = new Uint8Array(28 * 28);
    for (let y = 7; y <= 20; y++) for (let x = 4; x <= 23; x++) pixels[y * 28 + x] = 255;
    const items: SceneItems = {
      pixels,
      labels: Int32Array.from([3]),
      shape: [28, 28, 1],
      classNames: ['a', 'b', 'c', 'd'],
    };
    // at scale 28 the item is copied: box 20 × 14, area 280
    const full = renderScenes(items, {
      split: 'train',
      count: 4,
      size: 40,
      maxItems: 1,
      minScale: 28,
      maxScale: 28,
    });
    for (const s of full.scenes) {
      expect(s.boxes).toHaveLength(1);
      expect(s.boxes[0]).toMatchObject({ w: 20, h: 14, area: 280, label: 3, item: 0, scale: 28 });
      const { x, y } = s.boxes[0];
      expect(s.pixels[y * 40 + x]).toBe(255);
      expect(s.pixels[(y + 13) * 40 + x + 19]).toBe(255);
    }
    // at scale 14 (2× area averaging): columns 4…23 → 2…11 (full), rows 7…20 → 3…10, rows 3 and 10 half covered
    // (value 0.5 ≥ 0.1: in the box; opacity min(1, 0.5 / 0.3) = 1 → pixel round(0.5 · 255) = 128)
    const half = renderScenes(items, {
      split: 'train',
      count: 4,
      size: 40,
      maxItems: 1,
      minScale: 14,
      maxScale: 14,
    });
    for (const s of half.scenes) {
      expect(s.boxes[0]).toMatchObject({ w: 10, h: 8, area: 80, scale: 14 });
      const { x, y } = s.boxes[0];
      expect(s.pixels[y * 40 + x]).toBe(128);
      expect(s.pixels[(y + 1) * 40 + x]).toBe(255);
      expect(s.pixels[(y + 7) * 40 + x + 9]).toBe(128);
    }
  });

  it('placement rules: inside the canvas, IoU ≤ maxOverlap, covering ≤ maxCovered, counts and scales in range', () => {
    const set = renderScenes(train, { split: 'train', count: 60, size: 128, seed: 9 });
    let boxes = 0;
    for (const s of set.scenes) {
      expect(s.boxes.length).toBeGreaterThanOrEqual(1);
      expect(s.boxes.length).toBeLessThanOrEqual(6);
      boxes += s.boxes.length;
      s.boxes.forEach((b, j) => {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.y).toBeGreaterThanOrEqual(0);
        expect(b.x + b.w).toBeLessThanOrEqual(128);
        expect(b.y + b.h).toBeLessThanOrEqual(128);
        expect(b.scale).toBeGreaterThanOrEqual(12);
        expect(b.scale).toBeLessThanOrEqual(48);
        expect(Math.max(b.w, b.h)).toBeLessThanOrEqual(b.scale);
        for (const e of s.boxes.slice(0, j)) {
          expect(iou(e, b)).toBeLessThanOrEqual(0.3);
          expect(intersectionArea(e, b)).toBeLessThanOrEqual(0.5 * e.w * e.h);
        }
      });
    }
    expect(boxes / set.size).toBeGreaterThan(2.5); // mean of 1…6 is 3.5, minus the items that find no place
    // the background is not flat: many distinct values in a corner without items
    const rgb = renderScenes(train, { split: 'train', count: 1, channels: 3, seed: 4 }).scenes[0];
    expect(rgb.pixels.length).toBe(96 * 96 * 3);
    expect(new Set(rgb.pixels.subarray(0, 96 * 3)).size).toBeGreaterThan(10);
  });

  it('refuses bad options with INVALID_ARGUMENT', async () => {
    const msg = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return isNetAugError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(await msg(() => generateScenes({ split: 'val' as 'train', count: 1 }))).toMatch(
      /^INVALID_ARGUMENT: generateScenes: split must be train or test, got val — /,
    );
    expect(await msg(() => renderScenes(train, { split: 'train', count: 1, size: 32 }))).toMatch(
      /maxScale 48 exceeds the canvas size 32/,
    );
    expect(
      await msg(() => renderScenes(train, { split: 'train', count: 1, minItems: 3, maxItems: 2 })),
    ).toMatch(/minItems 3 > maxItems 2/);
  });
});

describe('writeScenes and the COCO reader', () => {
  it('round-trips boxes, classes and pixels; the same scenes give the same bytes', async () => {
    const set = renderScenes(test, { split: 'test', count: 4, seed: 3, size: 128, channels: 3 });
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    writeScenes(a, set);
    writeScenes(b, set);
    const files = readdirSync(join(a, 'images'));
    expect(files).toEqual(['000000.png', '000001.png', '000002.png', '000003.png']);
    for (const f of ['annotations.json', ...files.map((x) => `images/${x}`)])
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f)))).toBe(true);
    const ds = await loadCoco(join(a, 'annotations.json'));
    expect(ds.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(ds.categoryIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let i = 0; i < 4; i++) {
      expect(ds.annotation(i).boxes).toEqual(cocoBoxes(set.scenes[i].boxes));
      const s = await ds.get(i);
      expect([s.height, s.width, s.channels]).toEqual([128, 128, 3]);
      const px = Buffer.from(s.image.map((v) => Math.round(v * 255)));
      expect(px.equals(Buffer.from(set.scenes[i].pixels))).toBe(true);
    }
    const json = JSON.parse(readFileSync(join(a, 'annotations.json'), 'utf8'));
    expect(json.annotations[0]).toMatchObject({ id: 1, image_id: 1, iscrowd: 0 });
    expect(json.annotations[0].fmnist_index).toBe(set.scenes[0].boxes[0].item);
    expect(json.info.options).toMatchObject({
      split: 'test',
      seed: 3,
      size: 128,
      channels: 3,
      maxOverlap: 0.3,
    });
  });
});

describe('describeDetectionDataset', () => {
  it('counts the embedded test scenes', async () => {
    const ds = await loadEmbeddedScenes('test');
    const s = await describeDetectionDataset(ds);
    const boxes = Array.from({ length: ds.size }, (_, i) => ds.annotation(i).boxes).flat();
    expect(s).toMatchObject({ format: 'coco', images: 100, boxes: boxes.length, emptyImages: 0 });
    expect(s.perClass.map((c) => c.name)).toEqual(FASHION_MNIST_CLASSES);
    expect(s.perClass.reduce((n, c) => n + c.boxes, 0)).toBe(boxes.length);
    expect(s.perClass[0].boxes).toBe(boxes.filter((b) => b.label === 0).length);
    expect(s.sizes.small + s.sizes.medium + s.sizes.large).toBe(boxes.length);
    expect(s.sizes.medium).toBe(boxes.filter((b) => b.w * b.h >= 1024).length);
    expect(s.sizes.large).toBe(0); // items are at most 48×48 < 96²
    expect(s.imageSize).toEqual({ minWidth: 96, maxWidth: 96, minHeight: 96, maxHeight: 96 });
    expect(s.boxesPerImage.min).toBeGreaterThanOrEqual(1);
    expect(s.boxesPerImage.max).toBeLessThanOrEqual(6);
    const text = formatDetectionSummary(s).split('\n');
    expect(text[1]).toBe('images 100 (0 without boxes), size 96×96');
    expect(text).toHaveLength(5 + 10);
  });
});
