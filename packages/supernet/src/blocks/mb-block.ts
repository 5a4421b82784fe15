import * as tf from '@tensorflow/tfjs-core';
import { makeDivisible, type ActivationKind } from '@netaug/core';
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
import { DynamicSqueezeExcite } from '../layers/dynamic-squeeze-excite';
import type { TfNamedVariable } from '../layers/named-variable';
import type { WeightInit } from '../layers/weight-init';
import { BlockArgs, largest } from './args';
import { ConvBnAct } from './conv-bn-act';

/** Shape of an {@link MBBlock} (largest widths; the tiny ones default to them). */
export interface MBBlockOptions {
  kernel: number;
  stride: number;
  inMax: number;
  midMax: number;
  outMax: number;
  act: ActivationKind;
  se: boolean;
  shortcut: boolean;
  /** Input, expanded and output channels of the tiny model (default: the largest ones). */
  inTiny?: number;
  midTiny?: number;
  outTiny?: number;
}

/**
 * Inverted bottleneck MB(k, s, mid) (type `mb`): 1×1 expand + BN + act (`<name>.expand`), depthwise k×k + BN + act
 * (`<name>.depthwise`), optional squeeze-excite (`<name>.se`), 1×1 project + BN (`<name>.project`), optional
 * identity shortcut (then the output width is the input width).
 *
 * Choice points: a width choice named after the block unless it has a shortcut (`round(c·m)` output channels), and
 * an expand choice: `round(midTiny · f · in / inTiny)` expanded channels. Channel sorting ranks the expanded
 * channels by the L1 norm of the projection's input slices. Spec: `{ type: 'mb', c, k = 3, s = 1, act, e | mid,
 * se = false, shortcut }` (`mid = makeDivisible(round(e·in), 8)` from an expand ratio `e`; `shortcut` defaults to
 * `s = 1 and in = c`).
 */
export class MBBlock implements DynamicBlock {
  readonly type = 'mb';
  readonly expand: ConvBnAct;
  readonly depthwise: ConvBnAct;
  readonly se?: DynamicSqueezeExcite;
  readonly project: ConvBnAct;
  readonly shortcut: boolean;
  readonly choices: { width: string[]; expand: string[] };
  readonly inTiny: number;
  readonly midTiny: number;
  readonly outTiny: number;
  readonly outMax: number;
  readonly stride: number;

  constructor(
    readonly name: string,
    readonly options: MBBlockOptions,
    init: WeightInit,
  ) {
    const { kernel, stride, inMax, midMax, outMax, act } = options;
    this.expand = new ConvBnAct(`${name}.expand`, { kernel: 1, stride: 1, inMax, outMax: midMax, act }, init);
    this.depthwise = new ConvBnAct(
      `${name}.depthwise`,
      { kernel, stride, inMax: midMax, outMax: midMax, depthwise: true, act },
      init,
    );
    if (options.se) this.se = new DynamicSqueezeExcite(`${name}.se`, midMax, init);
    this.project = new ConvBnAct(
      `${name}.project`,
      { kernel: 1, stride: 1, inMax: midMax, outMax, act: 'none' },
      init,
    );
    this.shortcut = options.shortcut;
    this.inTiny = options.inTiny ?? inMax;
    this.midTiny = options.midTiny ?? midMax;
    this.outTiny = options.outTiny ?? outMax;
    this.outMax = outMax;
    this.stride = stride;
    this.choices = { width: this.shortcut ? [] : [name], expand: [name] };
  }

  /** Runs with `mid` expanded channels and `out` output channels. */
  apply(x: tf.Tensor4D, mid: number, out: number, training: boolean): tf.Tensor4D {
    let h = this.expand.apply(x, mid, training);
    h = this.depthwise.apply(h, mid, training);
    if (this.se) h = this.se.apply(h);
    const y = this.project.apply(h, out, training);
    return this.shortcut ? tf.add(y, x) : y;
  }

  plan(inC: number, choices: BlockChoices): BlockPlan {
    const out = this.shortcut ? inC : activeWidth(this.outTiny, choices.width[0]);
    return { in: inC, mid: activeMid(this.midTiny, this.inTiny, choices.expand[0], inC), out };
  }

  forward(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D {
    return this.apply(x, plan.mid, plan.out, training);
  }

  emit(ir: IRSink, x: string, plan: BlockPlan): string {
    let y = this.expand.emitNodes(ir, x, plan.in, plan.mid);
    y = this.depthwise.emitNodes(ir, y, plan.mid, plan.mid);
    if (this.se) y = this.se.emitNodes(ir, y, plan.mid);
    y = this.project.emitNodes(ir, y, plan.mid, plan.out);
    return this.shortcut ? ir.push({ op: 'add', name: `${this.name}.add`, inputs: [y, x] }) : y;
  }

  variables(): TfNamedVariable[] {
    return [
      ...this.expand.variables(),
      ...this.depthwise.variables(),
      ...(this.se ? this.se.variables() : []),
      ...this.project.variables(),
    ];
  }

  /**
   * The expanded channels: expand conv outputs and its BN, the depthwise conv and its BN, the squeeze-excite
   * (reduce inputs, expand outputs and bias) and the projection inputs, ranked by the projection's input slices.
   */
  channelGroups(): ChannelGroup[] {
    const members: [TfNamedVariable, number][] = [];
    const { expand, depthwise, se, project } = this;
    members.push([(expand.conv as { weight: TfNamedVariable }).weight, 3]);
    for (const v of expand.bn!.variables()) members.push([v, 0]);
    members.push([depthwise.conv.weight, 2]);
    for (const v of depthwise.bn!.variables()) members.push([v, 0]);
    if (se) {
      members.push([se.reduce.weight, 2]);
      members.push([se.expand.weight, 3]);
      members.push([se.expand.bias!, 0]);
    }
    members.push([project.conv.weight, 2]);
    return [{ importance: [project.conv.weight, 2], members }];
  }
}

/** Factory of the `mb` block type. */
export function createMBBlock(spec: BlockConfig, ctx: BlockContext): MBBlock {
  const a = new BlockArgs(spec, ctx);
  const c = a.int('c');
  const stride = a.int('s', 1);
  const shortcut = a.bool('shortcut', stride === 1 && c === ctx.inTiny);
  if (shortcut && (c !== ctx.inTiny || stride !== 1))
    a.invalid(`a shortcut needs stride 1 and c = ${c} equal to the input width ${ctx.inTiny}`);
  const e = a.optionalNumber('e');
  const mid = a.optionalInt('mid');
  if ((e === undefined) === (mid === undefined)) a.invalid(`give one of 'e' (expand ratio) and 'mid'`);
  const midTiny = mid ?? makeDivisible(Math.round(e! * ctx.inTiny), 8);
  const max = largest(ctx);
  return new MBBlock(
    ctx.name,
    {
      kernel: a.int('k', 3),
      stride,
      inMax: ctx.inMax,
      midMax: activeMid(midTiny, ctx.inTiny, max.expand, ctx.inMax),
      outMax: shortcut ? ctx.inMax : activeWidth(c, max.width),
      act: a.act('act') as ActivationKind,
      se: a.bool('se', false),
      shortcut,
      inTiny: ctx.inTiny,
      midTiny,
      outTiny: c,
    },
    ctx.init,
  );
}
