/**
 * The data of `--task detect`: the embedded scenes, and the same scenes written as COCO, VOC and YOLO folders —
 * splits, held-out test data, validation split, subsets, class names, and the errors for bad specs.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_SCENES_DIR, type Box } from '@netaug/detection';
import { detectDataIdentity, loadDetectRunData, parseDetectData } from '../src/run/detect-data';
import { parseRunConfig, type RunConfig } from '../src/run/run-config';

const tmp = mkdtempSync(join(tmpdir(), 'netaug-detect-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = (over: Partial<RunConfig>): RunConfig =>
  parseRunConfig({ task: 'detect', model: 'mobilenetv2-tiny', epochs: 1, data: 'scenes', ...over }, 'test');

interface CocoJson {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number] }[];
  categories: { id: number; name: string }[];
}
const scenes = JSON.parse(
  readFileSync(join(EMBEDDED_SCENES_DIR, 'train', 'annotations.json'), 'utf8'),
) as CocoJson;
const names = scenes.categories.map((c) => c.name);
/** The first 6 train scenes: file, boxes (label = category id − 1). */
const six = scenes.images.slice(0, 6).map((im) => ({
  file: join(EMBEDDED_SCENES_DIR, 'train', im.file_name),
  id: `s${im.id}`,
  boxes: scenes.annotations
    .filter((a) => a.image_id === im.id)
    .map((a) => ({ x: a.bbox[0], y: a.bbox[1], w: a.bbox[2], h: a.bbox[3], label: a.category_id - 1 })),
}));

const boxCounts = async (ds: { size: number; annotation?: (i: number) => { boxes: Box[] } }) =>
  Array.from({ length: ds.size }, (_, i) => ds.annotation!(i).boxes.length);

