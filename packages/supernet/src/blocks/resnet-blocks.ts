import * as tf from '@tensorflow/tfjs-core';
import type {
  BlockChoices,
  BlockContext,
  BlockPlan,
  BlockConfig,
  ChannelGroup,
  DynamicBlock,
} from '../block';
import { activeMid, activeWidth } from '../widths';
import type { IRSink } from '../ir-sink';
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';
import { BlockArgs, largest } from './args';
import { ConvBnAct } from './conv-bn-act';

/** Channels of a residual block: tiny and largest input, inner (`mid`) and output widths. */
export interface ResidualBlockOptions {
  stride: number;
  inTiny: number;
  inMax: number;
  midTiny: number;
  midMax: number;
  outTiny: number;
  outMax: number;
}

/** `[conv weight, axis]` and the BN variables (axis 0) of the output channels of `layer`. */
function outputChannels(layer: ConvBnAct): [TfNamedVariable, number][] {
  return [
    [(layer.conv as { weight: TfNamedVariable }).weight, 3],
    ...(layer.bn ? layer.bn.variables() : []).map((v): [TfNamedVariable, number] => [v, 0]),
  ];
}

/** The channels between `producer` (its outputs) and `consumer` (its inputs), ranked by the consumer's input slices. */
function innerGroup(producer: ConvBnAct, consumer: ConvBnAct): ChannelGroup {
  const w = (consumer.conv as { weight: TfNamedVariable }).weight;
  return { importance: [w, 2], members: [...outputChannels(producer), [w, 2]] };
}

/**
 * What the residual blocks share: an identity shortcut when the block keeps the width and the resolution (then its
 * output width is its input width, so every add along the residual stream matches), otherwise a 1×1 projection
 * (stride `s`) + BN (`<name>.shortcut`) whose output follows the block's output width; ReLU after the add.
 */
abstract class ResidualBlock implements DynamicBlock {
  abstract readonly type: string;
  abstract readonly choices: { width: string[]; expand: string[] };
  readonly shortcut?: ConvBnAct;
  readonly stride: number;
  readonly inTiny: number;
  readonly midTiny: number;
  readonly outTiny: number;
  readonly outMax: number;

  constructor(
    readonly name: string,
    options: ResidualBlockOptions,
    init: WeightInit,
  ) {
    this.stride = options.stride;
    this.inTiny = options.inTiny;
    this.midTiny = options.midTiny;
    this.outTiny = options.outTiny;
    this.outMax = options.outMax;
    if (options.stride !== 1 || options.inTiny !== options.outTiny) {
      this.shortcut = new ConvBnAct(
        `${name}.shortcut`,
        { kernel: 1, stride: options.stride, inMax: options.inMax, outMax: options.outMax, act: 'none' },
        init,
      );
    }
  }

  /** The residual branch (without the final ReLU). */
  protected abstract branch(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D;
  protected abstract emitBranch(ir: IRSink, x: string, plan: BlockPlan): string;
  protected abstract layers(): ConvBnAct[];
  abstract plan(inC: number, choices: BlockChoices): BlockPlan;
  abstract channelGroups(): ChannelGroup[];

  forward(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    const y = this.branch(x, plan, training);
    const sc = this.shortcut ? this.shortcut.apply(x, plan.out, training) : x;
    return tf.relu(tf.add(y, sc)) as tf.Tensor4D;
  }

  emit(ir: IRSink, x: string, plan: BlockPlan): string {
    const y = this.emitBranch(ir, x, plan);
    const sc = this.shortcut ? this.shortcut.emitNodes(ir, x, plan.in, plan.out) : x;
    const sum = ir.push({ op: 'add', name: `${this.name}.add`, inputs: [y, sc] });
    return ir.push({ op: 'activation', name: `${this.name}.act`, inputs: [sum], activation: 'relu' });
  }

  variables(): TfNamedVariable[] {
    return [...this.layers(), ...(this.shortcut ? [this.shortcut] : [])].flatMap((l) => l.variables());
  }

  /** Output channels: the input's with an identity shortcut, otherwise the block's width choice. */
  protected outFor(inC: number, m: number | undefined): number {
    return this.shortcut ? activeWidth(this.outTiny, m!) : inC;
  }
}

/**
 * ResNet basic block (type `basic`): conv 3×3 (stride `s`) + BN + ReLU (`<name>.conv1`), conv 3×3 + BN
 * (`<name>.conv2`), shortcut, add, ReLU. Width choice points: the inner width (`<name>.mid`, `round(mid·m)`), then
 * the output width (named after the block) when the shortcut is a projection. Channel sorting ranks the inner
 * channels by the L1 norm of conv2's input slices. Spec: `{ type: 'basic', c, s = 1, mid = c }`.
 */
export class BasicBlock extends ResidualBlock {
  readonly type = 'basic';
  readonly choices: { width: string[]; expand: string[] };
  readonly conv1: ConvBnAct;
  readonly conv2: ConvBnAct;

  constructor(name: string, options: ResidualBlockOptions, init: WeightInit) {
    super(name, options, init);
    const { stride, inMax, midMax, outMax } = options;
    this.conv1 = new ConvBnAct(
      `${name}.conv1`,
      { kernel: 3, stride, inMax, outMax: midMax, act: 'relu' },
      init,
    );
    this.conv2 = new ConvBnAct(
      `${name}.conv2`,
      { kernel: 3, stride: 1, inMax: midMax, outMax, act: 'none' },
      init,
    );
    this.choices = { width: [`${name}.mid`, ...(this.shortcut ? [name] : [])], expand: [] };
  }

