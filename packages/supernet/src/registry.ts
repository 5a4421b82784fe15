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
import { hasBlockType, listBlockTypes } from './block-registry';
import { BlockSupernet } from './block-supernet';
import { copyLeadingBlock } from './layers/slice-first';
import { modelSpecFromArch, validateModelSpec, type ModelSpec } from './model-spec';
import { ZOO, type ModelDefinition } from './zoo';

/** Options of {@link createSupernet}. */
export interface CreateSupernetOptions {
  numClasses: number;
  /** Per-example NHWC input shape `[H, W, C]`. */
  inputShape: Shape3;
  /**
   * Width multiplier of `mobilenetv2`, `proxylessnas` and `mobilenetv3` (default 0.35, the tiny models the NetAug
   * paper trains) and of `resnet18`, `resnet34`, `resnet50` (default 1). Fixed-width models (`mobilenetv2-tiny`,
   * `mcunet`, a registered JSON spec) reject it.
   */
  width?: number;
  /** Width augmentation factors; default the model's official ones ([1, 1.8, 2.6]; MobileNetV3 [1, 2, 3]; MCUNet [1, 1.6, 2.2]). */
  widthMults?: number[];
  /** Expand-ratio augmentation factors; default [1, 1.6, 2.2, 2.8]. */
  expandFactors?: number[];
  /**
   * Small-input form (28–64 px), 8× downsampling: MobileNets get stem stride 1 and the first stride-2 stage at
   * stride 1; ResNets a 3×3 stride-1 stem without max-pool (see `ModelSpec.smallInput`).
   */
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

/** One model registry per process, shared by every copy of this package (see the block registry). */
const registry: Map<string, ModelDefinition> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('@netaug/supernet.models')
] ??= new Map<string, ModelDefinition>()) as Map<string, ModelDefinition>;
for (const d of ZOO) if (!registry.has(d.name)) registry.set(d.name, d);

/** What {@link registerModel} takes besides the name and the spec (all optional). */
export interface RegisterModelInfo {
  description?: string;
  /** Default width augmentation factors (default `[1, 1.8, 2.6]`). */
  widthMults?: number[];
  /** Resolution the model is meant for (reported by `listModels`; default 224). */
  paperResolution?: number;
  /** For a spec function: the width multiplier used when the caller gives none (default 1). */
  defaultWidth?: number;
}

/** Checks the block types of a spec against the registry (early, at registration). */
function checkBlockTypes(name: string, spec: ModelSpec): void {
  const all = [
    spec.stem,
    ...spec.blocks,
    ...(spec.head ?? []),
    ...(spec.smallInput?.stem ? [spec.smallInput.stem] : []),
  ];
  const unknown = all.find((b) => !hasBlockType(b.type));
  if (unknown) {
    throw new NetAugError('INVALID_CONFIG', `model '${name}': unknown block type '${unknown.type}'`, {
      hint: `registered types: ${listBlockTypes().join(', ')} (register yours with registerBlock first)`,
    });
  }
}

/**
 * Adds a model to the registry; throws INVALID_ARGUMENT if the name is taken.
 *
 * - `registerModel(name, spec, info?)`: a {@link ModelSpec} (JSON data: stem, blocks with their `type` and
 *   arguments, head, classifier) built from registered block types; fixed widths (`width` is rejected).
 * - `registerModel(name, (width) => spec, info?)`: a spec per width multiplier (`info.defaultWidth`, default 1).
 * - `registerModel(definition)`: a {@link ModelDefinition} (the zoo's form; `spec` for MobileNet-family
 *   `ArchSpec`s, `model` for model specs).
 */
export function registerModel(def: ModelDefinition): void;
export function registerModel(
  name: string,
  spec: ModelSpec | ((width: number) => ModelSpec),
  info?: RegisterModelInfo,
): void;
export function registerModel(
  nameOrDef: string | ModelDefinition,
  spec?: ModelSpec | ((width: number) => ModelSpec),
  info: RegisterModelInfo = {},
): void {
  let def: ModelDefinition;
  if (typeof nameOrDef === 'string') {
    const name = nameOrDef;
    if (!name)
      throw new NetAugError('INVALID_ARGUMENT', 'registerModel: the name must be a non-empty string');
    if (info.widthMults) validateFactorList('widthMults', info.widthMults);
    const common = {
      name,
      paperResolution: info.paperResolution ?? 224,
      widthMults: info.widthMults ? [...info.widthMults] : undefined,
    };
    if (typeof spec === 'function') {
      def = {
        ...common,
        description: info.description ?? `${name} (registered)`,
        defaultWidth: info.defaultWidth ?? 1,
        model: spec,
      };
    } else {
      const fixed = validateModelSpec(spec);
      checkBlockTypes(name, fixed);
      def = {
        ...common,
        description: info.description ?? `${name} (registered model spec)`,
        model: () => fixed,
      };
    }
  } else {
    def = nameOrDef;
    if (!def || typeof def.name !== 'string' || (!def.spec && !def.model))
      throw new NetAugError(
        'INVALID_ARGUMENT',
        'registerModel: a definition needs a name and a spec or model function',
      );
  }
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

/** The model spec of a definition at a width, in the requested form (see {@link ModelSpec.smallInput}). */
function specOf(def: ModelDefinition, width: number, inChannels: number, smallInput: boolean): ModelSpec {
  if (def.model) {
    const spec = def.model(width);
    checkBlockTypes(def.name, validateModelSpec(spec));
    return spec;
  }
  // MobileNet-family ArchSpec: resolved (small-input form included) by resolveArch
  return modelSpecFromArch(resolveArch(def.spec!(width), inChannels, smallInput));
}

/**
 * Creates a NetAug supernet of a registered model (see {@link listModels}): `mobilenetv2`, `mobilenetv2-tiny`,
 * `proxylessnas`, `mcunet`, `mobilenetv3`, `resnet18`, `resnet34`, `resnet50`, or one added with
 * {@link registerModel}. Its `min` config is exactly the tiny model.
 */
export function createSupernet(name: string, opts: CreateSupernetOptions): BlockSupernet {
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
        hint: 'leave width out, or use mobilenetv2 / proxylessnas / mobilenetv3 / resnet18 / resnet34 / resnet50',
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
  const smallInput = !!opts.smallInput;
  const spec = specOf(def, opts.width ?? def.defaultWidth ?? 1, inputShape[2], smallInput);
  // an ArchSpec's small-input form is already resolved; a model spec's is applied by the supernet
  const make = (space: AugmentSpace) =>
    new BlockSupernet(name, spec, {
      numClasses: opts.numClasses,
      inputShape,
      space,
      seed: opts.seed,
      smallInput: !!def.model && smallInput,
    });
  const net = make({ widthMults: [...widthMults], expandFactors: [...expandFactors] });
  try {
    checkInputSize(name, inputShape, net.totalStride);
  } catch (e) {
    net.dispose();
    throw e;
  }
  if (!opts.tinyOnly) return net;
  try {
    return tinyOnlyCopy(net, make({ widthMults: [1], expandFactors: [1] }));
  } finally {
    net.dispose();
  }
}

/** Fills every variable of `tiny` (a tiny-only supernet) with the leading block of `full`'s variable of the same name. */
function tinyOnlyCopy(full: BlockSupernet, tiny: BlockSupernet): BlockSupernet {
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

/** Params and MACs of a registered model's tiny network (`extract()` at `min`). */
export function profileSupernet(name: string, opts: CreateSupernetOptions): Profile {
  const net = createSupernet(name, opts);
  try {
    net.setActive('min');
    return profile(net.extract());
  } finally {
    net.dispose();
  }
}
