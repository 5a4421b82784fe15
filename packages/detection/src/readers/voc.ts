import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import { parseXml, xmlChild, xmlChildren, xmlText } from '../xml';
import type { Box } from '../types';
import {
  BoxChecker,
  FileDetectionDataset,
  channelsOption,
  checkImageFiles,
  imageSize,
  mapLimit,
  readText,
  type DetectionReaderOptions,
  type ImageRecord,
} from './common';

/** The 20 Pascal VOC classes in the devkit's order (`VOCopts.classes`): class index = position. */
export const VOC_CLASSES = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
];

/** Options of {@link loadVoc}. */
export interface VocOptions extends DetectionReaderOptions {
  /** Read the image ids of `ImageSets/Main/<split>.txt` (e.g. `trainval`, `test`); default every `Annotations/*.xml`. */
  split?: string;
  /**
   * The classes, in label order (default {@link VOC_CLASSES}); an object of another class is `DATA_FORMAT`.
   * `'infer'`: the distinct names found, sorted by code point.
   */
  classNames?: string[] | 'infer';
}

/** One object of a VOC annotation, before its class is mapped to an index. */
export interface VocObject {
  name: string;
  /** The box converted to continuous 0-based coordinates (see {@link parseVocXml}). */
  box: Omit<Box, 'label'>;
  /** The box as written, for messages. */
  written: string;
  /** The file and the object, for messages. */
  where: string;
}

/** One parsed VOC annotation file. */
export interface VocAnnotation {
  filename?: string;
  /** From `<size>`; `undefined` when absent or 0 (then the image header is read). */
  width?: number;
  height?: number;
  objects: VocObject[];
}

/**
 * Parses one Pascal VOC annotation (`<annotation>` with `<filename>`, `<size>`, `<object>`s of `<name>`,
 * `<difficult>`, `<bndbox>`). VOC boxes are **1-based inclusive pixel indices** (`xmin = 1` is the first column,
 * `xmax` the last column covered); they become continuous 0-based boxes by
 * `x = xmin − 1, y = ymin − 1, w = xmax − xmin + 1, h = ymax − ymin + 1` (a box of columns 1…10 is
 * `x = 0, w = 10`). Problems are `DATA_FORMAT` naming `file`, the object and its line.
 */
export function parseVocXml(text: string, file: string): VocAnnotation {
  const root = parseXml(text, file);
  const fail = (msg: string, line: number, hint = 'expected a Pascal VOC annotation'): never => {
    throw new NetAugError('DATA_FORMAT', `${file}: ${msg}`, { hint, details: { file, line } });
  };
  if (root.name !== 'annotation') fail(`root element is <${root.name}>, not <annotation>`, root.line);
  const num = (
    el: ReturnType<typeof xmlChild>,
    key: string,
    where: string,
    line: number,
  ): number | undefined => {
    const t = el ? xmlText(el, key) : undefined;
    if (t === undefined || t === '') return undefined;
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t))
      return fail(`${where}: <${key}> is '${t}', not a number`, line);
    return Number(t);
  };
  const sizeEl = xmlChild(root, 'size');
  const width = num(sizeEl, 'width', '<size>', sizeEl?.line ?? root.line);
  const height = num(sizeEl, 'height', '<size>', sizeEl?.line ?? root.line);
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (v !== undefined && v !== 0 && !(Number.isInteger(v) && v > 0))
      fail(`<size><${k}> is ${v}, not a positive integer`, sizeEl!.line);
  }
  const objects = xmlChildren(root, 'object').map((o, k): VocObject => {
    const name = xmlText(o, 'name');
    let where = `object ${k + 1} (line ${o.line}`;
    if (!name) return fail(`${where}) has no <name>`, o.line);
    where += `, '${name}')`;
    const d = xmlText(o, 'difficult');
    if (d !== undefined && d !== '' && d !== '0' && d !== '1')
      fail(`${where}: <difficult> is '${d}', not 0 or 1`, o.line);
    const bb = xmlChild(o, 'bndbox');
    if (!bb) return fail(`${where} has no <bndbox>`, o.line);
    const c = {} as Record<'xmin' | 'ymin' | 'xmax' | 'ymax', number>;
    for (const key of ['xmin', 'ymin', 'xmax', 'ymax'] as const) {
      const v = num(bb, key, where, bb.line);
      if (v === undefined) return fail(`${where}: <bndbox> has no <${key}>`, bb.line);
      c[key] = v;
    }
    const box: Omit<Box, 'label'> = {
      x: c.xmin - 1,
      y: c.ymin - 1,
      w: c.xmax - c.xmin + 1,
      h: c.ymax - c.ymin + 1,
    };
    if (d === '1') box.difficult = true;
    return {
      name,
      box,
      written: `(xmin ${c.xmin}, ymin ${c.ymin}, xmax ${c.xmax}, ymax ${c.ymax})`,
      where: `${file}: ${where}`,
    };
  });
  return {
    filename: xmlText(root, 'filename') || undefined,
    width: width || undefined,
    height: height || undefined,
    objects,
  };
}

