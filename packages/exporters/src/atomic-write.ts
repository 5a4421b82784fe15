import { promises as fsp } from 'fs';
import * as path from 'path';
import { NetAugError } from '@netaug/core';

/** Files written by an export (absolute paths) and their total size in bytes. */
export interface WrittenFiles {
  files: string[];
  bytes: number;
}

function tempName(target: string): string {
  const rand = Math.random().toString(36).slice(2, 10);
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand}`);
}

function ioError(what: string, target: string, cause: unknown): NetAugError {
  return new NetAugError('IO', `${what} '${target}' failed: ${(cause as Error)?.message ?? cause}`, {
    cause,
  });
}

/**
 * Writes `data` to `file` atomically: into a temporary file next to it, then renamed over the target, so
 * readers see the old file or the complete new one and a failure leaves nothing behind. Creates the parent
 * directory.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await withTempPath(file, async (tmp) => {
    await fsp.writeFile(tmp, data);
  });
}

/**
 * Runs `produce(tmp)` on a temporary path in the target's directory (a file or a directory it creates), then
 * renames the result to `target`, replacing an existing file or directory. On any failure the temporary path is
 * removed and the target is left as it was.
 */
export async function withTempPath(target: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError('creating directory', dir, e);
  }
  const tmp = tempName(path.resolve(target));
  try {
    await produce(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  try {
    const stat = await fsp.stat(target).catch(() => undefined);
    if (stat?.isDirectory()) {
      // a directory cannot be renamed over a non-empty one: move the old one aside first
      const old = tempName(path.resolve(target)) + '.old';
      await fsp.rename(target, old);
      try {
        await fsp.rename(tmp, target);
      } catch (e) {
        await fsp.rename(old, target).catch(() => undefined);
        throw e;
      }
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, target);
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError('writing', target, e);
  }
}
