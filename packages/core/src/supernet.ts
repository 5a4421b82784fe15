import type { ActiveConfig, ActiveMode, AugmentSpace } from './active-config';
import type { ModelIR, Shape3 } from './model-ir';
import type { Rng } from './rng';

/** A variable of a supernet with what a trainer needs to know about it. */
export interface NamedVariable<V> {
  /** Stable name, used as the key in checkpoints. */
  name: string;
  variable: V;
  /** False for batch-norm running statistics. */
  trainable: boolean;
  /** Whether weight decay applies (false for batch-norm and bias parameters, as the paper trains). */
  weightDecay: boolean;
}

/**
 * A reordering of one axis of one variable: `new[..., i, ...] = old[..., perm[i], ...]` along `axis`.
 * `sortChannels()` returns these so that a trainer can apply the same reordering to optimizer slots.
 */
export interface ChannelPermutation {
  variable: string;
  axis: number;
  perm: Int32Array;
}

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Training mode: batch-norm uses batch statistics and updates its running statistics. */
  training: boolean;
  /**
   * Gradient checkpointing: record each block as one node and recompute its activations in the backward pass
   * (less memory, one more forward pass of compute). Only meaningful with `training: true`; supernets that do
   * not support it ignore it.
   */
  recompute?: boolean;
}

/**
 * What a trainer needs from a supernet. `T` is the tensor type and `V` the variable type of the framework
 * (tfjs `Tensor` and `Variable` in `@netaug/supernet`); a user's own supernet plugs in by implementing this.
 */
export interface Supernet<T = unknown, V = unknown> {
  readonly name: string;
  /** Per-example NHWC input shape. */
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  /** Names of the width and expand choice points, in {@link ActiveConfig} order. */
  readonly choices: { width: string[]; expand: string[] };
  /** Selects the active sub-network; sampling modes draw from `rng`. Returns the config now active. */
  setActive(mode: ActiveMode | ActiveConfig, rng?: Rng): ActiveConfig;
  getActive(): ActiveConfig;
  /** Logits `[N, numClasses]` of the active sub-network for NHWC input `x`. */
  forward(x: T, options: ForwardOptions): T;
  /** The variables gradients flow to (all trainable weights of the supernet). */
  trainableVariables(): V[];
  /** Every variable, trainable or not, with stable names. */
  variables(): NamedVariable<V>[];
  /** Reorders channels by importance so the first ones (the tiny model's) are the most important. */
  sortChannels(): ChannelPermutation[];
  /** The active sub-network as a static ModelIR (weights copied). */
  extract(): ModelIR;
  dispose(): void;
}
