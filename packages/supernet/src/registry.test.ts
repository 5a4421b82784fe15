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

  it('rejects bad arguments with typed errors', () => {
    const ok = { numClasses: 10, inputShape: [32, 32, 3] as Shape3, smallInput: true };
    expectError(
      () => createSupernet('resnet50', ok),
      'UNKNOWN_MODEL',
      /resnet50.*mobilenetv2, mobilenetv2-tiny, proxylessnas, mcunet, mobilenetv3/,
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
