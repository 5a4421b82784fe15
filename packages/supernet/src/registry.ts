import * as tf from '@tensorflow/tfjs-core';
import {
  DEFAULT_AUGMENT_SPACE,
  NetAugError,
  profile,
  validateFactorList,
  type AugmentSpace,
  type Profile,
  type Shape3,
} from '@netaug/core';
import { resolveArch } from './arch-spec';
import { copyLeadingBlock } from './layers/slice-first';
import { MobileNetSupernet } from './mobilenet-supernet';
import { ZOO, type ModelDefinition } from './zoo';

/** Options of {@link createSupernet}. */
export interface CreateSupernetOptions {
  numClasses: number;
  /** Per-example NHWC input shape `[H, W, C]`. */
  inputShape: Shape3;
  /**
   * Width multiplier of `mobilenetv2`, `proxylessnas` and `mobilenetv3`. Default 0.35, the tiny models the
   * NetAug paper trains. Fixed-width models (`mobilenetv2-tiny`, `mcunet`) reject it.
   */
  width?: number;
  /** Width augmentation factors; default the model's official ones ([1, 1.8, 2.6]; MobileNetV3 [1, 2, 3]; MCUNet [1, 1.6, 2.2]). */
  widthMults?: number[];
  /** Expand-ratio augmentation factors; default [1, 1.6, 2.2, 2.8]. */
  expandFactors?: number[];
  /** Small-input form (28–64 px): stem stride 1 and the first stride-2 stage at stride 1 (8× downsampling). */
  smallInput?: boolean;
  /** Seed of the weight init (and of the sampler used when `setActive` gets no rng). Default 0. */
  seed?: number;
  /**
   * Allocate only the tiny model's weights (augment space `[1]` / `[1]`), initialised exactly as the first-channel
   * slices of the supernet these options describe. For baseline training: the same tiny model and the same
   * initial weights as a NetAug run with the same seed, without computing gradients and optimizer updates for
   * millions of weights the tiny model never uses. Default false.
   */
  tinyOnly?: boolean;
}

/** A zoo entry as {@link listModels} reports it. */
export interface ModelInfo {
  name: string;
  description: string;
  defaultWidth?: number;
  widthMults: number[];
  paperResolution: number;
}

const registry = new Map<string, ModelDefinition>(ZOO.map((d) => [d.name, d]));

/** Adds a model to the registry (a user's own {@link ModelDefinition}); throws if the name is taken. */
export function registerModel(def: ModelDefinition): void {
  if (registry.has(def.name))
    throw new NetAugError('INVALID_ARGUMENT', `a model named '${def.name}' is already registered`);
  registry.set(def.name, def);
}

/** The registered models with their defaults. */
export function listModels(): ModelInfo[] {
  return [...registry.values()].map((d) => ({
    name: d.name,
    description: d.description,
    defaultWidth: d.defaultWidth,
    widthMults: [...(d.widthMults ?? DEFAULT_AUGMENT_SPACE.widthMults)],
    paperResolution: d.paperResolution,
  }));
}

function checkInputShape(name: string, shape: unknown): Shape3 {
  const hint = `give [height, width, channels], e.g. [32, 32, 3]`;
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${name}: inputShape must have rank 3 [H, W, C], got ${JSON.stringify(shape)}`,
      { hint },
    );
  }
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new NetAugError('INVALID_ARGUMENT', `${name}: inputShape [${shape}] must hold positive integers`, {
      hint,
    });
  }
  return [shape[0], shape[1], shape[2]];
}

/**
 * SAME padding runs any input size, but below a quarter of the total stride most stages would see 1×1 maps:
 * almost certainly a forgotten `smallInput`. (28×28 in the ImageNet form, stride 32, is allowed: it is the
 * usual cheap Fashion-MNIST setting.)
 */
function checkInputSize(name: string, shape: Shape3, totalStride: number): void {
  const minSize = Math.max(1, Math.ceil(totalStride / 4));
  if (shape[0] < minSize || shape[1] < minSize) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${name}: input ${shape[0]}×${shape[1]} is too small for a network with total stride ${totalStride} (minimum ${minSize})`,
      {
        hint:
          totalStride > 8
            ? 'use smallInput: true for 28–64 px images, or a larger resolution'
            : `use images of at least ${minSize}×${minSize}`,
      },
    );
  }
}

