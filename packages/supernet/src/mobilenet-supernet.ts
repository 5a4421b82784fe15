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
import type { ResolvedArch } from './arch-spec';
import { ChoiceSpace, type ActivePlan } from './choice-space';
import { ConvBnAct } from './blocks/conv-bn-act';
import { DSBlock } from './blocks/ds-block';
import { MBBlock } from './blocks/mb-block';
import { DynamicLinear } from './layers/dynamic-linear';
import { globalAvgPool } from './layers/global-avg-pool';
import type { TfNamedVariable } from './layers/named-variable';
import { extractModelIR } from './extract';
import { sortChannels } from './sort-channels';

/** What {@link MobileNetSupernet}'s constructor needs besides the architecture. */
export interface MobileNetSupernetOptions {
  numClasses: number;
  inputShape: Shape3;
  space: AugmentSpace;
  /** Seed of the weight init and of the fallback sampler (default 0). */
  seed?: number;
}

/**
 * A NetAug supernet of the MobileNet family (stem conv, DS block, inverted bottlenecks, head, classifier) built
 * from a {@link ResolvedArch}: every layer owns weights for the largest augmented width and runs at the
 * active width by using its first channels. `setActive('min')` is exactly the tiny network.
 */
export class MobileNetSupernet implements Supernet<tf.Tensor, tf.Variable> {
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  readonly choices: { width: string[]; expand: string[] };
  readonly choiceSpace: ChoiceSpace;

  readonly stem: ConvBnAct;
  readonly blocks: (DSBlock | MBBlock)[];
  readonly headConvs: ConvBnAct[];
  readonly postPoolConvs: ConvBnAct[];
  readonly classifier: DynamicLinear;

  private active: ActiveConfig;
  private activePlan: ActivePlan;
  private readonly fallbackRng: Rng;
  private disposed = false;

  constructor(
    readonly name: string,
    readonly arch: ResolvedArch,
    options: MobileNetSupernetOptions,
  ) {
    this.inputShape = [...options.inputShape] as Shape3;
    this.numClasses = options.numClasses;
    this.space = {
      widthMults: [...options.space.widthMults],
      expandFactors: [...options.space.expandFactors],
    };
    this.choiceSpace = new ChoiceSpace(arch, this.space);
    this.choices = { width: [...this.choiceSpace.widthNames], expand: [...this.choiceSpace.expandNames] };
    const seed = options.seed ?? 0;
    this.fallbackRng = new Rng(`${seed}/sampler`);
    const init = { seed };

    const max = this.choiceSpace.plan(this.choiceSpace.sample('max', this.fallbackRng));
    this.stem = new ConvBnAct(
      'stem',
      {
        kernel: arch.stem.kernel,
        stride: arch.stem.stride,
        inMax: arch.inChannels,
        outMax: max.stem,
        act: arch.stem.act,
      },
      init,
    );
    this.blocks = arch.blocks.map((b, i) => {
      const m = max.blocks[i];
      const common = {
        kernel: b.kernel,
        stride: b.stride,
        inMax: m.in,
        outMax: m.out,
        act: b.act,
        shortcut: b.shortcut,
      };
      return b.type === 'ds'
        ? new DSBlock(`blocks.${i}`, common, init)
        : new MBBlock(`blocks.${i}`, { ...common, midMax: m.mid, se: b.se }, init);
    });
    let cur = max.blocks[max.blocks.length - 1].out;
    this.headConvs = arch.headConvs.map((h, i) => {
      const layer = new ConvBnAct(
        `head.${i}`,
        { kernel: 1, stride: 1, inMax: cur, outMax: max.headConvs[i], act: h.act },
        init,
      );
      cur = max.headConvs[i];
      return layer;
    });
    const offset = arch.headConvs.length;
    this.postPoolConvs = arch.postPoolConvs.map((h, i) => {
      const opts = { kernel: 1, stride: 1, inMax: cur, outMax: max.postPoolConvs[i], act: h.act, bn: false };
      cur = max.postPoolConvs[i];
      return new ConvBnAct(`head.${offset + i}`, opts, init);
    });
    this.classifier = new DynamicLinear('classifier', cur, options.numClasses, init);

    this.active = this.choiceSpace.sample('min', this.fallbackRng);
    this.activePlan = this.choiceSpace.plan(this.active);
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
    this.activePlan = this.choiceSpace.plan(config);
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
    };
  }

  /**
   * Logits `[N, numClasses]` of the active sub-network for NHWC input `x` (`[N, ...inputShape]`). Runs inside
   * `tf.tidy`. With `training: true` batch norm uses batch statistics and updates its running statistics.
   */
  forward(x: tf.Tensor, options: ForwardOptions = { training: false }): tf.Tensor2D {
    this.assertAlive();
    this.checkInput(x);
    const training = !!options.training;
    const plan = this.activePlan;
    // gradient checkpointing: every block / conv is one tape node whose activations the backward pass recomputes
    const segment = (
      fn: (h: tf.Tensor4D) => tf.Tensor4D,
      h: tf.Tensor4D,
      layer: { variables(): TfNamedVariable[] },
    ) =>
      training && options.recompute
        ? recompute(
            fn,
            h,
            layer
              .variables()
              .filter((v) => v.trainable)
              .map((v) => v.variable),
          )
        : fn(h);
    return tf.tidy(() => {
      let h = segment((t) => this.stem.apply(t, plan.stem, training), x as tf.Tensor4D, this.stem);
      this.blocks.forEach((block, i) => {
        const p = plan.blocks[i];
        h = segment(
          (t) =>
            block instanceof MBBlock
              ? block.apply(t, p.mid, p.out, training)
              : block.apply(t, p.out, training),
          h,
          block,
        );
      });
      this.headConvs.forEach(
        (conv, i) => (h = segment((t) => conv.apply(t, plan.headConvs[i], training), h, conv)),
      );
      h = globalAvgPool(h);
      this.postPoolConvs.forEach((conv, i) => (h = conv.apply(h, plan.postPoolConvs[i], training)));
      const features = tf.reshape(h, [h.shape[0], h.shape[3]]) as tf.Tensor2D;
      return this.classifier.apply(features);
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

  /** Reorders the expanded channels of every inverted bottleneck by importance (see {@link sortChannels}). */
  sortChannels(): ChannelPermutation[] {
    this.assertAlive();
    return sortChannels(this.blocks);
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
    return [
      ...this.stem.variables(),
      ...this.blocks.flatMap((b) => b.variables()),
      ...this.headConvs.flatMap((h) => h.variables()),
      ...this.postPoolConvs.flatMap((h) => h.variables()),
      ...this.classifier.variables(),
    ];
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
