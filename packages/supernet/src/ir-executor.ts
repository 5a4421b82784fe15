import * as tf from '@tensorflow/tfjs-core';
import {
  NetAugError,
  modelOutputs,
  validateModelIR,
  type IRNode,
  type IRTensor,
  type ModelIR,
} from '@netaug/core';
import { applyActivation } from './layers/activation';
import { globalAvgPool } from './layers/global-avg-pool';

/** A static network running a ModelIR with tfjs ops (eval mode). */
export interface TfModel {
  readonly ir: ModelIR;
  /**
   * Logits `[N, numClasses]` for NHWC input `[N, ...ir.inputShape]`; runs inside `tf.tidy`. For an IR with
   * several outputs, the first one (of its own shape); see {@link TfModel.predictOutputs}.
   */
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /**
   * Every output of the IR (`ir.outputs`, or the single `ir.output`) in order, batch first: `[N, C]` vectors,
   * `[N, H, W, C]` feature maps (NHWC). Runs the graph once, inside `tf.tidy`.
   */
  predictOutputs(x: tf.Tensor4D): tf.Tensor[];
  /** Frees the weight tensors. */
  dispose(): void;
}

/**
 * Builds a tfjs executor for a ModelIR (validated first). Weights are uploaded once; `predict` runs the nodes
 * in order with `conv2d`, `depthwiseConv2d`, `batchNorm`, activations, `add`, `mul`, `maxPool`, mean pooling,
 * `matMul`, `concat` (last axis) and, for `upsample`, `tf.image.resizeNearestNeighbor` (`alignCorners` and
 * `halfPixelCenters` false: output `(i, j)` reads input `(⌊i/sh⌋, ⌊j/sw⌋)`) or `tf.image.resizeBilinear` with
 * `halfPixelCenters: true` (the IR's bilinear convention).
 */
export function buildTfModel(ir: ModelIR): TfModel {
  validateModelIR(ir);
  const weights = new Map<string, tf.Tensor>();
  const upload = (node: IRNode, key: string, t: IRTensor | undefined): void => {
    if (t) weights.set(`${node.name}/${key}`, tf.tensor(t.data, t.shape, 'float32'));
  };
  for (const node of ir.nodes) {
    switch (node.op) {
      case 'conv2d':
      case 'depthwiseConv2d':
      case 'dense':
        upload(node, 'weight', node.weight);
        upload(node, 'bias', node.bias);
        break;
      case 'batchNorm':
        for (const k of ['gamma', 'beta', 'mean', 'variance'] as const) upload(node, k, node[k]);
        break;
      default:
        break;
    }
  }
  const w = (node: IRNode, key: string) => weights.get(`${node.name}/${key}`);
  let disposed = false;

  const run = (node: IRNode, ins: tf.Tensor[]): tf.Tensor => {
    const [a, b] = ins;
    switch (node.op) {
      case 'conv2d':
      case 'depthwiseConv2d': {
        const op = node.op === 'conv2d' ? tf.conv2d : tf.depthwiseConv2d;
        const y = op(a as tf.Tensor4D, w(node, 'weight') as tf.Tensor4D, node.strides, node.padding);
        const bias = w(node, 'bias');
        return bias ? tf.add(y, bias) : y;
      }
      case 'batchNorm':
        return tf.batchNorm(
          a,
          w(node, 'mean')!,
          w(node, 'variance')!,
          w(node, 'beta'),
          w(node, 'gamma'),
          node.epsilon,
        );
      case 'activation':
        return applyActivation(a, node.activation);
      case 'add':
        return tf.add(a, b);
      case 'mul':
        return tf.mul(a, b);
      case 'maxPool':
        return tf.maxPool(a as tf.Tensor4D, node.poolSize, node.strides, node.padding);
      case 'globalAvgPool': {
        const pooled = globalAvgPool(a as tf.Tensor4D);
        return node.keepDims ? pooled : tf.reshape(pooled, [pooled.shape[0], pooled.shape[3]]);
      }
      case 'dense': {
        const y = tf.matMul(a as tf.Tensor2D, w(node, 'weight') as tf.Tensor2D);
        const bias = w(node, 'bias');
        return bias ? tf.add(y, bias) : y;
      }
      case 'concat':
        return tf.concat(ins, -1);
      case 'upsample': {
        const [, h, wd] = a.shape;
        const size: [number, number] = [h! * node.scale[0], wd! * node.scale[1]];
        return node.mode === 'nearest'
          ? tf.image.resizeNearestNeighbor(a as tf.Tensor4D, size, false, false)
          : tf.image.resizeBilinear(a as tf.Tensor4D, size, false, true);
      }
      default:
        throw new NetAugError(
          'UNSUPPORTED_OP',
          `buildTfModel: op '${node.op}' of node '${node.name}' is not supported`,
        );
    }
  };

  const outputs = modelOutputs(ir);
  const runAll = (x: tf.Tensor4D, names: string[]): tf.Tensor[] => {
    if (disposed) throw new NetAugError('INVALID_ARGUMENT', `model '${ir.name}' was disposed`);
    const [h, wd, c] = ir.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== wd || x.shape[3] !== c) {
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `${ir.name}: expected input of shape [N,${h},${wd},${c}], got [${x.shape}]`,
      );
    }
    return tf.tidy(() => {
      const values = new Map<string, tf.Tensor>();
      for (const node of ir.nodes) {
        const out =
          node.op === 'input'
            ? x
            : run(
                node,
                node.inputs.map((n) => values.get(n)!),
              );
        values.set(node.name, out);
      }
      return names.map((n) => values.get(n)!);
    });
  };

  return {
    ir,
    predict(x: tf.Tensor4D): tf.Tensor2D {
      return runAll(x, [ir.output])[0] as tf.Tensor2D;
    },
    predictOutputs(x: tf.Tensor4D): tf.Tensor[] {
      return runAll(x, outputs);
    },
    dispose(): void {
      if (disposed) return;
      for (const t of weights.values()) t.dispose();
      weights.clear();
      disposed = true;
    },
  };
}