/**
 * Creates a NetAug supernet of a zoo model (see {@link listModels}): `mobilenetv2`, `mobilenetv2-tiny`,
 * `proxylessnas`, `mcunet`, `mobilenetv3`. Its `min` config is exactly the tiny model.
 */
export function createSupernet(name: string, opts: CreateSupernetOptions): MobileNetSupernet {
  const def = registry.get(name);
  if (!def) {
    throw new NetAugError('UNKNOWN_MODEL', `unknown model '${name}'`, {
      hint: `known models: ${[...registry.keys()].join(', ')}`,
    });
  }
  if (!opts || typeof opts !== 'object')
    throw new NetAugError('INVALID_ARGUMENT', `${name}: options are required`);
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) {
    throw new NetAugError(
      'INVALID_ARGUMENT',
      `${name}: numClasses must be a positive integer, got ${opts.numClasses}`,
    );
  }
  if (opts.width !== undefined) {
    if (def.defaultWidth === undefined) {
      throw new NetAugError('INVALID_ARGUMENT', `${name} has fixed widths and takes no width multiplier`, {
        hint: 'leave width out, or use mobilenetv2 / proxylessnas / mobilenetv3',
      });
    }
    if (typeof opts.width !== 'number' || !(opts.width > 0) || !Number.isFinite(opts.width)) {
      throw new NetAugError(
        'INVALID_ARGUMENT',
        `${name}: width must be a positive number, got ${opts.width}`,
      );
    }
  }
  const widthMults = opts.widthMults ?? def.widthMults ?? DEFAULT_AUGMENT_SPACE.widthMults;
  const expandFactors = opts.expandFactors ?? DEFAULT_AUGMENT_SPACE.expandFactors;
  validateFactorList('widthMults', widthMults);
  validateFactorList('expandFactors', expandFactors);
  const inputShape = checkInputShape(name, opts.inputShape);
  const arch = resolveArch(def.spec(opts.width ?? def.defaultWidth ?? 1), inputShape[2], !!opts.smallInput);
  checkInputSize(name, inputShape, arch.totalStride);
  const make = (space: AugmentSpace) =>
    new MobileNetSupernet(name, arch, { numClasses: opts.numClasses, inputShape, space, seed: opts.seed });
  const net = make({ widthMults: [...widthMults], expandFactors: [...expandFactors] });
  if (!opts.tinyOnly) return net;
  try {
    return tinyOnlyCopy(net, make({ widthMults: [1], expandFactors: [1] }));
  } finally {
    net.dispose();
  }
}

/** Fills every variable of `tiny` (a tiny-only supernet) with the leading block of `full`'s variable of the same name. */
function tinyOnlyCopy(full: MobileNetSupernet, tiny: MobileNetSupernet): MobileNetSupernet {
  const byName = new Map(full.variables().map((v) => [v.name, v.variable]));
  tf.tidy(() => {
    for (const v of tiny.variables()) {
      const src = byName.get(v.name);
      if (
        !src ||
        src.shape.length !== v.variable.shape.length ||
        src.shape.some((d, i) => d < v.variable.shape[i])
      )
        throw new NetAugError(
          'INTERNAL',
          `tinyOnly: no variable '${v.name}' of a matching shape in the supernet`,
        );
      const shape = v.variable.shape;
      v.variable.assign(tf.tensor(copyLeadingBlock(src.dataSync() as Float32Array, src.shape, shape), shape));
    }
  });
  return tiny;
}

/** Params and MACs of a zoo model's tiny network (`extract()` at `min`). */
export function profileSupernet(name: string, opts: CreateSupernetOptions): Profile {
  const net = createSupernet(name, opts);
  try {
    net.setActive('min');
    return profile(net.extract());
  } finally {
    net.dispose();
  }
}
