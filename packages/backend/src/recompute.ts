import * as tf from '@tensorflow/tfjs-core';
import { NetAugError } from '@netaug/core';

/**
 * Gradient checkpointing for tfjs ("recompute in backward", `torch.utils.checkpoint` in PyTorch).
 *
 * tfjs keeps every tensor created while a gradient is being taped — including intermediates no gradient needs —
 * and every activation gradient until `variableGrads` returns, so a deep network at a large batch holds all
 * its activations twice. {@link recompute} runs a segment of the network (e.g. one inverted-bottleneck block)
 * so that the tape records ONE node for it and keeps only its input; in the backward pass the segment runs
 * again under its own, short-lived tape to produce the gradients of its input and of its variables. Peak memory
 * becomes (segment inputs) + (one segment's intermediates), for one extra forward pass of compute.
 *
 * Side effects inside the segment (batch-norm running statistics) must not happen twice: code that updates
 * state checks {@link isRecomputing} and skips the update while the backward pass recomputes.
 */

let recomputeDepth = 0;

/** True while {@link recompute} re-runs a segment in the backward pass (state updates must be skipped). */
export function isRecomputing(): boolean {
  return recomputeDepth > 0;
}

interface EngineState {
  activeTape: unknown;
}

interface EngineInternals {
  state: EngineState;
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/**
 * `fn(x)`, recorded on the gradient tape as one node whose gradient recomputes `fn`. `variables` must list
 * every variable `fn` reads whose gradient is wanted (others get none); `fn` must be deterministic given `x`
 * and the variables (no sampling inside). Outside a gradient computation it simply returns `fn(x)`.
 */
export function recompute<T extends tf.Tensor>(fn: (x: T) => T, x: T, variables: readonly tf.Variable[]): T {
  if (variables.some((v) => !(v instanceof tf.Variable))) {
    throw new NetAugError('INVALID_ARGUMENT', 'recompute: every entry of variables must be a tf.Variable');
  }
  const engine = tf.engine() as unknown as EngineInternals;
  const segment = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as T;
    save([input]);
    const value = fn(input);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs] = saved;
      // A nested gradient at depth 0 replaces (and then clears) the engine's active tape, which the outer
      // gradient still needs to release its saved tensors: keep it and put it back.
      const outerTape = engine.state.activeTape;
      recomputeDepth++;
      try {
        return tf.tidy(() => {
          const { value: y, grads } = engine.gradients(() => fn(xs as T), [xs, ...variables], dy, true);
          y.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(i === 0 ? xs : variables[i - 1]));
        });
      } finally {
        recomputeDepth--;
        engine.state.activeTape = outerTape;
      }
    };
    return { value, gradFunc };
  });
  return (segment as (...a: tf.Tensor[]) => T)(x, ...variables);
}
