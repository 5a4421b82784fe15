import { makeDivisible } from '@netaug/core';
import type { ArchSpec, StageSpec } from '../arch-spec';
import type { ModelDefinition } from './model-definition';

/** (expand t, blocks n, first stride s) of MobileNetV2's five inverted-bottleneck stages. */
const STAGES: [number, number, number][] = [
  [6, 2, 2],
  [6, 3, 2],
  [6, 4, 2],
  [6, 3, 1],
  [6, 3, 2],
];

/** MobileNetV2 at width `w`; `headWidth` overrides the last head conv (MobileNetV2-Tiny uses 448). */
export function mobileNetV2Spec(w: number, headWidth?: number): ArchSpec {
  const c = [32, 16, 24, 32, 64, 96, 160].map((x) => makeDivisible(x * w, 8));
  const head = [makeDivisible(320 * w, 8), Math.max(makeDivisible(1280 * w, 8), 1280)];
  const stages: StageSpec[] = STAGES.map(([e, n, s], i) => ({ c: c[i + 2], n, s, k: 3, e, act: 'relu6' }));
  stages.push({ c: head[0], n: 1, s: 1, k: 3, e: 6, act: 'relu6' }); // head MB (no shortcut: first of its stage)
  return {
    stem: { c: c[0], act: 'relu6' },
    ds: { c: c[1], act: 'relu6' },
    stages,
    headConvs: [{ c: headWidth ?? head[1], act: 'relu6' }],
    postPoolConvs: [],
  };
}

export const mobilenetv2: ModelDefinition = {
  name: 'mobilenetv2',
  description: "MobileNetV2 with width multiplier (default 0.35, the paper's tiny one; 160×160 on ImageNet)",
  defaultWidth: 0.35,
  paperResolution: 160,
  spec: (w) => mobileNetV2Spec(w),
};

export const mobilenetv2Tiny: ModelDefinition = {
  name: 'mobilenetv2-tiny',
  description:
    'MobileNetV2-Tiny: MobileNetV2 w0.35 with a 112→448 head (144×144 on ImageNet; 0.75M params / 23.5M MACs)',
  paperResolution: 144,
  spec: () => mobileNetV2Spec(0.35, 448),
};
