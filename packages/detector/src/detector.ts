import * as tf from '@tensorflow/tfjs-core';
import {
  MODEL_IR_SCHEMA_VERSION,
  NetAugError,
  Rng,
  validateModelIR,
  type ActiveConfig,
  type ActiveMode,
  type AugmentSpace,
  type ChannelPermutation,
  type ForwardOptions,
  type IRNode,
  type ModelIR,
  type NamedVariable,
  type Shape3,
  type Supernet,
} from '@netaug/core';
import {
  ChoiceSpace,
  DynamicBatchNorm,
  DynamicConv2d,
  DynamicDepthwiseConv2d,
  activeWidth,
  createSupernet,
  type BlockPlan,
  type BlockSupernet,
  type DynamicBlock,
  type TfNamedVariable,
} from '@netaug/supernet';
import { levelLayout, type Level } from './levels';

/** Options of {@link createDetector}. */
export interface DetectorOptions {
  /** A registered supernet (`mobilenetv2-tiny`, `mobilenetv2`, `mcunet`, `proxylessnas`, `mobilenetv3`, `resnet18`, …). */
  backbone: string;
  numClasses: number;
  /** Per-example NHWC input `[H, W, C]`; H and W must be multiples of the largest stride. */
  inputShape: Shape3;
  /** Width multiplier of the backbone (models with a width; see `createSupernet`). */
  width?: number;
  /** Width factors of backbone **and** head (default: the backbone model's, e.g. [1, 1.8, 2.6]). */
  widthMults?: number[];
  /** Expand factors of the backbone's inverted bottlenecks (default [1, 1.6, 2.2, 2.8]). */
  expandFactors?: number[];
  /**
   * Strides of the feature levels (default [8, 16]): each is taken from the output of the last backbone block at
   * that stride (the ImageNet form of the backbone, no small-input stem).
   */
  strides?: number[];
  /** Object size range of each level (default `defaultSizeRanges(strides)`); used by target assignment. */
  sizeRanges?: [number, number][];
  /** Tiny width of the FPN-lite laterals (the neck); default 32. */
  neckChannels?: number;
  /** Tiny width of the head's tower convs; default = `neckChannels`. */
  headChannels?: number;
  /** Number of depthwise-separable layers (dw 3×3 + BN + ReLU, 1×1 + BN + ReLU) of the shared tower; default 2. */
  headDepth?: number;
  /** Initial foreground probability of the class logits (bias `−log((1 − π)/π)`, FCOS / RetinaNet); default 0.01. */
  priorProbability?: number;
  /** Seed of every weight (backbone and head); default 0. */
  seed?: number;
  /**
   * Allocate only the tiny detector's weights (augment space [1] / [1]), initialised to exactly the first-channel
   * slices of the detector these options describe: the baseline trains the same tiny detector from the same weights
   * as a NetAug run with the same seed, without the augmented weights. Default false.
   */
  tinyOnly?: boolean;
}

/** Active channels of the neck and head (the backbone's are in `backbone.getActivePlan()`). */
export interface DetectorHeadPlan {
  /** Active lateral (neck) width. */
  neck: number;
  /** Active width of every tower layer. */
  tower: number[];
}

/** How the outputs of an extracted detector are laid out (`metadata.outputLayout` of {@link Detector.extract}). */
export const DETECTOR_OUTPUT_LAYOUT =
  'one output per level, finest first: [H, W, C + 5] NHWC; per location C class logits, 4 box values ' +
  'log(ltrb / stride) (left, top, right, bottom), 1 centerness logit';

function newVariable(
  name: string,
  values: Float32Array,
  shape: number[],
  opts: { trainable?: boolean; weightDecay?: boolean } = {},
): TfNamedVariable {
  const t = tf.tensor(values, shape, 'float32');
  const variable = tf.variable(t, opts.trainable ?? true);
  t.dispose();
  const trainable = opts.trainable ?? true;
  return { name, variable, trainable, weightDecay: opts.weightDecay ?? trainable };
}

