import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { loadSharp } from '../sharp';
import { NetAugError, type Sample, type Shape3 } from '@netaug/core';
import { DecodeCache, defaultCacheDir } from '../cache';
import type { DataFormat, DatasetSpec, ImageDecodeOptions, LabeledDataset } from '../types';

/** File extensions decoded as images (by sharp/libvips). */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/** One image file and its class index. */
export interface ImageEntry {
  path: string;
  label: number;
  /**
   * A problem found while listing the file (a dangling symbolic link or a link loop): the entry is rejected
   * with `error`, or skipped and counted with `skipCorrupt` (the warning gives `reason`).
   */
  broken?: { reason: string; error: NetAugError };
}

/**
 * When `path` is a symbolic link that cannot be followed, the problem as a typed error: a dangling link is
 * `DATA_NOT_FOUND` ("dangling symbolic link <path> → <target>"), a link loop `DATA_FORMAT` ("symbolic link
 * loop at <path>"). `null` for anything else (a regular file, a working link, or no file at all).
 */
export async function brokenLink(path: string): Promise<{ reason: string; error: NetAugError } | null> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return null;
    await stat(path);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      'make the link point at an image file or remove it, or pass skipCorrupt: true (--skip-corrupt) to skip it';
    if (code === 'ELOOP') {
      return {
        reason: 'symbolic link loop',
        error: new NetAugError('DATA_FORMAT', `symbolic link loop at ${path}`, {
          cause: e,
          hint,
          details: { file: path },
        }),
      };
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      let target: string;
      try {
        target = resolve(dirname(path), await readlink(path));
      } catch {
        return null; // not a link (any more): the caller reports the missing file
      }
      return {
        reason: `dangling symbolic link → ${target}`,
        error: new NetAugError('DATA_NOT_FOUND', `dangling symbolic link ${path} → ${target}`, {
          cause: e,
          hint,
          details: { file: path, target },
        }),
      };
    }
    throw new NetAugError('IO', `Cannot follow ${path}: ${(e as Error).message}`, {
      cause: e,
      details: { file: path },
    });
  }
}

/**
 * The `DATA_FORMAT` error of a dataset whose examples all belong to one class (`className`): training a
 * classifier on it would fail later inside tfjs (one-hot depth 1) or learn nothing.
 */
export function singleClassError(className: string, source: string, hint: string, note = ''): NetAugError {
  return new NetAugError(
    'DATA_FORMAT',
    `only one class ('${className}') found in ${source}${note}: classification needs at least 2`,
    { hint, details: { file: source, className } },
  );
}

/** Options shared by the file-backed readers (ImageFolder and manifests). */
export interface ImageFilesOptions {
  /** Target size: `n` for n×n or `[height, width]`. Required: decoded images must share one shape. */
  size: number | [number, number];
  /** 1 (grayscale) or 3 (RGB, default). */
  channels?: 1 | 3;
  /** Fit to `size`: `cover` (default: keep aspect ratio, center-crop), `fill` (stretch), `contain` (letterbox). */
  fit?: 'cover' | 'fill' | 'contain';
  /** Decoded-tensor cache folder; `false` disables it. Default {@link defaultCacheDir}. */
  cacheDir?: string | false;
  /** Skip unreadable images (with a warning, counted in `skipped`) instead of throwing `DATA_FORMAT`. */
  skipCorrupt?: boolean;
  /**
   * Check every file's header with sharp when the dataset is opened (default true). This catches non-image
   * files and unknown formats early; a file whose body is corrupt is still only found when it is decoded.
   */
  validate?: boolean;
  /** Where warnings go (default `console.warn`). */
  warn?: (message: string) => void;
}

/** Counters of a file-backed dataset; observable proof that the cache works. */
export interface DecodeStats {
  /** Images decoded with sharp. */
  decoded: number;
  /** Images read from the decoded-tensor cache. */
  cacheHits: number;
  /** Unreadable files skipped (at open time and while decoding). */
  skipped: number;
}

function normaliseOptions(o: ImageFilesOptions): ImageDecodeOptions {
  const size: [number, number] = typeof o.size === 'number' ? [o.size, o.size] : [o.size[0], o.size[1]];
  if (!size.every((s) => Number.isInteger(s) && s > 0)) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `size must be a positive integer or [h, w], got ${JSON.stringify(o.size)}`,
    );
  }
  const channels = o.channels ?? 3;
  if (channels !== 1 && channels !== 3)
    throw new NetAugError('INVALID_ARGUMENT', `channels must be 1 or 3, got ${channels}`);
  return {
    size,
    channels,
    fit: o.fit ?? 'cover',
    cacheDir: o.cacheDir === undefined ? defaultCacheDir() : o.cacheDir,
    skipCorrupt: o.skipCorrupt ?? false,
  };
}

