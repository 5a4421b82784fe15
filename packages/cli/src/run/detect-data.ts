import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NetAugError, Rng } from '@netaug/core';
import type { DetectionDataset } from '@netaug/detection';
import type { RunConfig } from './run-config';

/** A detection data spec of `--data` with `--task detect`. */
export type DetectDataSpec =
  | { kind: 'scenes' }
  | { kind: 'coco'; train: string; test?: string }
  | { kind: 'voc'; dir: string }
  | { kind: 'yolo'; dir: string };

const FORMS =
  'scenes, coco:<annotations.json>[,<test annotations.json>], voc:<VOC year folder> or yolo:<folder>';

/** Parses `scenes`, `coco:<json>[,<json>]`, `voc:<dir>`, `yolo:<dir>`; anything else is INVALID_CONFIG. */
export function parseDetectData(data: string): DetectDataSpec {
  if (data === 'scenes') return { kind: 'scenes' };
  const m = /^(coco|voc|yolo):(.+)$/.exec(data);
  if (!m)
    throw new NetAugError('INVALID_CONFIG', `data '${data}' is not detection data`, {
      hint: `with --task detect, --data is ${FORMS}`,
    });
  const [, kind, rest] = m;
  if (kind === 'coco') {
    const [train, test, extra] = rest.split(',');
    if (extra !== undefined || !train)
      throw new NetAugError('INVALID_CONFIG', `data '${data}': coco takes one or two annotation files`, {
        hint: 'coco:train.json or coco:train.json,test.json',
      });
    return { kind: 'coco', train, ...(test ? { test } : {}) };
  }
  return { kind: kind as 'voc' | 'yolo', dir: rest };
}

/**
 * The data's identity in a run's hash: `scenes@embedded`; for COCO the sha256 of each annotation file (the same
 * annotations anywhere are the same data, so a study's records hold on another machine or checkout; generated
 * scenes record their generator options in the file); for VOC and YOLO folders the absolute path.
 */
export function detectDataIdentity(data: string): string {
  const s = parseDetectData(data);
  if (s.kind === 'scenes') return 'scenes@embedded';
  if (s.kind === 'coco') return `coco:${[s.train, ...(s.test ? [s.test] : [])].map(fileIdentity).join(',')}`;
  return `${s.kind}:${resolve(s.dir)}`;
}

