/** Shared test utilities: backend switching, seeded data, float64 reference convolutions, error norms. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
import { registerWasmGradientKernels } from '../src';

let wasmPathsSet = false;

/** Activates `name` ('wasm' gets its binaries path and this package's kernels). */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') {
    if (!wasmPathsSet && tf.findBackend('wasm') == null) {
      setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
      wasmPathsSet = true;
    }
    registerWasmGradientKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed`);
  await tf.ready();
  if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false; // no "install tfjs-node" banner
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

/** ||a − b|| / ||b|| (b the reference). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

export type Pad = 'same' | 'valid';

/** Output size and leading pad of one spatial dimension, tfjs/TensorFlow semantics (computed independently). */
export function dimInfo(size: number, k: number, s: number, pad: Pad): { out: number; before: number } {
  if (pad === 'valid') return { out: Math.ceil((size - k + 1) / s), before: 0 };
  const out = Math.ceil(size / s);
  const along = Math.max((out - 1) * s + k - size, 0);
  return { out, before: Math.floor(along / 2) };
}

/** Float64 NHWC conv2d (`depthwise`: filter [k,k,C,mult], else [k,k,C,CO]). Returns y and its shape. */
export function convRef(
  x: ArrayLike<number>,
  [N, H, W, C]: number[],
  w: ArrayLike<number>,
  [KH, KW, , F]: number[],
  s: number,
  pad: Pad,
  depthwise: boolean,
): { y: Float64Array; shape: number[] } {
  const hi = dimInfo(H, KH, s, pad);
  const wi = dimInfo(W, KW, s, pad);
  const OC = depthwise ? C * F : F;
  const y = new Float64Array(N * hi.out * wi.out * OC);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < hi.out; oh++)
      for (let ow = 0; ow < wi.out; ow++)
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * s + kh - hi.before;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * s + kw - wi.before;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * C;
            const yo = ((n * hi.out + oh) * wi.out + ow) * OC;
            for (let c = 0; c < C; c++)
              for (let f = 0; f < F; f++) {
                const wv = w[((kh * KW + kw) * C + c) * F + f];
                if (depthwise) y[yo + c * F + f] += x[xo + c] * wv;
                else y[yo + f] += x[xo + c] * wv;
              }
          }
        }
  return { y, shape: [N, hi.out, wi.out, OC] };
}

/**
 * Central finite differences (float64) of `f(v) = Σ forward(v) · r` with respect to every element of `v`.
 * `forward` maps the perturbed copy to the output.
 */
export function finiteDiff(
  v: Float32Array,
  fwd: (v: Float64Array) => Float64Array,
  r: ArrayLike<number>,
  h = 1e-3,
): Float64Array {
  const p = Float64Array.from(v);
  const g = new Float64Array(v.length);
  const f = (): number => {
    const y = fwd(p);
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] * r[i];
    return sum;
  };
  for (let i = 0; i < v.length; i++) {
    const v0 = p[i];
    p[i] = v0 + h;
    const fp = f();
    p[i] = v0 - h;
    const fm = f();
    p[i] = v0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Runs one kernel on `backend` with fresh tensors made from the given data and returns its output data. */
export async function runKernelOn(
  backend: 'wasm' | 'cpu',
  kernelName: string,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  await useBackend(backend);
  const tensors: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape, 'float32');
  const out = tf.engine().runKernel(kernelName, tensors, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  tf.dispose([out, ...Object.values(tensors)]);
  return data;
}
