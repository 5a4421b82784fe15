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
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';
import { BlockArgs, largest } from './args';
import { ConvBnAct } from './conv-bn-act';

/** Shape of a {@link DSBlock} (largest widths; tiny ones default to them). */
export interface DSBlockOptions {
  kernel: number;
  stride: number;
  inMax: number;
  outMax: number;
  act: ActivationKind;
  shortcut: boolean;
  /** Output channels of the tiny model (default `outMax`). */
  outTiny?: number;
}

/**
 * Depthwise-separable block (type `ds`): depthwise k×k + BN + act (`<name>.depthwise`), point-wise 1×1 + BN
 * (`<name>.pointwise`), optional identity shortcut (then the output width is the input width). A width choice point
 * named after the block unless it has a shortcut. Spec: `{ type: 'ds', c, k = 3, s = 1, act, shortcut = false }`.
 */
export class DSBlock implements DynamicBlock {
  readonly type = 'ds';
  readonly depthwise: ConvBnAct;
  readonly pointwise: ConvBnAct;
  readonly shortcut: boolean;
  readonly choices: { width: string[]; expand: string[] };
  readonly outTiny: number;
  readonly outMax: number;
  readonly stride: number;

  constructor(
    readonly name: string,
    options: DSBlockOptions,
    init: WeightInit,
  ) {
    const { kernel, stride, inMax, outMax, act } = options;
    this.shortcut = options.shortcut;
    this.depthwise = new ConvBnAct(
      `${name}.depthwise`,
      { kernel, stride, inMax, outMax: inMax, depthwise: true, act },
      init,
    );
    this.pointwise = new ConvBnAct(
      `${name}.pointwise`,
      { kernel: 1, stride: 1, inMax, outMax, act: 'none' },
      init,
    );
    this.outMax = outMax;
    this.outTiny = options.outTiny ?? outMax;
    this.stride = stride;
    this.choices = { width: this.shortcut ? [] : [name], expand: [] };
  }

  apply(x: tf.Tensor4D, out: number, training: boolean): tf.Tensor4D {
    const y = this.pointwise.apply(this.depthwise.apply(x, x.shape[3], training), out, training);
    return this.shortcut ? tf.add(y, x) : y;
  }

  plan(inC: number, choices: BlockChoices): BlockPlan {
    return { in: inC, mid: 0, out: this.shortcut ? inC : activeWidth(this.outTiny, choices.width[0]) };
  }

  forward(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    return this.apply(x, plan.out, training);
  }

  emit(ir: IRSink, x: string, plan: BlockPlan): string {
    let y = this.depthwise.emitNodes(ir, x, plan.in, plan.in);
    y = this.pointwise.emitNodes(ir, y, plan.in, plan.out);
    return this.shortcut ? ir.push({ op: 'add', name: `${this.name}.add`, inputs: [y, x] }) : y;
  }

  variables(): TfNamedVariable[] {
    return [...this.depthwise.variables(), ...this.pointwise.variables()];
  }

  channelGroups(): ChannelGroup[] {
    return [];
  }
}

/** Factory of the `ds` block type. */
export function createDSBlock(spec: BlockConfig, ctx: BlockContext): DSBlock {
  const a = new BlockArgs(spec, ctx);
  const c = a.int('c');
  const shortcut = a.bool('shortcut', false);
  if (shortcut && c !== ctx.inTiny)
    a.invalid(`a shortcut needs the output width c = ${c} to equal the input width ${ctx.inTiny}`);
  return new DSBlock(
    ctx.name,
    {
      kernel: a.int('k', 3),
      stride: a.int('s', 1),
      inMax: ctx.inMax,
      outMax: shortcut ? ctx.inMax : activeWidth(c, largest(ctx).width),
      outTiny: c,
      act: a.act('act') as ActivationKind,
      shortcut,
    },
    ctx.init,
  );
}