/**
 * 2× (or `f`×) nearest-neighbour upsampling of NHWC `x`, as the exported graph would do it (ONNX `Resize` nearest,
 * TFLite `RESIZE_NEAREST_NEIGHBOR`): output pixel `(i, j)` copies input `(⌊i/f⌋, ⌊j/f⌋)`.
 */
export function upsampleNearest(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  if (factor === 1) return x;
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [h * factor, w * factor], false, false);
}

/**
 * An FCOS-style single-stage, anchor-free detector whose every width is dynamic, as a NetAug supernet:
 *
 * - **backbone**: a zoo supernet (`createSupernet`), run from the stem to the last block of the largest stride;
 *   features are the outputs of the last block of each stride in `strides` (e.g. 8 and 16);
 * - **neck (FPN-lite)**: per level a 1×1 lateral conv + BN to `neckChannels` (`neck.lateral.<l>`), top-down:
 *   `P_l = lateral_l(C_l) + upsample(P_{l+1})` (nearest);
 * - **head**, shared by every level: `headDepth` depthwise-separable layers (`det.tower.<i>`: depthwise 3×3 + BN +
 *   ReLU, then 1×1 conv to `headChannels` + BN + ReLU, as SSDLite's and NanoDet's heads; conv weights shared by the
 *   levels, BN per level: `det.tower.<i>.dw.bn.<l>`, `det.tower.<i>.pw.bn.<l>`), then one 1×1 conv with bias to
 *   `C + 5` channels (`det.pred`: `C` class logits, 4 box values, 1 centerness logit), and a learnable per-level
 *   scale of the box values (`det.scale.<l>`).
 *
 * Choice points: the backbone's (up to its last used block), then `neck` and `det.tower.<i>` (widths, sampled
 * with the same factors). `setActive('min')` is the tiny detector: the first channels of every layer.
 *
 * It implements `Supernet` so that the trainer's optimizers, BN re-estimation and channel sorting work on it;
 * `forward` returns the raw detection outputs `[N, L, C + 5]` rather than class logits, and `extract()` gives a
 * ModelIR with one output per level.
 */
export class Detector implements Supernet<tf.Tensor, tf.Variable> {
  readonly name: string;
  readonly inputShape: Shape3;
  readonly numClasses: number;
  readonly space: AugmentSpace;
  readonly choices: { width: string[]; expand: string[] };
  readonly choiceSpace: ChoiceSpace;
  readonly backbone: BlockSupernet;
  readonly strides: number[];
  readonly levels: Level[];
  readonly neckChannels: number;
  readonly headChannels: number;
  readonly headDepth: number;
  /** Backbone layers that run (stem and body blocks up to the last tapped one). */
  readonly backboneLayers: DynamicBlock[];
  /** Index into {@link backboneLayers} of each level's feature. */
  readonly taps: number[];
  readonly laterals: { conv: DynamicConv2d; bn: DynamicBatchNorm }[];
  readonly tower: {
    dw: DynamicDepthwiseConv2d;
    dwBn: DynamicBatchNorm[];
    pw: DynamicConv2d;
    pwBn: DynamicBatchNorm[];
  }[];
  readonly pred: DynamicConv2d;
  readonly scales: TfNamedVariable[];

  private readonly backboneCounts: { width: number; expand: number };
  private active: ActiveConfig;
  private headPlan: DetectorHeadPlan;
  private readonly fallbackRng: Rng;
  private disposed = false;

