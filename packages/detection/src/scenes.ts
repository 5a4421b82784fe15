import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NetAugError, type Shape3 } from '@netaug/core';
import { EMBEDDED_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, deriveRng, loadBuiltin } from '@netaug/data';
import { intersectionArea, iou } from './boxes';
import { encodePng } from './png';
import { loadCoco, type CocoDataset } from './readers/coco';
import { copyBoxes } from './readers/common';
import type { Box, DetectionAnnotation, DetectionDataset, DetectionSample } from './types';

/** Stream tag of scene generation (`deriveRng(seed, STREAM_SCENES, split, index)`). */
export const STREAM_SCENES = 0x5ce7e;

/**
 * A pixel of a scaled item belongs to the object when its value (on [0, 1], after resampling) is at least this;
 * only those pixels are painted, and the box is their tight bounds.
 */
export const SCENE_ITEM_THRESHOLD = 0.1;
/** Item values at or above this are pasted opaque; below, with opacity `value / SCENE_ALPHA_RAMP`. */
export const SCENE_ALPHA_RAMP = 0.3;

/** The grayscale items pasted into scenes: `n` images of `shape[0] × shape[1] × 1`, 8-bit, with their labels. */
export interface SceneItems {
  pixels: Uint8Array;
  labels: Int32Array;
  shape: Shape3;
  classNames: string[];
  /** Where they came from (recorded in the written annotations; no absolute paths, to stay reproducible). */
  source?: string;
}

/** Options of {@link generateScenes}. */
export interface SceneOptions {
  /** Fashion-MNIST split the items come from: train scenes use training images only, test scenes test images only. */
  split: 'train' | 'test';
  /** Number of scenes. */
  count: number;
  /** Canvas side in pixels (default 96; 128 also common; at least `maxScale`). */
  size?: number;
  /** Default 0. */
  seed?: number;
  /** Items per scene are drawn uniformly in `[minItems, maxItems]` (defaults 1 and 6). */
  minItems?: number;
  maxItems?: number;
  /** Side of a pasted item (the 28×28 image scaled to `s × s`), uniform integer in `[minScale, maxScale]` (12, 48). */
  minScale?: number;
  maxScale?: number;
  /** The box of a new item must have IoU ≤ `maxOverlap` with every earlier item's box (default 0.3). */
  maxOverlap?: number;
  /**
   * A new item (painted over earlier ones) may cover at most this fraction of an earlier item's box (default 0.5),
   * so that no item is hidden behind a later one — IoU alone allows a small box inside a large one.
   */
  maxCovered?: number;
  /** Placements tried per item before it is left out (default 30). */
  attempts?: number;
  /** 1 (grayscale, default) or 3 (coloured background gradients, tinted items). */
  channels?: 1 | 3;
  /** Index of the first scene (default 0): scene `k` is the same whatever `start` and `count` (for regenerating a few). */
  start?: number;
  /** Where to read Fashion-MNIST (default: the embedded subset of `@netaug/data`, so a seed gives the same scenes everywhere). */
  dataDir?: string;
  /** The items to paste (the images of `split`), instead of reading Fashion-MNIST. */
  items?: SceneItems;
}

/** A box of a generated scene: the tight bounds of the pasted item. */
export interface SceneBox extends Box {
  /** Number of pixels of the item (value ≥ {@link SCENE_ITEM_THRESHOLD}), COCO's `area`. */
  area: number;
  /** Index of the item in its Fashion-MNIST split. */
  item: number;
  /** Side the item was scaled to. */
  scale: number;
}

/** One generated scene: 8-bit HWC pixels and its boxes (in paste order). */
export interface Scene {
  index: number;
  /** Relative path written by {@link writeScenes}: `images/<index, 6 digits>.png`. */
  fileName: string;
  height: number;
  width: number;
  channels: 1 | 3;
  pixels: Uint8Array;
  boxes: SceneBox[];
}

/** {@link SceneOptions} with every default filled in (what {@link GeneratedScenes} records). */
export type ResolvedSceneOptions = Required<Omit<SceneOptions, 'dataDir' | 'items'>>;

