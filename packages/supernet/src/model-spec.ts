import { NetAugError } from '@netaug/core';
import type { ResolvedArch } from './arch-spec';
import type { BlockConfig } from './block';
import type { HiddenLayerSpec } from './classifier-head';

/**
 * A model as data (JSON): the tiny network, built from registered block types. The supernet is
 * `stem → blocks → head → global average pool → classifier.hidden → linear classifier`; channel counts are the TINY
 * model's, and every block's augmented widths follow from its choice points.
 *
 * Block names (prefix of variables and IR nodes): `stem`, `blocks.<i>` (after expanding `n`), `head.<i>`, then the
 * hidden classifier layers continue the `head.<i>` numbering; the pooling is `pool`, the last layer `classifier`.
 */
export interface ModelSpec {
  /** The first block, on the input image. */
  stem: BlockConfig;
  /** The body, in order. An entry with `n: k` stands for `k` blocks: the first with its `s`, the others stride 1. */
  blocks: BlockConfig[];
  /** Blocks after the body, before the pooling (MobileNet's 1×1 head conv). Default none. */
  head?: BlockConfig[];
  /** After the pooling: hidden 1×1 layers with bias and no batch norm (`c`, `act`), then the linear classifier. */
  classifier?: { hidden?: HiddenLayerSpec[] };
  /**
   * The small-input form (28–64 px images, `smallInput: true`): a replacement stem and argument overrides per
   * entry index of `blocks` (before `n` is expanded). Without it, the small-input form sets the stem's `s` and the
   * first block entry with `s: 2` to stride 1 (8× less downsampling for a MobileNet, 4× for a ResNet stem + pool).
   */
  smallInput?: { stem?: BlockConfig; blocks?: Record<string, Record<string, unknown>> };
}

function fail(message: string, hint?: string): never {
  throw new NetAugError('INVALID_CONFIG', `model spec: ${message}`, hint ? { hint } : undefined);
}

/** Throws unless `v` is plain JSON data (objects, arrays, strings, finite numbers, booleans, null). */
function checkJson(v: unknown, where: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(`${where} is not a finite number`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJson(x, `${where}[${i}]`));
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as object)) if (x !== undefined) checkJson(x, `${where}.${k}`);
    return;
  }
  fail(
    `${where} is not JSON data (${typeof v})`,
    'a model spec holds only objects, arrays, strings, numbers and booleans',
  );
}

function checkBlock(b: unknown, where: string): BlockConfig {
  if (!b || typeof b !== 'object' || Array.isArray(b) || typeof (b as BlockConfig).type !== 'string')
    fail(
      `${where} must be an object with a string 'type'`,
      `e.g. { "type": "mb", "c": 24, "e": 6, "k": 3, "s": 2, "act": "relu6" }`,
    );
  return b as BlockConfig;
}

/** Checks the shape of a spec (not the block arguments: each block type checks its own). Returns a deep copy. */
export function validateModelSpec(spec: unknown): ModelSpec {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec))
    fail('must be an object { stem, blocks, head?, classifier? }');
  checkJson(spec, 'spec');
  const s = JSON.parse(JSON.stringify(spec)) as ModelSpec;
  checkBlock(s.stem, 'stem');
  if (!Array.isArray(s.blocks)) fail(`'blocks' must be an array of block specs`);
  s.blocks.forEach((b, i) => {
    checkBlock(b, `blocks[${i}]`);
    if (b.n !== undefined && !(Number.isInteger(b.n) && (b.n as number) >= 1))
      fail(`blocks[${i}].n must be a positive integer, got ${JSON.stringify(b.n)}`);
  });
  if (s.head !== undefined) {
    if (!Array.isArray(s.head)) fail(`'head' must be an array of block specs`);
    s.head.forEach((b, i) => checkBlock(b, `head[${i}]`));
  }
  if (s.classifier !== undefined) {
    const hidden = s.classifier.hidden;
    if (hidden !== undefined && !Array.isArray(hidden))
      fail(`'classifier.hidden' must be an array of { c, act }`);
    (hidden ?? []).forEach((h, i) => {
      if (!h || !Number.isInteger(h.c) || h.c < 1 || typeof h.act !== 'string')
        fail(`classifier.hidden[${i}] must be { c: positive integer, act }`);
    });
  }
  if (s.smallInput !== undefined) {
    const si = s.smallInput;
    if (!si || typeof si !== 'object') fail(`'smallInput' must be { stem?, blocks? }`);
    if (si.stem !== undefined) checkBlock(si.stem, 'smallInput.stem');
    for (const k of Object.keys(si.blocks ?? {})) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= s.blocks.length)
        fail(`smallInput.blocks has key '${k}', not an index of blocks (0–${s.blocks.length - 1})`);
    }
  }
  return s;
}

/**
 * The spec of the network to build: the small-input form applied if asked (see {@link ModelSpec.smallInput}),
 * `n` expanded, no `smallInput` left. Validates first.
 */
export function resolveModelSpec(specIn: ModelSpec, smallInput: boolean): ModelSpec {
  const spec = validateModelSpec(specIn);
  let stem = spec.stem;
  let entries = spec.blocks;
  if (smallInput && spec.smallInput) {
    stem = spec.smallInput.stem ?? stem;
    const patch = spec.smallInput.blocks ?? {};
    entries = entries.map((b, i) => ({ ...b, ...(patch[String(i)] ?? {}) }) as BlockConfig);
  } else if (smallInput) {
    if (stem.s !== undefined) stem = { ...stem, s: 1 };
    const first = entries.findIndex((b) => b.s === 2);
    if (first >= 0) entries = entries.map((b, i) => (i === first ? { ...b, s: 1 } : b));
  }
  const blocks: BlockConfig[] = [];
  for (const entry of entries) {
    const { n, ...args } = entry;
    for (let k = 0; k < ((n as number | undefined) ?? 1); k++)
      blocks.push(k > 0 && args.s !== undefined ? { ...args, s: 1 } : { ...args });
  }
  const out: ModelSpec = { stem, blocks };
  if (spec.head) out.head = spec.head;
  if (spec.classifier) out.classifier = spec.classifier;
  return out;
}

/**
 * The model spec of a resolved MobileNet-family architecture (the zoo's {@link ResolvedArch}): `conv` stem, `ds`
 * and `mb` blocks with explicit `mid` and `shortcut`, `conv` head convs, post-pool convs as hidden classifier layers.
 */
export function modelSpecFromArch(arch: ResolvedArch): ModelSpec {
  return {
    stem: { type: 'conv', c: arch.stem.out, k: arch.stem.kernel, s: arch.stem.stride, act: arch.stem.act },
    blocks: arch.blocks.map((b): BlockConfig =>
      b.type === 'ds'
        ? { type: 'ds', c: b.out, k: b.kernel, s: b.stride, act: b.act, shortcut: b.shortcut }
        : {
            type: 'mb',
            c: b.out,
            mid: b.mid,
            k: b.kernel,
            s: b.stride,
            act: b.act,
            se: b.se,
            shortcut: b.shortcut,
          },
    ),
    head: arch.headConvs.map((h): BlockConfig => ({ type: 'conv', c: h.out, k: 1, s: 1, act: h.act })),
    classifier: { hidden: arch.postPoolConvs.map((h) => ({ c: h.out, act: h.act })) },
  };
}
