import { promises as fsp } from 'fs';
import * as path from 'path';
import type { ModelIR } from '@netaug/core';
import type { WrittenFiles } from '../atomic-write';
import { DEFAULT_SHARD_BYTES, fsIOHandler, type TfjsModelJson } from './fs-io-handler';
import { buildTfjsArtifacts, type TfjsExportOptions } from './topology';

/** Weight shard names tfjs writes (`group1-shard1of3.bin`). */
const SHARD = /^group\d+-shard\d+of\d+\.bin$/;

/**
 * Exports a ModelIR as a TensorFlow.js LayersModel directory (`model.json` + `group1-shard*.bin`), loadable with
 * `tf.loadLayersModel('…/model.json')` over http or {@link loadTfjsModel} in Node. The shards and `model.json`
 * (last) are written together with `writeFilesAtomic` of `@netaug/core/node`: on an error none of them changes.
 * Afterwards, shards of an earlier export in `dir` that the new `model.json` does not list are removed; other
 * files in `dir` are left alone.
 */
export async function exportTfjs(
  ir: ModelIR,
  dir: string,
  options: TfjsExportOptions = {},
): Promise<WrittenFiles> {
  const artifacts = buildTfjsArtifacts(ir, options);
  await fsIOHandler(dir, { shardBytes: options.shardBytes ?? DEFAULT_SHARD_BYTES }).save(artifacts);
  const json = JSON.parse(await fsp.readFile(path.join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
  const listed = new Set(json.weightsManifest.flatMap((g) => g.paths));
  for (const f of await fsp.readdir(dir)) {
    if (SHARD.test(f) && !listed.has(f)) await fsp.rm(path.join(dir, f), { force: true });
  }
  const files = [...listed, 'model.json'].sort().map((f) => path.join(dir, f));
  let bytes = 0;
  for (const f of files) bytes += (await fsp.stat(f)).size;
  return { files, bytes };
}