/** `sha256:<hex>` of a file's bytes; a missing file is the COCO reader's DATA_NOT_FOUND error. */
function fileIdentity(file: string): string {
  if (!existsSync(file))
    throw new NetAugError('DATA_NOT_FOUND', `COCO annotation file '${file}' does not exist`, {
      hint: 'check the path of --data coco:<train.json>[,<test.json>] (generated scenes: netaug data scenes <folder>)',
    });
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/** The images `indices` of `ds`, in that order. */
export function pick(ds: DetectionDataset, indices: readonly number[]): DetectionDataset {
  return {
    size: indices.length,
    classNames: ds.classNames,
    format: ds.format,
    source: ds.source,
    get: (i) => ds.get(indices[i]),
    ...(ds.annotation ? { annotation: (i: number) => ds.annotation!(indices[i]) } : {}),
  };
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * A seeded split of `ds` (the same for every run seed): `held` images, drawn at random, and the rest, each in
 * the data set's order.
 */
function holdOut(
  ds: DetectionDataset,
  held: number,
  what: string,
): { rest: DetectionDataset; held: DetectionDataset } {
  if (held >= ds.size)
    throw new NetAugError(
      'INVALID_CONFIG',
      `${what}: ${held} images held out of ${ds.size}: nothing would be left to train on`,
      { hint: `hold out fewer than ${ds.size} images` },
    );
  const perm = new Rng(`detect-holdout/${what}`).permutation(ds.size);
  const heldSet = new Set(Array.from(perm.subarray(0, held)));
  const rest = range(0, ds.size).filter((i) => !heldSet.has(i));
  return {
    rest: pick(ds, rest),
    held: pick(
      ds,
      [...heldSet].sort((a, b) => a - b),
    ),
  };
}

/** The train and evaluation data of a detection run. */
export interface DetectRunData {
  train: DetectionDataset;
  val?: DetectionDataset;
  test: DetectionDataset;
  classNames: string[];
  /** Where the data came from (`embedded scenes`, the annotation file or folder). */
  source: string;
  channels: 1 | 3;
  /** Square input size (the images are letterboxed to it). */
  resolution: number;
}

/** The splits a detection data spec names, before any hold-out (see {@link loadDetectRunData}). */
export async function loadDetectSplits(
  data: string,
  channels: 1 | 3,
): Promise<{ train: DetectionDataset; test?: DetectionDataset; source: string }> {
  const det = await import('@netaug/detection');
  const spec = parseDetectData(data);
  const need = (p: string, what: string) => {
    if (!existsSync(p))
      throw new NetAugError('DATA_NOT_FOUND', `${what} '${p}' does not exist`, {
        hint: `with --task detect, --data is ${FORMS}`,
      });
  };
  let train: DetectionDataset;
  let test: DetectionDataset | undefined;
  let source: string;
  if (spec.kind === 'scenes') {
    [train, test] = await Promise.all([
      det.loadEmbeddedScenes('train', { channels }),
      det.loadEmbeddedScenes('test', { channels }),
    ]);
    source = 'embedded scenes';
  } else if (spec.kind === 'coco') {
    need(spec.train, 'COCO annotation file');
    if (spec.test) need(spec.test, 'COCO annotation file');
    train = await det.loadCoco(spec.train, { channels });
    if (spec.test) test = await det.loadCoco(spec.test, { channels });
    source = spec.test ? `${spec.train},${spec.test}` : spec.train;
  } else if (spec.kind === 'voc') {
    need(spec.dir, 'VOC folder');
    // the 20 VOC classes in their usual order when every object is one of them, else the names found, sorted
    const found = (await det.loadVoc(spec.dir, { classNames: 'infer', checkImages: false })).classNames;
    const classNames = found.every((n) => det.VOC_CLASSES.includes(n)) ? [...det.VOC_CLASSES] : found;
    const main = join(spec.dir, 'ImageSets', 'Main');
    if (existsSync(join(main, 'test.txt'))) {
      const trainSplit = existsSync(join(main, 'trainval.txt')) ? 'trainval' : 'train';
      train = await det.loadVoc(spec.dir, { split: trainSplit, channels, classNames });
      test = await det.loadVoc(spec.dir, { split: 'test', channels, classNames });
    } else train = await det.loadVoc(spec.dir, { channels, classNames });
    source = spec.dir;
  } else {
    need(spec.dir, 'YOLO folder');
    const testSplit = ['val', 'test'].find((s) => existsSync(join(spec.dir, 'images', s)));
    if (existsSync(join(spec.dir, 'images', 'train')) && testSplit) {
      train = await det.loadYolo(spec.dir, { split: 'train', channels });
      test = await det.loadYolo(spec.dir, { split: testSplit, channels });
    } else train = await det.loadYolo(spec.dir, { channels });
    source = spec.dir;
  }
  return { train, ...(test ? { test } : {}), source };
}

/**
 * Loads the data of a detection run with the readers of `@netaug/detection` (`loadEmbeddedScenes`, `loadCoco`,
 * `loadVoc`, `loadYolo`): a test split where the data has one (scenes: its test split; COCO: the second file;
 * VOC: `ImageSets/Main/test.txt` against `trainval` (or `train`); YOLO: `images/val` or `images/test` against
 * `images/train`), else a seeded `valFraction` of the images held out as test data. VOC classes: the 20 VOC
 * classes in their usual order when every object is one of them, else the names found, sorted. Then `valSplit` training
 * images held out (seeded, the same for every seed), the first `subset` training images and the first `testSubset`
 * test images. `resolution` defaults to the largest side of the first training image, rounded up to a multiple
 * of 16 (the detector's largest stride).
 */
export async function loadDetectRunData(cfg: RunConfig): Promise<DetectRunData> {
  const channels: 1 | 3 = cfg.channels ?? (parseDetectData(cfg.data).kind === 'scenes' ? 1 : 3);
  let { train, test, source } = await loadDetectSplits(cfg.data, channels);
  if (!test) {
    const held = Math.max(1, Math.round(train.size * cfg.valFraction));
    ({ rest: train, held: test } = holdOut(train, held, 'test'));
    source += ` (${test.size} images held out as test data, valFraction ${cfg.valFraction})`;
  }
  if (test.classNames.join('\n') !== train.classNames.join('\n'))
    throw new NetAugError(
      'DATA_FORMAT',
      `the test data of ${source} has other classes than its training data`,
      {
        hint: 'use annotation files with the same categories',
      },
    );
  let val: DetectionDataset | undefined;
  if (cfg.valSplit) ({ rest: train, held: val } = holdOut(train, cfg.valSplit, 'valSplit'));
  const tooMany = (key: string, n: number, have: number, what: string) =>
    new NetAugError('INVALID_CONFIG', `${key} ${n} is more than the ${have} ${what} of ${source}`, {
      hint: `use at most ${have}, or leave ${key} out to use them all`,
    });
  if (cfg.subset && cfg.subset > train.size)
    throw tooMany('subset', cfg.subset, train.size, 'training images');
  if (cfg.testSubset && cfg.testSubset > test.size)
    throw tooMany('testSubset', cfg.testSubset, test.size, 'test images');
  if (cfg.subset) train = pick(train, range(0, cfg.subset));
  if (cfg.testSubset) test = pick(test, range(0, cfg.testSubset));
  let resolution = cfg.resolution;
  if (resolution === undefined) {
    const a = train.annotation?.(0) ?? (await train.get(0));
    resolution = Math.ceil(Math.max(a.height, a.width) / 16) * 16;
  }
  return { train, ...(val ? { val } : {}), test, classNames: train.classNames, source, channels, resolution };
}
