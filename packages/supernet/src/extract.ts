import { MODEL_IR_SCHEMA_VERSION, type IRNode, type ModelIR } from '@netaug/core';
import type { ActivePlan } from './choice-space';
import { ConvBnAct } from './blocks/conv-bn-act';
import { MBBlock } from './blocks/mb-block';
import { DynamicConv2d } from './layers/dynamic-conv2d';
import { seChannels, type DynamicSqueezeExcite } from './layers/dynamic-squeeze-excite';
import type { MobileNetSupernet } from './mobilenet-supernet';

/** Appends nodes and tracks the name of the last output. */
class NodeList {
  readonly nodes: IRNode[] = [];
  push(node: IRNode): string {
    this.nodes.push(node);
    return node.name;
  }
}

function emitConvBnAct(list: NodeList, layer: ConvBnAct, x: string, inC: number, out: number): string {
  const conv = layer.conv;
  const stride = conv.options.stride;
  const common = {
    name: conv.name,
    inputs: [x],
    strides: [stride, stride] as [number, number],
    padding: 'same' as const,
  };
  let y =
    conv instanceof DynamicConv2d
      ? list.push({ op: 'conv2d', ...common, ...conv.export(inC, out) })
      : list.push({ op: 'depthwiseConv2d', ...common, ...conv.export(inC) });
  const c = conv instanceof DynamicConv2d ? out : inC;
  if (layer.bn) y = list.push({ op: 'batchNorm', name: layer.bn.name, inputs: [y], ...layer.bn.export(c) });
  if (layer.act !== 'none')
    y = list.push({ op: 'activation', name: `${layer.name}.act`, inputs: [y], activation: layer.act });
  return y;
}

function emitSqueezeExcite(list: NodeList, se: DynamicSqueezeExcite, x: string, c: number): string {
  const hidden = seChannels(c);
  let g = list.push({ op: 'globalAvgPool', name: `${se.name}.pool`, inputs: [x], keepDims: true });
  const conv = { strides: [1, 1] as [number, number], padding: 'same' as const };
  g = list.push({ op: 'conv2d', name: se.reduce.name, inputs: [g], ...conv, ...se.reduce.export(c, hidden) });
  g = list.push({ op: 'activation', name: `${se.name}.relu`, inputs: [g], activation: 'relu' });
  g = list.push({ op: 'conv2d', name: se.expand.name, inputs: [g], ...conv, ...se.expand.export(hidden, c) });
  g = list.push({ op: 'activation', name: `${se.name}.gate`, inputs: [g], activation: 'hsigmoid' });
  return list.push({ op: 'mul', name: `${se.name}.mul`, inputs: [x, g] });
}

/**
 * The active sub-network of a supernet as a ModelIR (schema 1): weights sliced to the active channels and
 * copied; batch norm kept as `batchNorm` nodes with the running statistics; squeeze-excite as
 * `globalAvgPool(keepDims) → conv2d(bias) → relu → conv2d(bias) → hsigmoid → mul`. Node names are the layer
 * names (`stem.conv`, `blocks.3.expand.bn`, `blocks.3.add`, `pool`, `classifier`…). Post-pool 1×1 convs
 * (MobileNetV3's last head conv) act on a 1×1 map and are written as `dense` nodes (same weights, `[in, out]`).
 */
export function extractModelIR(net: MobileNetSupernet, plan: ActivePlan): ModelIR {
  const list = new NodeList();
  let x = list.push({ op: 'input', name: 'input', inputs: [], shape: [...net.inputShape] });
  x = emitConvBnAct(list, net.stem, x, net.inputShape[2], plan.stem);
  net.blocks.forEach((block, i) => {
    const p = plan.blocks[i];
    const input = x;
    if (block instanceof MBBlock) {
      x = emitConvBnAct(list, block.expand, x, p.in, p.mid);
      x = emitConvBnAct(list, block.depthwise, x, p.mid, p.mid);
      if (block.se) x = emitSqueezeExcite(list, block.se, x, p.mid);
      x = emitConvBnAct(list, block.project, x, p.mid, p.out);
    } else {
      x = emitConvBnAct(list, block.depthwise, x, p.in, p.in);
      x = emitConvBnAct(list, block.pointwise, x, p.in, p.out);
    }
    if (block.shortcut) x = list.push({ op: 'add', name: `${block.name}.add`, inputs: [x, input] });
  });
  let c = plan.blocks[plan.blocks.length - 1].out;
  net.headConvs.forEach((layer, i) => {
    x = emitConvBnAct(list, layer, x, c, plan.headConvs[i]);
    c = plan.headConvs[i];
  });
  x = list.push({ op: 'globalAvgPool', name: 'pool', inputs: [x], keepDims: false });
  net.postPoolConvs.forEach((layer, i) => {
    const out = plan.postPoolConvs[i];
    const conv = layer.conv as DynamicConv2d;
    const { weight, bias } = conv.export(c, out);
    x = list.push({
      op: 'dense',
      name: conv.name,
      inputs: [x],
      weight: { shape: [c, out], data: weight.data },
      bias,
    });
    if (layer.act !== 'none')
      x = list.push({ op: 'activation', name: `${layer.name}.act`, inputs: [x], activation: layer.act });
    c = out;
  });
  x = list.push({ op: 'dense', name: 'classifier', inputs: [x], ...net.classifier.export(c) });
  return {
    schemaVersion: MODEL_IR_SCHEMA_VERSION,
    name: net.name,
    inputShape: [...net.inputShape],
    numClasses: net.numClasses,
    nodes: list.nodes,
    output: x,
    metadata: {
      supernet: net.name,
      activeConfig: JSON.stringify(net.getActive()),
      widthMults: JSON.stringify(net.space.widthMults),
      expandFactors: JSON.stringify(net.space.expandFactors),
    },
  };
}
