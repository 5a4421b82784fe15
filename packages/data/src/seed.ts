import { Rng } from '@netaug/core';

/** Domain tags so that the streams for shuffling and for sample transforms never coincide. */
export const STREAM_PERMUTATION = 1;
export const STREAM_SAMPLE = 2;
export const STREAM_SUBSET = 3;

function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A generator that is a pure function of `(seed, ...parts)`: the same inputs give the same stream in any
 * thread and after any restart. All 128 bits of sfc32 state are derived (the `Rng(number)` constructor keeps
 * only 32 bits of its seed), so streams for different `(epoch, index)` do not collide in practice.
 */
export function deriveRng(seed: number, ...parts: number[]): Rng {
  const words = [Math.floor(seed) >>> 0, Math.floor(seed / 2 ** 32) >>> 0, ...parts.map((p) => p >>> 0)];
  const s: [number, number, number, number] = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    let h = 0x9e3779b9 + k * 0x632be5ab;
    for (const w of words) h = mix(h, w);
    h = mix(h, words.length);
    s[k] = h;
  }
  const rng = Rng.fromState({ algorithm: 'sfc32', s, spare: null });
  for (let i = 0; i < 12; i++) rng.nextUint32();
  return rng;
}
