import * as tf from '@tensorflow/tfjs-core';
import {
  DEFAULT_AUGMENT_SPACE,
  NetAugError,
  Rng,
  sampleActiveConfig,
  validateAugmentSpace,
  type ActiveConfig,
  type ActiveMode,
  type AugmentSpace,
  type ChannelPermutation,
  type ForwardOptions,
  type IRTensor,
  type ModelIR,
  type NamedVariable,
  type Shape3,
  type Supernet,
} from '@netaug/core';

/** Options of {@link TinySupernet}. */
export interface TinySupernetOptions {
  /** Per-example NHWC input shape (default `[8, 8, 1]`). */
  inputShape?: Shape3;
  numClasses?: number;
  /** Channels of the tiny model's first conv (width choice point `conv1`), default 4. */
  width?: number;
  /** Channels of the tiny model's second conv (expand choice point `conv2`), default 4. */
  expand?: number;
  space?: AugmentSpace;
  /** Seed of the weight initialisation. */
  seed?: number;
  /** Batch-norm running-statistics momentum (PyTorch convention: `running = (1−m)·running + m·batch`). */
  bnMomentum?: number;
  bnEpsilon?: number;
  name?: string;
}

let instances = 0;

/**
 * A small weight-sharing supernet implementing the core `Supernet<tf.Tensor, tf.Variable>` contract with tfjs ops:
 * `conv3×3 → BN → relu → conv1×1 → BN → relu → global average pool → dense`. The first conv's output channels
 * follow the width choice point `conv1`, the second conv's the expand choice point `conv2`; every layer slices
 * its **first** channels. Batch-norm running statistics are non-trainable variables; the variance is the biased
 * batch variance. It doubles as the "bring your own supernet" example and as the test network of the trainer.

 */
export class TinySupernet implements Supernet<tf.Tensor, tf.Variable> {
  readonly name: string;
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  readonly choices = { width: ['conv1'], expand: ['conv2'] };
  readonly base: { width: number; expand: number };
  readonly max: { width: number; expand: number };
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly vars = new Map<string, NamedVariable<tf.Variable>>();
  private active: ActiveConfig = { width: [1], expand: [1] };

  constructor(options: TinySupernetOptions = {}) {
    this.name = options.name ?? 'tiny-supernet';
    this.inputShape = options.inputShape ?? [8, 8, 1];
    this.numClasses = options.numClasses ?? 4;
    this.space = validateAugmentSpace(options.space ?? { ...DEFAULT_AUGMENT_SPACE });
    this.base = { width: options.width ?? 4, expand: options.expand ?? 4 };
    this.max = {
      width: this.channels(this.base.width, this.space.widthMults.at(-1)!),
      expand: this.channels(this.base.expand, this.space.expandFactors.at(-1)!),
    };
    this.momentum = options.bnMomentum ?? 0.1;
    this.epsilon = options.bnEpsilon ?? 1e-5;
    const rng = new Rng(options.seed ?? 0);
    const cin = this.inputShape[2];
    const id = instances++;
    const uniform = (shape: number[], bound: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(
        Float32Array.from({ length: n }, () => rng.uniform(-bound, bound)),
        shape,
      );
    };
    const add = (name: string, init: tf.Tensor, trainable: boolean, weightDecay: boolean) => {
      const variable = tf.variable(init, trainable, `tiny${id}/${name}`);
      init.dispose();
      this.vars.set(name, { name, variable, trainable, weightDecay });
    };
    const { width: W, expand: E } = this.max;
    add('conv1/kernel', uniform([3, 3, cin, W], Math.sqrt(6 / (9 * cin))), true, true);
    this.addBn(add, 'bn1', W);
    add('conv2/kernel', uniform([1, 1, W, E], Math.sqrt(6 / this.base.width)), true, true);
    this.addBn(add, 'bn2', E);
    add('fc/kernel', uniform([E, this.numClasses], 1 / Math.sqrt(this.base.expand)), true, true);
    add('fc/bias', tf.zeros([this.numClasses]), true, false);
  }

  private addBn(add: (n: string, t: tf.Tensor, tr: boolean, wd: boolean) => void, bn: string, c: number) {
    add(`${bn}/gamma`, tf.ones([c]), true, false);
    add(`${bn}/beta`, tf.zeros([c]), true, false);
    add(`${bn}/mean`, tf.zeros([c]), false, false);
    add(`${bn}/variance`, tf.ones([c]), false, false);
  }

  private channels(base: number, mult: number): number {
    return Math.max(1, Math.round(base * mult));
  }

  /** Active channel counts `{width, expand}` of the current config. */
  activeChannels(): { width: number; expand: number } {
    return {
      width: this.channels(this.base.width, this.active.width[0]),
      expand: this.channels(this.base.expand, this.active.expand[0]),
    };
  }

