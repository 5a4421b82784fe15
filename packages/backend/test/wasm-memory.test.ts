/**
 * Regression tests for `RuntimeError: memory access out of bounds` in a MobileNetV2-Tiny training step at
 * batch 128 (28×28×1): the step needed more than the 4 GiB a 32-bit wasm heap can hold, emscripten's malloc
 * returned 0, and tfjs-backend-wasm wrote the tensor over address 0. Tested here: the allocation now fails
 * with a NetAugError (and the backend keeps working), and the copies that inflated the step are gone —
 * `Identity` / same-dtype `Cast` share data, `BatchMatMul` with a transposed operand gives the cpu result
 * and releases XNNPACK's packed copy of a large right operand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src';
import type { WasmBackendLike } from '../src/wasm/wasm-backend';
import { randomData, relErr, useBackend } from './helpers';

function wasmBackend(): WasmBackendLike {
  return tf.engine().backend as unknown as WasmBackendLike;
}

beforeAll(async () => {
  await useBackend('wasm');
  await initBackend({ prefer: 'wasm' }); // installs the malloc guard
});

describe('wasm heap exhaustion', () => {
  it('throws a NetAugError instead of writing a tensor at address 0, and the backend keeps working', async () => {
    await useBackend('wasm');
    const tensors = tf.memory().numTensors;
    const buffers = wasmBackend().numDataIds();
    // 4 GiB − 4 KiB: more than the heap can hold next to what it holds (fails without growing the heap);
    // 8 GiB: would wrap around to 0 bytes in wasm's 32-bit size_t.
    for (const shape of [
      [1048575, 1024],
      [2, 1024, 1024, 1024],
    ]) {
      let err: unknown;
      try {
        tf.fill(shape, 1.5);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ name: 'NetAugError', details: { kind: 'OUT_OF_MEMORY' } });
      expect(String(err)).toMatch(/out of memory.*lower the batch size/);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasmBackend().numDataIds()).toBe(buffers);
    const after = tf.tidy(() => tf.sum(tf.mul(tf.ones([64, 64]), 2)).dataSync()[0]);
    expect(after).toBe(8192);
  });
});

describe('zero-copy Identity and Cast on wasm', () => {
  it('clone and same-dtype cast share the data; real casts still convert', async () => {
    await useBackend('wasm');
    const x = tf.tensor([1.5, -2.25, 3], [3]);
    const buffers = wasmBackend().numDataIds();
    const c = tf.clone(x);
    const f = tf.cast(x, 'float32');
    expect(wasmBackend().numDataIds()).toBe(buffers); // no new buffer
    const i = tf.cast(x, 'int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3]);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2.25, 3]); // still alive through the shared reference
    expect(Array.from(f.dataSync())).toEqual([1.5, -2.25, 3]);
    tf.dispose([c, f, i]);
    expect(wasmBackend().numDataIds()).toBe(buffers - 1);
  });
});

describe('BatchMatMul on wasm vs cpu', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['NN, large right operand (released packing)', [1, 300], [300, 40], false, false],
    ['NT', [50, 33], [24, 33], false, true],
    ['TN, m ≤ n', [300, 16], [300, 40], true, false],
    ['TN, m > n', [300, 40], [300, 12], true, false],
    ['TN, small side (native loop)', [300, 1], [300, 40], true, false],
    ['TT (native loop)', [20, 30], [25, 20], true, true],
    ['rank 3, batch 1', [1, 40, 20], [1, 30, 20], false, true],
    ['rank 3, batch 3 (native)', [3, 20, 12], [3, 20, 9], true, false],
  ];
  it.each(cases)('%s', async (_name, as, bs, ta, tb) => {
    const a = randomData(
      as.reduce((p, c) => p * c, 1),
      7,
    );
    const b = randomData(
      bs.reduce((p, c) => p * c, 1),
      8,
    );
    const run = async (name: 'wasm' | 'cpu') => {
      await useBackend(name);
      return tf.tidy(() => {
        const at = tf.tensor(a, as);
        const bt = tf.tensor(b, bs);
        const first = tf.matMul(at, bt, ta, tb);
        const again = tf.matMul(at, bt, ta, tb); // b reused after its packed weights were released
        return { data: first.dataSync(), again: again.dataSync(), shape: first.shape };
      });
    };
    const cpu = await run('cpu');
    const numTensors = tf.memory().numTensors;
    const wasm = await run('wasm');
    expect(wasm.shape).toEqual(cpu.shape);
    expect(relErr(wasm.data, cpu.data)).toBeLessThan(1e-5);
    expect(relErr(wasm.again, cpu.data)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(numTensors);
  });

  it('gradients of matMul (transposed products) match cpu and leak nothing', async () => {
    const a = randomData(64 * 24, 1);
    const b = randomData(24 * 40, 2);
    const grads = async (name: 'wasm' | 'cpu') => {
      await useBackend(name);
      return tf.tidy(() => {
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))))([
          tf.tensor(a, [64, 24]),
          tf.tensor(b, [24, 40]),
        ]);
        return g.map((t) => t.dataSync());
      });
    };
    const cpu = await grads('cpu');
    await useBackend('wasm');
    const buffers = wasmBackend().numDataIds();
    const wasm = await grads('wasm');
    expect(wasmBackend().numDataIds()).toBe(buffers);
    expect(relErr(wasm[0], cpu[0])).toBeLessThan(1e-5);
    expect(relErr(wasm[1], cpu[1])).toBeLessThan(1e-5);
  });
});

describe('fused ReLU6 gradient', () => {
  it('equals tfjs’ formula (cpu) including x = 0 and x = 6, and leaks nothing', async () => {
    const n = 4 * 5 * 5 * 8;
    const x = randomData(n, 3).map((v, i) => (i % 7 === 0 ? 0 : i % 7 === 1 ? 6 : v * 8));
    const dy = randomData(n, 4);
    const grad = async (name: 'wasm' | 'cpu') => {
      await useBackend(name);
      return tf.tidy(() => {
        const xt = tf.tensor(x, [4, 5, 5, 8]);
        const f = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu6(v), tf.tensor(dy, [4, 5, 5, 8]))));
        return f(xt).dataSync();
      });
    };
    const cpu = await grad('cpu');
    await useBackend('wasm');
    const tensors = tf.memory().numTensors;
    const buffers = wasmBackend().numDataIds();
    const wasm = await grad('wasm');
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasmBackend().numDataIds()).toBe(buffers);
    expect(Array.from(wasm, (v) => v + 0)).toEqual(Array.from(cpu, (v) => v + 0)); // tfjs gives −0 where dy < 0 is masked
    expect((tf.getGradient('Relu6') as unknown as { netaug?: boolean }).netaug).toBe(true);
  });
});
