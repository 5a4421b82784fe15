/**
 * The atomic writes of the exporters are those of `@netaug/core/node` (temp file in the same folder, full write,
 * fsync, rename, fsync of the folder; IO errors name the path and keep the previous file). Re-exported here under
 * the names this package has always exported.
 */
export { writeFileAtomic, writeFilesAtomic } from '@netaug/core/node';

/** Files written by an export (absolute paths) and their total size in bytes. */
export interface WrittenFiles {
  files: string[];
  bytes: number;
}