/**
 * Reads a Pascal VOC folder (`VOCdevkit/VOC2007`): `Annotations/<id>.xml`, images in `JPEGImages/` (the
 * annotation's `<filename>`, else `<id>.jpg`), and with `split` the ids of `ImageSets/Main/<split>.txt`.
 * `<difficult>1` → `difficult: true`. A missing annotation or image file is `DATA_NOT_FOUND`; a malformed file, an
 * unknown class or an invalid box is `DATA_FORMAT` naming the file and the object.
 */
export async function loadVoc(root: string, options: VocOptions = {}): Promise<FileDetectionDataset> {
  const channels = channelsOption(options.channels, 'loadVoc');
  const dir = resolve(root);
  const annDir = join(dir, 'Annotations');
  if (!existsSync(annDir))
    throw new NetAugError('DATA_NOT_FOUND', `no Annotations/ folder in ${dir}`, {
      hint: 'pass the VOC year folder (e.g. VOCdevkit/VOC2007) holding Annotations/, JPEGImages/ and ImageSets/',
      details: { file: dir },
    });
  let ids: { id: string; where: string }[];
  if (options.split !== undefined) {
    const mainDir = join(dir, 'ImageSets', 'Main');
    const listFile = join(mainDir, `${options.split}.txt`);
    if (!existsSync(listFile)) {
      const have = existsSync(mainDir)
        ? readdirSync(mainDir)
            .filter((f) => f.endsWith('.txt') && !f.includes('_'))
            .map((f) => f.slice(0, -4))
        : [];
      throw new NetAugError('DATA_NOT_FOUND', `split file not found: ${listFile}`, {
        hint: have.length
          ? `splits found: ${have.join(', ')}`
          : 'leave split out to read every Annotations/*.xml',
        details: { file: listFile },
      });
    }
    ids = [];
    readText(listFile, 'VOC split file')
      .split(/\r?\n/)
      .forEach((line, k) => {
        const id = line.trim().split(/\s+/)[0];
        if (id) ids.push({ id, where: `${listFile}: line ${k + 1}` });
      });
  } else {
    ids = readdirSync(annDir)
      .filter((f) => f.endsWith('.xml') && !f.startsWith('.'))
      .sort()
      .map((f) => ({ id: f.slice(0, -4), where: annDir }));
  }
  const parsed = ids.map(({ id, where }) => {
    const xmlFile = join(annDir, `${id}.xml`);
    if (!existsSync(xmlFile))
      throw new NetAugError('DATA_NOT_FOUND', `${where}: annotation file not found: ${xmlFile}`, {
        hint: 'the split lists an image id without an annotation; fix the split file or add the annotation',
        details: { file: xmlFile },
      });
    return { id, xmlFile, ann: parseVocXml(readText(xmlFile, 'VOC annotation'), xmlFile) };
  });

  let classNames: string[];
  if (options.classNames === 'infer') {
    const names = new Set<string>();
    for (const p of parsed) for (const o of p.ann.objects) names.add(o.name);
    classNames = [...names].sort();
  } else {
    classNames = options.classNames ?? VOC_CLASSES;
  }
  const labelOf = new Map(classNames.map((n, i) => [n, i]));
  const checker = new BoxChecker(
    options.invalidBoxes ?? 'error',
    options.warn ?? ((m) => console.warn(`[netaug/detection] ${m}`)),
  );
  const records = await mapLimit(parsed, 8, async ({ id, xmlFile, ann }) => {
    const file = join(dir, 'JPEGImages', ann.filename ?? `${id}.jpg`);
    let { width, height } = ann;
    if (width === undefined || height === undefined) ({ width, height } = await imageSize(file, xmlFile));
    const boxes: Box[] = [];
    for (const o of ann.objects) {
      const label = labelOf.get(o.name);
      if (label === undefined)
        throw new NetAugError(
          'DATA_FORMAT',
          `${o.where}: unknown class '${o.name}' (${classNames.length} classes: ${classNames.slice(0, 10).join(', ')}${classNames.length > 10 ? ', …' : ''})`,
          {
            hint: "pass classNames with every class, or classNames: 'infer' to use the sorted names found",
            details: { file: xmlFile },
          },
        );
      const ok = checker.check({ ...o.box, label }, width, height, o.where, o.written);
      if (ok) boxes.push(ok);
    }
    const r: ImageRecord = { file, width, height, boxes, id, where: xmlFile };
    return r;
  });
  checker.report(dir);
  if (options.checkImages ?? true) checkImageFiles(records);
  const ds = new FileDetectionDataset(records, classNames, channels, 'voc', dir);
  ds.skippedBoxes = checker.skipped;
  return ds;
}
