import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { mobilenetLike, randomImages, stack, unstack } from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { verifyTflite } from '../verify/tflite';
import { exportTflite } from './export';
import { readTfliteModel } from './schema-reader';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-tflite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TFLite float32 export', () => {
  it.each([[[28, 28, 1] as [number, number, number]], [[32, 32, 3] as [number, number, number]]])(
    'matches runModelIR in LiteRT.js for input %j',
    async (shape) => {
      const ir = mobilenetLike(shape);
      const file = path.join(dir, `${ir.name}.tflite`);
      const { bytes } = await exportTflite(ir, file);
      const model = readTfliteModel(new Uint8Array(readFileSync(file)));
      expect(model.tensors[model.inputs[0]].shape).toEqual([1, ...shape]);
      const imgs = randomImages(shape, 8);
      const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);
      const { comparison } = await verifyTflite(file, imgs, { expected });
      console.log(ir.name, 'float tflite bytes', bytes, 'max abs diff', comparison!.maxAbsDiff);
      expect(comparison!.maxAbsDiff).toBeLessThan(1e-4);
    },
  );
});
