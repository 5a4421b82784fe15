import { Rng } from '@netaug/core';

/**
 * Seeded weight initialisation into Float32Arrays (not `tf.random*`), so the same seed gives the same weights
 * on every backend. Each variable draws from its own generator `new Rng(`${seed}/${name}`)`, so a weight does
 * not depend on how many other weights were created before it.
 */
export interface WeightInit {
  seed: number;
}

function rngFor(init: WeightInit, name: string): Rng {
  return new Rng(`${init.seed}/${name}`);
}

/**
 * Kaiming-uniform (He) init for conv weights, as `torch.nn.init.kaiming_uniform_(w, mode='fan_in',
 * nonlinearity='relu')`: `U(-b, b)` with `b = sqrt(2) · sqrt(3 / fanIn) = sqrt(6 / fanIn)`.
 * `fanIn` is computed from the supernet's (largest) weight shape.
 */
export function kaimingUniform(init: WeightInit, name: string, size: number, fanIn: number): Float32Array {
  const bound = Math.sqrt(6 / fanIn);
  return uniform(init, name, size, bound);
}

/** `U(-bound, bound)` values. */
export function uniform(init: WeightInit, name: string, size: number, bound: number): Float32Array {
  const rng = rngFor(init, name);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}
