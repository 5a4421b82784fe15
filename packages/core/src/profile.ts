import { inferShapes, type ModelIR, type Shape3 } from './model-ir';

/** What {@link profile} counts. */
export interface Profile {
  /** Trainable parameters: conv/dense weights and biases, batch-norm gamma and beta (not running stats). */
  params: number;
  /**
   * Multiply-accumulates of conv and dense layers for one image (as the NetAug paper counts). Nothing else is
   * counted: batch norm, activations, add, mul, pooling, concat and upsampling are 0 — bilinear upsampling too,
   * although it computes 4 multiply-adds per output value (`4·H·W·C` after upsampling; 0 for nearest, a copy).
   */
  macs: number;
  /** Per-node breakdown, in node order (nodes with neither params nor MACs are left out). */
  layers: { name: string; op: string; params: number; macs: number; outputShape: number[] }[];
  inputShape: Shape3;
}

/** Counts params and MACs of a ModelIR at an input shape (default: the IR's own). */
export function profile(ir: ModelIR, inputShape: Shape3 = ir.inputShape): Profile {
  const shapes = inferShapes(ir, inputShape);
  const layers: Profile['layers'] = [];
  let params = 0;
  let macs = 0;
  for (const node of ir.nodes) {
    const out = shapes.get(node.name)!;
    let p = 0;
    let m = 0;
    switch (node.op) {
      case 'conv2d':
      case 'depthwiseConv2d':
      case 'dense': {
        const w = node.weight.data.length;
        p = w + (node.bias?.data.length ?? 0);
        const spatial = out.length === 3 ? out[0] * out[1] : 1;
        m = w * spatial;
        break;
      }
      case 'batchNorm':
        p = node.gamma.data.length + node.beta.data.length;
        break;
      default:
        break;
    }
    if (p || m) layers.push({ name: node.name, op: node.op, params: p, macs: m, outputShape: out });
    params += p;
    macs += m;
  }
  return { params, macs, layers, inputShape };
}