  /** The variable called `name` (e.g. `conv1/kernel`, `bn1/mean`). */
  v(name: string): tf.Variable {
    const nv = this.vars.get(name);
    if (!nv) throw new NetAugError('INVALID_ARGUMENT', `TinySupernet has no variable '${name}'`);
    return nv.variable;
  }

  setActive(mode: ActiveMode | ActiveConfig, rng?: Rng): ActiveConfig {
    const { widthMults: Wm, expandFactors: Em } = this.space;
    if (typeof mode === 'string') {
      this.active = sampleActiveConfig(mode, this.space, { width: 1, expand: 1 }, rng);
    } else {
      const ok =
        mode.width?.length === 1 &&
        mode.expand?.length === 1 &&
        Wm.includes(mode.width[0]) &&
        Em.includes(mode.expand[0]);
      if (!ok) {
        throw new NetAugError(
          'INVALID_ARGUMENT',
          `ActiveConfig ${JSON.stringify(mode)} is not in this supernet's space`,
          {
            hint: `one width from [${Wm}] and one expand factor from [${Em}]`,
          },
        );
      }
      this.active = { width: [...mode.width], expand: [...mode.expand] };
    }
    return this.getActive();
  }

  getActive(): ActiveConfig {
    return { width: [...this.active.width], expand: [...this.active.expand] };
  }

  forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      const { width: a1, expand: a2 } = this.activeChannels();
      const [h, w, cin] = this.inputShape;
      const n = x.shape[0]!;
      const m = this.momentum;
      // Written with matMul and same-shape element-wise ops only: tfjs-cpu's broadcasting and reductions over
      // outer axes are very slow, matMul is not. Activations are kept as [N·H·W, C] matrices.
      // 3×3 'same' convolution as im2col · kernel (tfjs-cpu's conv2d filter gradient is slow)
      const k1 = tf.reshape(tf.slice(this.v('conv1/kernel'), [0, 0, 0, 0], [3, 3, cin, a1]), [
        9 * cin,
        a1,
      ]) as tf.Tensor2D;
      let z: tf.Tensor2D = tf.matMul(this.patches(x), k1);
      z = tf.relu(this.bn('bn1', z, a1, options.training, m)) as tf.Tensor2D;
      const k2 = tf.reshape(tf.slice(this.v('conv2/kernel'), [0, 0, 0, 0], [1, 1, a1, a2]), [
        a1,
        a2,
      ]) as tf.Tensor2D;
      z = tf.relu(this.bn('bn2', tf.matMul(z, k2), a2, options.training, m)) as tf.Tensor2D;
      const pooled = tf.matMul(this.poolMatrix(n, h * w), z);
      const fc = tf.slice(this.v('fc/kernel'), [0, 0], [a2, this.numClasses]) as tf.Tensor2D;
      const bias = tf.reshape(this.v('fc/bias'), [1, this.numClasses]) as tf.Tensor2D;
      return tf.add(tf.matMul(pooled, fc), tf.matMul(tf.ones([n, 1]), bias));
    });
  }

  /** im2col of a 3×3 'same' convolution: `[N·H·W, 9·C]`, column `(kh·3 + kw)·C + c` (HWIO kernel order). */
  private patches(x: tf.Tensor): tf.Tensor2D {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const src = x.dataSync() as Float32Array;
    const out = new Float32Array(n * h * w * 9 * c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          for (let kh = 0; kh < 3; kh++) {
            for (let kw = 0; kw < 3; kw++) {
              const yy = y + kh - 1;
              const xs = xx + kw - 1;
              if (yy >= 0 && yy < h && xs >= 0 && xs < w) {
                const base = ((b * h + yy) * w + xs) * c;
                for (let ci = 0; ci < c; ci++) out[o + ci] = src[base + ci];
              }
              o += c;
            }
          }
        }
      }
    }
    return tf.tensor2d(out, [n * h * w, 9 * c]);
  }

  /** `[N, N·HW]` matrix averaging each image's HW rows (global average pooling as a matMul). */
  private poolMatrix(n: number, hw: number): tf.Tensor2D {
    const data = new Float32Array(n * n * hw);
    for (let i = 0; i < n; i++) data.fill(1 / hw, i * n * hw + i * hw, i * n * hw + (i + 1) * hw);
    return tf.tensor2d(data, [n, n * hw]);
  }

  /** Batch norm of `z [M, c]` over its rows. */
  private bn(name: string, z: tf.Tensor2D, c: number, training: boolean, momentum: number): tf.Tensor2D {
    const rows = z.shape[0];
    const ones = tf.ones([rows, 1]) as tf.Tensor2D;
    const avg = tf.fill([1, rows], 1 / rows) as tf.Tensor2D;
    const spread = (v: tf.Tensor) => tf.matMul(ones, tf.reshape(v, [1, c]) as tf.Tensor2D);
    const gamma = tf.slice(this.v(`${name}/gamma`), 0, c);
    const beta = tf.slice(this.v(`${name}/beta`), 0, c);
    const meanVar = this.v(`${name}/mean`);
    const varVar = this.v(`${name}/variance`);
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) {
      mean = tf.reshape(tf.matMul(avg, z), [c]);
      variance = tf.reshape(tf.matMul(avg, tf.square(tf.sub(z, spread(mean)))), [c]);
      const update = (v: tf.Variable, stat: tf.Tensor) => {
        const total = v.shape[0];
        const head = tf.add(tf.mul(tf.slice(v, 0, c), 1 - momentum), tf.mul(stat, momentum));
        v.assign(c === total ? head : tf.concat([head, tf.slice(v, c, total - c)]));
      };
      update(meanVar, mean);
      update(varVar, variance);
    } else {
      mean = tf.slice(meanVar, 0, c);
      variance = tf.slice(varVar, 0, c);
    }
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(tf.sub(z, spread(mean)), spread(scale)), spread(beta)) as tf.Tensor2D;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable).map((v) => v.variable);
  }

  variables(): NamedVariable<tf.Variable>[] {
    return [...this.vars.values()];
  }

  /**
   * Sorts the `conv1` output channels by the L1 norm of `conv2`'s input slices, then the `conv2` output channels
   * by the L1 norm of the classifier's input rows; the largest network computes the same function afterwards.
   */
  sortChannels(): ChannelPermutation[] {
    const perms: ChannelPermutation[] = [];
    const apply = (names: [string, number][], perm: Int32Array) => {
      for (const [variable, axis] of names) {
        const v = this.v(variable);
        tf.tidy(() => v.assign(tf.gather(v, tf.tensor1d(perm, 'int32'), axis)));
        perms.push({ variable, axis, perm });
      }
    };
    const importance = (name: string, axis: number) =>
      tf.tidy(() => {
        const v = this.v(name);
        const others = v.shape.map((_, i) => i).filter((i) => i !== axis);
        return tf.sum(tf.abs(v), others).dataSync() as Float32Array;
      });
    const order = (score: Float32Array) =>
      Int32Array.from([...score.keys()].sort((i, j) => score[j] - score[i] || i - j));
    const p1 = order(importance('conv2/kernel', 2));
    apply(
      [
        ['conv1/kernel', 3],
        ['bn1/gamma', 0],
        ['bn1/beta', 0],
        ['bn1/mean', 0],
        ['bn1/variance', 0],
        ['conv2/kernel', 2],
      ],
      p1,
    );
    const p2 = order(importance('fc/kernel', 0));
    apply(
      [
        ['conv2/kernel', 3],
        ['bn2/gamma', 0],
        ['bn2/beta', 0],
        ['bn2/mean', 0],
        ['bn2/variance', 0],
        ['fc/kernel', 0],
      ],
      p2,
    );
    return perms;
  }

  extract(): ModelIR {
    const { width: a1, expand: a2 } = this.activeChannels();
    const cin = this.inputShape[2];
    const t = (name: string, begin: number[], size: number[]): IRTensor =>
      tf.tidy(() => ({ shape: size, data: tf.slice(this.v(name), begin, size).dataSync() as Float32Array }));
    const bn = (name: string, input: string, c: number) => ({
      op: 'batchNorm' as const,
      name,
      inputs: [input],
      gamma: t(`${name}/gamma`, [0], [c]),
      beta: t(`${name}/beta`, [0], [c]),
      mean: t(`${name}/mean`, [0], [c]),
      variance: t(`${name}/variance`, [0], [c]),
      epsilon: this.epsilon,
    });
    return {
      schemaVersion: 1,
      name: this.name,
      inputShape: [...this.inputShape],
      numClasses: this.numClasses,
      output: 'fc',
      metadata: { width: this.active.width[0], expand: this.active.expand[0] },
      nodes: [
        { op: 'input', name: 'input', inputs: [], shape: [...this.inputShape] },
        {
          op: 'conv2d',
          name: 'conv1',
          inputs: ['input'],
          strides: [1, 1],
          padding: 'same',
          weight: t('conv1/kernel', [0, 0, 0, 0], [3, 3, cin, a1]),
        },
        bn('bn1', 'conv1', a1),
        { op: 'activation', name: 'relu1', inputs: ['bn1'], activation: 'relu' },
        {
          op: 'conv2d',
          name: 'conv2',
          inputs: ['relu1'],
          strides: [1, 1],
          padding: 'same',
          weight: t('conv2/kernel', [0, 0, 0, 0], [1, 1, a1, a2]),
        },
        bn('bn2', 'conv2', a2),
        { op: 'activation', name: 'relu2', inputs: ['bn2'], activation: 'relu' },
        { op: 'globalAvgPool', name: 'pool', inputs: ['relu2'], keepDims: false },
        {
          op: 'dense',
          name: 'fc',
          inputs: ['pool'],
          weight: t('fc/kernel', [0, 0], [a2, this.numClasses]),
          bias: t('fc/bias', [0], [this.numClasses]),
        },
      ],
    };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.variable.dispose();
    this.vars.clear();
  }
}
