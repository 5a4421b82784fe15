import {
  modelOutputs,
  type BatchNormNode,
  type Conv2dNode,
  type DenseNode,
  type DepthwiseConv2dNode,
  type IRNode,
  type ModelIR,
} from './model-ir';

/**
 * Returns a new IR in which every batch-norm that directly follows a conv2d / depthwiseConv2d / dense node
 * (whose output nothing else reads and which is not a model output) is folded into that node's weight and bias.
 * Other nodes are shared, not copied.
 */
export function foldBatchNorm(ir: ModelIR): ModelIR {
  const consumers = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  // a model output is read from outside: its value must not change
  for (const o of modelOutputs(ir)) consumers.set(o, (consumers.get(o) ?? 0) + 1);
  const byName = new Map(ir.nodes.map((n) => [n.name, n] as const));
  const folded = new Map<string, IRNode>(); // producer name -> folded producer
  const rename = new Map<string, string>(); // bn name -> producer name
  for (const n of ir.nodes) {
    if (n.op !== 'batchNorm') continue;
    const prod = byName.get(n.inputs[0]);
    if (!prod || consumers.get(prod.name) !== 1) continue;
    if (prod.op !== 'conv2d' && prod.op !== 'depthwiseConv2d' && prod.op !== 'dense') continue;
    folded.set(prod.name, foldInto(prod, n));
    rename.set(n.name, prod.name);
  }
  const nodes: IRNode[] = [];
  for (const n of ir.nodes) {
    if (rename.has(n.name)) continue;
    const base = folded.get(n.name) ?? n;
    const inputs = base.inputs.map((i) => rename.get(i) ?? i);
    nodes.push(inputs.some((x, k) => x !== base.inputs[k]) ? { ...base, inputs } : base);
  }
  // readers of a folded BN now read its producer
  const output = rename.get(ir.output) ?? ir.output;
  if (ir.outputs === undefined) return { ...ir, nodes, output };
  return { ...ir, nodes, output, outputs: ir.outputs.map((o) => rename.get(o) ?? o) };
}

function foldInto<T extends Conv2dNode | DepthwiseConv2dNode | DenseNode>(prod: T, bn: BatchNormNode): T {
  const c = bn.gamma.data.length;
  const scale = new Float32Array(c);
  const bias = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = bn.gamma.data[i] / Math.sqrt(bn.variance.data[i] + bn.epsilon);
    const b0 = prod.bias ? prod.bias.data[i] : 0;
    bias[i] = bn.beta.data[i] + (b0 - bn.mean.data[i]) * scale[i];
  }
  // the output channel is the fastest-varying index for HWIO conv, [in,out] dense, and [kh,kw,C,1] depthwise (multiplier 1)
  const w = prod.weight.data;
  const nw = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) nw[i] = w[i] * scale[i % c];
  return { ...prod, weight: { shape: [...prod.weight.shape], data: nw }, bias: { shape: [c], data: bias } };
}
