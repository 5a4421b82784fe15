import { makeDivisible } from '@netaug/core';
import type { BlockConfig } from '../block';
import type { ModelSpec } from '../model-spec';
import type { ModelDefinition } from './model-definition';

/**
 * A ResNet (torchvision's layout: the bottleneck's stride on its 3×3 conv) at width `w`: every layer's channels
 * times `w`, then makeDivisible(·, 8). ImageNet stem conv 7×7 stride 2 + BN + ReLU + max-pool 3×3 stride 2; the
 * small-input form's stem is conv 3×3 stride 1 without the pool (total stride 8). Four stages of `layers[i]`
 * blocks, widths 64·2^i (bottleneck: inner 64·2^i, output 256·2^i), the first of stages 2–4 with stride 2.
 */
export function resnetSpec(kind: 'basic' | 'bottleneck', layers: readonly number[], w: number): ModelSpec {
  const md = (c: number) => makeDivisible(c * w, 8);
  const blocks = layers.map((n, i): BlockConfig =>
    kind === 'basic'
      ? { type: 'basic', c: md(64 * 2 ** i), n, s: i === 0 ? 1 : 2 }
      : { type: 'bottleneck', c: md(256 * 2 ** i), mid: md(64 * 2 ** i), n, s: i === 0 ? 1 : 2 },
  );
  return {
    stem: { type: 'conv', c: md(64), k: 7, s: 2, act: 'relu', pool: { k: 3, s: 2 } },
    blocks,
    smallInput: { stem: { type: 'conv', c: md(64), k: 3, s: 1, act: 'relu' } },
  };
}

function resnet(
  name: string,
  kind: 'basic' | 'bottleneck',
  layers: number[],
  figures: string,
): ModelDefinition {
  return {
    name,
    description: `${name.replace('resnet', 'ResNet-')} with width multiplier (default 1; 224×224 on ImageNet; ${figures})`,
    defaultWidth: 1,
    paperResolution: 224,
    model: (w) => resnetSpec(kind, layers, w),
  };
}

export const resnet18 = resnet('resnet18', 'basic', [2, 2, 2, 2], '11.69M params / 1.81G MACs');
export const resnet34 = resnet('resnet34', 'basic', [3, 4, 6, 3], '21.80M params / 3.66G MACs');
export const resnet50 = resnet('resnet50', 'bottleneck', [3, 4, 6, 3], '25.56M params / 4.09G MACs');
