import fs from 'node:fs';
import * as path from 'node:path';
import { NetAugError } from '@netaug/core';

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
};

/**
 * Appends `bytes` to `file` durably: open for appending (created with its folder if needed), every byte written
 * (short writes continue), fsync, close; a newly created file also fsyncs its folder (where the platform allows
 * it). A crash can leave a torn tail (part of `bytes`) but never damages what was there before: the writers of
 * appended files (`steps.jsonl`, TensorBoard event files) drop a torn tail when a run starts or resumes. System
 * errors become NetAugError `IO` naming the path and the cause.
 */
export function appendDurableSync(file: string, bytes: Uint8Array | string): void {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  if (buf.length === 0) return;
  let fd = -1;
  let created = false;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    created = !fs.existsSync(file);
    fd = fs.openSync(file, 'a');
    let off = 0;
    while (off < buf.length) {
      const n = fs.writeSync(fd, buf, off, buf.length - off);
      if (!Number.isInteger(n) || n <= 0) throw Object.assign(new Error('zero-byte write'), { code: 'EIO' });
      off += n;
    }
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    throw new NetAugError('IO', `${CAUSES[code] ?? code} appending to ${file}`, {
      hint: `check the disk and the folder ${path.dirname(file)}`,
      cause: e,
      details: { path: file, code },
    });
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  if (created) fsyncDir(path.dirname(file));
}

/** fsync of a folder (so that a new entry survives a power loss); platforms that refuse it are ignored. */
function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows and some network file systems refuse folder fsync: nothing to do there
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