  constructor(options: DetectorOptions) {
    const seed = options.seed ?? 0;
    if (!Number.isInteger(options.numClasses) || options.numClasses < 1)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `detector: numClasses must be a positive integer, got ${options.numClasses}`,
      );
    this.inputShape = [...options.inputShape] as Shape3;
    this.numClasses = options.numClasses;
    this.strides = [...(options.strides ?? [8, 16])];
    this.levels = levelLayout(this.inputShape[0], this.inputShape[1], this.strides, options.sizeRanges);
    this.neckChannels = options.neckChannels ?? 32;
    this.headChannels = options.headChannels ?? this.neckChannels;
    this.headDepth = options.headDepth ?? 2;
    for (const [k, v] of Object.entries({ neckChannels: this.neckChannels, headChannels: this.headChannels }))
      if (!Number.isInteger(v) || v < 1)
        throw new NetAugError('INVALID_ARGUMENT', `detector: ${k} must be a positive integer, got ${v}`);
    if (!Number.isInteger(this.headDepth) || this.headDepth < 0)
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `detector: headDepth must be an integer ≥ 0, got ${this.headDepth}`,
      );
    this.backbone = createSupernet(options.backbone, {
      numClasses: 1, // the classifier is not used
      inputShape: this.inputShape,
      width: options.width,
      widthMults: options.widthMults,
      expandFactors: options.expandFactors,
      seed,
    });
    this.name = `${options.backbone}-fcos`;
    this.space = {
      widthMults: [...this.backbone.space.widthMults],
      expandFactors: [...this.backbone.space.expandFactors],
    };
    try {
      const layers = [this.backbone.stem, ...this.backbone.blocks];
      let s = 1;
      const cum = layers.map((b) => (s *= b.stride));
      this.taps = this.strides.map((stride) => {
        const i = cum.lastIndexOf(stride);
        if (i < 0)
          throw new NetAugError(
            'INVALID_CONFIG',
            `detector: ${options.backbone} has no block at stride ${stride} (strides of its blocks: ${[...new Set(cum)].join(', ')})`,
            { hint: 'pick strides among those, e.g. [8, 16]' },
          );
        return i;
      });
      this.backboneLayers = layers.slice(0, Math.max(...this.taps) + 1);
      this.backboneCounts = {
        width: this.backboneLayers.reduce((n, b) => n + b.choices.width.length, 0),
        expand: this.backboneLayers.reduce((n, b) => n + b.choices.expand.length, 0),
      };
      const wMax = this.space.widthMults[this.space.widthMults.length - 1];
      const init = { seed };
      const neckMax = activeWidth(this.neckChannels, wMax);
      const towerMax = activeWidth(this.headChannels, wMax);
      this.laterals = this.taps.map((t, l) => ({
        conv: new DynamicConv2d(
          `neck.lateral.${l}.conv`,
          { kernel: 1, stride: 1, inMax: this.backboneLayers[t].outMax, outMax: neckMax },
          init,
        ),
        bn: new DynamicBatchNorm(`neck.lateral.${l}.bn`, neckMax),
      }));
      let inMax = neckMax;
      this.tower = Array.from({ length: this.headDepth }, (_, i) => {
        const name = `det.tower.${i}`;
        const layer = {
          dw: new DynamicDepthwiseConv2d(`${name}.dw`, { kernel: 3, stride: 1, channelsMax: inMax }, init),
          dwBn: this.levels.map((_, l) => new DynamicBatchNorm(`${name}.dw.bn.${l}`, inMax)),
          pw: new DynamicConv2d(`${name}.pw`, { kernel: 1, stride: 1, inMax, outMax: towerMax }, init),
          pwBn: this.levels.map((_, l) => new DynamicBatchNorm(`${name}.pw.bn.${l}`, towerMax)),
        };
        inMax = towerMax;
        return layer;
      });
      const k = this.numClasses + 5;
      this.pred = new DynamicConv2d('det.pred', { kernel: 1, stride: 1, inMax, outMax: k, bias: true }, init);
      // FCOS / RetinaNet init of the predictor: N(0, 0.01²) weights, class bias at the prior probability
      const rng = new Rng(`${seed}/det.pred.weight`);
      const w = new Float32Array(this.pred.weight.variable.size).map(() => rng.normal(0, 0.01));
      const prior = options.priorProbability ?? 0.01;
      const b = new Float32Array(k);
      b.fill(-Math.log((1 - prior) / prior), 0, this.numClasses);
      tf.tidy(() => {
        this.pred.weight.variable.assign(tf.tensor(w, this.pred.weight.variable.shape));
        this.pred.bias!.variable.assign(tf.tensor1d(b));
      });
      this.scales = this.levels.map((_, l) =>
        newVariable(`det.scale.${l}`, new Float32Array([1]), [1], { weightDecay: false }),
      );
    } catch (e) {
      this.backbone.dispose();
      throw e;
    }
    const backboneChoices = this.backbone.choices;
    this.choiceSpace = new ChoiceSpace(
      {
        width: [
          ...backboneChoices.width.slice(0, this.backboneCounts.width),
          'neck',
          ...this.tower.map((_, i) => `det.tower.${i}`),
        ],
        expand: backboneChoices.expand.slice(0, this.backboneCounts.expand),
      },
      this.space,
    );
    this.choices = { width: [...this.choiceSpace.widthNames], expand: [...this.choiceSpace.expandNames] };
    this.fallbackRng = new Rng(`${seed}/sampler`);
    this.active = this.choiceSpace.sample('min', this.fallbackRng);
    this.headPlan = this.applyConfig(this.active);
  }

  /**
   * Selects the active sub-network (backbone, neck and head together): `min` (the tiny detector), `max`, `random`,
   * `min_w`, `min_e`, or an explicit config over {@link choices}. Returns the config now active.
   */
  setActive(mode: ActiveMode | ActiveConfig, rng?: Rng): ActiveConfig {
    this.assertAlive();
    const config = this.choiceSpace.resolve(mode, rng ?? this.fallbackRng);
    this.headPlan = this.applyConfig(config);
    this.active = config;
    return this.getActive();
  }

  getActive(): ActiveConfig {
    return { width: [...this.active.width], expand: [...this.active.expand] };
  }

  /** Active widths of the neck and the tower layers. */
  getHeadPlan(): DetectorHeadPlan {
    return { neck: this.headPlan.neck, tower: [...this.headPlan.tower] };
  }

  /** Sets the backbone (its unused choice points at the smallest factor) and returns the head's plan. */
  private applyConfig(config: ActiveConfig): DetectorHeadPlan {
    const { width: nw, expand: ne } = this.backboneCounts;
    const all = this.backbone.choices;
    const W0 = this.space.widthMults[0];
    const E0 = this.space.expandFactors[0];
    this.backbone.setActive({
      width: [...config.width.slice(0, nw), ...new Array<number>(all.width.length - nw).fill(W0)],
      expand: [...config.expand.slice(0, ne), ...new Array<number>(all.expand.length - ne).fill(E0)],
    });
    const head = config.width.slice(nw);
    return {
      neck: activeWidth(this.neckChannels, head[0]),
      tower: this.tower.map((_, i) => activeWidth(this.headChannels, head[1 + i])),
    };
  }

  /** Backbone features of the active sub-network, one per level (NHWC). */
  features(x: tf.Tensor4D, training: boolean): tf.Tensor4D[] {
    const plan = this.backbone.getActivePlan();
    const plans: BlockPlan[] = [plan.stemPlan, ...plan.blocks];
    const out: tf.Tensor4D[] = [];
    let h = x;
    this.backboneLayers.forEach((block, i) => {
      h = block.forward(h, plans[i], training);
      this.taps.forEach((t, l) => {
        if (t === i) out[l] = h;
      });
    });
    return out;
  }

  /**
   * Raw outputs of every level, `[N, H_l, W_l, C + 5]` (class logits, `log(ltrb / stride)` with the level's scale
   * applied, centerness logit), of the active sub-network.
   */
  forwardLevels(x: tf.Tensor, options: ForwardOptions = { training: false }): tf.Tensor4D[] {
    this.assertAlive();
    this.checkInput(x);
    const training = !!options.training;
    const { neck, tower } = this.headPlan;
    const C = this.numClasses;
    return tf.tidy(() => {
      const feats = this.features(x as tf.Tensor4D, training);
      const lat = feats.map((f, l) =>
        this.laterals[l].bn.apply(this.laterals[l].conv.apply(f, neck), training),
      );
      const p: tf.Tensor4D[] = new Array(lat.length);
      for (let l = lat.length - 1; l >= 0; l--) {
        p[l] =
          l === lat.length - 1
            ? lat[l]
            : tf.add(lat[l], upsampleNearest(p[l + 1], this.strides[l + 1] / this.strides[l]));
      }
      return p.map((h, l) => {
        let y = h;
        this.tower.forEach((layer, i) => {
          y = layer.dwBn[l].apply(layer.dw.apply(y), training, 'relu');
          y = layer.pwBn[l].apply(layer.pw.apply(y, tower[i]), training, 'relu');
        });
        // the level's scale multiplies the 4 box channels: one broadcast multiply by [1…1, s, s, s, s, 1]
        const boxMask = new Float32Array(C + 5);
        boxMask.fill(1, C, C + 4);
        const mask = tf.tensor1d(boxMask);
        const scale = tf.add(tf.mul(mask, this.scales[l].variable), tf.sub(1, mask));
        return tf.mul(this.pred.apply(y, C + 5), scale) as tf.Tensor4D;
      });
    });
  }

  /**
   * Raw outputs `[N, L, C + 5]` of the active sub-network, locations level by level, row-major within a level (the
   * order of `locations(levels)`). With `training: true`, batch norm uses batch statistics and updates its running
   * statistics.
   */
  forward(x: tf.Tensor, options: ForwardOptions = { training: false }): tf.Tensor3D {
    const levels = this.forwardLevels(x, options);
    return tf.tidy(() => {
      const flat = levels.map((t) => tf.reshape(t, [t.shape[0], t.shape[1] * t.shape[2], t.shape[3]]));
      const out = flat.length === 1 ? flat[0] : tf.concat(flat, 1);
      tf.dispose(levels);
      return out as tf.Tensor3D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.variables()
      .filter((v) => v.trainable)
      .map((v) => v.variable);
  }

  /**
   * Every variable the detector uses, with stable names: the backbone's up to the last tapped block
   * (`stem.conv.weight`, `blocks.5.project.bn.runningMean`, …), `neck.lateral.<l>.*`, `det.tower.<i>.*`,
   * `det.pred.weight` / `.bias`, `det.scale.<l>`. BN running statistics are not trainable; BN affine parameters,
   * biases and scales get no weight decay.
   */
  variables(): NamedVariable<tf.Variable>[] {
    this.assertAlive();
    return [...this.backboneLayers.flatMap((b) => b.variables()), ...this.headVariables()];
  }

  /** The neck's and head's variables. */
  private headVariables(): TfNamedVariable[] {
    return [
      ...this.laterals.flatMap((l) => [...l.conv.variables(), ...l.bn.variables()]),
      ...this.tower.flatMap((t) => [
        ...t.dw.variables(),
        ...t.dwBn.flatMap((b) => b.variables()),
        ...t.pw.variables(),
        ...t.pwBn.flatMap((b) => b.variables()),
      ]),
      ...this.pred.variables(),
      ...this.scales,
    ];
  }

  /**
   * Sorts the backbone's channels (`BlockSupernet.sortChannels`): only channels inside blocks move (inverted
   * bottlenecks' expanded channels, ResNet inner widths), so block outputs, and the detector's function, are
   * unchanged. The neck and head are not sorted.
   */
  sortChannels(): ChannelPermutation[] {
    this.assertAlive();
    return this.backbone.sortChannels();
  }

  /**
   * The **active** sub-network (normally `setActive('min')`, the tiny detector) as a ModelIR (schema 1, weights
   * sliced to the active channels and copied, batch norm as `batchNorm` nodes with the running statistics): the
   * input, the backbone's nodes up to the last tapped block (the supernet's own names: `stem.conv`,
   * `blocks.3.expand.bn`, …), then per level the lateral `neck.lateral.<l>.conv` / `.bn`, the top-down
   * `neck.up.<l>` (`upsample`, nearest, `s_{l+1}/s_l`×) and `neck.add.<l>`, and the head once per level — the
   * shared conv weights copied into each level's nodes `det.tower.<i>.dw.<l>`, `det.tower.<i>.pw.<l>` with that
   * level's `det.tower.<i>.{dw,pw}.bn.<l>` and `….act.<l>` (ReLU) — ending in `det.pred.<l>` (1×1 conv with bias;
   * the level's `det.scale.<l>` folded into its 4 box columns).
   *
   * Outputs (`ir.outputs`, one per level, finest first): `det.pred.<l>`, `[H_l, W_l, C + 5]` NHWC — per location
   * (row-major) the `C` class logits, the 4 box values `v = log(ltrb / stride)` (left, top, right, bottom; the
   * scale applied) and the centerness logit: exactly `forwardLevels`' outputs. The per-image values of the
   * outputs, concatenated in order, are `forward`'s `[L, C + 5]` rows, which `decodeRaw` decodes (it also
   * takes the per-level arrays). `numClasses` is `C`; `metadata` has `task: 'detection'`, `strides` (JSON) and
   * `outputLayout` besides the supernet's name, active config and augment space.
   */
  extract(): ModelIR {
    this.assertAlive();
    const nodes: IRNode[] = [];
    const sink = {
      push(node: IRNode): string {
        nodes.push(node);
        return node.name;
      },
    };
    const plan = this.backbone.getActivePlan();
    const plans: BlockPlan[] = [plan.stemPlan, ...plan.blocks];
    const { neck, tower } = this.headPlan;
    const C = this.numClasses;
    const K = C + 5;
    let x = sink.push({ op: 'input', name: 'input', inputs: [], shape: [...this.inputShape] });
    const feats: { name: string; channels: number }[] = [];
    this.backboneLayers.forEach((block, i) => {
      x = block.emit(sink, x, plans[i]);
      this.taps.forEach((t, l) => {
        if (t === i) feats[l] = { name: x, channels: plans[i].out };
      });
    });
    const same = { strides: [1, 1] as [number, number], padding: 'same' as const };
    const lat = feats.map((f, l) => {
      const { conv, bn } = this.laterals[l];
      const c = sink.push({
        op: 'conv2d',
        name: conv.name,
        inputs: [f.name],
        ...same,
        ...conv.export(f.channels, neck),
      });
      return sink.push({ op: 'batchNorm', name: bn.name, inputs: [c], ...bn.export(neck) });
    });
    const p: string[] = new Array(lat.length);
    for (let l = lat.length - 1; l >= 0; l--) {
      if (l === lat.length - 1) {
        p[l] = lat[l];
        continue;
      }
      const f = this.strides[l + 1] / this.strides[l];
      const up = sink.push({
        op: 'upsample',
        name: `neck.up.${l}`,
        inputs: [p[l + 1]],
        mode: 'nearest',
        scale: [f, f],
      });
      p[l] = sink.push({ op: 'add', name: `neck.add.${l}`, inputs: [lat[l], up] });
    }
    const inPred = this.headDepth ? tower[this.headDepth - 1] : neck;
    const predW = this.pred.export(inPred, K);
    const outputs = p.map((h, l) => {
      let y = h;
      let c = neck;
      this.tower.forEach((layer, i) => {
        y = sink.push({
          op: 'depthwiseConv2d',
          name: `${layer.dw.name}.${l}`,
          inputs: [y],
          ...same,
          ...layer.dw.export(c),
        });
        y = sink.push({ op: 'batchNorm', name: layer.dwBn[l].name, inputs: [y], ...layer.dwBn[l].export(c) });
        y = sink.push({
          op: 'activation',
          name: `${layer.dw.name}.act.${l}`,
          inputs: [y],
          activation: 'relu',
        });
        y = sink.push({
          op: 'conv2d',
          name: `${layer.pw.name}.${l}`,
          inputs: [y],
          ...same,
          ...layer.pw.export(c, tower[i]),
        });
        y = sink.push({
          op: 'batchNorm',
          name: layer.pwBn[l].name,
          inputs: [y],
          ...layer.pwBn[l].export(tower[i]),
        });
        y = sink.push({
          op: 'activation',
          name: `${layer.pw.name}.act.${l}`,
          inputs: [y],
          activation: 'relu',
        });
        c = tower[i];
      });
      // the level's scale folded into the 4 box columns of the predictor: (y·W + b)·s = y·(W·s) + b·s
      const s = this.scales[l].variable.dataSync()[0];
      const weight = Float32Array.from(predW.weight.data);
      const bias = Float32Array.from(predW.bias!.data);
      for (let k = C; k < C + 4; k++) {
        for (let ci = 0; ci < inPred; ci++) weight[ci * K + k] *= s;
        bias[k] *= s;
      }
      return sink.push({
        op: 'conv2d',
        name: `det.pred.${l}`,
        inputs: [y],
        ...same,
        weight: { shape: [1, 1, inPred, K], data: weight },
        bias: { shape: [K], data: bias },
      });
    });
    return validateModelIR({
      schemaVersion: MODEL_IR_SCHEMA_VERSION,
      name: this.name,
      inputShape: [...this.inputShape],
      numClasses: C,
      nodes,
      output: outputs[0],
      outputs,
      metadata: {
        supernet: this.name,
        task: 'detection',
        activeConfig: JSON.stringify(this.getActive()),
        widthMults: JSON.stringify(this.space.widthMults),
        expandFactors: JSON.stringify(this.space.expandFactors),
        strides: JSON.stringify(this.strides),
        outputLayout: DETECTOR_OUTPUT_LAYOUT,
      },
    });
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.headVariables()) v.variable.dispose();
    this.backbone.dispose(); // every backbone variable, the unused blocks' too
    this.disposed = true;
  }

  private checkInput(x: tf.Tensor): void {
    const [h, w, c] = this.inputShape;
    if (!(x.rank === 4 && x.shape[1] === h && x.shape[2] === w && x.shape[3] === c))
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `${this.name}: expected input of shape [N,${h},${w},${c}], got [${x.shape}]`,
        {
          hint: 'letterbox images to the inputShape the detector was created with',
        },
      );
  }

  private assertAlive(): void {
    if (this.disposed) throw new NetAugError('INVALID_ARGUMENT', `${this.name}: the detector was disposed`);
  }
}

