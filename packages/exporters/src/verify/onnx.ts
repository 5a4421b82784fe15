import { promises as fsp } from 'fs';
import { NetAugError } from '@netaug/core';
import { onnx } from '../onnx/proto';
import { resolveOptional } from '../optional-require';
import { verifyResult, type VerifyOptions, type VerifyResult } from './types';
import { runWorker, toLocalFloat32 } from './worker';

/** Options of {@link verifyOnnx}. */
export interface VerifyOnnxOptions extends VerifyOptions {
  /** Per-example input shape without the batch axis, e.g. `[28, 28, 1]` (NHWC) — default: read from the model. */
  inputShape?: number[];
  /** Examples per `session.run` (default 32). */
  batchSize?: number;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { entry, model, inputs, shape, batchSize } = workerData;
  const ort = require(entry);
  const session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const size = shape.reduce((a, b) => a * b, 1);
  const outputs = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const chunk = inputs.slice(start, start + batchSize);
    const data = new Float32Array(chunk.length * size);
    chunk.forEach((x, i) => data.set(x, i * size));
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [chunk.length, ...shape]) });
    const ys = session.outputNames.map((name) => res[name].data);
    for (let i = 0; i < chunk.length; i++) {
      outputs.push(ys.map((y) => { const k = y.length / chunk.length; return y.slice(i * k, (i + 1) * k); }));
    }
  }
  await session.release();
  parentPort.postMessage({ ok: true, outputs });
})().catch((e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }));
`;

/**
 * Runs an ONNX model in onnxruntime-node (CPU, in a worker thread) on per-example inputs, batched, and returns
 * every graph output per example (`allOutputs`, in the graph's output order; `outputs`: the first) and the
 * comparison with `options.expected` / `options.expectedAll`.
 *
 * @param model file path or bytes.
 * @param inputs one Float32Array per example, in the model's input layout (NHWC for this package's default).
 */
export async function verifyOnnx(
  model: string | Uint8Array,
  inputs: readonly Float32Array[],
  options: VerifyOnnxOptions = {},
): Promise<VerifyResult> {
  const entry = resolveOptional('onnxruntime-node', 'verifyOnnx');
  const bytes = typeof model === 'string' ? new Uint8Array(await fsp.readFile(model)) : model;
  const shape = options.inputShape ?? inputShapeFromModel(bytes);
  const size = shape.reduce((a, b) => a * b, 1);
  inputs.forEach((x, i) => {
    if (x.length !== size)
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `verifyOnnx: input ${i} has ${x.length} values, expected ${size} ([${shape}])`,
      );
  });
  const msg = await runWorker<{ outputs: Float32Array[][] }>(
    WORKER_SOURCE,
    { entry, model: bytes, inputs, shape, batchSize: options.batchSize ?? 32 },
    'onnxruntime-node',
  );
  return verifyResult(
    msg.outputs.map((o) => o.map(toLocalFloat32)),
    options,
  );
}

/** Reads the static per-example input shape from the model's graph input. */
function inputShapeFromModel(bytes: Uint8Array): number[] {
  const m = onnx.ModelProto.decode(bytes);
  const dims = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  const shape = dims.slice(1).map((d) => Number(d.dimValue));
  if (!shape.length || shape.some((d) => !Number.isFinite(d) || d <= 0)) {
    throw new NetAugError('INVALID_ARGUMENT', 'verifyOnnx: cannot read a static input shape from the model', {
      hint: 'pass options.inputShape',
    });
  }
  return shape;
}
