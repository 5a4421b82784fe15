import { makeDivisible } from '@netaug/core';
import type { ArchSpec, StageSpec } from '../arch-spec';
import type { ModelDefinition } from './model-definition';

/** Per-block expand ratios / kernels, blocks, first stride of ProxylessNAS-Mobile's searched stages. */
const STAGES: [number[], number[], number, number][] = [
  [[3, 3], [5, 3], 2, 2],
  [[3, 3, 3, 3], [7, 3, 5, 5], 4, 2],
  [[6, 3, 3, 3], [7, 5, 5, 5], 4, 2],
  [[6, 3, 3, 3], [5, 5, 5, 5], 4, 1],
  [[6, 6, 3, 3], [7, 7, 7, 7], 4, 2],
];

/** ProxylessNAS-Mobile at width `w`. */
export function proxylessNASSpec(w: number): ArchSpec {
  const c = [32, 16, 32, 40, 80, 96, 192].map((x) => makeDivisible(x * w, 8));
  const head = [makeDivisible(320 * w, 8), Math.max(makeDivisible(1280 * w, 8), 1280)];
  const stages: StageSpec[] = STAGES.map(([e, k, n, s], i) => ({ c: c[i + 2], n, s, k, e, act: 'relu6' }));
  stages.push({ c: head[0], n: 1, s: 1, k: 7, e: 6, act: 'relu6' });
  return {
    stem: { c: c[0], act: 'relu6' },
    ds: { c: c[1], act: 'relu6' },
    stages,
    headConvs: [{ c: head[1], act: 'relu6' }],
    postPoolConvs: [],
  };
}

export const proxylessnas: ModelDefinition = {
  name: 'proxylessnas',
  description: 'ProxylessNAS-Mobile with width multiplier (default 0.35; 160×160 on ImageNet)',
  defaultWidth: 0.35,
  paperResolution: 160,
  spec: proxylessNASSpec,
};