describe('loadDetectRunData', () => {
  it('scenes: 200 train / 100 test; a seeded validation split, then the first --subset / --test-subset images', async () => {
    const all = await loadDetectRunData(cfg({}));
    expect([all.train.size, all.test.size, all.channels, all.resolution]).toEqual([200, 100, 1, 96]);
    expect(all.classNames).toEqual(names);
    const d = await loadDetectRunData(cfg({ valSplit: 20, subset: 50, testSubset: 10, resolution: 48 }));
    expect([d.train.size, d.val!.size, d.test.size, d.resolution]).toEqual([50, 20, 10, 48]);
    // the validation images are not training images, and the same for every seed
    const again = await loadDetectRunData(cfg({ valSplit: 20, seed: 5 }));
    const ids = (ds: typeof d.train) =>
      Array.from({ length: ds.size }, (_, i) => JSON.stringify(ds.annotation!(i).boxes));
    expect(ids(again.val!)).toEqual(ids(d.val!));
    const trainSet = new Set(ids(again.train));
    expect(ids(d.val!).filter((b) => trainSet.has(b))).toEqual([]);
    expect(again.train.size).toBe(180);
  });

  it('coco: one file (test data held out, seeded) or two', async () => {
    const train = join(EMBEDDED_SCENES_DIR, 'train', 'annotations.json');
    const test = join(EMBEDDED_SCENES_DIR, 'test', 'annotations.json');
    const one = await loadDetectRunData(cfg({ data: `coco:${train}`, valFraction: 0.1 }));
    expect([one.train.size, one.test.size, one.channels]).toEqual([180, 20, 3]);
    expect(one.source).toMatch(/20 images held out as test data, valFraction 0\.1/);
    const two = await loadDetectRunData(cfg({ data: `coco:${train},${test}`, channels: 1 }));
    expect([two.train.size, two.test.size, two.channels]).toEqual([200, 100, 1]);
    expect((await two.test.get(0)).image.length).toBe(96 * 96);
  });

  it('voc: ImageSets/Main/test.txt against trainval; classes outside VOC inferred and sorted', async () => {
    const dir = join(tmp, 'voc');
    mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
    mkdirSync(join(dir, 'Annotations'), { recursive: true });
    mkdirSync(join(dir, 'ImageSets', 'Main'), { recursive: true });
    for (const s of six) {
      copyFileSync(s.file, join(dir, 'JPEGImages', `${s.id}.png`));
      const objects = s.boxes
        .map(
          (b) =>
            `<object><name>${names[b.label]}</name><difficult>0</difficult><bndbox><xmin>${b.x + 1}</xmin>` +
            `<ymin>${b.y + 1}</ymin><xmax>${b.x + b.w}</xmax><ymax>${b.y + b.h}</ymax></bndbox></object>`,
        )
        .join('');
      writeFileSync(
        join(dir, 'Annotations', `${s.id}.xml`),
        `<annotation><filename>${s.id}.png</filename><size><width>96</width><height>96</height><depth>1</depth></size>${objects}</annotation>`,
      );
    }
    writeFileSync(
      join(dir, 'ImageSets', 'Main', 'trainval.txt'),
      six
        .slice(0, 4)
        .map((s) => s.id)
        .join('\n'),
    );
    writeFileSync(
      join(dir, 'ImageSets', 'Main', 'test.txt'),
      six
        .slice(4)
        .map((s) => s.id)
        .join('\n'),
    );
    const d = await loadDetectRunData(cfg({ data: `voc:${dir}` }));
    expect([d.train.size, d.test.size]).toEqual([4, 2]);
    const used = [...new Set(six.flatMap((s) => s.boxes.map((b) => names[b.label])))].sort();
    expect(d.classNames).toEqual(used);
    expect(await boxCounts(d.train)).toEqual(six.slice(0, 4).map((s) => s.boxes.length));
  });

  it('yolo: images/train against images/val, classes from classes.txt', async () => {
    const dir = join(tmp, 'yolo');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'classes.txt'), names.join('\n') + '\n');
    six.forEach((s, i) => {
      const split = i < 5 ? 'train' : 'val';
      mkdirSync(join(dir, 'images', split), { recursive: true });
      mkdirSync(join(dir, 'labels', split), { recursive: true });
      copyFileSync(s.file, join(dir, 'images', split, `${s.id}.png`));
      const lines = s.boxes.map(
        (b) => `${b.label} ${(b.x + b.w / 2) / 96} ${(b.y + b.h / 2) / 96} ${b.w / 96} ${b.h / 96}`,
      );
      writeFileSync(join(dir, 'labels', split, `${s.id}.txt`), lines.join('\n') + '\n');
    });
    const d = await loadDetectRunData(cfg({ data: `yolo:${dir}` }));
    expect([d.train.size, d.test.size]).toEqual([5, 1]);
    expect(d.classNames).toEqual(names);
    expect(await boxCounts(d.test)).toEqual([six[5].boxes.length]);
  });

  it('bad specs and sizes: typed errors that name the problem', async () => {
    expect(() => parseDetectData('fashion-mnist')).toThrow(
      /'fashion-mnist' is not detection data.*scenes, coco:/,
    );
    expect(() => parseDetectData('coco:a.json,b.json,c.json')).toThrow(
      /coco takes one or two annotation files/,
    );
    await expect(loadDetectRunData(cfg({ data: 'voc:/nonexistent/voc' }))).rejects.toThrow(
      /VOC folder '\/nonexistent\/voc' does not exist/,
    );
    await expect(loadDetectRunData(cfg({ subset: 500 }))).rejects.toThrow(
      /subset 500 is more than the 200 training images/,
    );
    await expect(loadDetectRunData(cfg({ valSplit: 200 }))).rejects.toThrow(/200 images held out of 200/);
    expect(detectDataIdentity('scenes')).toBe('scenes@embedded');
    expect(detectDataIdentity('voc:rel/dir')).toBe(`voc:${join(process.cwd(), 'rel/dir')}`);
  });

  it("COCO data is identified by its annotation files' sha256: the same files anywhere are the same data", () => {
    const train = join(EMBEDDED_SCENES_DIR, 'train', 'annotations.json');
    const test = join(EMBEDDED_SCENES_DIR, 'test', 'annotations.json');
    const sha = (f: string) =>
      require('node:crypto').createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(detectDataIdentity(`coco:${train},${test}`)).toBe(`coco:sha256:${sha(train)},sha256:${sha(test)}`);
    const copy = join(tmp, 'copy.json');
    copyFileSync(train, copy);
    expect(detectDataIdentity(`coco:${copy}`)).toBe(detectDataIdentity(`coco:${train}`));
    // one box moved by a pixel
    writeFileSync(copy, readFileSync(train, 'utf8').replace('"bbox": [29, 7,', '"bbox": [28, 7,'));
    expect(readFileSync(copy, 'utf8')).not.toBe(readFileSync(train, 'utf8'));
    expect(detectDataIdentity(`coco:${copy}`)).not.toBe(detectDataIdentity(`coco:${train}`));
  });
});

