import { existsSync, readFileSync } from 'node:fs';
import { loadSharp } from '@netaug/data';
import { NetAugError } from '@netaug/core';
import type { Box, DetectionAnnotation, DetectionDataset, DetectionFormat, DetectionSample } from '../types';

/** How far (in pixels) a box may extend beyond its image before a reader refuses it; it is clipped to the image. */
export const BOX_TOLERANCE = 1;

/** Options shared by the file readers. */
export interface DetectionReaderOptions {
  /** Channels of the decoded images: 1 (grayscale) or 3 (RGB, default). */
  channels?: 1 | 3;
  /** Check at load time that every image file exists (default true): a missing one is `DATA_NOT_FOUND`. */
  checkImages?: boolean;
  /**
   * A box with a zero or negative size, or more than {@link BOX_TOLERANCE} px outside its image: `error` (default,
   * `DATA_FORMAT` naming the file and the box) or `skip` (dropped, counted in `skippedBoxes`, one warning).
   */
  invalidBoxes?: 'error' | 'skip';
  /** Where the warning about skipped boxes goes (default `console.warn`). */
  warn?: (message: string) => void;
}

/** One image of a file-backed dataset: its file, its size as annotated, its boxes. */
export interface ImageRecord {
  file: string;
  width: number;
  height: number;
  boxes: Box[];
  id: number | string;
  /** The annotation file (and entry) that listed it, for messages. */
  where: string;
}

/** Collects the boxes refused with `invalidBoxes: 'skip'`, or throws for `error`. */
export class BoxChecker {
  skipped = 0;
  private first = '';
  constructor(
    private readonly mode: 'error' | 'skip',
    private readonly warn: (m: string) => void,
  ) {}

  /**
   * `box` checked against a `width × height` image: finite numbers, `w > 0`, `h > 0`, at most
   * {@link BOX_TOLERANCE} px outside the image (then clipped to it). `where` names the file and the box.
   * Returns `null` when the box is skipped.
   */
  check(box: Box, width: number, height: number, where: string, written: string): Box | null {
    const { x, y, w, h } = box;
    let problem: string | null = null;
    let hint = '';
    if (![x, y, w, h].every(Number.isFinite)) {
      problem = `box ${written} has a coordinate that is not a finite number`;
      hint = 'every coordinate must be a number';
    } else if (!(w > 0) || !(h > 0)) {
      problem = `box ${written} has a zero or negative size (w ${fmt(w)}, h ${fmt(h)})`;
      hint = 'every box needs a positive width and height; fix or remove it';
    } else {
      const excess = Math.max(-x, -y, x + w - width, y + h - height);
      const x1 = Math.max(0, x);
      const y1 = Math.max(0, y);
      const x2 = Math.min(width, x + w);
      const y2 = Math.min(height, y + h);
      if (excess > BOX_TOLERANCE) {
        problem = `box ${written} extends ${fmt(excess)} px beyond the ${width}×${height} image`;
        hint = `boxes may exceed their image by at most ${BOX_TOLERANCE} px; check the coordinate convention and the image size`;
      } else if (!(x2 > x1 && y2 > y1)) {
        problem = `box ${written} lies outside the ${width}×${height} image`;
        hint = 'fix or remove the box';
      } else {
        const out: Box = { ...box, x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
        return out;
      }
    }
    if (this.mode === 'error')
      throw new NetAugError('DATA_FORMAT', `${where}: ${problem}`, {
        hint: `${hint}, or pass invalidBoxes: 'skip' to drop such boxes`,
        details: { where },
      });
    if (!this.skipped) this.first = `${where}: ${problem}`;
    this.skipped++;
    return null;
  }

  /** Warns once about the skipped boxes (if any). */
  report(source: string): void {
    if (this.skipped)
      this.warn(`skipped ${this.skipped} invalid box(es) in ${source}; the first: ${this.first}`);
  }
}

/** A number as written in messages (integers bare, others with up to 4 decimals). */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e4) / 1e4);
}