/** Copies the leading block of `src` (shape ≥ `dst`'s on every axis) into `dst`. */
function copyLeading(src: tf.Variable, dst: tf.Variable): void {
  if (src.rank !== dst.rank || src.shape.some((d, i) => d < dst.shape[i]))
    throw new NetAugError(
      'INTERNAL',
      `tinyOnly: variable '${src.name}' [${src.shape}] cannot fill [${dst.shape}]`,
    );
  tf.tidy(() =>
    dst.assign(
      tf.slice(
        src,
        src.shape.map(() => 0),
        dst.shape,
      ),
    ),
  );
}

/**
 * Creates a {@link Detector}. With `tinyOnly`, the detector holds only the tiny detector's weights, equal to the
 * first-channel slices of the full detector of the same options (built, copied from, and disposed).
 */
export function createDetector(options: DetectorOptions): Detector {
  if (!options.tinyOnly) return new Detector(options);
  const full = new Detector({ ...options, tinyOnly: false });
  try {
    const tiny = new Detector({ ...options, tinyOnly: false, widthMults: [1], expandFactors: [1] });
    const byName = new Map(full.variables().map((v) => [v.name, v.variable]));
    for (const v of tiny.variables()) {
      const src = byName.get(v.name);
      if (!src) throw new NetAugError('INTERNAL', `tinyOnly: no variable '${v.name}' in the full detector`);
      copyLeading(src, v.variable);
    }
    return tiny;
  } finally {
    full.dispose();
  }
}
