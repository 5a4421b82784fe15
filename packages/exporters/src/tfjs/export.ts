import { promises as fsp } from 'fs';
import * as path from 'path';
import type { ModelIR } from '@netaug/core';
import { withTempPath, type WrittenFiles } from '../atomic-write';
import { DEFAULT_SHARD_BYTES, fsIOHandler } from './fs-io-handler';
import { buildTfjsArtifacts, type TfjsExportOptions } from './topology';

/**
 * Exports a ModelIR as a TensorFlow.js LayersModel directory (`model.json` + `group1-shard*.bin`), loadable with
 * `tf.loadLayersModel('…/model.json')` over http or {@link loadTfjsModel} in Node. The directory is built under a
 * temporary name and renamed into place (an existing directory at `dir` is replaced).
 */
export async function exportTfjs(
  ir: ModelIR,
  dir: string,
  options: TfjsExportOptions = {},
): Promise<WrittenFiles> {
  const artifacts = buildTfjsArtifacts(ir, options);
  await withTempPath(dir, async (tmp) => {
    await fsIOHandler(tmp, { shardBytes: options.shardBytes ?? DEFAULT_SHARD_BYTES }).save(artifacts);
  });
  const names = (await fsp.readdir(dir)).sort();
  const files = names.map((f) => path.join(dir, f));
  let bytes = 0;
  for (const f of files) bytes += (await fsp.stat(f)).size;
  return { files, bytes };
}