  plan(inC: number, choices: BlockChoices): BlockPlan {
    return {
      in: inC,
      mid: activeWidth(this.midTiny, choices.width[0]),
      out: this.outFor(inC, choices.width[1]),
    };
  }

  protected branch(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    return this.conv2.apply(this.conv1.apply(x, plan.mid, training), plan.out, training);
  }

  protected emitBranch(ir: IRSink, x: string, plan: BlockPlan): string {
    const h = this.conv1.emitNodes(ir, x, plan.in, plan.mid);
    return this.conv2.emitNodes(ir, h, plan.mid, plan.out);
  }

  protected layers(): ConvBnAct[] {
    return [this.conv1, this.conv2];
  }

  channelGroups(): ChannelGroup[] {
    return [innerGroup(this.conv1, this.conv2)];
  }
}

/**
 * ResNet bottleneck (type `bottleneck`, torchvision's layout with the stride on the 3×3 conv): 1×1 + BN + ReLU
 * (`<name>.conv1`), 3×3 (stride `s`) + BN + ReLU (`<name>.conv2`), 1×1 + BN (`<name>.conv3`), shortcut, add, ReLU.
 * The inner width is expand-style: an expand choice point named after the block, `round(midTiny · f · in / inTiny)`
 * channels (so it follows the input's width too); the output width is a width choice point (named after the block)
 * when the shortcut is a projection. Channel sorting ranks conv1's outputs by conv2's input slices and conv2's
 * outputs by conv3's input slices. Spec: `{ type: 'bottleneck', c, s = 1, mid = c / 4 }`.
 */
export class BottleneckBlock extends ResidualBlock {
  readonly type = 'bottleneck';
  readonly choices: { width: string[]; expand: string[] };
  readonly conv1: ConvBnAct;
  readonly conv2: ConvBnAct;
  readonly conv3: ConvBnAct;

  constructor(name: string, options: ResidualBlockOptions, init: WeightInit) {
    super(name, options, init);
    const { stride, inMax, midMax, outMax } = options;
    this.conv1 = new ConvBnAct(
      `${name}.conv1`,
      { kernel: 1, stride: 1, inMax, outMax: midMax, act: 'relu' },
      init,
    );
    this.conv2 = new ConvBnAct(
      `${name}.conv2`,
      { kernel: 3, stride, inMax: midMax, outMax: midMax, act: 'relu' },
      init,
    );
    this.conv3 = new ConvBnAct(
      `${name}.conv3`,
      { kernel: 1, stride: 1, inMax: midMax, outMax, act: 'none' },
      init,
    );
    this.choices = { width: this.shortcut ? [name] : [], expand: [name] };
  }

  plan(inC: number, choices: BlockChoices): BlockPlan {
    return {
      in: inC,
      mid: activeMid(this.midTiny, this.inTiny, choices.expand[0], inC),
      out: this.outFor(inC, choices.width[0]),
    };
  }

  protected branch(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    const h = this.conv2.apply(this.conv1.apply(x, plan.mid, training), plan.mid, training);
    return this.conv3.apply(h, plan.out, training);
  }

  protected emitBranch(ir: IRSink, x: string, plan: BlockPlan): string {
    let h = this.conv1.emitNodes(ir, x, plan.in, plan.mid);
    h = this.conv2.emitNodes(ir, h, plan.mid, plan.mid);
    return this.conv3.emitNodes(ir, h, plan.mid, plan.out);
  }

  protected layers(): ConvBnAct[] {
    return [this.conv1, this.conv2, this.conv3];
  }

  channelGroups(): ChannelGroup[] {
    return [innerGroup(this.conv1, this.conv2), innerGroup(this.conv2, this.conv3)];
  }
}

function residualOptions(a: BlockArgs, ctx: BlockContext, midTiny: number, expandStyle: boolean) {
  const c = a.int('c');
  const stride = a.int('s', 1);
  const max = largest(ctx);
  const identity = stride === 1 && c === ctx.inTiny;
  return {
    stride,
    inTiny: ctx.inTiny,
    inMax: ctx.inMax,
    midTiny,
    midMax: expandStyle
      ? activeMid(midTiny, ctx.inTiny, max.expand, ctx.inMax)
      : activeWidth(midTiny, max.width),
    outTiny: c,
    outMax: identity ? ctx.inMax : activeWidth(c, max.width),
  };
}

/** Factory of the `basic` block type. */
export function createBasicBlock(spec: BlockConfig, ctx: BlockContext): BasicBlock {
  const a = new BlockArgs(spec, ctx);
  return new BasicBlock(ctx.name, residualOptions(a, ctx, a.int('mid', a.int('c')), false), ctx.init);
}

/** Factory of the `bottleneck` block type. */
export function createBottleneckBlock(spec: BlockConfig, ctx: BlockContext): BottleneckBlock {
  const a = new BlockArgs(spec, ctx);
  const c = a.int('c');
  if (spec.mid === undefined && c % 4 !== 0) a.invalid(`give 'mid' (c = ${c} is not a multiple of 4)`);
  return new BottleneckBlock(ctx.name, residualOptions(a, ctx, a.int('mid', c / 4), true), ctx.init);
}
