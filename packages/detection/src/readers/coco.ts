import { dirname, join, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import type { Box } from '../types';
import {
  BoxChecker,
  FileDetectionDataset,
  channelsOption,
  checkImageFiles,
  fmt,
  readText,
  type DetectionReaderOptions,
  type ImageRecord,
} from './common';

/** Options of {@link loadCoco}. */
export interface CocoOptions extends DetectionReaderOptions {
  /** Folder the images' `file_name`s are relative to (default: the annotation file's folder). */
  imageDir?: string;
}

/** What {@link parseCoco} extracts from a COCO annotation file. */
export interface CocoContents {
  /** Images in ascending `id` order (as pycocotools' `getImgIds()`), each with its boxes in file order. */
  records: ImageRecord[];
  /** Category names in ascending category-id order: class index `k` is the `k`-th smallest id. */
  classNames: string[];
  /** `categoryIds[k]` is the COCO category id of class index `k` (to write results back in COCO form). */
  categoryIds: number[];
  /** Boxes dropped with `invalidBoxes: 'skip'`. */
  skippedBoxes: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const HINT = 'expected COCO "instances" JSON: { images: [...], annotations: [...], categories: [...] }';

/**
 * Parses the contents of a COCO detection annotation file (already `JSON.parse`d): `images` (`id`, `file_name`,
 * `width`, `height`), `annotations` (`image_id`, `category_id`, `bbox: [x, y, w, h]` in pixels, optional
 * `iscrowd`, `area`; may be absent, as in test-set image lists) and `categories` (`id`, `name`; ids need not be
 * contiguous). Every problem is `DATA_FORMAT` naming `file` and the entry.
 */
export function parseCoco(
  json: unknown,
  file: string,
  options: Pick<CocoOptions, 'imageDir' | 'invalidBoxes' | 'warn'> = {},
): CocoContents {
  const imageDir = resolve(options.imageDir ?? dirname(file));
  const fail = (msg: string, hint = HINT): never => {
    throw new NetAugError('DATA_FORMAT', `${file}: ${msg}`, { hint, details: { file } });
  };
  if (!isObj(json)) fail('the top level is not a JSON object');
  const root = json as Obj;
  const list = (key: string, optional: boolean): unknown[] => {
    const v = root[key];
    if (v === undefined && optional) return [];
    if (!Array.isArray(v)) return fail(`"${key}" is ${v === undefined ? 'missing' : 'not an array'}`);
    return v;
  };
  const images = list('images', false);
  const annotations = list('annotations', true);
  const categories = list('categories', false);

  const cats: { id: number; name: string }[] = [];
  const catIndexOf = new Map<number, number>();
  categories.forEach((c, k) => {
    const where = `categories[${k}]`;
    if (!isObj(c)) return fail(`${where} is not an object`);
    if (typeof c.id !== 'number' || !Number.isFinite(c.id)) return fail(`${where}: "id" is not a number`);
    if (typeof c.name !== 'string') return fail(`${where} (id ${c.id}): "name" is not a string`);
    if (catIndexOf.has(c.id))
      return fail(`${where}: duplicate category id ${c.id} (also categories[${catIndexOf.get(c.id)}])`);
    catIndexOf.set(c.id, k);
    cats.push({ id: c.id, name: c.name });
  });
  if (!cats.length) fail('"categories" is empty', 'list at least one category');
  cats.sort((a, b) => a.id - b.id);
  const labelOf = new Map(cats.map((c, i) => [c.id, i]));

  const records: ImageRecord[] = [];
  const byId = new Map<unknown, ImageRecord>();
  const nameOf = new Map<ImageRecord, string>();
  images.forEach((im, k) => {
    const where = `images[${k}]`;
    if (!isObj(im)) return fail(`${where} is not an object`);
    if (typeof im.id !== 'number' && typeof im.id !== 'string') return fail(`${where}: "id" is not a number`);
    const id = im.id;
    if (typeof im.file_name !== 'string' || !im.file_name)
      return fail(`${where} (id ${id}): "file_name" is missing`);
    for (const key of ['width', 'height']) {
      const v = im[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
        return fail(
          `${where} (id ${id}, '${im.file_name}'): "${key}" is ${JSON.stringify(v)}, not a positive integer`,
        );
    }
    if (byId.has(id)) return fail(`${where}: duplicate image id ${id}`);
    const r: ImageRecord = {
      file: join(imageDir, im.file_name),
      width: im.width as number,
      height: im.height as number,
      boxes: [],
      id,
      where: `${file}: ${where} (id ${id}, '${im.file_name}')`,
    };
    byId.set(id, r);
    nameOf.set(r, im.file_name);
    records.push(r);
  });

  const checker = new BoxChecker(
    options.invalidBoxes ?? 'error',
    options.warn ?? ((m) => console.warn(`[netaug/detection] ${m}`)),
  );
  annotations.forEach((a, k) => {
    let where = `annotations[${k}]`;
    if (!isObj(a)) return fail(`${where} is not an object`);
    where += ` (id ${a.id ?? '?'}`;
    const r = byId.get(a.image_id);
    if (!r)
      return fail(
        `${where}): image_id ${JSON.stringify(a.image_id)} is not in "images"`,
        'every annotation must refer to a listed image',
      );
    where += `, image ${r.id} '${nameOf.get(r)}')`;
    const label = typeof a.category_id === 'number' ? labelOf.get(a.category_id) : undefined;
    if (label === undefined) {
      const ids = cats.map((c) => c.id);
      return fail(
        `${where}: unknown category_id ${JSON.stringify(a.category_id)} (categories have ids ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`,
        'add the category to "categories" or fix the annotation',
      );
    }
    const bb = a.bbox;
    if (!Array.isArray(bb) || bb.length !== 4 || !bb.every((v) => typeof v === 'number'))
      return fail(
        `${where}: "bbox" is ${JSON.stringify(bb)}, not [x, y, w, h]`,
        'COCO boxes are [x, y, width, height] in pixels',
      );
    const crowd = a.iscrowd;
    if (crowd !== undefined && crowd !== 0 && crowd !== 1 && crowd !== true && crowd !== false)
      return fail(`${where}: "iscrowd" is ${JSON.stringify(crowd)}`, 'iscrowd must be 0 or 1');
    const box: Box = { x: bb[0], y: bb[1], w: bb[2], h: bb[3], label };
    if (crowd === 1 || crowd === true) box.crowd = true;
    if (typeof a.area === 'number' && Number.isFinite(a.area) && a.area >= 0) box.area = a.area;
    const ok = checker.check(box, r.width, r.height, `${file}: ${where}`, `[${bb.map(fmt).join(', ')}]`);
    if (ok) r.boxes.push(ok);
  });
  checker.report(file);
  if (records.every((r) => typeof r.id === 'number'))
    records.sort((a, b) => (a.id as number) - (b.id as number));
  return {
    records,
    classNames: cats.map((c) => c.name),
    categoryIds: cats.map((c) => c.id),
    skippedBoxes: checker.skipped,
  };
}

/** A COCO dataset: a {@link FileDetectionDataset} that also knows the COCO ids. */
export class CocoDataset extends FileDetectionDataset {
  /** `categoryIds[label]`: the COCO category id of a class index. */
  readonly categoryIds: number[] = [];
  /** `imageIds[i]`: the COCO image id of image `i`. */
  readonly imageIds: (number | string)[] = [];
}

/**
 * Reads a COCO detection annotation file (e.g. `instances_val2017.json`). Class index = rank of the category id
 * (ids need not be contiguous: ids 1, 5, 90 → classes 0, 1, 2); `iscrowd: 1` → `crowd: true`; the annotation
 * `area` is kept (COCO evaluation uses it for the area ranges). Images are in ascending id order; images without
 * annotations are kept with no boxes. Images are decoded with sharp on `get`.
 */
export async function loadCoco(file: string, options: CocoOptions = {}): Promise<CocoDataset> {
  const channels = channelsOption(options.channels, 'loadCoco');
  const path = resolve(file);
  const text = readText(path, 'COCO annotation file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NetAugError('DATA_FORMAT', `${path}: not valid JSON (${(e as Error).message})`, {
      cause: e,
      hint: HINT,
      details: { file: path },
    });
  }
  const c = parseCoco(json, path, options);
  if (options.checkImages ?? true) checkImageFiles(c.records);
  const ds = new CocoDataset(c.records, c.classNames, channels, 'coco', path);
  Object.assign(ds, {
    categoryIds: c.categoryIds,
    imageIds: c.records.map((r) => r.id),
    skippedBoxes: c.skippedBoxes,
  });
  return ds;
}
