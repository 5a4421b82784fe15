import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import {
  brokenLink,
  createImageFilesDataset,
  type ImageEntry,
  type ImageFilesDataset,
  type ImageFilesOptions,
  singleClassError,
} from './image-files';

/** Options of {@link loadManifest}. */
export interface ManifestOptions extends ImageFilesOptions {
  /**
   * The class names in label order (label index = position in the list). A label is then a name from
   * the list or an index into it; any other label is a `DATA_FORMAT` error. A JSON manifest may carry the
   * same list as `"classes"`; giving both with different contents is an `INVALID_ARGUMENT` error.
   */
  classes?: string[];
}

/** A parsed manifest: its rows and, for a JSON manifest with `"classes"`, its class list. */
export interface ManifestContents {
  rows: ManifestRow[];
  classes?: string[];
  /** How rows are named in messages: `line` (CSV, 1-based) or `item` (JSON, 0-based). */
  unit: 'line' | 'item';
}

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

/** A label that is a non-negative integer (an index). */
const INDEX = /^\d+$/;
/** A label that is an integer, possibly negative. */
const INTEGER = /^-?\d+$/;
/** A label that looks like a number (integer or decimal, possibly negative). */
const NUMERIC = /^-?\d+(\.\d+)?$/;
/** Paths that look like images, for telling a header line from data. */
const IMAGE_PATH = /\.(png|jpe?g|gif|webp|bmp|tiff?)$/i;

/** `a, b, c` of up to `max` names, then `… (n more)`. */
function listSome(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

/** Checks a class list: non-empty distinct strings. `fail` builds the error for `problem`. */
function checkClassList(classes: unknown, fail: (problem: string) => NetAugError): string[] {
  if (!Array.isArray(classes) || classes.length === 0 || classes.some((c) => typeof c !== 'string' || !c)) {
    throw fail('the class list must be a non-empty array of non-empty strings');
  }
  const seen = new Set<string>();
  for (const c of classes as string[]) {
    if (seen.has(c)) throw fail(`class '${c}' appears twice in the class list`);
    seen.add(c);
  }
  return classes as string[];
}

/** Whether `label` is a label of `classes`: a name from the list or an index into it. */
function inClassList(label: string, classes: string[]): boolean {
  return classes.includes(label) || (INDEX.test(label) && Number(label) < classes.length);
}

/**
 * Parses a manifest: CSV with `path,label` columns or JSON (an array of `{path, label}`, or
 * `{classes?: [...], items: [...]}`). In CSV, a first line naming `path` and `label` (any order, any case) is
 * a header (other columns are ignored); a first line that is not one but looks like a header — its label
 * cell is not a label while every other row's is (numeric, or from `classes`), or its path cell has no
 * image extension while every other row's has — is a `DATA_FORMAT` error.
 */
export function parseManifestContents(
  text: string,
  file: string,
  options: { classes?: string[] } = {},
): ManifestContents {
  const bad = (msg: string, hint?: string) =>
    new NetAugError('DATA_FORMAT', `${file}: ${msg}`, { hint, details: { file } });
  if (extname(file).toLowerCase() === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw bad(`invalid JSON (${(e as Error).message})`);
    }
    const obj = Array.isArray(data) ? undefined : (data as { items?: unknown; classes?: unknown } | null);
    const items = Array.isArray(data) ? data : obj?.items;
    if (!Array.isArray(items)) throw bad('expected an array of {path, label} or {classes?, items: [...]}');
    const classes =
      obj?.classes === undefined
        ? undefined
        : checkClassList(obj.classes, (problem) =>
            bad(`"classes": ${problem}`, 'list each class name once, in label order: ["cat", "dog", …]'),
          );
    const rows = items.map((it, row) => {
      const { path, label } = (it ?? {}) as { path?: unknown; label?: unknown };
      if (typeof path !== 'string' || (typeof label !== 'string' && typeof label !== 'number')) {
        throw bad(`item ${row} needs a string "path" and a string or number "label"`);
      }
      return { path, label: String(label), row };
    });
    return { rows, classes, unit: 'item' };
  }
  const lines = text.split(/\r?\n/);
  const isData = (line: string) => line.trim() !== '' && !line.startsWith('#');
  const firstLine = lines.findIndex(isData);
  if (firstLine < 0) return { rows: [], unit: 'line' };
  let pathCol = 0;
  let labelCol = 1;
  let start = firstLine;
  const first = splitCsvLine(lines[firstLine]);
  const lower = first.map((s) => s.toLowerCase());
  if (lower.includes('path') && lower.includes('label')) {
    pathCol = lower.indexOf('path');
    labelCol = lower.indexOf('label');
    start = firstLine + 1;
  }
  const rows: ManifestRow[] = [];
  for (let i = start; i < lines.length; i++) {
    if (!isData(lines[i])) continue;
    const cols = splitCsvLine(lines[i]);
    if (cols.length <= Math.max(pathCol, labelCol) || !cols[pathCol] || cols[labelCol] === '') {
      throw bad(`line ${i + 1}: expected "path,label", got "${lines[i]}"`);
    }
    rows.push({ path: cols[pathCol], label: cols[labelCol], row: i + 1 });
  }
  if (start === firstLine && rows.length >= 2) {
    const [head, ...rest] = rows;
    const { classes } = options;
    const known = (l: string) => (classes ? inClassList(l, classes) : NUMERIC.test(l));
    const labelLooksLikeName = !known(head.label) && rest.every((r) => known(r.label));
    const pathLooksLikeName = !IMAGE_PATH.test(head.path) && rest.every((r) => IMAGE_PATH.test(r.path));
    if (labelLooksLikeName || pathLooksLikeName) {
      throw bad(
        `line ${head.row} looks like a header but has no 'path' and 'label' columns (found: ${first.join(', ')})`,
        'name the columns path,label (in any order), or remove the line if it is not data',
      );
    }
  }
  return { rows, unit: 'line' };
}

