import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type NamedVariable } from '@netaug/core';
import { useCpu } from '../test-utils';
import { createOptimizer, SGD_UPDATE } from './index';

beforeAll(useCpu);

function params(): NamedVariable<tf.Variable>[] {
  return [
    { name: 'conv/kernel', variable: tf.variable(tf.tensor1d([1, 2])), trainable: true, weightDecay: true },
    { name: 'bn/beta', variable: tf.variable(tf.tensor1d([1])), trainable: true, weightDecay: false },
    { name: 'bn/mean', variable: tf.variable(tf.tensor1d([0]), false), trainable: false, weightDecay: false },
  ];
}

const step = (opt: ReturnType<typeof createOptimizer>, g: Record<string, number[]>, lr: number) =>
  tf.tidy(() => opt.applyGradients(new Map(Object.entries(g).map(([k, v]) => [k, tf.tensor1d(v)])), lr));

describe('SGD (Nesterov, weight decay not on BN/bias)', () => {
  it('matches a hand-computed 2-step update', () => {
    const p = params();
    const opt = createOptimizer({ type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 }, p);
    step(opt, { 'conv/kernel': [0.5, -1], 'bn/beta': [1] }, 0.1);
    // g = [0.51, −0.98]; buf = g; d = g + 0.9 buf = 1.9 g; w = [1 − 0.0969, 2 + 0.1862]
    expect(Array.from(p[0].variable.dataSync())).toEqual([
      expect.closeTo(0.9031, 6),
      expect.closeTo(2.1862, 6),
    ]);
    expect(p[1].variable.dataSync()[0]).toBeCloseTo(0.81, 6); // no decay: d = 1.9
    step(opt, { 'conv/kernel': [0.1, 0.2], 'bn/beta': [1] }, 0.1);
    // g = [0.109031, 0.221862]; buf = [0.568031, −0.660138]; d = [0.6202589, −0.3722622]
    expect(Array.from(p[0].variable.dataSync())).toEqual([
      expect.closeTo(0.84107411, 6),
      expect.closeTo(2.22342622, 6),
    ]);
    expect(Array.from(opt.getSlot('conv/kernel', 'momentum')!.dataSync())).toEqual([
      expect.closeTo(0.568031, 6),
      expect.closeTo(-0.660138, 6),
    ]);
    // beta: buf = 0.9 + 1 = 1.9; d = 1 + 0.9·1.9 = 2.71; 0.81 − 0.271
    expect(p[1].variable.dataSync()[0]).toBeCloseTo(0.539, 6);
    expect(opt.getSlot('bn/mean', 'momentum')).toBeUndefined(); // non-trainable: no slot
    opt.dispose();
  });

  it('runs the fused NetAugSgdUpdate kernel when the backend has one, with the same hand-computed result', () => {
    let calls = 0;
    const seen: unknown[] = [];
    // a JS kernel on the cpu backend for this test: the same formula, one float32 rounding per operation
    tf.registerKernel({
      kernelName: SGD_UPDATE,
      backendName: 'cpu',
      kernelFunc: ({ inputs: ins, attrs, backend }) => {
        const inputs = ins as Record<'w' | 'g' | 'buf', tf.TensorInfo>;
        calls++;
        seen.push({ ...attrs });
        const b = backend as unknown as {
          data: { get(id: object): { values: Float32Array } };
          makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo;
        };
        const [w, g, buf] = [inputs.w, inputs.g, inputs.buf].map((t) => b.data.get(t.dataId).values);
        const { lr, momentum: m, weightDecay: wd, nesterov } = attrs as Record<string, number & boolean>;
        const f = Math.fround;
        const nw = new Float32Array(w.length);
        const nb = new Float32Array(w.length);
        for (let i = 0; i < w.length; i++) {
          const gi = wd ? f(g[i] + f(w[i] * f(wd))) : g[i];
          nb[i] = f(f(buf[i] * f(m)) + gi);
          const d = nesterov ? f(gi + f(nb[i] * f(m))) : nb[i];
          nw[i] = f(w[i] - f(d * f(lr)));
        }
        return [
          b.makeTensorInfo(inputs.w.shape, 'float32', nw),
          b.makeTensorInfo(inputs.w.shape, 'float32', nb),
        ];
      },
    });
    try {
      const p = params();
      const opt = createOptimizer({ type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 }, p);
      const before = tf.memory().numTensors;
      step(opt, { 'conv/kernel': [0.5, -1], 'bn/beta': [1] }, 0.1);
      expect(tf.memory().numTensors).toBe(before);
      expect(calls).toBe(2);
      expect(seen).toEqual([
        { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true },
        { lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: true }, // no decay on BN / bias
      ]);
      expect(Array.from(p[0].variable.dataSync())).toEqual([
        expect.closeTo(0.9031, 6),
        expect.closeTo(2.1862, 6),
      ]);
      expect(p[1].variable.dataSync()[0]).toBeCloseTo(0.81, 6);
      expect(Array.from(opt.getSlot('conv/kernel', 'momentum')!.dataSync())).toEqual([
        expect.closeTo(0.51, 6),
        expect.closeTo(-0.98, 6),
      ]);
      opt.dispose();
    } finally {
      tf.unregisterKernel(SGD_UPDATE, 'cpu');
    }
  });

  it('state round-trips through getState/setState (JSON-free binary) and keeps iterations', () => {
    const p = params();
    const a = createOptimizer({ type: 'sgd' }, p);
    step(a, { 'conv/kernel': [0.5, -1], 'bn/beta': [1] }, 0.1);
    const b = createOptimizer({ type: 'sgd' }, p);
    b.setState(a.getState());
    expect(b.iterations).toBe(1);
    expect(Array.from(b.getSlot('conv/kernel', 'momentum')!.dataSync())).toEqual(
      Array.from(a.getSlot('conv/kernel', 'momentum')!.dataSync()),
    );
    expect(() => createOptimizer({ type: 'adam' }, p).setState(a.getState())).toThrow(/optimizer 'sgd'/);
  });

  it('permuteSlots reorders momentum buffers along the axis', () => {
    const p = params();
    const opt = createOptimizer({ type: 'sgd', weightDecay: 0 }, p);
    step(opt, { 'conv/kernel': [3, 7], 'bn/beta': [1] }, 0.1);
    opt.permuteSlots([
      { variable: 'conv/kernel', axis: 0, perm: Int32Array.from([1, 0]) },
      { variable: 'bn/mean', axis: 0, perm: Int32Array.from([0]) },
    ]);
    expect(Array.from(opt.getSlot('conv/kernel', 'momentum')!.dataSync())).toEqual([7, 3]);
  });

  it('creating and disposing an optimizer leaves no tensor behind', () => {
    const p = params();
    const before = tf.memory().numTensors;
    createOptimizer({ type: 'adamw' }, p).dispose();
    createOptimizer({ type: 'sgd' }, p).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad config names the key', () => {
    try {
      createOptimizer({ type: 'sgd', momentum: 2 }, params());
      throw new Error('no throw');
    } catch (e) {
      expect((e as NetAugError).code).toBe('INVALID_CONFIG');
      expect((e as Error).message).toMatch(/optimizer\.momentum/);
    }
    expect(() => createOptimizer({ type: 'sgd', nesterof: true } as never, params())).toThrow(/nesterof/);
  });
});

describe('Adam / AdamW', () => {
  it('first step moves by lr·sign(g) (bias-corrected), decay L2 vs decoupled', () => {
    const p = params();
    const adam = createOptimizer({ type: 'adam', weightDecay: 0 }, p);
    step(adam, { 'conv/kernel': [0.5, -2], 'bn/beta': [1] }, 0.01);
    expect(Array.from(p[0].variable.dataSync())).toEqual([expect.closeTo(0.99, 6), expect.closeTo(2.01, 6)]);
    const q = params();
    const adamw = createOptimizer({ type: 'adamw', weightDecay: 0.1 }, q);
    step(adamw, { 'conv/kernel': [0.5, -2], 'bn/beta': [1] }, 0.01);
    // w·(1 − lr·wd) − lr·sign(g): [1·0.999 − 0.01, 2·0.999 + 0.01]; beta has no decay
    expect(Array.from(q[0].variable.dataSync())).toEqual([
      expect.closeTo(0.989, 6),
      expect.closeTo(2.008, 6),
    ]);
    expect(q[1].variable.dataSync()[0]).toBeCloseTo(0.99, 6);
    expect(Object.keys(adamw.getState().slots['conv/kernel'])).toEqual(['m', 'v']);
  });
});
