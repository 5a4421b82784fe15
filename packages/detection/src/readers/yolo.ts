import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import type { Box } from '../types';
import {
  BoxChecker,
  FileDetectionDataset,
  channelsOption,
  fmt,
  imageSize,
  mapLimit,
  readText,
  type DetectionReaderOptions,
  type ImageRecord,
} from './common';

/** Image extensions the YOLO reader lists (decoded by sharp). */
export const YOLO_IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/** Options of {@link loadYolo}. */
export interface YoloOptions extends DetectionReaderOptions {
  /** Sub-folder of `images/` and `labels/` to read (e.g. `train`, `val`); default `images/` and `labels/` themselves. */
  split?: string;
}

/**
 * The class names of a YOLO dataset folder, by one rule: `classes.txt` (one name per line, line `k` = class `k`,
 * blank lines at the end ignored) when it exists, else the `names` of `data.yaml` — a flow list
 * (`names: [a, b]`), a block list (`- a` lines) or an index map (`0: a` lines). Neither is `DATA_NOT_FOUND`.
 */
export function readYoloClasses(dir: string): string[] {
  const txt = join(dir, 'classes.txt');
  if (existsSync(txt)) {
    const lines = readText(txt, 'YOLO classes file').split(/\r?\n/);
    while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
    const names = lines.map((l) => l.trim());
    const blank = names.indexOf('');
    if (blank >= 0)
      throw new NetAugError('DATA_FORMAT', `${txt}: line ${blank + 1} is blank`, {
        hint: 'one class name per line; line k names class k',
        details: { file: txt },
      });
    if (!names.length)
      throw new NetAugError('DATA_FORMAT', `${txt}: no class names`, {
        hint: 'one class name per line',
        details: { file: txt },
      });
    return names;
  }
  const yaml = join(dir, 'data.yaml');
  if (existsSync(yaml)) return parseYamlNames(readText(yaml, 'YOLO data.yaml'), yaml);
  throw new NetAugError('DATA_NOT_FOUND', `no classes.txt or data.yaml in ${dir}`, {
    hint: 'write the class names to classes.txt, one per line (line k = class k)',
    details: { file: dir },
  });
}

