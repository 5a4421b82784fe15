import { promises as fsp } from 'fs';
import { NetAugError } from '@netaug/core';
import { onnx } from '../onnx/proto';
import { resolveOptional } from '../optional-require';
import { compareOutputs } from './compare';
import type { VerifyOptions, VerifyResult } from './types';
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
    const y = res[session.outputNames[0]].data;
    const k = y.length / chunk.length;
    for (let i = 0; i < chunk.length; i++) outputs.push(y.slice(i * k, (i + 1) * k));
  }
  await session.release();
  parentPort.postMessage({ ok: true, outputs });
})().catch((e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }));
`;

/**
 * Runs an ONNX model in onnxruntime-node (CPU, in a worker thread) on per-example inputs, batched, and returns
 * the per-example outputs (and the comparison with `options.expected`).
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
  const msg = await runWorker<{ outputs: Float32Array[] }>(
    WORKER_SOURCE,
    { entry, model: bytes, inputs, shape, batchSize: options.batchSize ?? 32 },
    'onnxruntime-node',
  );
  const outputs = msg.outputs.map(toLocalFloat32);
  return { outputs, comparison: options.expected ? compareOutputs(outputs, options.expected) : undefined };
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