/** Reads a text file, failing with `DATA_NOT_FOUND` / `IO` naming it (and `what` it is). */
export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new NetAugError('DATA_NOT_FOUND', `${what} not found: ${file}`, {
        cause: e,
        hint: 'check the path (and the dataset layout described in the @netaug/detection README)',
        details: { file },
      });
    throw new NetAugError('IO', `Cannot read ${what} ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: 'check the permissions of the file',
      details: { file },
    });
  }
}

/** Throws `DATA_NOT_FOUND` for image files that do not exist. */
export function checkImageFiles(records: ImageRecord[]): void {
  for (const r of records) {
    if (!existsSync(r.file))
      throw new NetAugError('DATA_NOT_FOUND', `${r.where}: image file not found: ${r.file}`, {
        hint: 'put the image there, point the reader at the folder that holds the images, or pass checkImages: false',
        details: { file: r.file, where: r.where },
      });
  }
}

/** `{ width, height }` of an image file's stored pixels (EXIF orientation is not applied), read from its header. */
export async function imageSize(file: string, where: string): Promise<{ width: number; height: number }> {
  if (!existsSync(file))
    throw new NetAugError('DATA_NOT_FOUND', `${where}: image file not found: ${file}`, {
      hint: 'put the image there or remove its annotation',
      details: { file, where },
    });
  const sharp = await loadSharp('reading detection images');
  try {
    const m = await sharp(file).metadata();
    if (!m.width || !m.height) throw new Error('no size in the header');
    return { width: m.width, height: m.height };
  } catch (e) {
    throw new NetAugError('DATA_FORMAT', `${where}: cannot read image ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: 'replace the file with a readable JPEG/PNG/WebP image or remove its annotation',
      details: { file, where },
    });
  }
}

/**
 * Decodes an image file to 8-bit HWC pixels with `channels` channels at its stored size (no EXIF rotation, so
 * boxes stay in the stored pixels' coordinates, as COCO and VOC annotate them).
 */
export async function decodePixels(
  file: string,
  channels: 1 | 3,
  where: string,
): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  const sharp = await loadSharp('decoding detection images');
  try {
    let p = sharp(file);
    p = channels === 1 ? p.grayscale() : p.toColourspace('srgb');
    ({ data, info } = await p.removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new NetAugError('DATA_FORMAT', `${where}: cannot decode image ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: 'replace the file with a readable JPEG/PNG/WebP image or remove its annotation',
      details: { file, where },
    });
  }
  const n = info.width * info.height;
  if (info.channels === channels)
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, n * channels), ...size(info) };
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < channels; k++)
      out[p * channels + k] = data[p * info.channels + Math.min(k, info.channels - 1)];
  }
  return { pixels: out, ...size(info) };
}

function size(info: { width: number; height: number }) {
  return { width: info.width, height: info.height };
}

/** Copies boxes (so callers may modify what they get). */
export function copyBoxes(boxes: readonly Box[]): Box[] {
  return boxes.map((b) => ({ ...b }));
}

/**
 * A detection dataset of image files with their boxes (made by the COCO, VOC and YOLO readers): only the
 * annotations are in memory; `get` decodes the image with sharp to [0, 1] floats and checks that its size is the
 * annotated one (`DATA_FORMAT` naming both otherwise).
 */
export class FileDetectionDataset implements DetectionDataset {
  readonly size: number;
  /** Boxes dropped with `invalidBoxes: 'skip'`. */
  skippedBoxes = 0;

  constructor(
    readonly records: ImageRecord[],
    readonly classNames: string[],
    readonly channels: 1 | 3,
    readonly format: DetectionFormat,
    readonly source: string,
  ) {
    this.size = records.length;
  }

  private record(index: number): ImageRecord {
    if (!Number.isInteger(index) || index < 0 || index >= this.size)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `Index ${index} out of range [0, ${this.size}) of ${this.source}`,
        {
          hint: 'pass an index below dataset.size',
        },
      );
    return this.records[index];
  }

  annotation(index: number): DetectionAnnotation {
    const r = this.record(index);
    return { height: r.height, width: r.width, boxes: copyBoxes(r.boxes), file: r.file, id: r.id };
  }

  async get(index: number): Promise<DetectionSample> {
    const r = this.record(index);
    const { pixels, width, height } = await decodePixels(r.file, this.channels, r.where);
    if (width !== r.width || height !== r.height)
      throw new NetAugError(
        'DATA_FORMAT',
        `${r.where}: image ${r.file} is ${width}×${height} but the annotation says ${r.width}×${r.height}`,
        {
          hint: 'fix the width/height in the annotation file: boxes are in pixels of the stored image',
          details: { file: r.file, where: r.where },
        },
      );
    const image = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) image[i] = pixels[i] / 255;
    return {
      image,
      height,
      width,
      channels: this.channels,
      boxes: copyBoxes(r.boxes),
      file: r.file,
      id: r.id,
    };
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/** Checks the `channels` option. */
export function channelsOption(c: unknown, what: string): 1 | 3 {
  const v = c ?? 3;
  if (v !== 1 && v !== 3)
    throw new NetAugError('INVALID_ARGUMENT', `${what}: channels must be 1 or 3, got ${String(c)}`, {
      hint: 'use 1 for grayscale or 3 for RGB',
    });
  return v;
}
