import * as tf from '@tensorflow/tfjs-core';
import {
  NetAugError,
  Rng,
  type ActiveConfig,
  type ActiveMode,
  type AugmentSpace,
  type ChannelPermutation,
  type ForwardOptions,
  type ModelIR,
  type NamedVariable,
  type Shape3,
  type Supernet,
} from '@netaug/core';
import { recompute } from '@netaug/backend';
import type { BlockPlan, BlockConfig, DynamicBlock } from './block';
import { createBlock } from './block-registry';
import { ChoiceSpace, type ActivePlan } from './choice-space';
import { ClassifierHead } from './classifier-head';
import { extractModelIR } from './extract';
import type { DynamicLinear } from './layers/dynamic-linear';
import type { TfNamedVariable } from './layers/named-variable';
import { resolveModelSpec, type ModelSpec } from './model-spec';
import { sortChannels } from './sort-channels';

/** What {@link BlockSupernet}'s constructor needs besides the model spec. */
export interface BlockSupernetOptions {
  numClasses: number;
  inputShape: Shape3;
  space: AugmentSpace;
  /** Seed of the weight init and of the fallback sampler (default 0). */
  seed?: number;
  /** Build the small-input form of the spec (see {@link ModelSpec.smallInput}); default false. */
  smallInput?: boolean;
}

/**
 * The NetAug supernet of any model spec: `stem → blocks → head` ({@link DynamicBlock}s of registered types, built
 * in order, each sized by the largest config), then the {@link ClassifierHead} (pooling, hidden layers, linear
 * classifier). Every operation is a loop over the blocks: the active config is cut into each block's choice
 * values, each block plans its channels from its input's, runs, writes its ModelIR nodes and names the channels
 * that sorting may permute. `setActive('min')` is exactly the tiny network.
 */
export class BlockSupernet implements Supernet<tf.Tensor, tf.Variable> {
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  readonly choices: { width: string[]; expand: string[] };
  readonly choiceSpace: ChoiceSpace;
  /** The resolved spec the supernet was built from (small-input form applied, `n` expanded). */
  readonly arch: ModelSpec;
  readonly stem: DynamicBlock;
  readonly blocks: DynamicBlock[];
  readonly head: DynamicBlock[];
  readonly classifierHead: ClassifierHead;
  /** Product of all strides (32 for the ImageNet forms of the zoo, 8 for the small-input ones). */
  readonly totalStride: number;

  private active: ActiveConfig;
  private activePlan: ActivePlan;
  private readonly fallbackRng: Rng;
  private disposed = false;

  constructor(
    readonly name: string,
    spec: ModelSpec,
    options: BlockSupernetOptions,
  ) {
    this.inputShape = [...options.inputShape] as Shape3;
    this.numClasses = options.numClasses;
    this.space = {
      widthMults: [...options.space.widthMults],
      expandFactors: [...options.space.expandFactors],
    };
    this.arch = resolveModelSpec(spec, !!options.smallInput);
    const seed = options.seed ?? 0;
    this.fallbackRng = new Rng(`${seed}/sampler`);
    const init = { seed };
    const built: DynamicBlock[] = [];
    let inTiny = this.inputShape[2];
    let inMax = inTiny;
    const build = (blockSpec: BlockConfig, name: string): DynamicBlock => {
      let block: DynamicBlock;
      try {
        block = createBlock(blockSpec, { name, inTiny, inMax, space: this.space, init });
      } catch (e) {
        for (const b of built) for (const v of b.variables()) v.variable.dispose();
        throw e;
      }
      built.push(block);
      inTiny = block.outTiny;
      inMax = block.outMax;
      return block;
    };
    this.stem = build(this.arch.stem, 'stem');
    this.blocks = this.arch.blocks.map((b, i) => build(b, `blocks.${i}`));
    const headSpecs = this.arch.head ?? [];
    this.head = headSpecs.map((b, i) => build(b, `head.${i}`));
    this.classifierHead = new ClassifierHead(
      this.arch.classifier?.hidden ?? [],
      headSpecs.length,
      inMax,
      this.numClasses,
      this.space,
      init,
    );
    this.totalStride = this.layers().reduce((s, b) => s * b.stride, 1);
    this.choiceSpace = new ChoiceSpace(
      {
        width: [...this.layers().flatMap((b) => b.choices.width), ...this.classifierHead.choices.width],
        expand: this.layers().flatMap((b) => b.choices.expand),
      },
      this.space,
    );
    this.choices = { width: [...this.choiceSpace.widthNames], expand: [...this.choiceSpace.expandNames] };
    this.active = this.choiceSpace.sample('min', this.fallbackRng);
    this.activePlan = this.planFor(this.active);
  }

  /** Stem, body and head blocks, in network order. */
  layers(): DynamicBlock[] {
    return [this.stem, ...this.blocks, ...this.head];
  }

  /** The head blocks (MobileNet's head convs). */
  get headConvs(): DynamicBlock[] {
    return this.head;
  }

  /** The hidden layers after the pooling (MobileNetV3's last head conv). */
  get postPoolConvs(): ClassifierHead['hidden'] {
    return this.classifierHead.hidden;
  }

  get classifier(): DynamicLinear {
    return this.classifierHead.classifier;
  }

