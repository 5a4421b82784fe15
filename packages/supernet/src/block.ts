import type * as tf from '@tensorflow/tfjs-core';
import type { AugmentSpace } from '@netaug/core';
import type { IRSink } from './ir-sink';
import type { TfNamedVariable } from './layers/named-variable';
import type { WeightInit } from './layers/weight-init';

export type { IRSink } from './ir-sink';

/**
 * One block of a model spec, JSON: its registered `type` and that type's arguments (`c` output channels, `k`
 * kernel, `s` stride, …; see each type in the README). An entry of a spec's `blocks` with `n: k` stands for `k`
 * copies, the first with its `s` and the others with stride 1.
 */
export interface BlockConfig {
  type: string;
  [arg: string]: unknown;
}

/** Active channel counts of one block: input, output, and `mid` (inner / expanded; 0 where a block has none). */
export interface BlockPlan {
  in: number;
  mid: number;
  out: number;
  /** Further inner widths a block may need. */
  [channels: string]: number;
}

/** The values of a block's own choice points, sliced from the active config in the block's order. */
export interface BlockChoices {
  width: readonly number[];
  expand: readonly number[];
}

/** What a block factory gets besides its spec. */
export interface BlockContext {
  /** Name of the block: prefix of its variables and IR nodes (`stem`, `blocks.3`, `head.0`). */
  name: string;
  /** Input channels in the tiny model. */
  inTiny: number;
  /** Largest input channels (the previous block at the largest config): weights are allocated for it. */
  inMax: number;
  /** The augment space of the supernet (its largest factors size the weights). */
  space: AugmentSpace;
  init: WeightInit;
}

/**
 * Channels that move together when a block's channels are sorted: the (variable, axis) pairs that index them, and
 * the (variable, axis) whose L1 norms over the other axes rank them (most important first). Permuting every member
 * the same way must leave the block's function unchanged.
 */
export interface ChannelGroup {
  importance: readonly [TfNamedVariable, number];
  members: readonly (readonly [TfNamedVariable, number])[];
}

/**
 * A block of a NetAug supernet: it owns the weights of its largest augmented version and runs any smaller one on
 * their first channels. The generic supernet ({@link BlockSupernet}) only loops over blocks: everything a block
 * type does is here.
 */
export interface DynamicBlock {
  /** Registered type (`conv`, `ds`, `mb`, `basic`, `bottleneck`, or a user's). */
  readonly type: string;
  readonly name: string;
  /**
   * Names of the width and expand choice points this block reads from the active config, in config order. A
   * block reads `ActiveConfig.width` / `.expand` entries in this order, after those of the blocks before it.
   */
  readonly choices: { readonly width: readonly string[]; readonly expand: readonly string[] };
  /** Output channels in the tiny model and at the largest config. */
  readonly outTiny: number;
  readonly outMax: number;
  /** Spatial downsampling of the block (product of its strides). */
  readonly stride: number;
  /** Active channels for `inC` active input channels and this block's choice values. */
  plan(inC: number, choices: BlockChoices): BlockPlan;
  /**
   * The block on NHWC `x` with `plan.in` channels (training: batch statistics, updating the running ones). Called
   * inside the supernet's `tf.tidy`; under gradient checkpointing the supernet records it as one tape node.
   */
  forward(x: tf.Tensor4D, plan: BlockPlan, training: boolean): tf.Tensor4D;
  /** Appends the block's nodes (weights sliced to `plan` and copied) after node `x`; returns its output node. */
  emit(ir: IRSink, x: string, plan: BlockPlan): string;
  /** Every variable, with stable names under the block's name. */
  variables(): TfNamedVariable[];
  /** Channel groups that `sortChannels()` reorders (none: the block's channels are never sorted). */
  channelGroups(): ChannelGroup[];
}

/** Creates a block of one registered type from its spec (arguments) and context. */
export type BlockFactory = (spec: BlockConfig, ctx: BlockContext) => DynamicBlock;
