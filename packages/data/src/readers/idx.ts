import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { NetAugError } from '@netaug/core';
import type { MemoryDataset } from '../memory-dataset';
import { idxDataset, parseIdx, type IdxArray, type IdxOptions } from './idx-parse';

export { idxDataset, parseIdx, type IdxArray, type IdxOptions };

const gunzipAsync = promisify(gunzip);

/** Reads a file, failing with `DATA_NOT_FOUND` / `IO` naming it. */
export async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetAugError('DATA_NOT_FOUND', `File not found: ${file}`, { cause: e });
    throw new NetAugError('IO', `Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Decompresses `bytes` when they start with the gzip magic (1f 8b); returns them unchanged otherwise. */
export async function maybeGunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return await gunzipAsync(bytes);
    } catch (e) {
      throw new NetAugError(
        'DATA_FORMAT',
        `${file}: corrupt or truncated gzip stream (${(e as Error).message})`,
        {
          cause: e,
          hint: 'download the file again',
          details: { file },
        },
      );
    }
  }
  return bytes;
}

/** Reads and parses one IDX file (gzip or raw, detected by magic). */
export async function readIdxFile(file: string): Promise<IdxArray> {
  return parseIdx(await maybeGunzip(await readBytes(file), file), file);
}

/**
 * Loads an images IDX file (`N×H×W` or `N×H×W×C`) and a labels IDX file (`N`) into an in-memory dataset
 * (HWC, scaled to [0, 1] by `get`).
 */
export async function loadIdx(
  imagesFile: string,
  labelsFile: string,
  options: IdxOptions = {},
): Promise<MemoryDataset> {
  const [images, labels] = await Promise.all([readIdxFile(imagesFile), readIdxFile(labelsFile)]);
  return idxDataset(images, labels, imagesFile, labelsFile, options);
}
