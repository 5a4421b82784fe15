import { NetAugError } from './errors';

/** Serialisable state of an {@link Rng}: four unsigned 32-bit words plus a cached normal deviate. */
export interface RngState {
  readonly algorithm: 'sfc32';
  readonly s: [number, number, number, number];
  readonly spare?: number | null;
}

/**
 * Seeded pseudo-random generator (sfc32: small, fast, passes PractRand to 2^40+), with state that can be
 * saved and restored exactly, so that a resumed run draws the same numbers as an uninterrupted one.
 * Written here rather than taken from a package because the state must be a plain JSON value and the
 * generator must be identical in Node, browsers and worker threads; it is 40 lines.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number | string = 0) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new NetAugError('INVALID_ARGUMENT', `Rng seed must be a finite number, got ${seed}`);
    }
    // splitmix32 expansion of the seed into four words; both 32-bit halves of a numeric seed count
    let h = typeof seed === 'string' ? hashString(seed) : Math.floor(seed) >>> 0;
    const hi = typeof seed === 'string' ? 0 : Math.floor(seed / 2 ** 32) >>> 0;
    const next = () => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next() ^ hi;
    this.c = next();
    this.d = next() ^ Math.imul(hi, 0x9e3779b1);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A generator restored from a saved state. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
      throw new NetAugError('INVALID_ARGUMENT', `Rng.int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** One element of a non-empty array, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new NetAugError('INVALID_ARGUMENT', 'Rng.choice() of an empty array');
    return items[this.int(items.length)];
  }

  /** Standard normal deviate (Marsaglia polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return mean + std * s;
    }
    let u: number, v: number, s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return mean + std * u * m;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(arr: A): A {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A new independent generator seeded from this one (advances this one by 2 draws). */
  fork(): Rng {
    return new Rng(this.nextUint32() * 4294967296 + this.nextUint32());
  }

  getState(): RngState {
    return {
      algorithm: 'sfc32',
      s: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0],
      spare: this.spare,
    };
  }

  setState(state: RngState): void {
    if (!state || state.algorithm !== 'sfc32' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new NetAugError('INVALID_ARGUMENT', 'Not an Rng state', {
        hint: 'pass a value returned by Rng.getState()',
      });
    }
    [this.a, this.b, this.c, this.d] = state.s.map((x) => x | 0);
    this.spare = state.spare ?? null;
  }
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
