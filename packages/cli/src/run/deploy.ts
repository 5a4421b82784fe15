import { inferShapes, type ModelIR } from '@netaug/core';

/**
 * What a microcontroller user asks first: how much flash the weights take and how much RAM the activations need,
 * for float32 and int8 deployment.
 *
 * - **Weights** after batch norm is folded into the convolutions (as every export does for TFLite): each
 *   convolution / dense layer keeps its weight and gains a bias of its output channels; float32: 4 bytes per
 *   value; int8: 1 byte per weight and 4 per bias (int32, as TFLite's int8 kernels). The model file adds its
 *   format's overhead (a few KB) on top.
 * - **Peak activation RAM** of sequential, one-layer-at-a-time execution (TFLite-Micro's interpreter): the
 *   largest sum of the tensors alive at any layer — its inputs, its output and every earlier output still needed
 *   later (residual shortcuts), for one image. Batch norm and activation layers run fused into the layer before
 *   them (as in every exported file) and need no buffer of their own. A lower bound of the arena: the planner's
 *   fragmentation and the interpreter's own state come on top.
 */
export interface DeployFigures {
  weightsBytes: { float32: number; int8: number };
  peakActivationBytes: { float32: number; int8: number };
  /** The layer at which activations peak. */
  peakAt: string;
}

export function deployFigures(ir: ModelIR): DeployFigures {
  const shapes = inferShapes(ir);
  const size = (name: string) => shapes.get(name)!.reduce((a, b) => a * b, 1);
  // weights once batch norm is folded into the layer before it
  let weights = 0;
  let biases = 0;
  for (const n of ir.nodes) {
    if (n.op === 'conv2d' || n.op === 'depthwiseConv2d' || n.op === 'dense') {
      weights += n.weight.data.length;
      biases += n.weight.shape[n.weight.shape.length - (n.op === 'depthwiseConv2d' ? 2 : 1)];
    }
  }
  // buffers: a fused batch norm / activation writes into its single input's buffer when nothing else reads it
  const consumers = new Map<string, number[]>();
  ir.nodes.forEach((n, i) =>
    n.inputs.forEach((x) => consumers.set(x, [...(consumers.get(x) ?? []), i])),
  );
  const outputs = (ir as { outputs?: string[] }).outputs ?? [ir.output];
  const buffer = new Map<string, string>();
  for (const n of ir.nodes) {
    const fused =
      (n.op === 'batchNorm' || n.op === 'activation') &&
      n.inputs.length === 1 &&
      (consumers.get(n.inputs[0]) ?? []).length === 1 &&
      !outputs.includes(n.inputs[0]);
    buffer.set(n.name, fused ? buffer.get(n.inputs[0])! : n.name);
  }
  // each buffer lives from the layer that writes it first to the last layer that reads it (outputs: to the end)
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const elements = new Map<string, number>();
  ir.nodes.forEach((n, i) => {
    const b = buffer.get(n.name)!;
    if (!first.has(b)) first.set(b, i);
    elements.set(b, Math.max(elements.get(b) ?? 0, size(n.name)));
    const reads = consumers.get(n.name) ?? [];
    const end = outputs.includes(n.name) ? ir.nodes.length - 1 : Math.max(i, ...reads);
    last.set(b, Math.max(last.get(b) ?? 0, end));
  });
  let peak = 0;
  let peakAt = ir.nodes[0]?.name ?? '';
  ir.nodes.forEach((n, i) => {
    let live = 0;
    for (const [b, f] of first) if (f <= i && last.get(b)! >= i) live += elements.get(b)!;
    if (live > peak) {
      peak = live;
      peakAt = n.name;
    }
  });
  return {
    weightsBytes: { float32: 4 * (weights + biases), int8: weights + 4 * biases },
    peakActivationBytes: { float32: 4 * peak, int8: peak },
    peakAt,
  };
}