function corrupt(file: string, e: unknown): NetAugError {
  return new NetAugError('DATA_FORMAT', `Cannot decode image ${file}: ${(e as Error).message ?? e}`, {
    cause: e,
    hint: 'remove or replace the file, or pass skipCorrupt: true (--skip-corrupt) to skip unreadable images',
    details: { file },
  });
}

/** Decodes one file to 8-bit HWC pixels of exactly `size` and `channels`. */
export async function decodeImage(file: string, o: ImageDecodeOptions): Promise<Uint8Array> {
  const [h, w] = o.size;
  const sharp = await loadSharp('decoding image files');
  let pipeline = sharp(file).resize(w, h, { fit: o.fit, background: { r: 0, g: 0, b: 0, alpha: 1 } });
  pipeline = o.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h)
    throw new Error(`decoded to ${info.width}×${info.height}, expected ${w}×${h}`);
  if (info.channels === o.channels) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // sharp may keep a single band for grayscale sources or several for odd colourspaces: convert here
  const n = h * w;
  const out = new Uint8Array(n * o.channels);
  for (let p = 0; p < n; p++) {
    if (o.channels === 3) {
      const v = data[p * info.channels];
      out[3 * p] = v;
      out[3 * p + 1] = info.channels >= 3 ? data[p * info.channels + 1] : v;
      out[3 * p + 2] = info.channels >= 3 ? data[p * info.channels + 2] : v;
    } else {
      out[p] = data[p * info.channels];
    }
  }
  return out;
}

/**
 * A dataset of image files decoded on demand with sharp (resized to one shape) and cached on disk as
 * 8-bit tensors. Only the file list is held in memory, so it scales to folders larger than RAM.
 * Made by {@link loadImageFolder} and {@link loadManifest}.
 */
