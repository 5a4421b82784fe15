import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { homedir, tmpdir } from 'node:os';

/** The default cache folder: `$NETAUG_CACHE`, else `$XDG_CACHE_HOME/netaug/decoded`, else `~/.cache/netaug/decoded`. */
export function defaultCacheDir(): string {
  if (process.env.NETAUG_CACHE) return process.env.NETAUG_CACHE;
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'netaug', 'decoded');
}

const MAGIC = 0x3143414e; // "NAC1" little-endian
const HEADER = 16;

/**
 * On-disk cache of decoded images (8-bit HWC): one small file per image, named by a SHA-1 of
 * (file path, mtime, size, decode parameters), so an edited file or a different target size misses.
 * Nothing is kept in RAM. Writes are atomic (temp file + rename), so several workers may share a folder.
 */
export class DecodeCache {
  constructor(readonly dir: string) {}

  /** The cache key of a source file with the given stat and decode parameters. */
  key(file: string, mtimeMs: number, size: number, params: string): string {
    return createHash('sha1').update(`${file}\0${mtimeMs}\0${size}\0${params}`).digest('hex');
  }

  private pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.bin`);
  }

  /** The cached pixels, or `null` on a miss (or an unreadable / foreign entry). */
  async read(key: string, h: number, w: number, c: number): Promise<Uint8Array | null> {
    let buf: Buffer;
    try {
      buf = await readFile(this.pathOf(key));
    } catch {
      return null;
    }
    if (buf.length !== HEADER + h * w * c) return null;
    if (
      buf.readUInt32LE(0) !== MAGIC ||
      buf.readUInt32LE(4) !== h ||
      buf.readUInt32LE(8) !== w ||
      buf.readUInt32LE(12) !== c
    )
      return null;
    return new Uint8Array(buf.buffer, buf.byteOffset + HEADER, h * w * c);
  }

  /** Stores pixels; failures (read-only or full disk) are ignored, the cache being an optimisation. */
  async write(key: string, h: number, w: number, c: number, pixels: Uint8Array): Promise<boolean> {
    const file = this.pathOf(key);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(h, 4);
    header.writeUInt32LE(w, 8);
    header.writeUInt32LE(c, 12);
    try {
      await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, Buffer.concat([header, pixels]));
      await rename(tmp, file);
      return true;
    } catch {
      await unlink(tmp).catch(() => undefined);
      return false;
    }
  }
}
