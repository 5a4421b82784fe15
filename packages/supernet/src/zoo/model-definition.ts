import type { ArchSpec } from '../arch-spec';

/** A zoo entry: how to build the tiny architecture, plus the paper's defaults. */
export interface ModelDefinition {
  name: string;
  description: string;
  /** Width multiplier used when the caller gives none; `undefined` for fixed-width models (no `width` option). */
  defaultWidth?: number;
  /** Per-model default width augmentation factors (NetAug's official ones); default `[1, 1.8, 2.6]`. */
  widthMults?: number[];
  /** Resolution the paper trains at on ImageNet. */
  paperResolution: number;
  /** The tiny architecture at a width multiplier (ignored by fixed-width models). */
  spec(width: number): ArchSpec;
}
