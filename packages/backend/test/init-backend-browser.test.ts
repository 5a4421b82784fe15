/**
 * The browser build's initBackend, run in Node: it only activates backends the application registered (no
 * loading by name), reports the ones it skipped and why, and says which NetAug kernels the chosen one has.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { isNetAugError } from '@netaug/core';
import { describeBackend } from '../src';
import { BATCH_NORM_TRAIN } from '../src/batch-norm-train';
import { initBackend } from '../src/init-backend-browser';

// what a page does after importing the wasm backend: say where its .wasm files are
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);

test('default order: webgpu and webgl are skipped as not imported, wasm (imported) is chosen with NetAug kernels', async () => {
  const r = await initBackend();
  expect(r.name).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
  expect(r.tried.map((t) => [t.name, t.ok])).toEqual([
    ['webgpu', false],
    ['webgl', false],
    ['wasm', true],
  ]);
  expect(r.tried[0].reason).toBe("not registered: import '@tensorflow/tfjs-backend-webgpu' before initBackend()");
  expect(r.tried[1].reason).toBe("not registered: import '@tensorflow/tfjs-backend-webgl' before initBackend()");
  expect(r.reason).toBe('first backend that started');
  expect(r.gradients).toBe(true);
  expect(r.netaugKernels).toEqual(
    expect.arrayContaining([BATCH_NORM_TRAIN, 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']),
  );
  expect(describeBackend()).toMatch(/^wasm \(.*netaug grad kernels 3\/3/);
});

test('prefer cpu: the fused batch-norm pair is the only NetAug kernel', async () => {
  const r = await initBackend({ prefer: 'cpu' });
  expect(r).toMatchObject({ name: 'cpu', reason: 'requested by option prefer', gradients: true });
  expect(r.netaugKernels.sort()).toEqual([BATCH_NORM_TRAIN, 'NetAugBatchNormTrainGrad'].sort());
});

test('a preferred backend that is not imported fails with BACKEND_UNAVAILABLE naming its package; fallback goes on', async () => {
  const err = await initBackend({ prefer: 'webgl' }).catch((e: unknown) => e);
  expect(isNetAugError(err)).toBe(true);
  expect((err as { code: string }).code).toBe('BACKEND_UNAVAILABLE');
  expect((err as Error).message).toContain("Backend 'webgl' could not be started: not registered");
  expect((err as { hint: string }).hint).toContain("import '@tensorflow/tfjs-backend-webgl'");
  const r = await initBackend({ prefer: 'webgl', fallback: true });
  expect(r.tried.map((t) => t.name)).toEqual(['webgl', 'webgpu', 'wasm']);
  expect(r.name).toBe('wasm');
  const unknown = await initBackend({ prefer: 'tensorflow' as never }).catch((e: unknown) => e);
  expect((unknown as Error).message).toMatch(/^Unknown browser backend 'tensorflow'\./);
  expect((unknown as { hint: string }).hint).toBe('Valid names in a browser: webgpu, webgl, wasm, cpu.');
});