  /**
   * Selects the active sub-network: `min` (the tiny model), `max`, `random`, `min_w`, `min_e`, or an explicit
   * {@link ActiveConfig} (validated). Sampling modes draw from `rng`; without one they use an internal
   * generator seeded from the supernet's seed (pass your own to make training resumable).
   */
  setActive(mode: ActiveMode | ActiveConfig, rng?: Rng): ActiveConfig {
    this.assertAlive();
    const config = this.choiceSpace.resolve(mode, rng ?? this.fallbackRng);
    this.active = config;
    this.activePlan = this.planFor(config);
    return this.getActive();
  }

  getActive(): ActiveConfig {
    return { width: [...this.active.width], expand: [...this.active.expand] };
  }

  /** Channel counts of every layer of the active sub-network. */
  getActivePlan(): ActivePlan {
    const p = this.activePlan;
    return {
      ...p,
      blocks: p.blocks.map((b) => ({ ...b })),
      headConvs: [...p.headConvs],
      postPoolConvs: [...p.postPoolConvs],
      stemPlan: { ...p.stemPlan },
      head: p.head.map((b) => ({ ...b })),
    };
  }

  /** Channel counts for a (valid) config: each block gets its slice of the config and its input's channels. */
  private planFor(config: ActiveConfig): ActivePlan {
    let wi = 0;
    let ei = 0;
    let inC = this.inputShape[2];
    const run = (block: DynamicBlock): BlockPlan => {
      const nw = block.choices.width.length;
      const ne = block.choices.expand.length;
      const plan = block.plan(inC, {
        width: config.width.slice(wi, wi + nw),
        expand: config.expand.slice(ei, ei + ne),
      });
      wi += nw;
      ei += ne;
      inC = plan.out;
      return plan;
    };
    const stemPlan = run(this.stem);
    const blocks = this.blocks.map(run);
    const head = this.head.map(run);
    const c = this.classifierHead.plan(inC, config.width.slice(wi));
    return {
      stem: stemPlan.out,
      blocks,
      headConvs: head.map((p) => p.out),
      postPoolConvs: c.hidden,
      classifierIn: c.classifierIn,
      stemPlan,
      head,
    };
  }

  /** Plans of {@link layers}, in the same order. */
  private layerPlans(plan: ActivePlan): BlockPlan[] {
    return [plan.stemPlan, ...plan.blocks, ...plan.head];
  }

  /**
   * Logits `[N, numClasses]` of the active sub-network for NHWC input `x` (`[N, ...inputShape]`). Runs inside
   * `tf.tidy`. With `training: true` batch norm uses batch statistics and updates its running statistics; with
   * `recompute: true` as well, every block is one tape node whose activations the backward pass recomputes.
   */
  forward(x: tf.Tensor, options: ForwardOptions = { training: false }): tf.Tensor2D {
    this.assertAlive();
    this.checkInput(x);
    const training = !!options.training;
    const plans = this.layerPlans(this.activePlan);
    const segment = (block: DynamicBlock, plan: BlockPlan, h: tf.Tensor4D) =>
      training && options.recompute
        ? recompute(
            (t: tf.Tensor4D) => block.forward(t, plan, training),
            h,
            block
              .variables()
              .filter((v) => v.trainable)
              .map((v) => v.variable),
          )
        : block.forward(h, plan, training);
    return tf.tidy(() => {
      let h = x as tf.Tensor4D;
      this.layers().forEach((block, i) => (h = segment(block, plans[i], h)));
      return this.classifierHead.forward(h, this.activePlan.postPoolConvs, training);
    });
  }

  /** All trainable variables (the ones gradients flow to). */
  trainableVariables(): tf.Variable[] {
    return this.variables()
      .filter((v) => v.trainable)
      .map((v) => v.variable);
  }

  /**
   * Every variable with a stable name (`stem.conv.weight`, `blocks.3.expand.bn.runningMean`, `classifier.bias`…);
   * batch-norm running statistics are not trainable; batch-norm affine parameters and biases get no weight decay.
   */
  variables(): NamedVariable<tf.Variable>[] {
    this.assertAlive();
    return this.namedVariables();
  }

  /** Reorders every block's channel groups by importance (see {@link sortChannels}); the function is unchanged. */
  sortChannels(): ChannelPermutation[] {
    this.assertAlive();
    return sortChannels(this.layers());
  }

  /** The active sub-network as a static ModelIR (weights sliced and copied, batch norm kept). */
  extract(): ModelIR {
    this.assertAlive();
    return extractModelIR(this, this.activePlan);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.namedVariables()) v.variable.dispose();
    this.disposed = true;
  }

  private namedVariables(): TfNamedVariable[] {
    return [...this.layers().flatMap((b) => b.variables()), ...this.classifierHead.variables()];
  }

  private checkInput(x: tf.Tensor): void {
    const [h, w, c] = this.inputShape;
    const ok = x.rank === 4 && x.shape[1] === h && x.shape[2] === w && x.shape[3] === c;
    if (!ok) {
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `${this.name}: expected input of shape [N,${h},${w},${c}], got [${x.shape}]`,
        {
          hint: 'pass NHWC images with the inputShape the supernet was created with',
        },
      );
    }
  }

  private assertAlive(): void {
    if (this.disposed) throw new NetAugError('INVALID_ARGUMENT', `${this.name}: the supernet was disposed`);
  }
}