/**
 * The rows of a manifest (see {@link parseManifestContents}, which also returns a JSON manifest's class list).
 */
export function parseManifest(
  text: string,
  file: string,
  options: { classes?: string[] } = {},
): ManifestRow[] {
  return parseManifestContents(text, file, options).rows;
}

/**
 * Class names and label indices of manifest labels. When every label is a non-negative integer, the label
 * is used as the index and class names are `"0"…"max"` (so `3` stays class 3); otherwise the distinct
 * labels, sorted by code point, are the class names.
 */
export function indexLabels(labels: string[]): { classNames: string[]; index: (label: string) => number } {
  if (labels.length > 0 && labels.every((l) => INDEX.test(l))) {
    const max = Math.max(...labels.map(Number));
    return { classNames: Array.from({ length: max + 1 }, (_, i) => String(i)), index: (l) => Number(l) };
  }
  const classNames = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const map = new Map(classNames.map((c, i) => [c, i]));
  return { classNames, index: (l) => map.get(l)! };
}

/**
 * The class names of a manifest and the class index of each row. With a class list, a label is a name from
 * it or an index into it (else `DATA_FORMAT` naming the row). Without one, see {@link indexLabels}; labels
 * that look numeric but are not all non-negative integers (e.g. a `-1` among `0…9`) are a `DATA_FORMAT`
 * error naming the first such row, rather than silently becoming text classes.
 */
function classIndices(
  m: ManifestContents,
  file: string,
  classes: string[] | undefined,
): { classNames: string[]; labels: number[] } {
  const where = (r: ManifestRow) => `${m.unit} ${r.row}`;
  const listHint =
    m.unit === 'item'
      ? 'add a "classes" list to the manifest (labels then name or index its classes) or fix the item'
      : 'pass the classes option (labels then name or index its classes) or fix the line';
  if (classes) {
    const byName = new Map(classes.map((c, i) => [c, i]));
    const labels = m.rows.map((r) => {
      const i = byName.get(r.label) ?? (INDEX.test(r.label) ? Number(r.label) : -1);
      if (i < 0 || i >= classes.length) {
        throw new NetAugError(
          'DATA_FORMAT',
          `${file} ${where(r)}: label '${r.label}' is not in the class list (${classes.length} classes: ${listSome(classes)})`,
          {
            hint: `use a class name or an index below ${classes.length}, or add the class to the list`,
            details: { file, row: r.row, label: r.label },
          },
        );
      }
      return i;
    });
    return { classNames: classes, labels };
  }
  const all = m.rows.map((r) => r.label);
  if (all.some((l) => INTEGER.test(l)) && all.every((l) => NUMERIC.test(l))) {
    const off = m.rows.find((r) => !INDEX.test(r.label));
    if (off) {
      throw new NetAugError(
        'DATA_FORMAT',
        `${file}: labels look numeric but ${where(off)} has '${off.label}'`,
        { hint: listHint, details: { file, row: off.row, label: off.label } },
      );
    }
  }
  const { classNames, index } = indexLabels(all);
  return { classNames, labels: all.map(index) };
}

