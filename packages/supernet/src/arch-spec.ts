import { NetAugError, makeDivisible, type ActivationKind, type ActiveConfig } from '@netaug/core';
import { activeMid, activeWidth } from './widths';

/**
 * A compact description of a tiny network of the MobileNet family (timm-style data, not code).
 *
 * The network is: stem `Conv(3, stride 2)` → a depthwise-separable block → stages of inverted bottlenecks →
 * head convs (1×1 + BN + act) → global average pool → post-pool 1×1 convs (bias, no BN) → linear classifier.
 * Channel counts here are the TINY model's (already multiplied by the width multiplier and rounded).
 */
export interface ArchSpec {
  stem: { c: number; act: ActivationKind };
  /** Depthwise 3×3 + BN + act, point-wise 1×1 + BN; `shortcut` adds an identity (needs `c` = stem width). */
  ds: { c: number; act: ActivationKind; shortcut?: boolean };
  stages: StageSpec[];
  /** 1×1 conv + BN + act layers before the pooling. */
  headConvs: { c: number; act: ActivationKind }[];
  /** 1×1 conv with bias, no BN, + act layers after the pooling (MobileNetV3). */
  postPoolConvs: { c: number; act: ActivationKind }[];
}

/**
 * `n` inverted bottlenecks with output width `c`; the first has stride `s`. Per block (a number applies to all):
 * kernel `k`, and either expand ratios `e` (mid = makeDivisible(round(e·in), 8)) or explicit `mid` channels.
 */
export interface StageSpec {
  c: number;
  n: number;
  s: number;
  k: number | number[];
  e?: number | number[];
  mid?: number[];
  act: ActivationKind;
  se?: boolean;
}

/** One resolved block of the tiny network. */
export type BlockSpec =
  | {
      type: 'ds';
      in: number;
      out: number;
      kernel: number;
      stride: number;
      act: ActivationKind;
      shortcut: boolean;
    }
  | {
      type: 'mb';
      in: number;
      mid: number;
      out: number;
      kernel: number;
      stride: number;
      act: ActivationKind;
      se: boolean;
      shortcut: boolean;
    };

/** The tiny network, flattened: exact channel counts, strides and shortcuts of every layer. */
export interface ResolvedArch {
  inChannels: number;
  stem: { out: number; kernel: number; stride: number; act: ActivationKind };
  blocks: BlockSpec[];
  headConvs: { in: number; out: number; act: ActivationKind }[];
  postPoolConvs: { in: number; out: number; act: ActivationKind }[];
  classifierIn: number;
  /** Product of all strides (32, or 8 in the small-input form). */
  totalStride: number;
}

const pick = (v: number | number[] | undefined, i: number): number | undefined =>
  Array.isArray(v) ? v[i] : v;

/**
 * Flattens a spec. A block gets a residual shortcut when its stride is 1, in == out and it is not the first
 * block of its stage. `smallInput` (28–64 px images): the stem gets stride 1 and so does the first stage whose
 * stride is 2, so the network downsamples 8× instead of 32×.
 */
export function resolveArch(spec: ArchSpec, inChannels: number, smallInput: boolean): ResolvedArch {
  const stemStride = smallInput ? 1 : 2;
  let total = stemStride;
  const blocks: BlockSpec[] = [];
  let cur = spec.stem.c;
  const dsShortcut = !!spec.ds.shortcut;
  if (dsShortcut && spec.ds.c !== cur) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `DS block with a shortcut must keep the stem width ${cur}, got ${spec.ds.c}`,
    );
  }
  blocks.push({
    type: 'ds',
    in: cur,
    out: spec.ds.c,
    kernel: 3,
    stride: 1,
    act: spec.ds.act,
    shortcut: dsShortcut,
  });
  cur = spec.ds.c;
  let reducedOne = !smallInput;
  for (const st of spec.stages) {
    let s = st.s;
    if (!reducedOne && s === 2) {
      s = 1;
      reducedOne = true;
    }
    total *= s;
    for (let i = 0; i < st.n; i++) {
      const stride = i === 0 ? s : 1;
      const kernel = pick(st.k, i);
      const e = pick(st.e, i);
      const mid = st.mid ? st.mid[i] : e !== undefined ? makeDivisible(Math.round(e * cur), 8) : undefined;
      if (kernel === undefined || mid === undefined) {
        throw new NetAugError(
          'INVALID_CONFIG',
          `stage with c=${st.c} lacks a kernel or expand value for block ${i}`,
        );
      }
      const shortcut = i > 0 && stride === 1 && cur === st.c;
      blocks.push({
        type: 'mb',
        in: cur,
        mid,
        out: st.c,
        kernel,
        stride,
        act: st.act,
        se: !!st.se,
        shortcut,
      });
      cur = st.c;
    }
  }
  const headConvs = spec.headConvs.map((h) => {
    const layer = { in: cur, out: h.c, act: h.act };
    cur = h.c;
    return layer;
  });
  const postPoolConvs = spec.postPoolConvs.map((h) => {
    const layer = { in: cur, out: h.c, act: h.act };
    cur = h.c;
    return layer;
  });
  return {
    inChannels,
    stem: { out: spec.stem.c, kernel: 3, stride: stemStride, act: spec.stem.act },
    blocks,
    headConvs,
    postPoolConvs,
    classifierIn: cur,
    totalStride: total,
  };
}

/**
 * Width and expand choice-point names of a resolved MobileNet-family architecture, in config order: the stem, every
 * block without a residual shortcut, every head conv (before and after the pooling); expand: every inverted
 * bottleneck. (What the `conv`, `ds` and `mb` blocks of its model spec declare.)
 */
export function archChoiceNames(arch: ResolvedArch): { width: string[]; expand: string[] } {
  const width = ['stem'];
  const expand: string[] = [];
  arch.blocks.forEach((b, i) => {
    if (!b.shortcut) width.push(`blocks.${i}`);
    if (b.type === 'mb') expand.push(`blocks.${i}`);
  });
  arch.headConvs.forEach((_, i) => width.push(`head.${i}`));
  arch.postPoolConvs.forEach((_, i) => width.push(`head.${arch.headConvs.length + i}`));
  return { width, expand };
}

/** Channel counts of every layer of a resolved MobileNet-family architecture for a (valid) config. */
export function planArch(
  arch: ResolvedArch,
  config: ActiveConfig,
): {
  stem: number;
  blocks: { in: number; mid: number; out: number }[];
  headConvs: number[];
  postPoolConvs: number[];
  classifierIn: number;
} {
  let wi = 0;
  let ei = 0;
  const width = (c: number) => activeWidth(c, config.width[wi++]);
  const stem = width(arch.stem.out);
  let cur = stem;
  const blocks = arch.blocks.map((b) => {
    const inC = cur;
    const out = b.shortcut ? inC : width(b.out);
    const mid = b.type === 'mb' ? activeMid(b.mid, b.in, config.expand[ei++], inC) : 0;
    cur = out;
    return { in: inC, mid, out };
  });
  const headConvs = arch.headConvs.map((h) => (cur = width(h.out)));
  const postPoolConvs = arch.postPoolConvs.map((h) => (cur = width(h.out)));
  return { stem, blocks, headConvs, postPoolConvs, classifierIn: cur };
}
