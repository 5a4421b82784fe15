import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { isNetAugError } from '@netaug/core';
import { encodePng } from './png';
import { loadCoco } from './readers/coco';
import { loadVoc, parseVocXml, VOC_CLASSES } from './readers/voc';
import { loadYolo, parseYamlNames, parseYoloLabels } from './readers/yolo';
import { parseXml, xmlText } from './xml';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-detection-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Pixel value `(i * 7) % 256` at byte i. */
function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);
}
function png(file: string, w: number, h: number, c: 1 | 3): Uint8Array {
  const px = pattern(w * h * c);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, encodePng(px, w, h, c));
  return px;
}
function write(file: string, text: string): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** `CODE: message` of what `f` throws (or rejects with). */
async function failure(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (!isNetAugError(e)) throw e;
    expect(e.message).toMatch(/ — \S/); // every message ends with a hint
    expect(e.message).not.toMatch(/\n/); // one line
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

describe('XML subset parser', () => {
  it('reads elements, attributes, entities, CDATA and skips comments, declarations, DOCTYPE', () => {
    const el = parseXml(
      `\ufeff<?xml version="1.0"?>\n<!DOCTYPE annotation>\n<!-- c -->\n<a x="1" y='&lt;2&gt;'>\n` +
        `  <b>fish &amp; chips &#65;&#x42;</b><c/><b><![CDATA[<raw>]]></b>\n</a>\n`,
      'f.xml',
    );
    expect(el.name).toBe('a');
    expect(el.attributes).toEqual({ x: '1', y: '<2>' });
    expect(el.children.map((c) => c.name)).toEqual(['b', 'c', 'b']);
    expect(xmlText(el, 'b')).toBe('fish & chips AB');
    expect(el.children[2].text).toBe('<raw>');
    expect(el.children[0].line).toBe(5);
  });

  it('reports malformed XML with the file and line', async () => {
    expect(await failure(() => parseXml('<a>\n<b>\n</c>\n</a>', 'x.xml'))).toMatch(
      /^DATA_FORMAT: x\.xml: line 3: malformed XML: closing tag <\/c> does not match <b> of line 2 — /,
    );
    expect(await failure(() => parseXml('<a>\n<b>1</b>\n', 'x.xml'))).toMatch(
      /x\.xml: line 3: malformed XML: <a> of line 1 is never closed/,
    );
    expect(await failure(() => parseXml('<a>&nbsp;</a>', 'x.xml'))).toMatch(/unknown entity &nbsp;/);
    expect(await failure(() => parseXml('<a></a><b/>', 'x.xml'))).toMatch(/a second root element <b>/);
    expect(await failure(() => parseXml('', 'x.xml'))).toMatch(/no root element/);
  });
});

describe('COCO JSON', () => {
  const dir = join(tmp, 'coco');
  const pa = png(join(dir, 'images/a.png'), 20, 10, 3);
  const pb = png(join(dir, 'images/b.png'), 8, 8, 1);
  const coco = () => ({
    images: [
      { id: 5, file_name: 'images/b.png', width: 8, height: 8 },
      { id: 2, file_name: 'images/a.png', width: 20, height: 10 },
      { id: 9, file_name: 'images/a.png', width: 20, height: 10 },
    ],
    annotations: [
      { id: 11, image_id: 2, category_id: 3, bbox: [-0.5, 1, 10, 4], area: 30, iscrowd: 0 },
      { id: 12, image_id: 2, category_id: 7, bbox: [10, 2, 10.5, 8], iscrowd: 1 },
      { id: 13, image_id: 5, category_id: 1, bbox: [1, 1, 2, 3] },
    ] as Record<string, unknown>[],
    categories: [
      { id: 7, name: 'bird' },
      { id: 1, name: 'cat' },
      { id: 3, name: 'dog' },
    ] as Record<string, unknown>[],
  });
  const file = write(join(dir, 'instances.json'), JSON.stringify(coco()));
  let n = 0;
  const bad = (mutate: (c: ReturnType<typeof coco>) => void) => {
    const c = coco();
    mutate(c);
    return write(join(dir, `bad${++n}.json`), JSON.stringify(c));
  };

  it('maps category ids in id order to class indices, keeps crowd and area, clips within 1 px', async () => {
    const ds = await loadCoco(file);
    expect(ds.classNames).toEqual(['cat', 'dog', 'bird']);
    expect(ds.categoryIds).toEqual([1, 3, 7]);
    expect(ds.imageIds).toEqual([2, 5, 9]); // ascending id
    expect(ds.size).toBe(3);
    expect(ds.annotation(0)).toEqual({
      height: 10,
      width: 20,
      file: join(dir, 'images/a.png'),
      id: 2,
      boxes: [
        { x: 0, y: 1, w: 9.5, h: 4, label: 1, area: 30 },
        { x: 10, y: 2, w: 10, h: 8, label: 2, crowd: true },
      ],
    });
    expect(ds.annotation(1).boxes).toEqual([{ x: 1, y: 1, w: 2, h: 3, label: 0 }]);
    expect(ds.annotation(2).boxes).toEqual([]);
  });

  it('decodes images with sharp to [0, 1] HWC floats (RGB by default, grayscale with channels: 1)', async () => {
    const ds = await loadCoco(file);
    const a = await ds.get(0);
    expect([a.height, a.width, a.channels, a.image.length]).toEqual([10, 20, 3, 600]);
    expect(Array.from(a.image.slice(0, 6))).toEqual(
      Array.from(pa.slice(0, 6)).map((v) => Math.fround(v / 255)),
    );
    const b = await ds.get(1); // a grayscale PNG read as RGB: the value repeated
    expect(Array.from(b.image.slice(0, 6))).toEqual([0, 0, 0, 7, 7, 7].map((v) => Math.fround(v / 255)));
    const gray = await loadCoco(file, { channels: 1 });
    const g = await gray.get(1);
    expect([g.channels, g.image.length]).toEqual([1, 64]);
    expect(Array.from(g.image)).toEqual(Array.from(pb).map((v) => Math.fround(v / 255)));
  });

  it('refuses bad files with one-line errors naming the file and the box', async () => {
    const f1 = bad((c) => (c.annotations[2].category_id = 4));
    expect(await failure(() => loadCoco(f1))).toBe(
      `DATA_FORMAT: ${f1}: annotations[2] (id 13, image 5 'images/b.png'): unknown category_id 4 (categories have ids 1, 3, 7) — add the category to "categories" or fix the annotation`,
    );
    const f2 = bad((c) => (c.annotations[0].bbox = [1, 1, 0, 4]));
    expect(await failure(() => loadCoco(f2))).toMatch(
      `DATA_FORMAT: ${f2}: annotations[0] (id 11, image 2 'images/a.png'): box [1, 1, 0, 4] has a zero or negative size (w 0, h 4) — `,
    );
    const f3 = bad((c) => (c.annotations[0].bbox = [15, 1, 8, 4]));
    expect(await failure(() => loadCoco(f3))).toMatch(
      `${f3}: annotations[0] (id 11, image 2 'images/a.png'): box [15, 1, 8, 4] extends 3 px beyond the 20×10 image — `,
    );
    const f4 = bad((c) => (c.annotations[1].image_id = 99));
    expect(await failure(() => loadCoco(f4))).toMatch(
      `${f4}: annotations[1] (id 12): image_id 99 is not in "images"`,
    );
    const f5 = write(join(dir, 'broken.json'), '{"images": [');
    expect(await failure(() => loadCoco(f5))).toMatch(new RegExp(`^DATA_FORMAT: ${f5}: not valid JSON \\(`));
    const f6 = bad((c) => delete (c as Partial<typeof c>).categories);
    expect(await failure(() => loadCoco(f6))).toMatch(`${f6}: "categories" is missing — expected COCO`);
    const f7 = bad((c) => (c.categories[2].id = 1));
    expect(await failure(() => loadCoco(f7))).toMatch(
      `${f7}: categories[2]: duplicate category id 1 (also categories[1])`,
    );
    const f8 = bad((c) => (c.annotations[1].bbox = [1, 2, 3]));
    expect(await failure(() => loadCoco(f8))).toMatch(
      `annotations[1] (id 12, image 2 'images/a.png'): "bbox" is [1,2,3]`,
    );
    expect(await failure(() => loadCoco(join(dir, 'nope.json')))).toMatch(
      /^DATA_NOT_FOUND: COCO annotation file not found: /,
    );
  });

  it('a missing image file is DATA_NOT_FOUND naming the entry; a wrong size fails on decode', async () => {
    const f = bad((c) => (c.images[2].file_name = 'images/nope.png'));
    expect(await failure(() => loadCoco(f))).toMatch(
      `DATA_NOT_FOUND: ${f}: images[2] (id 9, 'images/nope.png'): image file not found: ${join(dir, 'images/nope.png')} — `,
    );
    expect((await loadCoco(f, { checkImages: false })).size).toBe(3);
    const g = bad((c) => (c.images[1].width = 21));
    const ds = await loadCoco(g);
    expect(await failure(() => ds.get(0))).toMatch(
      `DATA_FORMAT: ${g}: images[1] (id 2, 'images/a.png'): image ${join(dir, 'images/a.png')} is 20×10 but the annotation says 21×10 — `,
    );
  });

  it("invalidBoxes: 'skip' drops bad boxes, counts them and warns once", async () => {
    const f = bad((c) => {
      c.annotations[0].bbox = [1, 1, 0, 4];
      c.annotations[2].bbox = [1, 1, -2, 3];
    });
    const warnings: string[] = [];
    const ds = await loadCoco(f, { invalidBoxes: 'skip', warn: (m) => warnings.push(m) });
    expect(ds.skippedBoxes).toBe(2);
    expect(ds.annotation(0).boxes.map((b) => b.label)).toEqual([2]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^skipped 2 invalid box\(es\) in .*; the first: .*annotations\[0\]/);
  });
});

describe('Pascal VOC folders', () => {
  const xml1 = `<annotation>
  <folder>VOC2007 &amp; co</folder>
  <filename>000001.jpg</filename>
  <size><width>30</width><height>20</height><depth>3</depth></size>
  <object>
    <name>dog</name><pose>Left</pose><truncated>0</truncated><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>5</ymax></bndbox>
  </object>
  <object>
    <name>person</name><difficult>1</difficult>
    <bndbox><xmin>11</xmin><ymin>6</ymin><xmax>30</xmax><ymax>20</ymax></bndbox>
  </object>
</annotation>`;
  const xml2 = `<annotation><filename>000002.jpg</filename>
  <object><name>cat</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>3.5</xmax><ymax>3</ymax></bndbox></object>
</annotation>`;
  async function makeVoc(
    name: string,
    xmls: Record<string, string>,
    images: string[],
    splits: Record<string, string>,
  ) {
    const dir = join(tmp, name);
    for (const [id, x] of Object.entries(xmls)) write(join(dir, 'Annotations', `${id}.xml`), x);
    mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
    for (const id of images) {
      const raw = Buffer.from(pattern(30 * 20 * 3));
      await sharp(raw, { raw: { width: 30, height: 20, channels: 3 } })
        .jpeg()
        .toFile(join(dir, 'JPEGImages', `${id}.jpg`));
    }
    for (const [s, t] of Object.entries(splits)) write(join(dir, 'ImageSets', 'Main', `${s}.txt`), t);
    return dir;
  }

  it('converts 1-based inclusive coordinates (x = xmin − 1, w = xmax − xmin + 1) and keeps difficult', async () => {
    const dir = await makeVoc('voc', { '000001': xml1, '000002': xml2 }, ['000001', '000002'], {
      train: '000002\n',
      val: '000001\n000002\n',
      dog_train: '000002 -1\n',
    });
    const all = await loadVoc(dir);
    expect(all.classNames).toBe(VOC_CLASSES);
    expect(all.size).toBe(2);
    expect(all.annotation(0)).toMatchObject({ width: 30, height: 20, id: '000001' });
    expect(all.annotation(0).boxes).toEqual([
      { x: 0, y: 0, w: 10, h: 5, label: VOC_CLASSES.indexOf('dog') },
      { x: 10, y: 5, w: 20, h: 15, label: VOC_CLASSES.indexOf('person'), difficult: true },
    ]);
    // no <size>: read from the image header
    expect(all.annotation(1)).toMatchObject({ width: 30, height: 20 });
    expect(all.annotation(1).boxes).toEqual([
      { x: 1, y: 1, w: 2.5, h: 2, label: VOC_CLASSES.indexOf('cat') },
    ]);
    const train = await loadVoc(dir, { split: 'train', classNames: 'infer' });
    expect(train.classNames).toEqual(['cat']);
    expect(train.size).toBe(1);
    const s = await train.get(0);
    expect([s.height, s.width, s.channels]).toEqual([20, 30, 3]);
    expect((await loadVoc(dir, { classNames: 'infer' })).classNames).toEqual(['cat', 'dog', 'person']);
    expect(await failure(() => loadVoc(dir, { split: 'test' }))).toMatch(
      /^DATA_NOT_FOUND: split file not found: .*test\.txt — splits found: train, val$/,
    );
  });

  it('refuses unknown classes, bad boxes, malformed XML, missing files', async () => {
    const unknown = xml1.replace('<name>person</name>', '<name>unicorn</name>');
    const d1 = await makeVoc('voc-unknown', { a: unknown }, [], {});
    expect(await failure(() => loadVoc(d1))).toMatch(
      `DATA_FORMAT: ${join(d1, 'Annotations/a.xml')}: object 2 (line 9, 'unicorn'): unknown class 'unicorn' (20 classes: aeroplane, bicycle,`,
    );
    const inverted = xml1.replace('<xmin>11</xmin>', '<xmin>31</xmin>');
    const d2 = await makeVoc('voc-inverted', { a: inverted }, [], {});
    expect(await failure(() => loadVoc(d2))).toMatch(
      `${join(d2, 'Annotations/a.xml')}: object 2 (line 9, 'person'): box (xmin 31, ymin 6, xmax 30, ymax 20) has a zero or negative size (w 0, h 15) — `,
    );
    const outside = xml1.replace('<xmax>30</xmax>', '<xmax>33</xmax>');
    const d3 = await makeVoc('voc-outside', { a: outside }, [], {});
    expect(await failure(() => loadVoc(d3))).toMatch(
      /object 2 \(line 9, 'person'\): box \(xmin 11, ymin 6, xmax 33, ymax 20\) extends 3 px beyond the 30×20 image — /,
    );
    const d4 = await makeVoc(
      'voc-malformed',
      { a: xml1.replace('</object>\n  <object>', '\n  <object>') },
      [],
      {},
    );
    expect(await failure(() => loadVoc(d4))).toMatch(
      new RegExp(
        `^DATA_FORMAT: ${join(d4, 'Annotations/a.xml')}: line 13: malformed XML: closing tag </annotation> does not match <object> of line 5`,
      ),
    );
    const d5 = await makeVoc(
      'voc-nonnumber',
      { a: xml1.replace('<ymax>5</ymax>', '<ymax>five</ymax>') },
      [],
      {},
    );
    expect(await failure(() => loadVoc(d5))).toMatch(
      /object 1 \(line 5, 'dog'\): <ymax> is 'five', not a number/,
    );
    const d6 = await makeVoc('voc-missing', { '000001': xml1 }, [], { train: '000001\n000003\n' });
    expect(await failure(() => loadVoc(d6, { split: 'train' }))).toMatch(
      `DATA_NOT_FOUND: ${join(d6, 'ImageSets/Main/train.txt')}: line 2: annotation file not found: ${join(d6, 'Annotations/000003.xml')}`,
    );
    const d7 = await makeVoc('voc-noimage', { '000001': xml1 }, [], {});
    expect(await failure(() => loadVoc(d7))).toMatch(
      `DATA_NOT_FOUND: ${join(d7, 'Annotations/000001.xml')}: image file not found: ${join(d7, 'JPEGImages/000001.jpg')}`,
    );
    expect(await failure(() => loadVoc(join(tmp, 'nothing')))).toMatch(
      /^DATA_NOT_FOUND: no Annotations\/ folder/,
    );
  });

  it('parseVocXml works on text alone', () => {
    expect(parseVocXml(xml2, 'x.xml')).toEqual({
      filename: '000002.jpg',
      width: undefined,
      height: undefined,
      objects: [
        {
          name: 'cat',
          box: { x: 1, y: 1, w: 2.5, h: 2 },
          written: '(xmin 2, ymin 2, xmax 3.5, ymax 3)',
          where: "x.xml: object 1 (line 2, 'cat')",
        },
      ],
    });
  });
});

describe('YOLO txt folders', () => {
  const dir = join(tmp, 'yolo');
  png(join(dir, 'images/train/a.png'), 20, 10, 3);
  png(join(dir, 'images/train/b.png'), 8, 8, 1);
  write(join(dir, 'labels/train/a.txt'), '0 0.5 0.5 0.5 0.4\n\n1 0.25 0.5 0.5 1\n');
  write(join(dir, 'classes.txt'), 'cat\ndog\n\n');

  it('converts normalised center boxes to pixels; an image without a label file has no boxes', async () => {
    const ds = await loadYolo(dir, { split: 'train' });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.size).toBe(2);
    // (0.5 − 0.25) · 20 = 5, (0.5 − 0.2) · 10 = 3, 0.5 · 20 = 10, 0.4 · 10 = 4
    expect(ds.annotation(0).boxes).toEqual([
      { x: 5, y: 3, w: 10, h: 4, label: 0 },
      { x: 0, y: 0, w: 10, h: 10, label: 1 },
    ]);
    expect(ds.annotation(1)).toMatchObject({ width: 8, height: 8, boxes: [], id: 'b' });
    expect((await ds.get(1)).channels).toBe(3);
  });

  it('refuses bad rows naming the file and line; orphan labels; missing classes', async () => {
    const f = join(dir, 'labels/train/a.txt');
    const rows = (text: string) => () => parseYoloLabels(text, f, 20, 10, 2);
    expect(await failure(rows('0 0.5 0.5 0.5 0.4\n2 0.5 0.5 0.1 0.1'))).toMatch(
      `DATA_FORMAT: ${f}: line 2: unknown class 2 (2 classes: 0…1) — `,
    );
    expect(await failure(rows('0 0.5 0.5 0.5'))).toMatch(
      `${f}: line 1: 4 fields, expected 5 (class cx cy w h) — `,
    );
    expect(await failure(rows('0 0.5 0.5 x 0.1'))).toMatch(
      `${f}: line 1: '0 0.5 0.5 x 0.1' has a field that is not a number`,
    );
    expect(await failure(rows('0 0.9 0.5 0.5 0.4'))).toMatch(
      `${f}: line 1: box (0.9 0.5 0.5 0.4) extends 3 px beyond the 20×10 image — `,
    );
    expect(await failure(rows('1 0.5 0.5 0 0.4'))).toMatch(
      /line 1: box \(0\.5 0\.5 0 0\.4\) has a zero or negative size/,
    );
    const orphan = join(tmp, 'yolo-orphan');
    png(join(orphan, 'images/a.png'), 4, 4, 1);
    write(join(orphan, 'labels/c.txt'), '0 0.5 0.5 0.5 0.5\n');
    write(join(orphan, 'classes.txt'), 'x\n');
    expect(await failure(() => loadYolo(orphan))).toMatch(
      `DATA_NOT_FOUND: ${join(orphan, 'labels/c.txt')}: no image for this label file in ${join(orphan, 'images')} — `,
    );
    const noClasses = join(tmp, 'yolo-noclasses');
    png(join(noClasses, 'images/a.png'), 4, 4, 1);
    expect(await failure(() => loadYolo(noClasses))).toMatch(
      /^DATA_NOT_FOUND: no classes\.txt or data\.yaml in /,
    );
  });

  it('data.yaml names: flow list, block list, index map', () => {
    expect(parseYamlNames('path: .\nnames: [\'a b\', "c", d]  # classes\nnc: 3\n', 'd.yaml')).toEqual([
      'a b',
      'c',
      'd',
    ]);
    expect(parseYamlNames('names:\n  - cat\n  - "dog"\ntrain: x\n', 'd.yaml')).toEqual(['cat', 'dog']);
    expect(parseYamlNames('names:\n  1: dog\n  0: cat\n', 'd.yaml')).toEqual(['cat', 'dog']);
    expect(() => parseYamlNames('names:\n  0: cat\n  2: dog\n', 'd.yaml')).toThrow(/names has no entry 1/);
    expect(() => parseYamlNames('nc: 2\n', 'd.yaml')).toThrow(/d\.yaml: line 1: no "names:" key — /);
  });
});