const unquote = (s: string) => {
  const t = s.trim();
  return /^(['"]).*\1$/.test(t) ? t.slice(1, -1) : t;
};

/** The `names` of an Ultralytics `data.yaml` (the three common layouts; see {@link readYoloClasses}). */
export function parseYamlNames(text: string, file: string): string[] {
  const lines = text.split(/\r?\n/);
  const k = lines.findIndex((l) => /^names\s*:/.test(l));
  const fail = (msg: string, line: number): never => {
    throw new NetAugError('DATA_FORMAT', `${file}: line ${line}: ${msg}`, {
      hint: 'write names: [a, b, …] (or a classes.txt with one name per line)',
      details: { file, line },
    });
  };
  if (k < 0) return fail('no "names:" key', 1);
  const rest = lines[k]
    .replace(/^names\s*:/, '')
    .replace(/\s+#.*$/, '')
    .trim();
  let names: string[] = [];
  if (rest.startsWith('[')) {
    if (!rest.endsWith(']')) fail('the names list does not end with "]" on the same line', k + 1);
    const body = rest.slice(1, -1);
    names = (body.match(/'[^']*'|"[^"]*"|[^,]+/g) ?? []).map(unquote).filter((n) => n !== '');
  } else if (rest) {
    fail(`unsupported names value '${rest}'`, k + 1);
  } else {
    const byIndex = new Map<number, string>();
    for (let i = k + 1; i < lines.length; i++) {
      const l = lines[i].replace(/\s+#.*$/, '');
      if (!l.trim()) continue;
      if (!/^\s/.test(l)) break;
      let m: RegExpExecArray | null;
      if ((m = /^\s+-\s*(.*)$/.exec(l))) names.push(unquote(m[1]));
      else if ((m = /^\s+(\d+)\s*:\s*(.*)$/.exec(l))) byIndex.set(Number(m[1]), unquote(m[2]));
      else fail(`cannot read the names entry '${l.trim()}'`, i + 1);
    }
    if (byIndex.size) {
      if (names.length) fail('names mixes "- name" and "k: name" entries', k + 1);
      for (let i = 0; i < byIndex.size; i++) {
        if (!byIndex.has(i)) fail(`names has no entry ${i} (indices must be 0…n−1)`, k + 1);
        names.push(byIndex.get(i)!);
      }
    }
  }
  if (!names.length) fail('names is empty', k + 1);
  return names;
}

/**
 * Parses a YOLO label file: one object per line, `class cx cy w h` with the center and size normalised by the
 * image width/height (so in [0, 1]); blank lines are skipped. Returns pixel boxes of a `width × height` image
 * (`x = (cx − w/2) · width`, …). Problems are `DATA_FORMAT` naming `file` and the line.
 */
export function parseYoloLabels(
  text: string,
  file: string,
  width: number,
  height: number,
  numClasses: number,
  checker: BoxChecker = new BoxChecker('error', () => {}),
): Box[] {
  const boxes: Box[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    const t = line.trim();
    if (!t) return;
    const where = `${file}: line ${k + 1}`;
    const f = t.split(/\s+/);
    if (f.length !== 5)
      throw new NetAugError('DATA_FORMAT', `${where}: ${f.length} fields, expected 5 (class cx cy w h)`, {
        hint: 'YOLO detection labels are "class cx cy w h" per line (segmentation polygons are not supported)',
        details: { file, line: k + 1 },
      });
    const v = f.map(Number);
    if (!v.every(Number.isFinite))
      throw new NetAugError('DATA_FORMAT', `${where}: '${t}' has a field that is not a number`, {
        hint: 'YOLO labels are "class cx cy w h" with numbers',
        details: { file, line: k + 1 },
      });
    const [c, cx, cy, w, h] = v;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses)
      throw new NetAugError(
        'DATA_FORMAT',
        `${where}: unknown class ${f[0]} (${numClasses} classes: 0…${numClasses - 1})`,
        {
          hint: 'class indices count from 0 in the order of classes.txt / data.yaml names',
          details: { file, line: k + 1 },
        },
      );
    const box: Box = {
      x: (cx - w / 2) * width,
      y: (cy - h / 2) * height,
      w: w * width,
      h: h * height,
      label: c,
    };
    const ok = checker.check(
      box,
      width,
      height,
      where,
      `(${f
        .slice(1)
        .map((s) => fmt(Number(s)))
        .join(' ')})`,
    );
    if (ok) boxes.push(ok);
  });
  return boxes;
}

/**
 * Reads a YOLO (Ultralytics/Darknet) folder: `images/[split/]*.{jpg,jpeg,png,webp}` (sorted, not recursive),
 * labels in `labels/[split/]<stem>.txt`, classes by {@link readYoloClasses}. An image without a label file has no
 * objects (the YOLO convention for background images); a label file without an image is `DATA_NOT_FOUND`. Image
 * sizes are read from the headers at load time (normalised coordinates need them).
 */
export async function loadYolo(root: string, options: YoloOptions = {}): Promise<FileDetectionDataset> {
  const channels = channelsOption(options.channels, 'loadYolo');
  const dir = resolve(root);
  const sub = options.split ?? '';
  const imgDir = join(dir, 'images', sub);
  const lblDir = join(dir, 'labels', sub);
  if (!existsSync(imgDir))
    throw new NetAugError('DATA_NOT_FOUND', `no images folder ${imgDir}`, {
      hint: 'a YOLO dataset holds images/[split/] and labels/[split/] next to classes.txt or data.yaml',
      details: { file: imgDir },
    });
  const classNames = readYoloClasses(dir);
  const files = readdirSync(imgDir)
    .filter((f) => !f.startsWith('.') && YOLO_IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort();
  const stems = new Map<string, string>();
  for (const f of files) {
    const stem = basename(f, extname(f));
    if (stems.has(stem))
      throw new NetAugError(
        'DATA_FORMAT',
        `${imgDir}: images ${stems.get(stem)} and ${f} share the label file ${stem}.txt`,
        {
          hint: 'rename one of them: a YOLO label file belongs to the one image of the same name',
          details: { file: join(imgDir, f) },
        },
      );
    stems.set(stem, f);
  }
  if (existsSync(lblDir)) {
    for (const l of readdirSync(lblDir).sort()) {
      if (l.endsWith('.txt') && !l.startsWith('.') && !stems.has(l.slice(0, -4)))
        throw new NetAugError(
          'DATA_NOT_FOUND',
          `${join(lblDir, l)}: no image for this label file in ${imgDir}`,
          {
            hint: 'add the image (jpg, jpeg, png or webp) or remove the label file',
            details: { file: join(lblDir, l) },
          },
        );
    }
  }
  const checker = new BoxChecker(
    options.invalidBoxes ?? 'error',
    options.warn ?? ((m) => console.warn(`[netaug/detection] ${m}`)),
  );
  const records = await mapLimit(files, 8, async (f) => {
    const file = join(imgDir, f);
    const stem = basename(f, extname(f));
    const labelFile = join(lblDir, `${stem}.txt`);
    const { width, height } = await imageSize(file, labelFile);
    const boxes = existsSync(labelFile)
      ? parseYoloLabels(
          readText(labelFile, 'YOLO label file'),
          labelFile,
          width,
          height,
          classNames.length,
          checker,
        )
      : [];
    const r: ImageRecord = { file, width, height, boxes, id: stem, where: labelFile };
    return r;
  });
  checker.report(dir);
  const ds = new FileDetectionDataset(records, classNames, channels, 'yolo', dir);
  ds.skippedBoxes = checker.skipped;
  return ds;
}
