/** initBackend / describeBackend: order, overrides, errors, optional backends missing or present. */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { isNetAugError } from '@netaug/core';
import { describeBackend, initBackend, TRAINING_GRADIENTS } from '../src';
import { setModuleLoaderForTests } from '../src/init-backend';

const realImport = (name: string) => import(name);
const NATIVE_MISSING = "Cannot find module '@netaug/backend-native'";
/** The real loader, except that the optional native addon is treated as not built (tests here pin the order). */
const withoutNative = async (name: string) => {
  if (name === '@netaug/backend-native') throw new Error(NATIVE_MISSING);
  return realImport(name);
};

beforeEach(() => setModuleLoaderForTests(withoutNative));

afterEach(() => {
  delete process.env.NETAUG_BACKEND;
  setModuleLoaderForTests(null);
  if (tf.findBackendFactory('native') != null) tf.removeBackend('native');
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
});

async function expectBackendError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isNetAugError(err)).toBe(true);
  expect((err as { code: string }).code).toBe('BACKEND_UNAVAILABLE');
  expect((err as Error).message).toMatch(pattern);
}

test('default order: tensorflow (not installed here) is skipped with its reason, wasm is chosen', async () => {
  const r = await initBackend();
  expect(r.name).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
  expect(r.tried.map((t) => [t.name, t.ok])).toEqual([
    ['tensorflow', false],
    ['native', false],
    ['wasm', true],
  ]);
  expect(r.tried[1].reason).toBe(NATIVE_MISSING);
  expect(r.tried[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu.*@tensorflow\/tfjs-node/);
  expect(r.reason).toBe('first backend that loaded');
  expect(r.gradients).toBe(true); // registered by test/setup-gradients.ts (and initBackend)
  // the gradient kernels are registered for wasm
  for (const k of [
    'Conv2DBackpropFilter',
    'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput',
  ]) {
    expect(tf.getKernel(k, 'wasm')).toBeDefined();
  }
  expect(describeBackend()).toMatch(/^wasm \(tfjs-core 4\.\d+\.\d+, threads 1, netaug grad kernels 3\/3/);
});

test('env NETAUG_BACKEND selects a backend (case-insensitive); option prefer overrides it', async () => {
  process.env.NETAUG_BACKEND = ' CPU ';
  let r = await initBackend();
  expect(r).toMatchObject({ name: 'cpu', reason: 'requested by env NETAUG_BACKEND' });
  expect(r.tried).toEqual([{ name: 'cpu', ok: true, reason: 'requested by env NETAUG_BACKEND' }]);
  expect(describeBackend()).toMatch(/^cpu \(/);
  r = await initBackend({ prefer: 'wasm' });
  expect(r).toMatchObject({ name: 'wasm', reason: 'requested by option prefer' });
});

test('an unknown name is a BACKEND_UNAVAILABLE error listing the valid names', async () => {
  await expectBackendError(
    initBackend({ prefer: 'webgl' as never }),
    /Unknown backend 'webgl'.*tensorflow, native, wasm, cpu/,
  );
  process.env.NETAUG_BACKEND = 'gpu';
  await expectBackendError(
    initBackend(),
    /Unknown backend 'gpu' \(from env NETAUG_BACKEND\).*tensorflow, native, wasm, cpu/,
  );
});

test('a preferred backend that fails to load throws and says why, or falls back with fallback: true', async () => {
  await expectBackendError(
    initBackend({ prefer: 'tensorflow' }),
    /'tensorflow'.*could not be loaded.*tfjs-node/,
  );
  const r = await initBackend({ prefer: 'tensorflow', fallback: true });
  expect(r.name).toBe('wasm');
  expect(r.tried.map((t) => t.ok)).toEqual([false, false, true]);
});

test('a missing optional backend never crashes the selection (wasm missing → cpu)', async () => {
  setModuleLoaderForTests(async (name) => {
    if (name === '@tensorflow/tfjs-backend-wasm') throw new Error(`Cannot find module '${name}'`);
    return withoutNative(name);
  });
  const r = await initBackend();
  expect(r.name).toBe('cpu');
  expect(r.tried.map((t) => [t.name, t.ok])).toEqual([
    ['tensorflow', false],
    ['native', false],
    ['wasm', false],
    ['cpu', true],
  ]);
  expect(r.tried[2].reason).toMatch(/Cannot find module '@tensorflow\/tfjs-backend-wasm'/);
  await expectBackendError(initBackend({ prefer: 'wasm' }), /'wasm'.*Cannot find module/);
});

test('tensorflow is chosen first when tfjs-node resolves (simulated)', async () => {
  const loaded: string[] = [];
  setModuleLoaderForTests(async (name) => {
    loaded.push(name);
    if (name === '@tensorflow/tfjs-node-gpu') throw new Error(`Cannot find module '${name}'`);
    if (name === '@tensorflow/tfjs-node') {
      tf.registerBackend('tensorflow', () => new MathBackendCPU()); // stands in for the native backend
      return {};
    }
    return realImport(name);
  });
  const r = await initBackend({ verbose: false });
  expect(r).toMatchObject({ name: 'tensorflow', reason: 'first in default order' });
  expect(loaded).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  expect(tf.getBackend()).toBe('tensorflow');
});

test('native is chosen after tensorflow when @netaug/backend-native loads (simulated), with the threads option', async () => {
  const calls: unknown[] = [];
  setModuleLoaderForTests(async (name) => {
    if (name === '@netaug/backend-native') {
      return {
        registerNativeBackend: (opts: unknown) => {
          calls.push(opts);
          if (tf.findBackendFactory('native') == null)
            tf.registerBackend('native', () => new MathBackendCPU()); // stands in for the addon
        },
      };
    }
    return realImport(name);
  });
  const r = await initBackend({ threads: 2 });
  expect(r.name).toBe('native');
  expect(r.tried.map((t) => [t.name, t.ok])).toEqual([
    ['tensorflow', false],
    ['native', true],
  ]);
  expect(calls).toEqual([{ threads: 2 }]);
  expect(tf.getBackend()).toBe('native');
});

test('a native addon that fails to load is skipped with its reason', async () => {
  setModuleLoaderForTests(async (name) => {
    if (name === '@netaug/backend-native')
      return {
        registerNativeBackend: () => {
          throw new Error('libdnnl.so.2: cannot open shared object file');
        },
      };
    return realImport(name);
  });
  const r = await initBackend();
  expect(r.name).toBe('wasm');
  expect(r.tried[1]).toEqual({ name: 'native', ok: false, reason: 'libdnnl.so.2: cannot open shared object file' });
  await expectBackendError(initBackend({ prefer: 'native' }), /'native'.*libdnnl/);
});

test('threads must be a positive integer', async () => {
  const err = await initBackend({ threads: 0 }).catch((e: unknown) => e);
  expect(isNetAugError(err) && err.code).toBe('INVALID_ARGUMENT');
});

test('missing gradients are registered from this package (registerTrainingGradients), nothing else is loaded', async () => {
  const saved = ['Conv2D', 'DepthwiseConv2dNative'].map((k) => tf.getGradient(k));
  for (const g of saved) tf.unregisterGradient(g.kernelName);
  const loaded: string[] = [];
  setModuleLoaderForTests(async (name) => {
    loaded.push(name);
    return realImport(name);
  });
  try {
    const r = await initBackend({ prefer: 'cpu' });
    expect(loaded).toEqual(['@tensorflow/tfjs-backend-cpu']);
    expect(r.gradients).toBe(true);
    const ours = TRAINING_GRADIENTS.filter((g) => ['Conv2D', 'DepthwiseConv2dNative'].includes(g.kernelName));
    expect(ours).toHaveLength(2);
    for (const g of ours) expect(tf.getGradient(g.kernelName)).toBe(g);
  } finally {
    for (const g of saved) {
      tf.unregisterGradient(g.kernelName);
      tf.registerGradient(g);
    }
  }
});

test('gradients: false registers none; without them initBackend reports gradients: false', async () => {
  const saved = tf.getGradient('Conv2D');
  tf.unregisterGradient('Conv2D');
  try {
    const r = await initBackend({ prefer: 'cpu', gradients: false });
    expect(r.gradients).toBe(false);
    expect(tf.getGradient('Conv2D')).toBeUndefined();
    expect(describeBackend()).toMatch(/NO gradients registered/);
  } finally {
    tf.registerGradient(saved);
  }
});
