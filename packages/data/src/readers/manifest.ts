import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import {
  createImageFilesDataset,
  type ImageEntry,
  type ImageFilesDataset,
  type ImageFilesOptions,
} from './image-files';

/** One manifest row before label indexing. */
export interface ManifestRow {
  path: string;
  label: string;
  /** 1-based line (CSV) or 0-based item index (JSON), for error messages. */
  row: number;
}

/** Splits one CSV line (RFC 4180 quoting with `"` and `""`). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/**
 * Parses a manifest: CSV with `path,label` columns (a header row naming `path` and `label` is optional;
 * other columns are ignored) or JSON (an array of `{path, label}` or `{items: [...]}`).
 */
export function parseManifest(text: string, file: string): ManifestRow[] {
  const bad = (msg: string) => new NetAugError('DATA_FORMAT', `${file}: ${msg}`, { details: { file } });
  if (extname(file).toLowerCase() === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw bad(`invalid JSON (${(e as Error).message})`);
    }
    const items = Array.isArray(data) ? data : (data as { items?: unknown })?.items;
    if (!Array.isArray(items)) throw bad('expected an array of {path, label} or {items: [...]}');
    return items.map((it, row) => {
      const { path, label } = (it ?? {}) as { path?: unknown; label?: unknown };
      if (typeof path !== 'string' || (typeof label !== 'string' && typeof label !== 'number')) {
        throw bad(`item ${row} needs a string "path" and a string or number "label"`);
      }
      return { path, label: String(label), row };
    });
  }
  const lines = text.split(/\r?\n/);
  let pathCol = 0;
  let labelCol = 1;
  let start = 0;
  const first = splitCsvLine(lines[0] ?? '').map((s) => s.toLowerCase());
  if (first.includes('path') && first.includes('label')) {
    pathCol = first.indexOf('path');
    labelCol = first.indexOf('label');
    start = 1;
  }
  const rows: ManifestRow[] = [];
  for (let i = start; i < lines.length; i++) {
    if (!lines[i].trim() || lines[i].startsWith('#')) continue;
    const cols = splitCsvLine(lines[i]);
    if (cols.length <= Math.max(pathCol, labelCol) || !cols[pathCol] || cols[labelCol] === '') {
      throw bad(`line ${i + 1}: expected "path,label", got "${lines[i]}"`);
    }
    rows.push({ path: cols[pathCol], label: cols[labelCol], row: i + 1 });
  }
  return rows;
}

/**
 * Class names and label indices of manifest labels. When every label is a non-negative integer, the label
 * is used as the index and class names are `"0"…"max"` (so `3` stays class 3); otherwise the distinct
 * labels, sorted by code point, are the class names.
 */
export function indexLabels(labels: string[]): { classNames: string[]; index: (label: string) => number } {
  if (labels.length > 0 && labels.every((l) => /^\d+$/.test(l))) {
    const max = Math.max(...labels.map(Number));
    return { classNames: Array.from({ length: max + 1 }, (_, i) => String(i)), index: (l) => Number(l) };
  }
  const classNames = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const map = new Map(classNames.map((c, i) => [c, i]));
  return { classNames, index: (l) => map.get(l)! };
}

/**
 * Loads a CSV or JSON manifest of `path,label` rows. Relative paths resolve against the manifest's folder.
 * A missing file is a `DATA_NOT_FOUND` error naming the row and the path (even with `skipCorrupt`, since
 * a missing file is a broken manifest rather than a bad image).
 */
export async function loadManifest(
  manifestFile: string,
  options: ImageFilesOptions,
): Promise<ImageFilesDataset> {
  const file = resolve(manifestFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NetAugError('DATA_NOT_FOUND', `Manifest not found: ${file}`, { cause: e });
  }
  const rows = parseManifest(text, file);
  if (rows.length === 0)
    throw new NetAugError('DATA_FORMAT', `${file}: manifest has no rows`, { details: { file } });
  const base = dirname(file);
  const { classNames, index } = indexLabels(rows.map((r) => r.label));
  const entries: ImageEntry[] = rows.map((r) => {
    const path = isAbsolute(r.path) ? r.path : resolve(base, r.path);
    if (!existsSync(path)) {
      const where = extname(file).toLowerCase() === '.json' ? `item ${r.row}` : `line ${r.row}`;
      throw new NetAugError('DATA_NOT_FOUND', `${file} ${where}: image not found: ${path}`, {
        hint: 'relative paths resolve against the manifest folder',
        details: { file: path, manifest: file, row: r.row },
      });
    }
    return { path, label: index(r.label) };
  });
  return createImageFilesDataset(entries, classNames, options, 'manifest', file);
}
