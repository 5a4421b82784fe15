import { BACKEND_NAMES, NetAugError } from '@netaug/core';
import { z } from 'zod';

/**
 * Everything a training run is made of, as flat JSON/YAML keys (also the `netaug train` flags).
 * Precedence: preset < config file < command-line flags.
 *
 * Keys added later must be optional without a default (absent = the old behaviour): the run hash
 * ({@link runHash}) leaves absent keys out, so finished runs keep their hash across versions.
 */
export const runConfigSchema = z
  .object({
    /**
     * What the run trains: `classify` (absent: a classifier) or `detect` (an FCOS-style detector of
     * `@netaug/detector` on the `model` backbone, trained on detection data: see `data`).
     */
    task: z.enum(['classify', 'detect']).optional(),
    /** `detect`: tiny width of the detector's neck (FPN-lite laterals; default 32). */
    neckChannels: z.number().int().positive().optional(),
    /** `detect`: tiny width of the head's tower convs (default: neckChannels). */
    headChannels: z.number().int().positive().optional(),
    /** `detect`: depthwise-separable layers of the shared head tower (default 2; 0 = none). */
    headDepth: z.number().int().nonnegative().optional(),
    /** Zoo model name (`netaug models`), or the name to register `modelSpec` under (default: its file name). */
    model: z.string().min(1),
    /** A model spec file (YAML/JSON: stem, blocks with their `type`, head, classifier) to build instead of a zoo model. */
    modelSpec: z.string().min(1).optional(),
    /** Modules imported first; each registers block types (`registerBlock` of @netaug/supernet). */
    plugins: z.array(z.string().min(1)).optional(),
    /** Width multiplier of the tiny model (mobilenetv2, proxylessnas, mobilenetv3). */
    width: z.number().positive().optional(),
    /** Small-input form for 28–64 px images (8× downsampling instead of 32×). */
    smallInput: z.boolean().default(false),
    widthMults: z.array(z.number()).optional(),
    expandFactors: z.array(z.number()).optional(),
    /**
     * `fashion-mnist`, `mnist`, or a path (IDX / CIFAR folder, image folder, CSV/JSON manifest). With task
     * `detect`: `scenes` (the embedded Fashion-MNIST scenes of `@netaug/detection`, the default),
     * `coco:<annotations.json>[,<test annotations.json>]`, `voc:<VOC year folder>` or `yolo:<folder>`.
     */
    data: z.string().min(1),
    dataDir: z.string().optional(),
    /**
     * Keep only these classes (names or indices), relabelled 0…k−1 in this order, in training, validation and test
     * data (e.g. pretrain on five classes and fine-tune on the other five).
     */
    onlyClasses: z
      .array(z.union([z.string(), z.number().int().nonnegative()]))
      .min(1)
      .optional(),
    /** Train on a class-balanced subset of this many images. */
    subset: z.number().int().positive().optional(),
    /**
     * Hold out this many training images (class-balanced; the same images for every seed and strategy) as the
     * validation split: the best epoch and every other choice are made on it, and the test data is read once,
     * at the end. Without it there is no per-epoch evaluation and the run ends with its last epoch.
     */
    valSplit: z.number().int().positive().optional(),
    /** Which epoch's model the run ends with: `best-val` (default with a validation split) or `last`. */
    select: z.enum(['best-val', 'last']).optional(),
    /** Evaluate on a class-balanced subset of this many test images. */
    testSubset: z.number().int().positive().optional(),
    /** Skip unreadable images (with a warning and a count) instead of failing. */
    skipCorrupt: z.boolean().default(false),
    /** Held-out fraction for data sets without a test split (image folders, manifests). */
    valFraction: z.number().gt(0).lt(1).default(0.1),
    /** Input resolution; images are resized to it (default: the data's own size). */
    resolution: z.number().int().positive().optional(),
    /** Input channels (1 or 3; default: the data's own). */
    channels: z.union([z.literal(1), z.literal(3)], { error: 'must be 1 (grayscale) or 3 (RGB)' }).optional(),
    /** Training-time augmentation: the paper uses random-resized-crop + flip and nothing more for tiny models. */
    augment: z.enum(['none', 'flip', 'crop-flip', 'rrc-flip']).default('none'),
    strategy: z.enum(['baseline', 'netaug']).default('netaug'),
    alpha: z.number().positive().default(1),
    /** Epoch at which width augmentation stops (default: half of the epochs, as the authors). */
    stopWidthEpoch: z.number().int().nonnegative().optional(),
    epochs: z.number().int().positive(),
    batch: z.number().int().positive().default(128),
    optimizer: z.enum(['sgd', 'adam', 'adamw']).default('sgd'),
    /**
     * Peak learning rate of the cosine schedule (the authors use 0.025 per 128 images over 150 epochs; short runs
     * want more). Default 0.1, or {@link FINE_TUNE_LR} when fine-tuning from `init`.
     */
    lr: z.number().positive().optional(),
    /**
     * Start from trained weights: a run folder (its `model.nair`), a `.nair` model or an `.onnx` model of the same
     * architecture. They go into the tiny model (the first channels of the supernet); the rest of the supernet
     * keeps its initialisation. The classifier is kept when the classes match, re-initialised otherwise.
     */
    init: z.string().min(1).optional(),
    /**
     * With an `.onnx` `init`: import convolutions that pad otherwise than SAME at this input size (PyTorch's
     * symmetric padding on stride-2 layers at even sizes); their outputs shift by a pixel until fine-tuned.
     */
    allowPaddingMismatch: z.boolean().optional(),
    /** With `init`: re-initialise the classifier even when its size matches (other classes, same count). */
    newHead: z.boolean().optional(),
    /** With `init`: freeze the layer units before this index (0 = nothing; units: stem, blocks…, head, classifier). */
    freezeUntil: z.number().int().nonnegative().optional(),
    /**
     * With `init`, batch norm while fine-tuning: `train` (default) as in training from scratch; `keep` the loaded
     * running statistics, never changed (few images); `reestimate` them once on the training images first, then
     * keep them (weights whose BN was folded into the convolutions). `keep`/`reestimate` need the baseline strategy.
     */
    bn: z.enum(['train', 'keep', 'reestimate']).optional(),
    /** Linear warm-up epochs before the cosine decay (default 1 when epochs > 1: short runs on small data need it; the authors use 5 of 155). */
    warmupEpochs: z.number().nonnegative().optional(),
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(true),
    weightDecay: z.number().nonnegative().default(4e-5),
    labelSmoothing: z.number().min(0).lt(1).default(0.1),
    /**
     * Stop when the tiny model's loss exceeds this many times its first-epoch mean (a diverged run); 0 = never
     * (default 10).
     */
    divergeFactor: z
      .number()
      .refine((v) => v === 0 || v >= 1, 'must be 0 (off) or at least 1')
      .optional(),
    /** Write the checkpoint every this many epochs (default 1; always after the last epoch). */
    checkpointEvery: z.number().int().positive().optional(),
    /** Training images used for BN re-estimation of the tiny model (official: 16k on ImageNet). */
    bnImages: z.number().int().positive().default(2000),
    sortChannels: z.enum(['none', 'weights-only', 'weights-and-slots']).default('weights-and-slots'),
    seed: z.number().int().default(0),
    /** tfjs backend: auto (tensorflow → native → wasm → cpu), tensorflow, native, wasm or cpu. */
    backend: z.enum(['auto', ...BACKEND_NAMES]).default('auto'),
    /** Threads of the native backend's kernels (default: env NETAUG_THREADS, else every core). */
    nativeThreads: z.number().int().positive().optional(),
    /**
     * Gradient checkpointing: recompute each block's activations in the backward pass (less memory, more
     * compute). `auto` (default) turns it on when a plain step would keep more than 2 GiB of activations.
     */
    recompute: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** Run folder (default `runs/<model>-<strategy>-seed<seed>`). */
    out: z.string().min(1).optional(),
  })
  .strict();

