import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NetAugError } from '@netaug/core';
import {
  brokenLink,
  createImageFilesDataset,
  type ImageEntry,
  type ImageFilesDataset,
  type ImageFilesOptions,
  singleClassError,
} from './image-files';

/** Lists the entries of `dir` (sorted, without dotfiles), failing with a typed error. */
async function listDir(dir: string) {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetAugError('DATA_NOT_FOUND', `Folder not found: ${dir}`, { cause: e });
    if (code === 'ENOTDIR') throw new NetAugError('DATA_FORMAT', `Not a folder: ${dir}`, { cause: e });
    throw new NetAugError('IO', `Cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Recursively lists the files under `dir` (sorted, dotfiles ignored). Symbolic links to files are listed;
 * links to folders are not followed; a dangling link or a link loop is listed with its problem (`broken`).
 */
async function listFiles(dir: string): Promise<Omit<ImageEntry, 'label'>[]> {
  const out: Omit<ImageEntry, 'label'>[] = [];
  for (const e of await listDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push({ path: p });
    else if (e.isSymbolicLink()) {
      const broken = await brokenLink(p);
      if (broken) out.push({ path: p, broken });
      else if ((await stat(p)).isFile()) out.push({ path: p });
    }
  }
  return out;
}

/**
 * Loads an ImageFolder: one sub-folder per class (`root/<class>/**\/*.jpg`), like torchvision's `ImageFolder`.
 * Class names are the sub-folder names sorted by code point, and a label is the index of its class.
 * Images (JPEG, PNG, WebP) are decoded lazily with sharp and resized to `options.size`; decoded tensors
 * are cached on disk, so later epochs skip decoding. Dotfiles are ignored; any other non-image file is a
 * `DATA_FORMAT` error (or is skipped and counted with `skipCorrupt`), and so are a dangling symbolic link
 * (`DATA_NOT_FOUND`) and a link loop (`DATA_FORMAT`). An empty class folder is a `DATA_NOT_FOUND` error,
 * because it would shift every later label; a single class folder is a `DATA_FORMAT` error.
 */
export async function loadImageFolder(root: string, options: ImageFilesOptions): Promise<ImageFilesDataset> {
  const dir = resolve(root);
  const classes = (await listDir(dir)).filter((e) => e.isDirectory()).map((e) => e.name);
  if (classes.length === 0) {
    throw new NetAugError('DATA_NOT_FOUND', `${dir} has no class sub-folders`, {
      hint: 'an ImageFolder holds one sub-folder per class: root/cat/1.jpg, root/dog/2.png, …',
    });
  }
  if (classes.length === 1) {
    throw singleClassError(
      classes[0],
      dir,
      'an ImageFolder holds one sub-folder per class: root/cat/1.jpg, root/dog/2.png, …',
    );
  }
  const entries: ImageEntry[] = [];
  for (let label = 0; label < classes.length; label++) {
    const files = await listFiles(join(dir, classes[label]));
    if (files.length === 0) {
      throw new NetAugError('DATA_NOT_FOUND', `Class folder ${join(dir, classes[label])} is empty`, {
        hint: 'remove the empty folder or add images to it',
        details: { file: join(dir, classes[label]) },
      });
    }
    for (const f of files) entries.push({ ...f, label });
  }
  return createImageFilesDataset(entries, classes, options, 'image-folder', dir);
}
