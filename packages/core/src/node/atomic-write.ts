/*
 * Durable atomic file writes (Node only: imported through `@netaug/core/node`, never from the main entry, which is
 * bundled for browsers). Every file the trainer and the exporters write goes through here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NetAugError, isNetAugError } from '../errors';

/** File contents: bytes, or a string written as UTF-8. */
export type FileBytes = Uint8Array | string;

/** One file of {@link writeFilesAtomic}. */
export interface AtomicFile {
  file: string;
  bytes: FileBytes;
}

/** Options of the atomic writes. */
export interface AtomicWriteOptions {
  /**
   * What the file is, for error messages: `'checkpoint'` gives "… (the previous checkpoint is kept)" or
   * "… (no checkpoint was written)". Default `'file'`.
   */
  label?: string;
}

/** Names of temporary files: `.<base>.<pid>.<8 hex digits>.tmp` (groups: base, pid). */
export const TEMP_FILE_PATTERN = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** A fresh temporary path next to `file`: `.<base>.<pid>.<random>.tmp` in the same folder. */
export function tempPathFor(file: string): string {
  const rand = randomBytes(4).toString('hex');
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${rand}.tmp`);
}

/** Error causes worth naming in words (anything else is named by Node's own description of the code). */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

function hintFor(code: string, dir: string): string {
  switch (code) {
    case 'ENOSPC':
      return `free space on the disk that holds ${dir}, or write to another disk`;
    case 'EDQUOT':
      return `free space in your disk quota for ${dir}, or write to another disk`;
    case 'EACCES':
    case 'EPERM':
      return `make ${dir} writable for this user, or write to another folder`;
    case 'EROFS':
      return `${dir} is on a read-only file system; write to another folder`;
    default:
      return `check the disk and the folder ${dir}`;
  }
}

/** A system error (it has an errno code such as ENOSPC). */
function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** "i/o error" from "EIO: i/o error, write". */
function describeCode(e: unknown, code: string): string {
  const m = /^[A-Z0-9]+: ([^,]+)/.exec((e as Error).message ?? '');
  return m ? `${m[1]} (${code})` : code;
}

/** Thrown by the write loop when the system accepts no bytes. */
class ZeroWrite extends Error {
  constructor(
    readonly offset: number,
    readonly total: number,
  ) {
    super('zero-byte write');
  }
}

/** Turns a failure of an atomic write into NetAugError `IO` naming the path and the cause; others pass. */
function ioError(e: unknown, file: string, label: string, existed: boolean): unknown {
  if (isNetAugError(e)) return e;
  const kept = existed ? `the previous ${label} is kept` : `no ${label} was written`;
  const dir = path.dirname(file);
  if (e instanceof ZeroWrite) {
    return new NetAugError(
      'IO',
      `the system accepted no bytes writing ${file} (at byte ${e.offset} of ${e.total}; ${kept})`,
      { hint: hintFor('', dir), cause: e, details: { path: file, code: 'EZEROWRITE' } },
    );
  }
  const code = errnoCode(e);
  if (!code) return e;
  const cause = CAUSES[code] ?? describeCode(e, code);
  const syscall = (e as NodeJS.ErrnoException).syscall;
  return new NetAugError('IO', `${cause} writing ${file} (${kept})`, {
    hint: hintFor(code, dir),
    cause: e,
    details: { path: file, code, ...(syscall ? { syscall } : {}) },
  });
}

function toBuffer(bytes: FileBytes): Uint8Array {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  if (bytes instanceof Uint8Array) return bytes;
  throw new NetAugError('INVALID_ARGUMENT', 'atomic write: bytes must be a Uint8Array or a string');
}

/** Writes all of `buf` to `fd`: a short write continues where it stopped; a write of zero bytes is an error. */
function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.writeSync(fd, buf, off, buf.length - off, off);
    if (!Number.isInteger(n) || n <= 0 || n > buf.length - off) throw new ZeroWrite(off, buf.length);
    off += n;
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone, or the folder refuses: nothing more to do
  }
}

/** Creates the temporary file of `file`, writes `bytes`, fsyncs and closes it; removes it on any failure. */
function writeTemp(file: string, bytes: FileBytes): string {
  const buf = toBuffer(bytes);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const fd = fs.openSync(tmp, 'wx', 0o666);
  try {
    writeAll(fd, buf);
    fs.fsyncSync(fd);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // the first error is the one to report
    }
    removeQuietly(tmp);
    throw e;
  }
  try {
    fs.closeSync(fd);
  } catch (e) {
    // close can report a deferred write error (NFS): the data may not be there
    removeQuietly(tmp);
    throw e;
  }
  return tmp;
}

/** Directory fsync is refused on some platforms (Windows, some network file systems): nothing to do there. */
const DIR_SYNC_REFUSED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF']);

/** fsync of a folder, so that a rename in it survives a power loss; refusals by the platform are ignored. */
function fsyncDir(dir: string, file: string, label: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (e) {
    if (DIR_SYNC_REFUSED.has(errnoCode(e) ?? '')) return;
    throw dirSyncError(e, file, label);
  }
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    if (!DIR_SYNC_REFUSED.has(errnoCode(e) ?? '')) throw dirSyncError(e, file, label);
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // read-only descriptor: nothing was pending on it
    }
  }
}

function dirSyncError(e: unknown, file: string, label: string): unknown {
  const code = errnoCode(e);
  if (!code) return e;
  return new NetAugError(
    'IO',
    `${CAUSES[code] ?? describeCode(e, code)} syncing the folder of ${file} (the new ${label} is in place ` +
      'but may not survive a power loss)',
    { hint: hintFor(code, path.dirname(file)), cause: e, details: { path: file, code } },
  );
}

/**
 * Writes `bytes` to `file` durably and atomically: a temporary file `.<base>.<pid>.<random>.tmp` in the same
 * folder (created with the folder if needed), every byte written (short writes continue; a write of zero bytes is
 * an error), fsync, rename over `file`, fsync of the folder (skipped where the platform refuses it). Readers see
 * the previous file or the complete new one. On any error the temporary file is removed and the previous file is
 * untouched; ENOSPC, EDQUOT, EACCES, EPERM, EROFS (and other system errors) become NetAugError `IO` naming the
 * path and the cause, e.g. "no space left on device writing runs/a/checkpoint.bin (the previous checkpoint is
 * kept)".
 */
export function writeFileAtomicSync(file: string, bytes: FileBytes, options: AtomicWriteOptions = {}): void {
  writeFilesAtomicSync([{ file, bytes }], options);
}

/**
 * Writes several files so that they all appear or none does: every temporary file is written and fsynced
 * first, then each is renamed over its target in the given order (put the file that refers to the others
 * last). If writing any of them fails, the temporary files are removed and every previous file is untouched;
 * if a rename fails, the files already renamed are put back (their previous versions are kept as hard links,
 * or copies, until the end). A crash (not an error) between two renames can leave some new and some previous
 * files; each file is still complete.
 */
export function writeFilesAtomicSync(files: AtomicFile[], options: AtomicWriteOptions = {}): void {
  const label = options.label ?? 'file';
  const seen = new Set<string>();
  for (const f of files) {
    const abs = path.resolve(f.file);
    if (seen.has(abs)) throw new NetAugError('INVALID_ARGUMENT', `atomic write: ${f.file} is listed twice`);
    seen.add(abs);
  }
  const existed = files.map((f) => fs.existsSync(f.file));
  const temps: string[] = [];
  let current = 0;
  try {
    for (; current < files.length; current++)
      temps.push(writeTemp(files[current].file, files[current].bytes));
  } catch (e) {
    for (const t of temps) removeQuietly(t);
    throw ioError(e, files[current].file, label, existed[current]);
  }
  if (files.length === 1) {
    try {
      fs.renameSync(temps[0], files[0].file);
    } catch (e) {
      removeQuietly(temps[0]);
      throw ioError(e, files[0].file, label, existed[0]);
    }
  } else {
    commitAll(files, temps, existed, label);
  }
  const dirs = new Map<string, string>();
  for (const f of files) if (!dirs.has(path.dirname(f.file))) dirs.set(path.dirname(f.file), f.file);
  for (const [dir, file] of dirs) fsyncDir(dir, file, label);
}

/** Renames every temporary file over its target; on a failure puts back what was already renamed. */
function commitAll(files: AtomicFile[], temps: string[], existed: boolean[], label: string): void {
  const backups: (string | null)[] = [];
  let current = 0;
  try {
    for (; current < files.length; current++) {
      const f = files[current].file;
      let backup: string | null = null;
      if (existed[current]) {
        backup = tempPathFor(f);
        try {
          fs.linkSync(f, backup);
        } catch {
          fs.copyFileSync(f, backup); // file systems without hard links
        }
      }
      backups.push(backup);
    }
  } catch (e) {
    for (const t of temps) removeQuietly(t);
    for (const b of backups) if (b) removeQuietly(b);
    throw ioError(e, files[current].file, label, existed[current]);
  }
  let renamed = 0;
  try {
    for (; renamed < files.length; renamed++) fs.renameSync(temps[renamed], files[renamed].file);
  } catch (e) {
    for (let j = 0; j < renamed; j++) {
      const b = backups[j];
      try {
        if (b) fs.renameSync(b, files[j].file);
        else fs.unlinkSync(files[j].file);
      } catch {
        // best effort: the error below names the file that failed
      }
    }
    for (let j = renamed; j < files.length; j++) removeQuietly(temps[j]);
    for (const b of backups) if (b) removeQuietly(b);
    throw ioError(e, files[renamed].file, label, existed[renamed]);
  }
  for (const b of backups) if (b) removeQuietly(b);
}

/** Async form of {@link writeFileAtomicSync} (same steps and errors; the write itself runs synchronously). */
export async function writeFileAtomic(
  file: string,
  bytes: FileBytes,
  options: AtomicWriteOptions = {},
): Promise<void> {
  writeFilesAtomicSync([{ file, bytes }], options);
}

/** Async form of {@link writeFilesAtomicSync} (same steps and errors; the writes themselves run synchronously). */
export async function writeFilesAtomic(files: AtomicFile[], options: AtomicWriteOptions = {}): Promise<void> {
  writeFilesAtomicSync(files, options);
}

/** Options of {@link removeStaleTemps}. */
export interface RemoveStaleTempsOptions {
  /** Only temporary files last modified at least this long ago (default 0: all of them). */
  olderThanMs?: number;
  /**
   * Temporary files named with this process id are kept: they may be writes in progress (default
   * `process.pid`; `null` removes those too).
   */
  ownPid?: number | null;
}

/**
 * Deletes the temporary files that interrupted atomic writes left in `dir`: regular files named like
 * `.<base>.<pid>.<8 hex digits>.tmp`, nothing else, without recursing. Call it once the folder is yours (e.g. a
 * run holding its run folder). Returns the names removed; a missing folder removes nothing.
 */
export function removeStaleTemps(dir: string, options: RemoveStaleTempsOptions = {}): string[] {
  const olderThanMs = options.olderThanMs ?? 0;
  const ownPid = options.ownPid === undefined ? process.pid : options.ownPid;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw e;
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names.sort()) {
    const m = TEMP_FILE_PATTERN.exec(name);
    if (!m || (ownPid !== null && Number(m[2]) === ownPid)) continue;
    const full = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(full);
    } catch {
      continue;
    }
    if (!st.isFile() || now - st.mtimeMs < olderThanMs) continue;
    try {
      fs.unlinkSync(full);
      removed.push(name);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  return removed;
}