/**
 * Loads a CSV or JSON manifest of `path,label` rows (see {@link parseManifestContents} and
 * {@link ManifestOptions.classes}). Relative paths resolve against the manifest's folder.
 * A missing file — or a dangling symbolic link or link loop — is an error naming the row and the path
 * (even with `skipCorrupt`, since a missing file is a broken manifest rather than a bad image). An image
 * listed twice with the same label is kept twice and reported in one warning (through `warn`); listed with
 * two different labels it is a `DATA_FORMAT` error naming both rows. Labels of a single class are a
 * `DATA_FORMAT` error.
 */
export async function loadManifest(
  manifestFile: string,
  options: ManifestOptions,
): Promise<ImageFilesDataset> {
  const file = resolve(manifestFile);
  const optionClasses =
    options.classes === undefined
      ? undefined
      : checkClassList(
          options.classes,
          (problem) =>
            new NetAugError('INVALID_ARGUMENT', `classes option: ${problem}`, {
              hint: 'list each class name once, in label order: ["cat", "dog", …]',
            }),
        );
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NetAugError('DATA_NOT_FOUND', `Manifest not found: ${file}`, { cause: e });
  }
  const contents = parseManifestContents(text, file, { classes: optionClasses });
  const { rows } = contents;
  if (rows.length === 0)
    throw new NetAugError('DATA_FORMAT', `${file}: manifest has no rows`, { details: { file } });
  if (optionClasses && contents.classes && optionClasses.join('\0') !== contents.classes.join('\0')) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `the classes option (${listSome(optionClasses)}) differs from the "classes" of ${file} (${listSome(contents.classes)})`,
      { hint: 'give the class list once: in the manifest or as the option' },
    );
  }
  const { classNames, labels } = classIndices(contents, file, optionClasses ?? contents.classes);
  const where = (r: ManifestRow) => `${contents.unit} ${r.row}`;
  const used = new Set(labels);
  if (used.size === 1) {
    throw singleClassError(classNames[labels[0]], file, 'label the images with at least two classes');
  }
  const base = dirname(file);
  const paths = rows.map((r) => (isAbsolute(r.path) ? r.path : resolve(base, r.path)));
  const firstRow = new Map<string, number>();
  let duplicates = 0;
  let firstDuplicate = '';
  paths.forEach((path, k) => {
    const j = firstRow.get(path);
    if (j === undefined) {
      firstRow.set(path, k);
      return;
    }
    if (labels[j] !== labels[k]) {
      throw new NetAugError(
        'DATA_FORMAT',
        `${file}: ${path} is listed with two labels: ${where(rows[j])} ('${rows[j].label}') and ${where(rows[k])} ('${rows[k].label}')`,
        {
          hint: 'keep one row per image, with its right label',
          details: { file, path, rows: [rows[j].row, rows[k].row] },
        },
      );
    }
    if (duplicates++ === 0) firstDuplicate = `${where(rows[k])} repeats ${where(rows[j])} (${path})`;
  });
  if (duplicates > 0) {
    const warn = options.warn ?? ((msg: string) => console.warn(`[netaug/data] ${msg}`));
    warn(
      `${file}: ${duplicates === 1 ? '1 duplicate row lists' : `${duplicates} duplicate rows list`} an image already listed, first: ${firstDuplicate}; each copy counts as a separate example`,
    );
  }
  const entries: ImageEntry[] = [];
  for (const [k, r] of rows.entries()) {
    const path = paths[k];
    if (!existsSync(path)) {
      const broken = await brokenLink(path);
      if (broken) {
        const e = broken.error;
        const message = e.hint ? e.message.slice(0, -(e.hint.length + 3)) : e.message; // without the hint
        throw new NetAugError(e.code, `${file} ${where(r)}: ${message}`, {
          cause: e.cause,
          hint: 'make the link point at the image or fix the row',
          details: { file: path, manifest: file, row: r.row },
        });
      }
      throw new NetAugError('DATA_NOT_FOUND', `${file} ${where(r)}: image not found: ${path}`, {
        hint: 'relative paths resolve against the manifest folder',
        details: { file: path, manifest: file, row: r.row },
      });
    }
    entries.push({ path, label: labels[k] });
  }
  return createImageFilesDataset(entries, classNames, options, 'manifest', file);
}
