import { makeDivisible, type ActivationKind } from '@netaug/core';
import type { ArchSpec, StageSpec } from '../arch-spec';
import type { ModelDefinition } from './model-definition';

/** Mid channels per block, kernel, first stride, activation, squeeze-excite of MobileNetV3-Large's stages. */
const STAGES: [number[], number, number, ActivationKind, boolean][] = [
  [[64, 72], 3, 2, 'relu', false],
  [[72, 120, 120], 5, 2, 'relu', true],
  [[240, 200, 184, 184], 3, 2, 'hswish', false],
  [[480, 672], 3, 1, 'hswish', true],
  [[672, 960, 960], 5, 2, 'hswish', true],
];

/** MobileNetV3-Large at width `w`. */
export function mobileNetV3Spec(w: number): ArchSpec {
  const md = (x: number) => makeDivisible(x * w, 8);
  const c = [16, 24, 40, 80, 112, 160].map(md);
  const head = [md(960), Math.max(md(1280), 1280)];
  const stages: StageSpec[] = STAGES.map(([mids, k, s, act, se], i) => ({
    c: c[i + 1],
    n: mids.length,
    s,
    k,
    mid: mids.map(md),
    act,
    se,
  }));
  return {
    stem: { c: c[0], act: 'hswish' },
    ds: { c: c[0], act: 'relu', shortcut: true },
    stages,
    headConvs: [{ c: head[0], act: 'hswish' }],
    postPoolConvs: [{ c: head[1], act: 'hswish' }],
  };
}

export const mobilenetv3: ModelDefinition = {
  name: 'mobilenetv3',
  description:
    'MobileNetV3-Large with width multiplier (default 0.35; 160×160 on ImageNet); width factors [1, 2, 3]',
  defaultWidth: 0.35,
  widthMults: [1, 2, 3],
  paperResolution: 160,
  spec: mobileNetV3Spec,
};
