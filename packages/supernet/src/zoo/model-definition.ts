import type { ArchSpec } from '../arch-spec';
import type { ModelSpec } from '../model-spec';

/** A registered model: how to build the tiny architecture, plus the paper's defaults. */
export interface ModelDefinition {
  name: string;
  description: string;
  /** Width multiplier used when the caller gives none; `undefined` for fixed-width models (no `width` option). */
  defaultWidth?: number;
  /** Per-model default width augmentation factors (NetAug's official ones); default `[1, 1.8, 2.6]`. */
  widthMults?: number[];
  /** Resolution the paper trains at on ImageNet. */
  paperResolution: number;
  /**
   * A MobileNet-family tiny architecture at a width multiplier (ignored by fixed-width models), resolved by
   * `resolveArch`. Give this or {@link ModelDefinition.model}.
   */
  spec?(width: number): ArchSpec;
  /** The tiny architecture as a {@link ModelSpec} of registered block types, at a width multiplier. */
  model?(width: number): ModelSpec;
}
