import {
  MODEL_IR_SCHEMA_VERSION,
  type ActiveConfig,
  type AugmentSpace,
  type ModelIR,
  type Shape3,
} from '@netaug/core';
import type { DynamicBlock } from './block';
import type { ActivePlan } from './choice-space';
import type { ClassifierHead } from './classifier-head';
import { NodeList } from './ir-sink';

/** What {@link extractModelIR} reads from a supernet (a {@link BlockSupernet}). */
export interface ExtractableSupernet {
  readonly name: string;
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  readonly stem: DynamicBlock;
  readonly blocks: readonly DynamicBlock[];
  readonly head: readonly DynamicBlock[];
  readonly classifierHead: ClassifierHead;
  getActive(): ActiveConfig;
}

/**
 * The active sub-network of a supernet as a ModelIR (schema 1): the input node, every block's nodes in order
 * (weights sliced to the active channels and copied; batch norm kept as `batchNorm` nodes with the running
 * statistics; see each block type), then `pool` (global average), the hidden layers as `dense` nodes and
 * `classifier`. Node names are the layer names (`stem.conv`, `blocks.3.expand.bn`, `blocks.3.add`, `pool`,
 * `classifier`…). Metadata: the supernet's name, the active config and the augment space.
 */
export function extractModelIR(net: ExtractableSupernet, plan: ActivePlan): ModelIR {
  const list = new NodeList();
  let x = list.push({ op: 'input', name: 'input', inputs: [], shape: [...net.inputShape] });
  const plans = [plan.stemPlan, ...plan.blocks, ...plan.head];
  [net.stem, ...net.blocks, ...net.head].forEach((block, i) => (x = block.emit(list, x, plans[i])));
  const last = plans[plans.length - 1].out;
  x = net.classifierHead.emit(list, x, last, plan.postPoolConvs);
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