export type RunConfigInput = z.input<typeof runConfigSchema>;
/** The default peak learning rate when fine-tuning from `init` (a tenth of training from scratch). */
export const FINE_TUNE_LR = 0.01;

export type RunConfig = z.output<typeof runConfigSchema> & {
  lr: number;
  out: string;
  warmupEpochs: number;
  select: 'best-val' | 'last';
};

/** Validates a merged config; the error names the first bad key and says what it expected. */
export function parseRunConfig(raw: unknown, source = 'config'): RunConfig {
  const r = runConfigSchema.safeParse(raw);
  if (r.success) {
    const c = r.data;
    return checkRunConfig(
      {
        ...c,
        out: c.out ?? `runs/${c.model}${c.task === 'detect' ? '-fcos' : ''}-${c.strategy}-seed${c.seed}`,
        lr: c.lr ?? (c.init ? FINE_TUNE_LR : 0.1),
        warmupEpochs: c.warmupEpochs ?? (c.epochs > 1 ? 1 : 0),
        select: c.select ?? (c.valSplit ? 'best-val' : 'last'),
      },
      source,
    );
  }
  const issue = r.error.issues[0];
  const key = issue.path.join('.') || '(top level)';
  const msg =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`
      : issue.message;
  throw new NetAugError('INVALID_CONFIG', `${source}: ${key}: ${msg}`, {
    hint: 'see `netaug train --help` for the keys and their types',
  });
}

/** Cross-key checks of a parsed config (typed errors naming the keys). */
function checkRunConfig(c: RunConfig, source: string): RunConfig {
  for (const key of ['newHead', 'freezeUntil', 'bn', 'allowPaddingMismatch'] as const) {
    if (c[key] !== undefined && !c.init)
      throw new NetAugError('INVALID_CONFIG', `${source}: ${key} is for fine-tuning: it needs init`, {
        hint: 'add --init <run folder | model.nair | model.onnx>',
      });
  }
  if (c.bn && c.bn !== 'train' && c.strategy === 'netaug')
    throw new NetAugError(
      'INVALID_CONFIG',
      `${source}: bn '${c.bn}' is for plain fine-tuning: NetAug's augmented models train their batch norm`,
      { hint: '--strategy baseline to fine-tune with kept statistics, or --bn train' },
    );
  if (c.freezeUntil && c.strategy === 'netaug' && c.sortChannels !== 'none')
    throw new NetAugError(
      'INVALID_CONFIG',
      `${source}: freezeUntil with NetAug's channel sorting: sorting permutes the frozen layers too`,
      { hint: '--sort-channels none, or --strategy baseline' },
    );
  if (c.task === 'detect') checkDetectConfig(c, source);
  else {
    const detectOnly = (['neckChannels', 'headChannels', 'headDepth'] as const).filter(
      (k) => c[k] !== undefined,
    );
    if (detectOnly.length)
      throw new NetAugError(
        'INVALID_CONFIG',
        `${source}: ${detectOnly.join(', ')} ${detectOnly.length > 1 ? 'are' : 'is'} for detectors (task detect)`,
        { hint: `add --task detect, or remove ${detectOnly.join(', ')}` },
      );
  }
  if (c.select === 'best-val' && !c.valSplit)
    throw new NetAugError('INVALID_CONFIG', `${source}: select 'best-val' needs a validation split`, {
      hint: 'add --val-split N (training images held out), or use --select last',
    });
  return c;
}

/** What a detection run (`task: detect`) cannot do: typed errors naming the key. */
function checkDetectConfig(c: RunConfig, source: string): void {
  const unsupported = (
    [
      ['init', 'fine-tuning from trained weights'],
      ['onlyClasses', 'a class subset'],
      ['smallInput', 'the small-input form (the detector taps the ImageNet form at strides 8 and 16)'],
    ] as const
  ).filter(([k]) => c[k] !== undefined && c[k] !== false);
  if (unsupported.length)
    throw new NetAugError(
      'INVALID_CONFIG',
      `${source}: task detect does not support ${unsupported.map(([k, what]) => `${k} (${what})`).join(', ')}`,
      { hint: `remove ${unsupported.map(([k]) => k).join(', ')}, or train a classifier` },
    );
  if (c.augment !== 'none' && c.augment !== 'flip')
    throw new NetAugError(
      'INVALID_CONFIG',
      `${source}: augment '${c.augment}' is for classification; a detection run takes none or flip`,
      { hint: '--augment flip (horizontal flips with their boxes) or none' },
    );
  if (c.recompute === true)
    throw new NetAugError('INVALID_CONFIG', `${source}: recompute is not available for task detect`, {
      hint: 'leave --recompute out',
    });
}
