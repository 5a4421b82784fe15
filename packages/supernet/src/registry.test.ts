import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type Shape3 } from '@netaug/core';
import { createSupernet, listModels, profileSupernet } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const expectError = (fn: () => unknown, code: string, text: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NetAugError);
  expect((err as NetAugError).code).toBe(code);
  expect((err as Error).message).toMatch(text);
};

describe('profile of the tiny models (extract at min)', () => {
  it('small-input form, 10 classes, is exact', () => {
    const a = profileSupernet('mobilenetv2', {
      numClasses: 10,
      inputShape: [32, 32, 3],
      width: 0.35,
      smallInput: true,
    });
    expect(a.params).toBe(408_938);
    expect(Math.abs(a.macs - 15.61e6)).toBeLessThan(0.01e6);
    const b = profileSupernet('mobilenetv2-tiny', {
      numClasses: 10,
      inputShape: [28, 28, 1],
      smallInput: true,
    });
    expect(b.params).toBe(305_482);
    expect(Math.abs(b.macs - 11.34e6)).toBeLessThan(0.01e6);
  });

  it.each([
    ['mobilenetv2-tiny', 144, undefined, 0.75e6, 23.5e6],
    ['mobilenetv2', 160, 0.35, 1.677e6, 30.9e6],
    ['proxylessnas', 160, 0.35, 1.781e6, 35.7e6],
    ['mcunet', 176, undefined, 0.737e6, 81.8e6],
  ])('ImageNet form %s@%i matches the paper within 2%%', (name, r, width, params, macs) => {
    const p = profileSupernet(name, { numClasses: 1000, inputShape: [r, r, 3], width });
    expect(Math.abs(p.params / params - 1)).toBeLessThan(0.02);
    expect(Math.abs(p.macs / macs - 1)).toBeLessThan(0.02);
  });
});

describe('registry', () => {
  it('lists the zoo with per-model default width factors', () => {
    const models = listModels();
    expect(models.map((m) => m.name)).toEqual([
      'mobilenetv2',
      'mobilenetv2-tiny',
      'proxylessnas',
      'mcunet',
      'mobilenetv3',
      'resnet18',
      'resnet34',
      'resnet50',
    ]);
    expect(models.find((m) => m.name === 'mobilenetv3')!.widthMults).toEqual([1, 2, 3]);
    expect(models.find((m) => m.name === 'mcunet')!.widthMults).toEqual([1, 1.6, 2.2]);
    expect(models.find((m) => m.name === 'mobilenetv2')!.widthMults).toEqual([1, 1.8, 2.6]);
    for (const m of models) expect(m.description.length).toBeGreaterThan(10);
  });

  it('uses the model defaults unless widthMults is given', () => {
    const a = createSupernet('mcunet', { numClasses: 10, inputShape: [16, 16, 3], smallInput: true });
    expect(a.space).toEqual({ widthMults: [1, 1.6, 2.2], expandFactors: [1, 1.6, 2.2, 2.8] });
    a.dispose();
    const b = createSupernet('mcunet', {
      numClasses: 10,
      inputShape: [16, 16, 3],
      smallInput: true,
      widthMults: [1, 2],
    });
    expect(b.space.widthMults).toEqual([1, 2]);
    b.dispose();
  });

  it('tinyOnly allocates the tiny model alone, initialised as the first channels of the supernet', () => {
    for (const [model, input] of [
      ['mobilenetv2-tiny', [28, 28, 1]],
      ['mobilenetv3', [32, 32, 3]],
    ] as const) {
      const opts = { numClasses: 10, inputShape: [...input] as Shape3, smallInput: true, seed: 3 };
      const full = createSupernet(model, opts);
      const tiny = createSupernet(model, { ...opts, tinyOnly: true });
      expect(tiny.space).toEqual({ widthMults: [1], expandFactors: [1] });
      full.setActive('min');
      const a = full.extract();
      const b = tiny.extract();
      expect(b.nodes.map((n) => n.name)).toEqual(a.nodes.map((n) => n.name));
      // every weight of the tiny model is the same number, and the tiny-only net holds nothing else
      const weights = (ir: typeof a) =>
        ir.nodes.flatMap((n) =>
          Object.values(n).filter(
            (v): v is { shape: number[]; data: Float32Array } =>
              !!v && typeof v === 'object' && 'data' in v && v.data instanceof Float32Array,
          ),
        );
      const wa = weights(a);
      const wb = weights(b);
      expect(wb.length).toBe(wa.length);
      expect(wb.length).toBeGreaterThan(10);
      wa.forEach((t, i) => {
        expect(wb[i].shape).toEqual(t.shape);
        expect(wb[i].data.filter((x, j) => x !== t.data[j]).length).toBe(0);
      });
      const count = (net: typeof full) => net.variables().reduce((s, v) => s + v.variable.size, 0);
      expect(count(tiny)).toBe(wb.reduce((s, t) => s + t.data.length, 0));
      expect(count(full)).toBeGreaterThan(5 * count(tiny));
      // the same logits
      const x = tf.randomUniform([2, ...input]);
      const ya = full.forward(x);
      const yb = tiny.forward(x);
      expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
      expect(ya.shape).toEqual([2, 10]);
      tf.dispose([x, ya, yb]);
      full.dispose();
      tiny.dispose();
    }
  });

  it('rejects bad arguments with typed errors', () => {
    const ok = { numClasses: 10, inputShape: [32, 32, 3] as Shape3, smallInput: true };
    expectError(
      () => createSupernet('resnet101', ok),
      'UNKNOWN_MODEL',
      /resnet101.*mobilenetv2, mobilenetv2-tiny, proxylessnas, mcunet, mobilenetv3, resnet18, resnet34, resnet50/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, widthMults: [1.8, 1] }),
      'INVALID_ARGUMENT',
      /widthMults/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, widthMults: [1, 1, 2] }),
      'INVALID_ARGUMENT',
      /increasing/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, expandFactors: [] }),
      'INVALID_ARGUMENT',
      /expandFactors/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, inputShape: [32, 32] as unknown as Shape3 }),
      'INVALID_ARGUMENT',
      /rank 3/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, inputShape: [32, 0, 3] }),
      'INVALID_ARGUMENT',
      /positive integers/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, inputShape: [1, 1, 3] }),
      'INVALID_ARGUMENT',
      /too small .* stride 8 \(minimum 2\)/,
    );
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, inputShape: [7, 7, 3], smallInput: false }),
      'INVALID_ARGUMENT',
      /too small .* stride 32.*smallInput/,
    );
    // 28×28 in the ImageNet form (stride 32) is the usual cheap Fashion-MNIST setting and is allowed
    expect(() =>
      createSupernet('mobilenetv2-tiny', { numClasses: 10, inputShape: [28, 28, 1] }).dispose(),
    ).not.toThrow();
    expectError(() => createSupernet('mcunet', { ...ok, width: 0.5 }), 'INVALID_ARGUMENT', /fixed widths/);
    expectError(() => createSupernet('mobilenetv2', { ...ok, width: -1 }), 'INVALID_ARGUMENT', /width/);
    expectError(
      () => createSupernet('mobilenetv2', { ...ok, numClasses: 0 }),
      'INVALID_ARGUMENT',
      /numClasses/,
    );
  });
});
