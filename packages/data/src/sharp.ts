import { loadOptional } from '@netaug/core';
/**
 * The part of sharp's pipeline API this project uses, declared here so that the published types do not need the
 * optional `sharp` installed.
 */
export interface SharpPipeline {
  resize(
    width: number,
    height: number,
    options?: { fit?: string; background?: { r: number; g: number; b: number; alpha: number } },
  ): SharpPipeline;
  grayscale(): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  removeAlpha(): SharpPipeline;
  raw(): SharpPipeline;
  png(): SharpPipeline;
  jpeg(options?: { quality?: number }): SharpPipeline;
  metadata(): Promise<{ width?: number; height?: number; channels?: number; format?: string }>;
  toBuffer(): Promise<Buffer>;
  toBuffer(options: {
    resolveWithObject: true;
  }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
}

/** sharp's default export: `sharp(input, options)` starts an image pipeline. */
export type Sharp = (
  input: string | Buffer,
  options?: { density?: number; raw?: { width: number; height: number; channels: 1 | 2 | 3 | 4 } },
) => SharpPipeline;

let loaded: Promise<Sharp> | undefined;

/**
 * sharp (libvips), an optional dependency loaded on first use: reading image folders, manifests and detection
 * data decode with it; Fashion-MNIST/MNIST (IDX files) and in-memory datasets do not need it. Without it:
 * `MISSING_DEPENDENCY` naming `usedBy` and `npm install sharp`.
 */
export function loadSharp(usedBy: string): Promise<Sharp> {
  loaded ??= loadOptional('sharp', usedBy, () => import('sharp')).then(
    (m) => ((m as unknown as { default?: Sharp }).default ?? (m as unknown as Sharp)),
  );
  // a failed load is not cached: installing sharp and retrying in the same process works
  loaded.catch(() => (loaded = undefined));
  return loaded;
}
