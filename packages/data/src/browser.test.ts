/**
 * The browser build's data path, run in Node (which has `fetch` and `DecompressionStream` too): the embedded
 * Fashion-MNIST subset served over http and read with `fetchBuiltin` must be exactly what `loadIdx` reads from
 * the files, and the browser loader must yield the Node loader's batches.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Batch } from '@netaug/core';
import { NetAugError } from '@netaug/core';
import { EMBEDDED_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from './builtin';
import { fetchBuiltin } from './builtin-fetch';
import { createLoader as createNodeLoader } from './loader';
import { createLoader as createBrowserLoader } from './loader-browser';
import { loadIdx } from './readers/idx';
import { fetchIdx, gunzipIfGzip } from './readers/idx-fetch';
import { subset } from './split';
import { normalize, randomCrop, randomHorizontalFlip } from './transforms';

let server: http.Server;
let base: string;
const served: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    served.push(name);
    if (name === 'raw-labels') {
      // the labels file uncompressed: fetchIdx must accept raw IDX too
      const gz = readFileSync(join(EMBEDDED_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
      res.end(gunzipSync(gz));
      return;
    }
    if (!/^[a-z0-9-]+\.gz$/.test(name)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    try {
      res.end(readFileSync(join(EMBEDDED_FASHION_MNIST_DIR, name)));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections(); // fetch keeps connections alive
  await new Promise<void>((r) => server.close(() => r()));
});

test('fetchBuiltin reads the embedded Fashion-MNIST subset over http exactly as loadIdx reads the files', async () => {
  const fetched = await fetchBuiltin('fashion-mnist', { baseUrl: base, split: 'test' });
  const local = await loadIdx(
    join(EMBEDDED_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'),
    join(EMBEDDED_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'),
  );
  expect(served).toEqual(expect.arrayContaining(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']));
  expect(fetched.size).toBe(2000);
  expect(fetched.shape).toEqual([28, 28, 1]);
  expect(fetched.classNames).toEqual(FASHION_MNIST_CLASSES);
  expect(fetched.source).toBe(base);
  expect(Buffer.from(fetched.pixels).equals(Buffer.from(local.pixels))).toBe(true);
  expect(Array.from(fetched.labels)).toEqual(Array.from(local.labels));
});

test('fetchIdx accepts raw (uncompressed) IDX and names a missing URL in a DATA_NOT_FOUND error', async () => {
  const ds = await fetchIdx(`${base}t10k-images-idx3-ubyte.gz`, `${base}raw-labels`);
  expect(ds.size).toBe(2000);
  const err = await fetchIdx(`${base}missing.gz`, `${base}raw-labels`).catch((e) => e);
  expect(err).toBeInstanceOf(NetAugError);
  expect(err.code).toBe('DATA_NOT_FOUND');
  expect(err.message).toContain(`${base}missing.gz`);
  expect(err.message).toContain('404');
});

test('gunzipIfGzip decompresses with DecompressionStream and rejects a truncated stream with DATA_FORMAT', async () => {
  const plain = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 251);
  const gz = gzipSync(plain);
  expect(Buffer.from(await gunzipIfGzip(gz, 'x.gz')).equals(Buffer.from(plain))).toBe(true);
  expect(await gunzipIfGzip(plain, 'raw')).toBe(plain); // no gzip magic: unchanged
  const err = await gunzipIfGzip(gz.subarray(0, gz.length - 20), 'cut.gz').catch((e) => e);
  expect(err).toBeInstanceOf(NetAugError);
  expect(err.code).toBe('DATA_FORMAT');
  expect(err.message).toContain('cut.gz');
});

test('the browser loader yields the Node loader batches (seeded shuffling and transforms) and has no workers', async () => {
  const ds = subset(await fetchBuiltin('fashion-mnist', { baseUrl: base, split: 'test' }), 300, 1);
  const transform = [randomCrop(28, { padding: 2 }), randomHorizontalFlip(), normalize([0.286], [0.353])];
  const take = async (it: AsyncIterable<Batch>) => {
    const out: Batch[] = [];
    for await (const b of it) out.push(b);
    return out;
  };
  const browser = createBrowserLoader(ds, { batchSize: 64, seed: 3, transform });
  const node = createNodeLoader(ds, { batchSize: 64, seed: 3, transform, workers: 0 });
  expect(browser.mode).toBe('in-thread');
  const [a, b] = [await take(browser), await take(node)];
  expect(a.map((x) => x.labels.length)).toEqual([64, 64, 64, 64, 44]);
  a.forEach((x, i) => {
    expect(Array.from(x.labels)).toEqual(Array.from(b[i].labels));
    expect(
      Buffer.from(x.images.buffer, x.images.byteOffset, x.images.byteLength).equals(
        Buffer.from(b[i].images.buffer, b[i].images.byteOffset, b[i].images.byteLength),
      ),
    ).toBe(true);
  });
  expect(() => createBrowserLoader(ds, { batchSize: 8, workers: 2 })).toThrow(
    expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('worker threads') }),
  );
  await node.close();
});
