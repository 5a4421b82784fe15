/**
 * `@netaug/core/node` — the Node-only part of @netaug/core (it uses `node:fs`; the main entry `@netaug/core`
 * stays free of Node built-ins so that it can be bundled for browsers).
 */
export {
  TEMP_FILE_PATTERN,
  removeStaleTemps,
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFilesAtomic,
  writeFilesAtomicSync,
  type AtomicFile,
  type AtomicWriteOptions,
  type FileBytes,
  type RemoveStaleTempsOptions,
} from './atomic-write';
