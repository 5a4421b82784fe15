import type { ArchSpec, StageSpec } from '../arch-spec';
import type { ModelDefinition } from './model-definition';

/** Per-block expand ratios / kernels, blocks, first stride, out width of MCUNet's ImageNet model. */
const STAGES: [number[], number[], number, number, number][] = [
  [[3, 5, 5, 4], [7, 3, 7, 5], 4, 2, 16],
  [[5, 5, 5], [5, 5, 5], 3, 2, 24],
  [[5, 6, 4], [3, 7, 5], 3, 2, 40],
  [[5, 5, 5], [5, 7, 3], 3, 1, 48],
  [[6, 5, 4], [3, 7, 3], 3, 2, 96],
];

/** MCUNet (fixed widths). */
export function mcuNetSpec(): ArchSpec {
  const stages: StageSpec[] = STAGES.map(([e, k, n, s, c]) => ({ c, n, s, k, e, act: 'relu6' }));
  stages.push({ c: 160, n: 1, s: 1, k: 7, mid: [480], act: 'relu6' });
  return {
    stem: { c: 16, act: 'relu6' },
    ds: { c: 8, act: 'relu6' },
    stages,
    headConvs: [],
    postPoolConvs: [],
  };
}

export const mcunet: ModelDefinition = {
  name: 'mcunet',
  description:
    'MCUNet ImageNet model (fixed widths; 176×176; 0.74M params / 81.8M MACs); width factors [1, 1.6, 2.2]',
  widthMults: [1, 1.6, 2.2],
  paperResolution: 176,
  spec: mcuNetSpec,
};