function resolveOptions(o: SceneOptions): ResolvedSceneOptions {
  const r: ResolvedSceneOptions = {
    split: o.split,
    count: o.count,
    size: o.size ?? 96,
    seed: o.seed ?? 0,
    minItems: o.minItems ?? 1,
    maxItems: o.maxItems ?? 6,
    minScale: o.minScale ?? 12,
    maxScale: o.maxScale ?? 48,
    maxOverlap: o.maxOverlap ?? 0.3,
    maxCovered: o.maxCovered ?? 0.5,
    attempts: o.attempts ?? 30,
    channels: o.channels ?? 1,
    start: o.start ?? 0,
  };
  const bad = (msg: string, hint: string): never => {
    throw new NetAugError('INVALID_ARGUMENT', `generateScenes: ${msg}`, { hint });
  };
  if (r.split !== 'train' && r.split !== 'test')
    bad(`split must be train or test, got ${String(r.split)}`, 'pick the split');
  const ints: (keyof ResolvedSceneOptions)[] = [
    'count',
    'size',
    'minItems',
    'maxItems',
    'minScale',
    'maxScale',
    'attempts',
    'start',
  ];
  for (const k of ints) {
    const v = r[k] as number;
    if (!Number.isInteger(v) || v < 0)
      bad(`${k} must be a non-negative integer, got ${v}`, 'pass whole numbers');
  }
  if (r.minItems > r.maxItems) bad(`minItems ${r.minItems} > maxItems ${r.maxItems}`, 'swap them');
  if (!(r.minScale >= 1 && r.minScale <= r.maxScale))
    bad(
      `need 1 ≤ minScale ≤ maxScale, got ${r.minScale} and ${r.maxScale}`,
      'item sides are in pixels, e.g. 12 and 48',
    );
  if (r.maxScale > r.size)
    bad(`maxScale ${r.maxScale} exceeds the canvas size ${r.size}`, 'raise size or lower maxScale');
  if (!(r.maxCovered >= 0 && r.maxCovered <= 1))
    bad(`maxCovered must be in [0, 1], got ${r.maxCovered}`, 'it is a fraction of a box area');
  if (!(r.maxOverlap >= 0 && r.maxOverlap <= 1))
    bad(`maxOverlap must be in [0, 1], got ${r.maxOverlap}`, 'it is an IoU');
  if (r.channels !== 1 && r.channels !== 3)
    bad(`channels must be 1 or 3, got ${String(r.channels)}`, 'use 1 or 3');
  if (!Number.isFinite(r.seed)) bad(`seed must be a number, got ${r.seed}`, 'pass an integer seed');
  return r;
}

/**
 * 1-D resampling weights from `n` source pixels to `m` outputs: area averaging when shrinking (`m < n`),
 * bilinear with half-pixel centers when enlarging. Row `o` lists `[sourceIndex, weight]` pairs summing to 1.
 */
function weights(n: number, m: number): [number, number][][] {
  const rows: [number, number][][] = [];
  for (let o = 0; o < m; o++) {
    const row: [number, number][] = [];
    if (m < n) {
      const r = n / m;
      const a = o * r;
      const b = (o + 1) * r;
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const w = Math.min(b, i + 1) - Math.max(a, i);
        if (w > 0) row.push([i, w / r]);
      }
    } else {
      const s = Math.min(n - 1, Math.max(0, ((o + 0.5) * n) / m - 0.5));
      const i0 = Math.floor(s);
      const f = s - i0;
      row.push([i0, 1 - f]);
      if (f > 0) row.push([Math.min(n - 1, i0 + 1), f]);
    }
    rows.push(row);
  }
  return rows;
}

/** Item `index` of `items` (values / 255) resampled to `s × s`. */
function scaledItem(items: SceneItems, index: number, s: number): Float64Array {
  const [h, w] = items.shape;
  const off = index * h * w;
  const wy = weights(h, s);
  const wx = weights(w, s);
  const tmp = new Float64Array(h * s); // rows of the source, columns resampled
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < s; x++) {
      let v = 0;
      for (const [i, wt] of wx[x]) v += wt * items.pixels[off + y * w + i];
      tmp[y * s + x] = v / 255;
    }
  }
  const out = new Float64Array(s * s);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let v = 0;
      for (const [i, wt] of wy[y]) v += wt * tmp[i * s + x];
      out[y * s + x] = v;
    }
  }
  return out;
}

