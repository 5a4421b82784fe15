import { inferShapes, type ModelIR } from '@netaug/core';

/** Activation floats per image of a sub-network: the sum of every node's output size (batch 1). */
export function activationFloatsPerImage(ir: ModelIR): number {
  const shapes = inferShapes(ir);
  let total = 0;
  for (const shape of shapes.values()) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

/** The memory a training step may use for activations before `recompute: 'auto'` turns checkpointing on. */
export const AUTO_RECOMPUTE_BUDGET_BYTES = 2 * 1024 ** 3;

/**
 * Whether a step should recompute activations: `true`/`false` as given; `'auto'` estimates the plain step's
 * activation memory — every node output of the tiny and (NetAug) the largest augmented model, float32, kept
 * once for the forward and once as its gradient, times the batch — and turns recomputing on above
 * {@link AUTO_RECOMPUTE_BUDGET_BYTES} (the wasm heap is 4 GiB at most, and tfjs keeps all of it until the
 * gradient returns).
 */
export function decideRecompute(
  mode: boolean | 'auto',
  est: { tinyFloatsPerImage: number; augFloatsPerImage: number; batch: number; netaug: boolean },
): { recompute: boolean; estimatedBytes: number; reason: string } {
  const perImage = est.tinyFloatsPerImage + (est.netaug ? est.augFloatsPerImage : 0);
  const estimatedBytes = perImage * 4 * 2 * est.batch;
  if (mode !== 'auto')
    return {
      recompute: mode,
      estimatedBytes,
      reason: mode ? 'asked for (--recompute)' : 'turned off (--no-recompute)',
    };
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const recompute = estimatedBytes > AUTO_RECOMPUTE_BUDGET_BYTES;
  return {
    recompute,
    estimatedBytes,
    reason: `auto: a plain step would keep ~${gib(estimatedBytes)} of activations (budget ${gib(AUTO_RECOMPUTE_BUDGET_BYTES)})`,
  };
}
