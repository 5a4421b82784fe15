import { Worker } from 'worker_threads';
import { NetAugError } from '@netaug/core';

/**
 * Runs `source` (CommonJS, `eval` mode) in a worker thread with `workerData`, and resolves with the first message
 * it posts: `{ ok: true, ... }` or `{ ok: false, error }`. Runtimes run in workers so that their globals and
 * native objects stay out of the caller's realm (jest's vm sandbox breaks `instanceof Float32Array` checks in
 * onnxruntime, LiteRT.js needs browser-like globals) and so that ES-module-only runtimes load from CommonJS.
 */
export async function runWorker<T>(source: string, workerData: unknown, runtime: string): Promise<T> {
  let log = '';
  const msg = await new Promise<{ ok: boolean; error?: string } & T>((resolve, reject) => {
    // the runtimes' own logging (LiteRT prints INFO lines from wasm) is captured, and only shown on failure
    const worker = new Worker(source, { eval: true, workerData, stdout: true, stderr: true });
    const append = (d: Buffer) => {
      log = (log + d).slice(-65536);
    };
    worker.stdout.on('data', append);
    worker.stderr.on('data', append);
    let done = false;
    worker.once('message', (m) => {
      done = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (e) => {
      done = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!done)
        reject(
          new Error(
            `${runtime} worker exited with code ${code} before answering\n${log.trim().split('\n').slice(-20).join('\n')}`,
          ),
        );
    });
  });
  if (!msg.ok) {
    const tail = log.trim().split('\n').slice(-20).join('\n');
    throw new NetAugError(
      'BACKEND_UNAVAILABLE',
      `${runtime} could not run the model: ${msg.error}${tail ? `\nruntime log:\n${tail}` : ''}`,
    );
  }
  return msg;
}

/** Copies typed arrays received from a worker into this realm's Float32Array. */
export const toLocalFloat32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);
