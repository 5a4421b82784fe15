import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NetAugError, decodeModelIR, encodeModelIR, type ModelIR } from '@netaug/core';
import { loadModelIR } from './load-ir';
import { createSupernet } from './registry';
import { maxAbsDiff, seededTensor } from './testing/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const make = (model: string, o: { seed: number; classes?: number; tinyOnly?: boolean; width?: number }) =>
  createSupernet(model, {
    numClasses: o.classes ?? 10,
    inputShape: [32, 32, 3],
    seed: o.seed,
    tinyOnly: o.tinyOnly,
    width: o.width,
  });

/** The weights of every weighted node, by node name and field. */
function weightsOf(ir: ModelIR): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const n of ir.nodes)
    for (const [k, v] of Object.entries(n))
      if (v && typeof v === 'object' && 'data' in (v as object))
        out.set(`${n.name}.${k}`, Array.from((v as { data: Float32Array }).data));
  return out;
}

describe('loadModelIR', () => {
  it.each(['mobilenetv2-tiny', 'mobilenetv3', 'resnet18'])(
    '%s: a trained tiny model goes into the first channels of a new supernet; the rest keeps its initial weights',
    (model) => {
      const width = model === 'resnet18' ? 0.25 : undefined;
      const source = make(model, { seed: 1, tinyOnly: true, width });
      const ir = decodeModelIR(encodeModelIR((source.setActive('min'), source.extract())));
      const target = make(model, { seed: 2, width });
      target.setActive('max');
      const before = tf.tidy(() =>
        target.forward(seededTensor([2, 32, 32, 3], 3), { training: false }).clone(),
      );
      const r = loadModelIR(target, ir);
      expect(r.kept).toEqual([]);
      expect(r.loaded.length).toBe(target.variables().length);
      target.setActive('min');
      // the tiny model is now exactly the source's, weights and outputs
      expect(weightsOf(target.extract())).toEqual(weightsOf(ir));
      const x = seededTensor([2, 32, 32, 3], 4);
      const a = source.forward(x, { training: false });
      const b = target.forward(x, { training: false });
      expect(maxAbsDiff(a, b)).toBe(0);
      // the augmented model's other channels kept their weights: its output changed but is not the tiny one's
      target.setActive('max');
      const after = target.forward(seededTensor([2, 32, 32, 3], 3), { training: false });
      expect(maxAbsDiff(before, after)).toBeGreaterThan(0);
      tf.dispose([before, a, b, after, x]);
      source.dispose();
      target.dispose();
    },
  );

  it('another number of classes: refused naming the classifier, or a new head with newHead', () => {
    const source = make('mobilenetv2-tiny', { seed: 1, classes: 5, tinyOnly: true });
    source.setActive('min');
    const ir = source.extract();
    const target = make('mobilenetv2-tiny', { seed: 2, classes: 10 });
    const head = () =>
      Array.from(
        target
          .variables()
          .find((v) => v.name === 'classifier.weight')!
          .variable.dataSync(),
      );
    const initial = head();
    expect(() => loadModelIR(target, ir)).toThrow(/layer classifier: .* another number of classes/);
    const r = loadModelIR(target, ir, { newHead: true });
    expect(r.kept).toEqual(['classifier.weight', 'classifier.bias']);
    expect(head()).toEqual(initial);
    source.dispose();
    target.dispose();
  });

  it('a model of another architecture is refused naming the first layer that does not fit', () => {
    const source = make('mobilenetv2', { seed: 1, tinyOnly: true, width: 1.0 });
    source.setActive('min');
    const target = make('mobilenetv2-tiny', { seed: 2 });
    try {
      loadModelIR(target, source.extract());
      throw new Error('no throw');
    } catch (e) {
      expect(e).toBeInstanceOf(NetAugError);
      expect((e as NetAugError).code).toBe('SHAPE_MISMATCH');
      expect((e as Error).message).toMatch(/^layer stem\.conv: the weights' weight is \[3,3,3,32\]/);
    }
    source.dispose();
    target.dispose();
  });
});