export class ImageFilesDataset implements LabeledDataset {
  readonly size: number;
  readonly shape: Shape3;
  readonly inMemory = false;
  readonly stats: DecodeStats = { decoded: 0, cacheHits: 0, skipped: 0 };
  /** Files skipped as unreadable, with the reason. */
  readonly skippedFiles: { file: string; reason: string }[] = [];
  private readonly cache: DecodeCache | null;
  private readonly params: string;
  private readonly bad = new Set<number>();
  private readonly inflight = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly paths: string[],
    readonly labels: Int32Array,
    readonly classNames: string[],
    readonly options: ImageDecodeOptions,
    readonly format: DataFormat,
    readonly source: string,
    private readonly warn: (message: string) => void = (m) => console.warn(`[netaug/data] ${m}`),
  ) {
    this.size = paths.length;
    this.shape = [options.size[0], options.size[1], options.channels];
    this.cache = options.cacheDir ? new DecodeCache(options.cacheDir) : null;
    this.params = `${options.size[0]}x${options.size[1]}x${options.channels}:${options.fit}`;
  }

  /**
   * The 8-bit pixels of example `index` (from the cache, or decoded and then cached). Concurrent requests
   * for the same example share one decode.
   */
  getPixels(index: number): Promise<Uint8Array> {
    let p = this.inflight.get(index);
    if (!p) {
      p = this.loadPixels(index).finally(() => this.inflight.delete(index));
      this.inflight.set(index, p);
    }
    return p;
  }

  private async loadPixels(index: number): Promise<Uint8Array> {
    const file = this.paths[index];
    const [h, w, c] = this.shape;
    let key: string | null = null;
    if (this.cache) {
      let st;
      try {
        st = await stat(file);
      } catch (e) {
        throw new NetAugError('DATA_NOT_FOUND', `Image file disappeared: ${file}`, {
          cause: e,
          details: { file },
        });
      }
      key = this.cache.key(file, st.mtimeMs, st.size, this.params);
      const hit = await this.cache.read(key, h, w, c);
      if (hit) {
        this.stats.cacheHits++;
        return hit;
      }
    }
    const px = await decodeImage(file, this.options);
    this.stats.decoded++;
    if (this.cache && key) await this.cache.write(key, h, w, c, px);
    return px;
  }

  /**
   * Example `index` as float HWC in [0, 1]. An unreadable file throws `DATA_FORMAT` naming it; with
   * `skipCorrupt` it is counted in `stats.skipped`, warned about once, and the next readable example
   * (index + 1, wrapping) is returned instead — deterministic, so batches stay reproducible.
   */
  async get(index: number): Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new NetAugError('INVALID_ARGUMENT', `Index ${index} out of range [0, ${this.size})`);
    }
    for (let k = 0; k < this.size; k++) {
      const i = (index + k) % this.size;
      if (this.bad.has(i)) continue;
      let px: Uint8Array;
      try {
        px = await this.getPixels(i);
      } catch (e) {
        if (!this.options.skipCorrupt || (e instanceof NetAugError && e.code !== 'DATA_FORMAT')) {
          throw e instanceof NetAugError ? e : corrupt(this.paths[i], e);
        }
        this.markBad(i, (e as Error).message);
        continue;
      }
      const out = new Float32Array(px.length);
      for (let j = 0; j < px.length; j++) out[j] = px[j] / 255;
      return { image: out, label: this.labels[i] };
    }
    throw new NetAugError('DATA_FORMAT', `No readable image in ${this.source}`, {
      details: { skipped: this.stats.skipped },
    });
  }

  /** Records an unreadable example (called at open time by validation and while decoding). */
  markBad(index: number, reason: string): void {
    if (this.bad.has(index)) return;
    this.bad.add(index);
    this.stats.skipped++;
    this.skippedFiles.push({ file: this.paths[index], reason });
    this.warn(`skipping unreadable image ${this.paths[index]}: ${reason}`);
  }

  workerSpec(): DatasetSpec {
    return {
      kind: 'image-files',
      paths: this.paths,
      labels: this.labels,
      classNames: this.classNames,
      options: this.options,
    };
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
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

/**
 * Builds an {@link ImageFilesDataset} from entries: rejects (or, with `skipCorrupt`, drops and counts)
 * broken symbolic links, files with a non-image extension and — unless `validate: false` — files whose
 * header sharp cannot read. What is left must hold at least one image (else `DATA_FORMAT`) of at least two
 * classes (else `DATA_FORMAT`, see {@link singleClassError}).
 */
export async function createImageFilesDataset(
  entries: ImageEntry[],
  classNames: string[],
  options: ImageFilesOptions,
  format: DataFormat,
  source: string,
): Promise<ImageFilesDataset> {
  const o = normaliseOptions(options);
  const warn = options.warn ?? ((m: string) => console.warn(`[netaug/data] ${m}`));
  const rejected: { file: string; reason: string }[] = [];
  const reject = (file: string, reason: string, e?: unknown) => {
    if (!o.skipCorrupt) {
      throw new NetAugError('DATA_FORMAT', `Not a readable image: ${file} (${reason})`, {
        cause: e,
        hint: 'remove the file, or pass skipCorrupt: true (--skip-corrupt) to skip unreadable images',
        details: { file },
      });
    }
    rejected.push({ file, reason });
    warn(`skipping unreadable image ${file}: ${reason}`);
  };
  let kept = entries.filter((e) => {
    if (e.broken) {
      if (!o.skipCorrupt) throw e.broken.error;
      rejected.push({ file: e.path, reason: e.broken.reason });
      warn(`skipping unreadable image ${e.path}: ${e.broken.reason}`);
      return false;
    }
    if (IMAGE_EXTENSIONS.has(extname(e.path).toLowerCase())) return true;
    reject(e.path, `unsupported extension (supported: ${[...IMAGE_EXTENSIONS].join(', ')})`);
    return false;
  });
  if (options.validate ?? true) {
    const sharp = await loadSharp('reading image files');
    const ok = await mapLimit(kept, 8, async (e) => {
      try {
        const m = await sharp(e.path).metadata();
        if (!m.width || !m.height) throw new Error('no image dimensions');
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          throw new NetAugError('DATA_NOT_FOUND', `Image file not found: ${e.path}`, {
            details: { file: e.path },
          });
        reject(e.path, (err as Error).message, err);
        return false;
      }
    });
    kept = kept.filter((_, i) => ok[i]);
  }
  if (kept.length === 0) {
    throw new NetAugError(
      'DATA_FORMAT',
      rejected.length
        ? `no readable images in ${source}: every file (${rejected.length}) was skipped as unreadable`
        : `no images in ${source}`,
      {
        hint: rejected.length
          ? 'the warnings name each skipped file: replace or remove them'
          : 'add images to the dataset',
        details: { file: source, skipped: rejected.length },
      },
    );
  }
  const used = new Set(kept.map((e) => e.label));
  if (used.size === 1) {
    const [only] = used;
    throw singleClassError(
      classNames[only] ?? String(only),
      source,
      format === 'image-folder'
        ? 'an ImageFolder holds one sub-folder per class: root/cat/1.jpg, root/dog/2.png, …'
        : 'label the images with at least two classes',
      rejected.length
        ? ` after skipping ${rejected.length} unreadable file${rejected.length === 1 ? '' : 's'}`
        : '',
    );
  }
  const labels = new Int32Array(kept.length);
  kept.forEach((e, i) => (labels[i] = e.label));
  const ds = new ImageFilesDataset(
    kept.map((e) => e.path),
    labels,
    classNames,
    o,
    format,
    source,
    warn,
  );
  ds.stats.skipped = rejected.length;
  ds.skippedFiles.push(...rejected);
  return ds;
}