/** Renders scene `index` (a pure function of the options, the items and `index`). */
function renderScene(items: SceneItems, o: ResolvedSceneOptions, index: number): Scene {
  const rng = deriveRng(o.seed, STREAM_SCENES, o.split === 'train' ? 0 : 1, index);
  const S = o.size;
  const C = o.channels;
  const n = items.labels.length;
  const canvas = new Float64Array(S * S * C);

  // background: a linear gradient (random direction and end values) + smooth value noise + fine grain
  let dx = rng.uniform(-1, 1);
  let dy = rng.uniform(-1, 1);
  const norm = Math.sqrt(dx * dx + dy * dy) || 1;
  dx /= norm;
  dy /= norm;
  const g0: number[] = [];
  const g1: number[] = [];
  for (let k = 0; k < C; k++) {
    g0.push(rng.uniform(0.05, 0.45));
    g1.push(rng.uniform(0.05, 0.45));
  }
  const cell = [8, 12, 16, 24][rng.int(4)];
  const amp = rng.uniform(0.03, 0.12);
  const gw = Math.floor(S / cell) + 2;
  const grid = new Float64Array(gw * gw);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.uniform(-amp, amp);
  const smooth = (f: number) => f * f * (3 - 2 * f);
  for (let y = 0; y < S; y++) {
    const gy = y / cell;
    const iy = Math.floor(gy);
    const fy = smooth(gy - iy);
    for (let x = 0; x < S; x++) {
      const t = Math.min(1, Math.max(0, ((x + 0.5 - S / 2) * dx + (y + 0.5 - S / 2) * dy) / S + 0.5));
      const gx = x / cell;
      const ix = Math.floor(gx);
      const fx = smooth(gx - ix);
      const a = grid[iy * gw + ix] + (grid[iy * gw + ix + 1] - grid[iy * gw + ix]) * fx;
      const b = grid[(iy + 1) * gw + ix] + (grid[(iy + 1) * gw + ix + 1] - grid[(iy + 1) * gw + ix]) * fx;
      const noise = a + (b - a) * fy + rng.uniform(-0.02, 0.02);
      for (let k = 0; k < C; k++) canvas[(y * S + x) * C + k] = g0[k] + (g1[k] - g0[k]) * t + noise;
    }
  }

  // items: drawn, scaled, placed with limited overlap, painted over what is there
  const boxes: SceneBox[] = [];
  const count = o.minItems + rng.int(o.maxItems - o.minItems + 1);
  for (let j = 0; j < count; j++) {
    const item = rng.int(n);
    const s = o.minScale + rng.int(o.maxScale - o.minScale + 1);
    const tint: number[] = [];
    for (let k = 0; k < C; k++) tint.push(C === 1 ? 1 : rng.uniform(0.5, 1));
    const px = scaledItem(items, item, s);
    let c0 = s;
    let r0 = s;
    let c1 = -1;
    let r1 = -1;
    let area = 0;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        if (px[y * s + x] < SCENE_ITEM_THRESHOLD) continue;
        area++;
        if (x < c0) c0 = x;
        if (x > c1) c1 = x;
        if (y < r0) r0 = y;
        if (y > r1) r1 = y;
      }
    }
    if (!area) continue;
    for (let a = 0; a < o.attempts; a++) {
      const left = rng.int(S - s + 1);
      const top = rng.int(S - s + 1);
      const box: SceneBox = {
        x: left + c0,
        y: top + r0,
        w: c1 - c0 + 1,
        h: r1 - r0 + 1,
        label: items.labels[item],
        area,
        item,
        scale: s,
      };
      const fits = boxes.every(
        (b) => iou(b, box) <= o.maxOverlap && intersectionArea(b, box) <= o.maxCovered * b.w * b.h,
      );
      if (!fits) continue;
      boxes.push(box);
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const v = px[y * s + x];
          if (v < SCENE_ITEM_THRESHOLD) continue;
          const alpha = Math.min(1, v / SCENE_ALPHA_RAMP);
          const p = ((top + y) * S + left + x) * C;
          for (let k = 0; k < C; k++) canvas[p + k] = canvas[p + k] * (1 - alpha) + v * tint[k] * alpha;
        }
      }
      break;
    }
  }
  const pixels = new Uint8Array(canvas.length);
  for (let i = 0; i < canvas.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, canvas[i])) * 255);
  return {
    index,
    fileName: `images/${String(index).padStart(6, '0')}.png`,
    height: S,
    width: S,
    channels: C,
    pixels,
    boxes,
  };
}

/**
 * Generated scenes: the list ({@link Scene}, 8-bit) and a {@link DetectionDataset} over it (`get` is synchronous
 * and returns [0, 1] floats).
 */
