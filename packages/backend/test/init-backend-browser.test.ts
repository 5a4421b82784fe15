/**
 * The browser build's initBackend, run in Node: it only activates backends the application registered (no
 * loading by name), reports the ones it skipped and why, and says which NetAug kernels the chosen one has.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { isNetAugError } from '@netaug/core';
import { describeBackend } from '../src';
import { BATCH_NORM_TRAIN, batchNormTrain } from '../src/batch-norm-train';
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
  expect(r.tried[0].reason).toBe(
    'not registered: import @tensorflow/tfjs-backend-webgpu before initBackend()',
  );
  expect(r.tried[1].reason).toBe(
    'not registered: import @tensorflow/tfjs-backend-webgl before initBackend()',
  );
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
  expect((err as { hint: string }).hint).toContain(
    'import @tensorflow/tfjs-backend-webgl before initBackend()',
  );
  const r = await initBackend({ prefer: 'webgl', fallback: true });
  expect(r.tried.map((t) => t.name)).toEqual(['webgl', 'webgpu', 'wasm']);
  expect(r.name).toBe('wasm');
  const unknown = await initBackend({ prefer: 'tensorflow' as never }).catch((e: unknown) => e);
  expect((unknown as Error).message).toMatch(/^Unknown browser backend 'tensorflow'\./);
  expect((unknown as { hint: string }).hint).toBe('Valid names in a browser: webgpu, webgl, wasm, cpu.');
});

/**
 * A stand-in for the webgpu backend: the cpu backend under the name `webgpu`, with tfjs' cpu kernels (not this
 * package's) registered for it — what a GPU backend looks like to initBackend: registered, no NetAug kernels.
 */
function registerStandInWebgpu(): void {
  if (tf.findBackendFactory('webgpu') != null) return;
  for (const k of tf.getKernelsForBackend('cpu'))
    if (!k.kernelName.startsWith('NetAug')) tf.registerKernel({ ...k, backendName: 'webgpu' });
  tf.registerBackend('webgpu', () => new MathBackendCPU());
}

describe('a registered webgpu backend', () => {
  const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const setGpu = (adapter: unknown) =>
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: { requestAdapter: async () => adapter } },
      configurable: true,
    });
  beforeAll(registerStandInWebgpu);
  afterEach(() => {
    if (nav) Object.defineProperty(globalThis, 'navigator', nav);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  test('without an adapter it is skipped with that reason; preferring it fails without the import hint', async () => {
    setGpu(null);
    const r = await initBackend();
    expect(r.tried[0]).toEqual({
      name: 'webgpu',
      ok: false,
      reason: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null: no usable GPU)',
    });
    expect(r.name).toBe('wasm');
    const err = await initBackend({ prefer: 'webgpu' }).catch((e: unknown) => e);
    expect((err as { hint: string }).hint).toBe('pick another backend, or pass fallback: true');
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
    const none = await initBackend({ prefer: 'webgpu', fallback: true });
    expect(none.tried[0].reason).toBe('this browser has no WebGPU (navigator.gpu is undefined)');
  });

  test('with an adapter it is chosen first, has no NetAug kernels, and batchNormTrain runs as plain ops', async () => {
    setGpu({});
    const r = await initBackend();
    expect(r).toMatchObject({
      name: 'webgpu',
      reason: 'first in default order',
      gradients: true,
      netaugKernels: [],
    });
    expect(describeBackend()).toBe(
      'webgpu (tfjs-core 4.22.0, plain tfjs ops, no NetAug kernels, gradients registered)',
    );
    // batchNormTrain dispatches on the kernel registry: none for webgpu, so the plain-ops path runs there
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'webgpu')).toBeUndefined();
    const data = Array.from({ length: 2 * 3 * 3 * 4 }, (_, i) => Math.sin(i * 1.7) * 2 + (i % 4));
    const run = () =>
      tf.tidy(() => {
        const r = batchNormTrain(
          tf.tensor4d(data, [2, 3, 3, 4]),
          tf.tensor1d([1, 0.5, 2, 1.5]),
          tf.tensor1d([0, 0.1, -0.2, 0.3]),
        );
        return [r.y, r.mean, r.variance].map((t) => Array.from(t.dataSync()));
      });
    const before = tf.memory().numTensors;
    const onWebgpu = run();
    expect(tf.memory().numTensors).toBe(before);
    // the reference: the cpu backend's fused kernel (hand-written loops, not the ops)
    await tf.setBackend('cpu');
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'cpu')).toBeDefined();
    const onCpu = run();
    onWebgpu.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - onCpu[i][j])).toBeLessThan(1e-5)));
  });
});
