import * as tf from '@tensorflow/tfjs-core';
import type { ActivationKind } from '@netaug/core';
import type {
  BlockChoices,
  BlockContext,
  BlockPlan,
  BlockConfig,
  ChannelGroup,
  DynamicBlock,
} from '../block';
import { activeWidth } from '../widths';
import type { IRSink } from '../ir-sink';
import type { WeightInit } from '../layers/weight-init';
import { BlockArgs, largest } from './args';
import { ConvBnAct } from './conv-bn-act';

/** Shape of a {@link ConvBlock}. */
export interface ConvBlockOptions {
  kernel: number;
  stride: number;
  inMax: number;
  /** Output channels of the tiny model and the largest output channels. */
  outTiny: number;
  outMax: number;
  act: ActivationKind | 'none';
  /** Batch norm after the conv (default true); without it the conv gets a bias. */
  bn?: boolean;
  /** A max-pool after the activation (TensorFlow SAME padding), as the ResNet ImageNet stem's 3×3 stride 2. */
  pool?: { k: number; s: number };
}

/**
 * Block type `conv`: conv k×k (stride `s`) → BN → activation (`<name>.conv`, `<name>.bn`, `<name>.act`), then an
 * optional max-pool (`<name>.pool`). One width choice point named after the block: `round(c·m)` output channels.
 * The zoo's stems and MobileNet head convs. Spec: `{ type: 'conv', c, k = 1, s = 1, act, bn = true, pool?: { k, s } }`.
 */
export class ConvBlock extends ConvBnAct implements DynamicBlock {
  readonly type = 'conv';
  readonly choices: { width: string[]; expand: string[] };
  readonly outTiny: number;
  readonly outMax: number;
  readonly stride: number;
  readonly pool?: { k: number; s: number };

  constructor(name: string, options: ConvBlockOptions, init: WeightInit) {
    super(
      name,
      {
        kernel: options.kernel,
        stride: options.stride,
        inMax: options.inMax,
        outMax: options.outMax,
        act: options.act,
        bn: options.bn,
      },
      init,
    );
    this.outTiny = options.outTiny;
    this.outMax = options.outMax;
    this.pool = options.pool ? { ...options.pool } : undefined;
    this.stride = options.stride * (this.pool?.s ?? 1);
    this.choices = { width: [name], expand: [] };
  }

  plan(inC: number, choices: BlockChoices): BlockPlan {
    return { in: inC, mid: 0, out: activeWidth(this.outTiny, choices.width[0]) };
  }

  forward(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    const y = this.apply(x, plan.out, training);
    return this.pool ? tf.maxPool(y, this.pool.k, this.pool.s, 'same') : y;
  }

  emit(ir: IRSink, x: string, plan: BlockPlan): string {
    const y = this.emitNodes(ir, x, plan.in, plan.out);
    if (!this.pool) return y;
    const { k, s } = this.pool;
    return ir.push({
      op: 'maxPool',
      name: `${this.name}.pool`,
      inputs: [y],
      poolSize: [k, k],
      strides: [s, s],
      padding: 'same',
    });
  }

  channelGroups(): ChannelGroup[] {
    return [];
  }
}

/** Factory of the `conv` block type. */
export function createConvBlock(spec: BlockConfig, ctx: BlockContext): ConvBlock {
  const a = new BlockArgs(spec, ctx);
  const c = a.int('c');
  return new ConvBlock(
    ctx.name,
    {
      kernel: a.int('k', 1),
      stride: a.int('s', 1),
      inMax: ctx.inMax,
      outTiny: c,
      outMax: activeWidth(c, largest(ctx).width),
      act: a.act('act', undefined, true),
      bn: a.bool('bn', true),
      pool: a.optionalWindow('pool'),
    },
    ctx.init,
  );
}