export class GeneratedScenes implements DetectionDataset {
  readonly size: number;
  readonly format = 'scenes' as const;
  readonly source: string;

  constructor(
    readonly scenes: Scene[],
    readonly classNames: string[],
    /** The options with every default filled in. */
    readonly options: Readonly<ResolvedSceneOptions>,
    /** Where the items came from (`embedded`, `system`, `env`, `dataDir`, or the caller's `items.source`). */
    readonly itemSource: string,
  ) {
    this.size = scenes.length;
    this.source = `fashion-mnist scenes (${options.split}, seed ${options.seed})`;
  }

  private scene(i: number): Scene {
    if (!Number.isInteger(i) || i < 0 || i >= this.size)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `Index ${i} out of range [0, ${this.size}) of ${this.source}`,
        {
          hint: 'pass an index below size',
        },
      );
    return this.scenes[i];
  }

  annotation(i: number): DetectionAnnotation {
    const s = this.scene(i);
    return { height: s.height, width: s.width, boxes: copyBoxes(s.boxes), file: s.fileName, id: s.index + 1 };
  }

  get(i: number): DetectionSample {
    const s = this.scene(i);
    const image = new Float32Array(s.pixels.length);
    for (let k = 0; k < image.length; k++) image[k] = s.pixels[k] / 255;
    return {
      image,
      height: s.height,
      width: s.width,
      channels: s.channels,
      boxes: copyBoxes(s.boxes),
      file: s.fileName,
      id: s.index + 1,
    };
  }
}

/**
 * Renders scenes from given items (the synchronous core of {@link generateScenes}; `items` must be the images of
 * `options.split`).
 */
export function renderScenes(items: SceneItems, options: SceneOptions): GeneratedScenes {
  const o = resolveOptions(options);
  const [h, w, c] = items.shape;
  if (c !== 1 || items.pixels.length !== items.labels.length * h * w || !items.labels.length)
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `generateScenes: items must be grayscale ${h}×${w}×1 images with one label each`,
      {
        hint: "pass loadBuiltin('fashion-mnist', { split }) or leave items out",
      },
    );
  const scenes: Scene[] = [];
  for (let k = 0; k < o.count; k++) scenes.push(renderScene(items, o, o.start + k));
  return new GeneratedScenes(scenes, items.classNames, o, items.source ?? 'custom');
}

/**
 * Generates `count` detection scenes from Fashion-MNIST items, seeded: each scene is a `size × size` canvas with a
 * textured background (gradient + smooth noise + grain) and `minItems…maxItems` items (28×28 images of `split`,
 * scaled to `minScale…maxScale` px, area-averaged when shrunk, bilinear when enlarged) placed so that each box has
 * IoU ≤ `maxOverlap` with every earlier box and covers at most `maxCovered` of any earlier box (an item that finds
 * no place in `attempts` tries is left out, so a scene may hold fewer). An item's pixels with value ≥ {@link SCENE_ITEM_THRESHOLD} are painted (opacity
 * `min(1, v / 0.3)`), and its box is their tight bounds — the whole item, also where a later item covers part of
 * it. Labels are the Fashion-MNIST classes. Scene `k` depends only on `(seed, split, k)`, the options and the
 * items: the same seed gives the same pixels and boxes.
 */
export async function generateScenes(options: SceneOptions): Promise<GeneratedScenes> {
  resolveOptions(options);
  let items = options.items;
  if (!items) {
    const ds = await loadBuiltin('fashion-mnist', {
      split: options.split,
      dataDir: options.dataDir ?? EMBEDDED_FASHION_MNIST_DIR,
    });
    items = {
      pixels: ds.pixels,
      labels: ds.labels,
      shape: ds.shape,
      classNames: ds.classNames,
      source:
        resolve(ds.sourceDir) === resolve(EMBEDDED_FASHION_MNIST_DIR)
          ? 'embedded subset of @netaug/data'
          : ds.sourceKind,
    };
  }
  return renderScenes(items, options);
}

/**
 * JSON laid out as prettier (print width 110) lays it out, so generated files pass `prettier --check`: the top two
 * levels of objects one key per line, deeper objects on one line when they fit (with the trailing comma), else one
 * key per line; arrays of primitives on one line.
 */
