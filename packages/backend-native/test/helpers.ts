/** Shared test utilities: the native backend (fails loudly when the addon is not built), data, references. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerNativeBackend } from '../src';

/** Threads of the native kernels in tests (CI has 2 cores; >1 exercises the OpenMP paths). */
export const TEST_THREADS = 2;

/**
 * Registers the native backend. Throws — failing every test with the reason on its first line — when the
 * addon is not built: CI installs oneDNN and builds it, so a missing addon is an error, not a skip.
 */
export function setupNative(): void {
  registerNativeBackend({ threads: TEST_THREADS });
}

export async function useBackend(name: 'native' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed`);
  await tf.ready();
  if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
}

/** Deterministic uniform(-1, 1) float32 data. */
export function randomData(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** ||a − b|| / ||b|| (b the reference). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

export function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/**
 * Runs one kernel on a backend with inputs given as float32 arrays; returns the outputs' values and shapes.
 * Every tensor is disposed.
 */
export async function runKernelOn(
  backend: 'native' | 'cpu',
  kernel: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown> = {},
): Promise<{ values: Float32Array; shape: number[] }[]> {
  await useBackend(backend);
  return tf.tidy(() => {
    const ts: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape, 'float32');
    const out = tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => ({
      values: Float32Array.from(t.dataSync() as Float32Array),
      shape: t.shape,
    }));
  });
}

export type Pad = 'same' | 'valid';

/** Output size and leading pad of one spatial dimension (TensorFlow semantics, computed independently). */
export function dimInfo(n: number, k: number, s: number, pad: Pad, d = 1): { out: number; before: number } {
  const eff = (k - 1) * d + 1;
  if (pad === 'valid') return { out: Math.ceil((n - eff + 1) / s), before: 0 };
  const out = Math.ceil(n / s);
  const along = Math.max((out - 1) * s + eff - n, 0);
  return { out, before: Math.floor(along / 2) };
}

/** Float64 NHWC convolution. depthwise: filter [k,k,C,M] (output c·M + m); else [k,k,C,CO] (HWIO). */
export function convRef(
  x: ArrayLike<number>,
  [N, H, W, C]: number[],
  w: ArrayLike<number>,
  [KH, KW, , FO]: number[],
  stride: number,
  pad: Pad,
  depthwise: boolean,
  dil = 1,
): { y: Float64Array; shape: number[] } {
  const hi = dimInfo(H, KH, stride, pad, dil);
  const wi = dimInfo(W, KW, stride, pad, dil);
  const CO = depthwise ? C * FO : FO;
  const y = new Float64Array(N * hi.out * wi.out * CO);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < hi.out; oy++)
      for (let ox = 0; ox < wi.out; ox++)
        for (let co = 0; co < CO; co++) {
          let acc = 0;
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * stride + ky * dil - hi.before;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * stride + kx * dil - wi.before;
              if (ix < 0 || ix >= W) continue;
              const xo = ((n * H + iy) * W + ix) * C;
              if (depthwise) {
                const c = Math.floor(co / FO);
                const m = co % FO;
                acc += x[xo + c] * w[((ky * KW + kx) * C + c) * FO + m];
              } else {
                for (let c = 0; c < C; c++) acc += x[xo + c] * w[((ky * KW + kx) * C + c) * CO + co];
              }
            }
          }
          y[((n * hi.out + oy) * wi.out + ox) * CO + co] = acc;
        }
  return { y, shape: [N, hi.out, wi.out, CO] };
}

/**
 * Central finite differences in float64 of L(v) = Σ f(v)·g over every element of v (f linear in v here, so
 * the float64 differences are exact up to rounding).
 */
export function finiteDiff(
  v: Float32Array,
  g: Float32Array,
  f: (v: Float64Array) => Float64Array,
  h = 1e-3,
): Float64Array {
  const base = Float64Array.from(v);
  const grad = new Float64Array(v.length);
  const dot = (a: Float64Array) => a.reduce((s, x, i) => s + x * g[i], 0);
  for (let i = 0; i < v.length; i++) {
    const old = base[i];
    base[i] = old + h;
    const plus = dot(f(base));
    base[i] = old - h;
    const minus = dot(f(base));
    base[i] = old;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}