describe('netaug data inspect on detection data', () => {
  const bin = join(__dirname, '..', 'dist', 'bin.js');
  const inspect = (args: string[]) =>
    require('node:child_process').spawnSync(process.execPath, [bin, 'data', 'inspect', ...args], {
      encoding: 'utf8',
    }) as { status: number; stdout: string; stderr: string };

  it('scenes --json: boxes and images per class and split, counted from the annotation files themselves', () => {
    const r = inspect(['scenes', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.classNames).toEqual(names);
    for (const split of ['train', 'test']) {
      const json = JSON.parse(
        readFileSync(join(EMBEDDED_SCENES_DIR, split, 'annotations.json'), 'utf8'),
      ) as CocoJson;
      const boxes = names.map((_, k) => json.annotations.filter((a) => a.category_id === k + 1).length);
      const images = names.map(
        (_, k) =>
          new Set(json.annotations.filter((a) => a.category_id === k + 1).map((a) => a.image_id)).size,
      );
      const s = out.splits[split];
      expect(s.images).toBe(json.images.length);
      expect(s.boxes).toBe(json.annotations.length);
      expect(s.perClass.map((c: { boxes: number }) => c.boxes)).toEqual(boxes);
      expect(s.perClass.map((c: { images: number }) => c.images)).toEqual(images);
      const small = json.annotations.filter((a) => a.bbox[2] * a.bbox[3] < 32 * 32).length;
      expect(s.sizes.small).toBe(small);
    }
    // the table form names each class with its counts
    const table = inspect(['scenes']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^train +200 images \(0 without boxes\), 660 boxes/m);
    expect(table.stdout).toMatch(/^Bag +\d+ +\d+ +\d+ +\d+$/m);
  });

  it('a missing VOC folder is one line naming it', () => {
    const r = inspect(['voc:' + join(tmp, 'no-such-voc')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/VOC folder '.*no-such-voc' does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('netaug data scenes', () => {
  const bin = join(__dirname, '..', 'dist', 'bin.js');
  const run = (args: string[]) =>
    require('node:child_process').spawnSync(process.execPath, [bin, 'data', ...args], {
      encoding: 'utf8',
    }) as { status: number; stdout: string; stderr: string };

  it("with the embedded scenes' options it writes them byte for byte; the printed --data loads them", () => {
    const out = join(tmp, 'gen');
    const r = run(['scenes', out, '--train', '200', '--test', '100', '--seed', '2026', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.train.scenes, j.train.boxes, j.test.scenes, j.test.boxes]).toEqual([200, 660, 100, 345]);
    for (const split of ['train', 'test']) {
      const mine = readFileSync(join(out, split, 'annotations.json'));
      expect(mine.equals(readFileSync(join(EMBEDDED_SCENES_DIR, split, 'annotations.json')))).toBe(true);
      const json = JSON.parse(mine.toString('utf8')) as CocoJson;
      for (const im of json.images.filter((_, i) => i % 25 === 0))
        expect(
          readFileSync(join(out, split, im.file_name)).equals(
            readFileSync(join(EMBEDDED_SCENES_DIR, split, im.file_name)),
          ),
        ).toBe(true);
    }
    const inspect = run(['inspect', j.data, '--json']);
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout).splits.test.boxes).toBe(345);
  });

  it('another seed gives other scenes; bad options are one-line errors', () => {
    const r = run(['scenes', join(tmp, 'gen2'), '--train', '3', '--test', '2', '--seed', '5']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /netaug train --task detect --data coco:.*gen2\/train\/annotations\.json,.*gen2\/test\/annotations\.json --channels 1\n/,
    );
    const a = readFileSync(join(tmp, 'gen2', 'train', 'annotations.json'), 'utf8');
    expect(a).not.toBe(readFileSync(join(EMBEDDED_SCENES_DIR, 'train', 'annotations.json'), 'utf8'));
    for (const [args, re] of [
      [['--channels', '2'], /--channels must be 1 or 3, got '2'/],
      [['--seed', '-1'], /--seed must be a non-negative integer, got '-1'/],
      [['--train', '0'], /--train must be a positive integer, got '0'/],
    ] as [string[], RegExp][]) {
      const bad = run(['scenes', join(tmp, 'gen3'), ...args]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(re);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