function prettyJson(v: unknown, indent: string, trailing: string, depth: number): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object'))
      return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const rows = v.map((x, i) => inner + prettyJson(x, inner, i < v.length - 1 ? ',' : '', depth + 1));
    return `[\n${rows.join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (!entries.length) return '{}';
  if (depth >= 2) {
    const flat = `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${prettyJson(x, '', '', 99)}`).join(', ')} }`;
    if (depth === 99 || indent.length + flat.length + trailing.length <= 110) return flat;
  }
  const rows = entries.map(
    ([k, x], i) =>
      `${inner}${JSON.stringify(k)}: ${prettyJson(x, inner, i < entries.length - 1 ? ',' : '', depth + 1)}`,
  );
  return `{\n${rows.join(',\n')}\n${indent}}`;
}

/**
 * Writes scenes as a COCO dataset that {@link loadCoco} reads back: `<dir>/annotations.json` and
 * `<dir>/images/<index>.png` (8-bit grayscale or RGB PNG, no metadata). Image ids are `index + 1`, category ids
 * `label + 1`, annotations carry COCO's `area` (item pixels) and `iscrowd: 0` plus the item's Fashion-MNIST index
 * and scale (`fmnist_index`, `scale`); `info` records the generator options. Existing `images/` in `dir` are removed
 * first. Same scenes → same bytes.
 */
export function writeScenes(
  dir: string,
  scenes: GeneratedScenes,
): { annotationFile: string; images: number } {
  const out = resolve(dir);
  rmSync(join(out, 'images'), { recursive: true, force: true });
  mkdirSync(join(out, 'images'), { recursive: true });
  for (const s of scenes.scenes)
    writeFileSync(join(out, s.fileName), encodePng(s.pixels, s.width, s.height, s.channels));
  const o = scenes.options;
  const info = {
    description: 'Fashion-MNIST detection scenes generated by @netaug/detection generateScenes',
    split: o.split,
    seed: o.seed,
    options: { ...o },
    items: `fashion-mnist ${o.split} (${scenes.itemSource})`,
    threshold: SCENE_ITEM_THRESHOLD,
  };
  const images = scenes.scenes.map((s) => ({
    id: s.index + 1,
    file_name: s.fileName,
    width: s.width,
    height: s.height,
  }));
  let annId = 0;
  const annotations = scenes.scenes.flatMap((s) =>
    s.boxes.map((b) => ({
      id: ++annId,
      image_id: s.index + 1,
      category_id: b.label + 1,
      bbox: [b.x, b.y, b.w, b.h],
      area: b.area,
      iscrowd: 0,
      fmnist_index: b.item,
      scale: b.scale,
    })),
  );
  const categories = scenes.classNames.map((name, k) => ({ id: k + 1, name, supercategory: 'fashion' }));
  const json = prettyJson({ info, images, annotations, categories }, '', '', 0) + '\n';
  const annotationFile = join(out, 'annotations.json');
  writeFileSync(annotationFile, json);
  return { annotationFile, images: scenes.size };
}

/**
 * Folder of the scenes shipped with this package: `train/` (200) and `test/` (100) scenes of 96×96 grayscale,
 * each `annotations.json` + `images/*.png`, made by `scripts/make-scenes.mjs` with {@link EMBEDDED_SCENES_OPTIONS}.
 */
export const EMBEDDED_SCENES_DIR = resolve(__dirname, '..', 'assets', 'fashion-scenes');

/** The options the embedded scenes were generated with (items from `@netaug/data`'s embedded Fashion-MNIST subset). */
export const EMBEDDED_SCENES_OPTIONS: Readonly<Record<'train' | 'test', SceneOptions>> = {
  train: { split: 'train', count: 200, size: 96, seed: 2026, channels: 1 },
  test: { split: 'test', count: 100, size: 96, seed: 2026, channels: 1 },
};

/** Reads the embedded scenes of `split` (a COCO dataset; images decoded as 1 channel unless `channels: 3`). */
export function loadEmbeddedScenes(
  split: 'train' | 'test',
  options: { channels?: 1 | 3 } = {},
): Promise<CocoDataset> {
  if (split !== 'train' && split !== 'test')
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `loadEmbeddedScenes: split must be train or test, got ${String(split)}`,
      {
        hint: 'the embedded copy has a train and a test split',
      },
    );
  return loadCoco(join(EMBEDDED_SCENES_DIR, split, 'annotations.json'), { channels: options.channels ?? 1 });
}

/** Default class names of generated scenes (the Fashion-MNIST classes). */
export const SCENE_CLASSES = FASHION_MNIST_CLASSES;
