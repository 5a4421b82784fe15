import { requireOptional } from '../optional-require';
import { loadTfjsModel } from '../tfjs/load';
import { verifyResult, type VerifyOptions, type VerifyResult } from './types';

/**
 * Loads the tfjs LayersModel in `dir` (fs IOHandler) and predicts the per-example NHWC inputs in one batch
 * with the active tfjs backend; returns every model output per example (`allOutputs`; `outputs`: the first).
 */
export async function verifyTfjs(
  dir: string,
  inputs: readonly Float32Array[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const tfc = requireOptional<typeof import('@tensorflow/tfjs-core')>('@tensorflow/tfjs-core', 'verifyTfjs');
  const model = await loadTfjsModel(dir);
  const shape = model.inputs[0].shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(inputs.length * size);
  inputs.forEach((x, i) => data.set(x, i * size));
  const x = tfc.tensor(data, [inputs.length, ...shape]);
  const pred = model.predict(x) as
    import('@tensorflow/tfjs-core').Tensor | import('@tensorflow/tfjs-core').Tensor[];
  const ys = Array.isArray(pred) ? pred : [pred];
  const flats: Float32Array[] = [];
  for (const y of ys) flats.push((await y.data()) as Float32Array);
  x.dispose();
  tfc.dispose(ys);
  model.dispose();
  const all = inputs.map((_, i) =>
    flats.map((flat) => {
      const k = flat.length / inputs.length;
      return Float32Array.from(flat.subarray(i * k, (i + 1) * k));
    }),
  );
  return verifyResult(all, options);
}
