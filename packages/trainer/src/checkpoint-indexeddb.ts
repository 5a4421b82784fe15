import { NetAugError } from '@netaug/core';
import type { CheckpointEntry, CheckpointStore } from './checkpoint-format';

/* The parts of the IndexedDB API used here (the project's TS lib has no DOM types). */
interface IdbRequest<T> {
  result: T;
  error: { name: string; message: string } | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  count(key: string): IdbRequest<number>;
  put(value: unknown, key: string): IdbRequest<unknown>;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: { name: string; message: string } | null;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}

const OBJECT_STORE = 'entries';

/** Options of {@link indexedDbCheckpointStore}. */
export interface IndexedDbCheckpointStoreOptions {
  /** IndexedDB database name (default `netaug-checkpoints`); entries are keyed `<run>/<name>` in it. */
  database?: string;
  /** The IndexedDB factory (default `globalThis.indexedDB`); a seam for tests and workers. */
  indexedDB?: unknown;
}

const idbError = (what: string, e: { name: string; message: string } | null | undefined, hint: string) =>
  new NetAugError('IO', `IndexedDB ${what} failed: ${e ? `${e.name}: ${e.message}` : 'unknown error'}`, {
    hint,
  });

/**
 * Checkpoints in the browser's IndexedDB: entry `name` of run `run` is the record `<run>/<name>` (the bytes, as a
 * `Uint8Array`) of the object store `entries` in database `netaug-checkpoints`. A `write` of several entries (the
 * checkpoint and its summary) is one transaction: all are stored or, when it fails (e.g. the storage quota), none
 * is and the previous checkpoint is kept. Pass it as the trainer option `checkpointStore`; `fit({ resume: 'auto' })`
 * continues the run after a reload.
 *
 * @throws NetAugError `IO` when the runtime has no IndexedDB (Node) or the database cannot be opened.
 */
export function indexedDbCheckpointStore(
  run: string,
  options: IndexedDbCheckpointStoreOptions = {},
): CheckpointStore {
  if (typeof run !== 'string' || run === '')
    throw new NetAugError('INVALID_ARGUMENT', 'indexedDbCheckpointStore needs a run name');
  const database = options.database ?? 'netaug-checkpoints';
  const factory = (options.indexedDB ?? (globalThis as { indexedDB?: unknown }).indexedDB) as
    IdbFactory | undefined;
  if (factory == null || typeof factory.open !== 'function') {
    throw new NetAugError('IO', 'indexedDbCheckpointStore: this runtime has no IndexedDB', {
      hint: 'use it in a browser; in Node pass runDir (files) or memoryCheckpointStore()',
    });
  }
  const key = (name: string) => `${run}/${name}`;
  let opened: Promise<IdbDatabase> | null = null;
  const open = (): Promise<IdbDatabase> =>
    (opened ??= new Promise<IdbDatabase>((resolve, reject) => {
      const req = factory.open(database, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(OBJECT_STORE)) req.result.createObjectStore(OBJECT_STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () =>
        reject(idbError(`open of database '${database}'`, req.error, 'check that the page may use storage'));
      req.onblocked = () =>
        reject(
          new NetAugError('IO', `IndexedDB database '${database}' is blocked by another tab`, {
            hint: 'close the other tabs of this page',
          }),
        );
    }));
  const request = async <T>(mode: 'readonly' | 'readwrite', op: (s: IdbObjectStore) => IdbRequest<T>) => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      const req = op(db.transaction(OBJECT_STORE, mode).objectStore(OBJECT_STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(idbError('read', req.error, 'reload the page; the database may be corrupt'));
    });
  };
  return {
    location: `indexeddb:${database}/${run}`,
    describe: (name) => `indexeddb:${database}/${key(name)}`,
    exists: async (name) => (await request('readonly', (s) => s.count(key(name)))) > 0,
    read: async (name) => {
      const v = await request('readonly', (s) => s.get(key(name)));
      return v instanceof Uint8Array ? v : null;
    },
    write: async (entries: readonly CheckpointEntry[], opts = {}) => {
      const db = await open();
      const what = opts.label ?? 'checkpoint';
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction(OBJECT_STORE, 'readwrite');
        const store = tx.objectStore(OBJECT_STORE);
        for (const e of entries)
          store.put(
            typeof e.bytes === 'string' ? new TextEncoder().encode(e.bytes) : e.bytes.slice(),
            key(e.name),
          );
        tx.oncomplete = () => resolve();
        const fail = () =>
          reject(
            idbError(
              `write of the ${what} (${entries.map((e) => key(e.name)).join(', ')})`,
              tx.error,
              'free storage space (the previous checkpoint is kept)',
            ),
          );
        tx.onerror = fail;
        tx.onabort = fail;
      });
    },
  };
}
