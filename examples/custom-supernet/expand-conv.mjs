// The block type `expand-conv`, registered with @netaug/supernet when this module is imported: by
// examples/custom-supernet/train.mjs, or by the CLI as a plugin (`netaug train --model-spec my-model.yaml
// --plugin examples/custom-supernet/expand-conv.mjs`).
import { ConvBnAct, activeWidth, registerBlock } from '@netaug/supernet';

/**
 * Block type `expand-conv`: conv k×k (stride `s`) → BN → ReLU with `round(c·f)` output channels at expand factor
 * `f` (one expand choice point, named after the block). Spec: `{ type: 'expand-conv', c, k = 3, s = 1 }`.
 *
 * A block factory gets its spec and a context (`name`, the tiny and the largest input channels, the augment space,
 * the seeded init) and returns a DynamicBlock: its choice points, its channel plan, forward pass, ModelIR nodes,
 * variables and channel groups. The supernet does the rest by looping over blocks.
 *
 * @param {import('@netaug/supernet').BlockConfig} spec
 * @param {import('@netaug/supernet').BlockContext} ctx
 * @returns {import('@netaug/supernet').DynamicBlock}
 */
export function expandConv(spec, ctx) {
  const c = spec.c;
  const k = spec.k ?? 3;
  const s = spec.s ?? 1;
  // weights for the largest augmented model: the largest expand factor, and the largest input the block can get
  const outMax = activeWidth(c, ctx.space.expandFactors.at(-1));
  const layer = new ConvBnAct(
    ctx.name,
    { kernel: k, stride: s, inMax: ctx.inMax, outMax, act: 'relu' },
    ctx.init,
  );
  return {
    type: 'expand-conv',
    name: ctx.name,
    // which entries of ActiveConfig.width / .expand this block reads, in order
    choices: { width: [], expand: [ctx.name] },
    outTiny: c,
    outMax,
    stride: s,
    // active channels from the active input channels and this block's choice values
    plan: (inC, choices) => ({ in: inC, mid: 0, out: activeWidth(c, choices.expand[0]) }),
    // the first `plan.out` output channels of the weights (NetAug's first-channel rule)
    forward: (x, plan, training) => layer.apply(x, plan.out, training),
    // conv2d + batchNorm + activation nodes with the active weights copied
    emit: (ir, x, plan) => layer.emitNodes(ir, x, plan.in, plan.out),
    // stable names: blocks.0.conv.weight, blocks.0.bn.gamma, blocks.0.bn.runningMean, …
    variables: () => layer.variables(),
    // channels that sorting may permute together: none here, a block's output channels feed the next block.
    // A block with inner channels lists them, e.g. a conv pair a → b:
    //   [{ importance: [b.conv.weight, 2], members: [[a.conv.weight, 3], ...bnOf(a), [b.conv.weight, 2]] }]
    channelGroups: () => [],
  };
}

registerBlock('expand-conv', expandConv);
