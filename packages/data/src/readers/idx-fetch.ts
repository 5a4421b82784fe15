import { NetAugError } from '@netaug/core';
import type { MemoryDataset } from '../memory-dataset';
import { idxDataset, parseIdx, type IdxArray, type IdxOptions } from './idx-parse';

/** Fetches `url` as bytes, failing with `DATA_NOT_FOUND` (HTTP 404) or `IO` naming it. */
export async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new NetAugError('IO', `Cannot fetch ${url}: ${(e as Error).message}`, {
      cause: e,
      hint: 'check the URL and that the server is reachable (and allows this origin)',
      details: { file: url },
    });
  }
  if (!res.ok) {
    throw new NetAugError(
      res.status === 404 ? 'DATA_NOT_FOUND' : 'IO',
      `Cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim(),
      {
        hint: 'serve the file at this URL (see the README of @netaug/data, "In a browser")',
        details: { file: url },
      },
    );
  }
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Decompresses `bytes` with the platform's `DecompressionStream('gzip')` when they start with the gzip magic
 * (1f 8b); returns them unchanged otherwise. `name` names them in errors.
 */
export async function gunzipIfGzip(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  if (!(bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  if (typeof DecompressionStream !== 'function') {
    throw new NetAugError('IO', `${name} is gzip-compressed and this runtime has no DecompressionStream`, {
      hint: 'serve the file uncompressed, or use a browser with the Compression Streams API',
      details: { file: name },
    });
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${name}: corrupt or truncated gzip stream (${(e as Error).message})`,
      {
        cause: e,
        hint: 'download the file again',
        details: { file: name },
      },
    );
  }
}

/** Fetches and parses one IDX file (gzip or raw, detected by magic). */
export async function fetchIdxFile(url: string): Promise<IdxArray> {
  return parseIdx(await gunzipIfGzip(await fetchBytes(url), url), url);
}

/**
 * Fetches an images IDX file (`N×H×W` or `N×H×W×C`) and a labels IDX file (`N`), raw or gzip, into an
 * in-memory dataset (HWC, scaled to [0, 1] by `get`): `loadIdx` over `fetch`, for browsers (and Node ≥ 20).
 */
export async function fetchIdx(
  imagesUrl: string,
  labelsUrl: string,
  options: IdxOptions = {},
): Promise<MemoryDataset> {
  const [images, labels] = await Promise.all([fetchIdxFile(imagesUrl), fetchIdxFile(labelsUrl)]);
  return idxDataset(images, labels, imagesUrl, labelsUrl, options);
}
