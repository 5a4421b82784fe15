import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NetAugError } from '../errors';
import {
  TEMP_FILE_PATTERN,
  removeStaleTemps,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFilesAtomic,
  writeFilesAtomicSync,
} from './index';

const dirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-atomic-'));
  dirs.push(d);
  return d;
}
afterEach(() => jest.restoreAllMocks());
afterAll(() => {
  for (const d of dirs) {
    fs.chmodSync(d, 0o755);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

/** An error as Node's fs throws it. */
function sysError(code: string, syscall: string, words: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${words}, ${syscall}`), { code, syscall, errno: -1 });
}

const realWriteSync = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
const realOpenSync = fs.openSync.bind(fs) as (...a: unknown[]) => number;

/** Replaces fs.writeSync for writes of whole buffers (what the atomic write does); others pass through. */
function mockWrites(
  impl: (call: number, fd: number, buf: Uint8Array, off: number, len: number, pos: number) => number,
) {
  let call = 0;
  return jest.spyOn(fs, 'writeSync').mockImplementation(((...a: unknown[]) => {
    if (!(a[1] instanceof Uint8Array) || typeof a[2] !== 'number') return realWriteSync(...a);
    call++;
    return impl(call, a[0] as number, a[1], a[2], a[3] as number, a[4] as number);
  }) as typeof fs.writeSync);
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const listing = (d: string) => fs.readdirSync(d).sort();

function caught(fn: () => unknown): NetAugError {
  try {
    fn();
  } catch (e) {
    return e as NetAugError;
  }
  throw new Error('no error thrown');
}

describe('writeFileAtomicSync', () => {
  it('writes through a temp file .<base>.<pid>.<random>.tmp in the same folder, creates the folder, leaves no temp', () => {
    const root = tmpDir();
    const file = path.join(root, 'sub', 'model.bin');
    const opened: string[] = [];
    jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
      opened.push(String(a[0]));
      return realOpenSync(...a);
    }) as typeof fs.openSync);
    writeFileAtomicSync(file, bytes(1000));
    const tmp = opened.find((p) => p.endsWith('.tmp'))!;
    expect(path.dirname(tmp)).toBe(path.dirname(file));
    const m = TEMP_FILE_PATTERN.exec(path.basename(tmp))!;
    expect(m[1]).toBe('model.bin');
    expect(Number(m[2])).toBe(process.pid);
    expect(opened).toContain(path.dirname(file)); // the folder is opened for its fsync
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(bytes(1000)))).toBe(true);
    expect(listing(path.dirname(file))).toEqual(['model.bin']);
    writeFileAtomicSync(file, 'text ✓');
    expect(fs.readFileSync(file, 'utf8')).toBe('text ✓');
  });

  it('short writes (half of the rest per call) still give the complete, identical file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'checkpoint.bin');
    const data = bytes(100_001);
    const calls: number[] = [];
    mockWrites((_c, fd, buf, off, len, pos) => {
      const n = Math.max(1, Math.floor(len / 2));
      calls.push(n);
      return realWriteSync(fd, buf, off, n, pos);
    });
    writeFileAtomicSync(file, data);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(data))).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(17); // log2(100001) halvings
    expect(calls.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(listing(dir)).toEqual(['checkpoint.bin']);
  });

  it('ENOSPC on the 2nd write call → NetAugError IO naming the path; previous bytes kept; no temp left', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'checkpoint.bin');
    const previous = bytes(5000, 7);
    fs.writeFileSync(file, previous);
    mockWrites((call, fd, buf, off, len, pos) => {
      if (call === 2) throw sysError('ENOSPC', 'write', 'no space left on device');
      return realWriteSync(fd, buf, off, Math.floor(len / 2), pos);
    });
    const err = caught(() => writeFileAtomicSync(file, bytes(20_000), { label: 'checkpoint' }));
    expect(err).toBeInstanceOf(NetAugError);
    expect(err.code).toBe('IO');
    expect(err.message).toBe(
      `no space left on device writing ${file} (the previous checkpoint is kept) — ` +
        `free space on the disk that holds ${dir}, or write to another disk`,
    );
    expect(err.hint).toBe(`free space on the disk that holds ${dir}, or write to another disk`);
    expect(err.details).toEqual({ path: file, code: 'ENOSPC', syscall: 'write' });
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(previous))).toBe(true);
    expect(listing(dir)).toEqual(['checkpoint.bin']);
  });

  it.each([
    ['EDQUOT', 'disk quota exceeded', 'free space in your disk quota for'],
    ['EROFS', 'read-only file system', 'is on a read-only file system'],
    ['EIO', 'i/o error (EIO)', 'check the disk and the folder'],
  ])('%s from write → "%s writing <path>"', (code, words, hint) => {
    const dir = tmpDir();
    const file = path.join(dir, 'summary.json');
    mockWrites(() => {
      throw sysError(code, 'write', code === 'EIO' ? 'i/o error' : words);
    });
    const err = caught(() => writeFileAtomicSync(file, '{}'));
    expect(err.code).toBe('IO');
    expect(err.message.startsWith(`${words} writing ${file} (no file was written) — `)).toBe(true);
    expect(err.hint).toContain(hint);
    expect(listing(dir)).toEqual([]);
  });

  it('a write of zero bytes is an IO error, not an endless loop; the previous file is kept', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.nair');
    fs.writeFileSync(file, 'old');
    mockWrites((call, fd, buf, off, len, pos) => (call === 1 ? realWriteSync(fd, buf, off, 10, pos) : 0));
    const err = caught(() => writeFileAtomicSync(file, bytes(64), { label: 'model' }));
    expect(err.code).toBe('IO');
    expect(err.message).toMatch(
      new RegExp(
        `^the system accepted no bytes writing ${file} \\(at byte 10 of 64; the previous model is kept\\)`,
      ),
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(listing(dir)).toEqual(['model.nair']);
  });

  it('EACCES from opening the temp file (mocked: root ignores chmod) → "permission denied writing <path>"', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, 'v1');
    jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
      if (String(a[0]).endsWith('.tmp')) throw sysError('EACCES', 'open', 'permission denied');
      return realOpenSync(...a);
    }) as typeof fs.openSync);
    const err = caught(() => writeFileAtomicSync(file, 'v2'));
    expect(err.code).toBe('IO');
    expect(err.message).toBe(
      `permission denied writing ${file} (the previous file is kept) — make ${dir} writable for this user, ` +
        'or write to another folder',
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('v1');
    expect(listing(dir)).toEqual(['config.json']);
  });

  const probe = (() => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-ro-probe-'));
    fs.chmodSync(d, 0o555);
    let writable = false;
    try {
      fs.writeFileSync(path.join(d, 'x'), 'x');
      writable = true;
    } catch {
      writable = false;
    }
    fs.chmodSync(d, 0o755);
    fs.rmSync(d, { recursive: true, force: true });
    return { root: process.getuid?.() === 0, writable };
  })();
  // root (as in CI) writes into a 0o555 folder anyway: then only the mocked EACCES case above applies
  (probe.root && probe.writable ? it.skip : it)(
    'a read-only folder (chmod 0o555) → IO "permission denied", previous file kept',
    () => {
      const dir = tmpDir();
      const file = path.join(dir, 'metrics.csv');
      fs.writeFileSync(file, 'a,b\n');
      fs.chmodSync(dir, 0o555);
      const err = caught(() => writeFileAtomicSync(file, 'a,b\n1,2\n'));
      fs.chmodSync(dir, 0o755);
      expect(err.code).toBe('IO');
      expect(err.message).toMatch(
        new RegExp(`^permission denied writing ${file} \\(the previous file is kept\\)`),
      );
      expect(fs.readFileSync(file, 'utf8')).toBe('a,b\n');
      expect(listing(dir)).toEqual(['metrics.csv']);
    },
  );

  it('EPERM from the rename → IO "operation not permitted"; the temp file is removed, the previous file kept', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'loss.svg');
    fs.writeFileSync(file, '<svg/>');
    jest.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw sysError('EPERM', 'rename', 'operation not permitted');
    });
    const err = caught(() => writeFileAtomicSync(file, '<svg>new</svg>'));
    expect(err.message).toMatch(
      new RegExp(`^operation not permitted writing ${file} \\(the previous file is kept\\)`),
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('<svg/>');
    expect(listing(dir)).toEqual(['loss.svg']);
  });

  it('fsync of the file failing (EIO) removes the temp file and keeps the previous one', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'a.bin');
    fs.writeFileSync(file, 'old');
    jest.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw sysError('EIO', 'fsync', 'i/o error');
    });
    const err = caught(() => writeFileAtomicSync(file, 'new'));
    expect(err.message).toMatch(
      new RegExp(`^i/o error \\(EIO\\) writing ${file} \\(the previous file is kept\\)`),
    );
    expect(listing(dir)).toEqual(['a.bin']);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
  });

  it.each(['EISDIR', 'EPERM'])('a folder fsync refused by the platform (%s) is ignored', (code) => {
    const dir = tmpDir();
    const file = path.join(dir, 'a.json');
    const dirFds = new Set<number>();
    jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
      const fd = realOpenSync(...a);
      if (a[0] === dir) dirFds.add(fd);
      return fd;
    }) as typeof fs.openSync);
    const realFsync = fs.fsyncSync.bind(fs);
    jest.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
      if (dirFds.has(fd)) throw sysError(code, 'fsync', 'refused');
      realFsync(fd);
    });
    writeFileAtomicSync(file, '{"ok":true}');
    expect(dirFds.size).toBe(1);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"ok":true}');
  });

  it('the async form rejects with the same IO error', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.onnx');
    mockWrites(() => {
      throw sysError('ENOSPC', 'write', 'no space left on device');
    });
    const err = await writeFileAtomic(file, bytes(10), { label: 'model' }).catch((e: NetAugError) => e);
    expect(err).toBeInstanceOf(NetAugError);
    expect((err as NetAugError).message).toMatch(
      new RegExp(`^no space left on device writing ${file} \\(no model was written\\)`),
    );
    expect(listing(dir)).toEqual([]);
  });
});

describe('writeFilesAtomic', () => {
  it('renames in the given order after every temp file is written', async () => {
    const dir = tmpDir();
    const order: string[] = [];
    const realRename = fs.renameSync.bind(fs);
    jest.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      order.push(path.basename(String(b)));
      realRename(a, b);
    });
    const files = ['shard1.bin', 'shard2.bin', 'model.json'].map((f, i) => ({
      file: path.join(dir, f),
      bytes: bytes(100 + i, i),
    }));
    await writeFilesAtomic(files);
    expect(order).toEqual(['shard1.bin', 'shard2.bin', 'model.json']);
    for (const f of files)
      expect(Buffer.from(fs.readFileSync(f.file)).equals(Buffer.from(f.bytes))).toBe(true);
    expect(listing(dir)).toEqual(['model.json', 'shard1.bin', 'shard2.bin']);
  });

  it('a failure writing the 2nd file → neither new file is visible (previous ones kept, new ones absent), no temp', () => {
    const dir = tmpDir();
    const a = path.join(dir, 'checkpoint.bin');
    const b = path.join(dir, 'checkpoint.json');
    const c = path.join(dir, 'extra.bin');
    fs.writeFileSync(a, 'old bin');
    fs.writeFileSync(b, 'old json');
    let tempsOpened = 0;
    jest.spyOn(fs, 'openSync').mockImplementation(((...x: unknown[]) => {
      if (String(x[0]).endsWith('.tmp')) tempsOpened++;
      return realOpenSync(...x);
    }) as typeof fs.openSync);
    mockWrites((_call, fd, buf, off, len, pos) => {
      if (tempsOpened === 2) throw sysError('ENOSPC', 'write', 'no space left on device');
      return realWriteSync(fd, buf, off, len, pos);
    });
    const err = caught(() =>
      writeFilesAtomicSync(
        [
          { file: a, bytes: 'new bin' },
          { file: b, bytes: 'new json' },
          { file: c, bytes: 'new extra' },
        ],
        { label: 'checkpoint' },
      ),
    );
    expect(err.code).toBe('IO');
    expect(err.message).toMatch(
      new RegExp(`^no space left on device writing ${b} \\(the previous checkpoint is kept\\)`),
    );
    expect(fs.readFileSync(a, 'utf8')).toBe('old bin');
    expect(fs.readFileSync(b, 'utf8')).toBe('old json');
    expect(listing(dir)).toEqual(['checkpoint.bin', 'checkpoint.json']);
  });

  it('a failing rename of the 2nd file puts the 1st back: previous files intact, no temp or backup left', () => {
    const dir = tmpDir();
    const a = path.join(dir, 'group1-shard1of1.bin');
    const b = path.join(dir, 'model.json');
    fs.writeFileSync(a, 'old shard');
    fs.writeFileSync(b, 'old model');
    const realRename = fs.renameSync.bind(fs);
    jest.spyOn(fs, 'renameSync').mockImplementation((x, y) => {
      if (y === b && String(x).endsWith('.tmp') && !path.basename(String(x)).startsWith('.group1'))
        throw sysError('EACCES', 'rename', 'permission denied');
      realRename(x, y);
    });
    const err = caught(() =>
      writeFilesAtomicSync([
        { file: a, bytes: 'new shard' },
        { file: b, bytes: 'new model' },
      ]),
    );
    expect(err.message).toMatch(
      new RegExp(`^permission denied writing ${b} \\(the previous file is kept\\)`),
    );
    expect(fs.readFileSync(a, 'utf8')).toBe('old shard');
    expect(fs.readFileSync(b, 'utf8')).toBe('old model');
    expect(listing(dir)).toEqual(['group1-shard1of1.bin', 'model.json']);
  });

  it('refuses a file listed twice', () => {
    const dir = tmpDir();
    const f = path.join(dir, 'x');
    const err = caught(() =>
      writeFilesAtomicSync([
        { file: f, bytes: 'a' },
        { file: path.join(dir, '.', 'x'), bytes: 'b' },
      ]),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(`atomic write: ${path.join(dir, '.', 'x')} is listed twice`);
    expect(listing(dir)).toEqual([]);
  });
});

describe('removeStaleTemps', () => {
  it('deletes only .<base>.<pid>.<random>.tmp files of other processes, never recursing', () => {
    const dir = tmpDir();
    const keep = [
      'checkpoint.bin',
      'notes.tmp',
      '.hidden.tmp',
      '.a.123.xyz.tmp', // not 8 hex digits
      '.a.123.0a1b2c3d.tmp.bak',
      `.mine.${process.pid}.0a1b2c3d.tmp`, // this process: maybe in progress
    ];
    const stale = ['.checkpoint.bin.4242.0a1b2c3d.tmp', '.model.nair.17.deadbeef.tmp'];
    for (const f of [...keep, ...stale]) fs.writeFileSync(path.join(dir, f), 'x');
    fs.mkdirSync(path.join(dir, '.folder.99.0a1b2c3d.tmp')); // a folder with the pattern: not a file
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', '.x.4242.0a1b2c3d.tmp'), 'x'); // not recursed into
    expect(removeStaleTemps(dir)).toEqual(stale.sort());
    expect(listing(dir)).toEqual([...keep, '.folder.99.0a1b2c3d.tmp', 'sub'].sort());
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['.x.4242.0a1b2c3d.tmp']);
    // ownPid: null also removes this process's temps
    expect(removeStaleTemps(dir, { ownPid: null })).toEqual([`.mine.${process.pid}.0a1b2c3d.tmp`]);
  });

  it('olderThanMs keeps recent temps; a missing folder removes nothing', () => {
    const dir = tmpDir();
    const old = path.join(dir, '.a.bin.4242.00000000.tmp');
    const recent = path.join(dir, '.b.bin.4242.11111111.tmp');
    fs.writeFileSync(old, 'x');
    fs.writeFileSync(recent, 'x');
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(old, hourAgo, hourAgo);
    expect(removeStaleTemps(dir, { olderThanMs: 60_000 })).toEqual(['.a.bin.4242.00000000.tmp']);
    expect(listing(dir)).toEqual(['.b.bin.4242.11111111.tmp']);
    expect(removeStaleTemps(path.join(dir, 'missing'))).toEqual([]);
  });
});

describe('entry points', () => {
  it('the main entry @netaug/core imports no Node built-in (it is bundled for browsers)', () => {
    const src = path.join(__dirname, '..');
    const builtins = new Set(require('node:module').builtinModules as string[]);
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) {
          if (p !== path.join(src, 'node')) walk(p);
        } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
          for (const m of fs
            .readFileSync(p, 'utf8')
            .matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)) {
            const spec = m[1].replace(/^node:/, '').split('/')[0];
            if (m[1].startsWith('node:') || builtins.has(spec))
              offenders.push(`${path.relative(src, p)}: ${m[1]}`);
            if (/(^|\/)node(\/index)?$/.test(m[1])) offenders.push(`${path.relative(src, p)}: ${m[1]}`);
          }
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(src, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['./node']).toEqual({
      types: './dist/node/index.d.ts',
      import: './dist/node/index.mjs',
      require: './dist/node/index.js',
    });
  });
});
