/**
 * Float64 reference implementations of the forward ops whose gradients @netaug/backend registers, written
 * directly from their definitions (NHWC, TensorFlow padding rules). The gradient tests differentiate these by
 * central differences in float64; nothing here calls tfjs.
 */

export interface Arr {
  shape: number[];
  data: Float64Array;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function arr(shape: number[], data?: ArrayLike<number>): Arr {
  return { shape: [...shape], data: data ? Float64Array.from(data) : new Float64Array(sizeOf(shape)) };
}

/** Multi-index of flat index `i` in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
  return f;
}

export function map(a: Arr, f: (v: number) => number): Arr {
  return { shape: [...a.shape], data: a.data.map(f) };
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Element of `a` at output multi-index `idx` under broadcasting. */
function at(a: Arr, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  let f = 0;
  for (let d = 0; d < a.shape.length; d++) f = f * a.shape[d] + (a.shape[d] === 1 ? 0 : idx[lead + d]);
  return a.data[f];
}

export function binary(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShape(a.shape, b.shape);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(at(a, idx), at(b, idx));
  }
  return out;
}

export function addN(xs: Arr[]): Arr {
  const out = arr(xs[0].shape);
  for (const x of xs) for (let i = 0; i < x.data.length; i++) out.data[i] += x.data[i];
  return out;
}

export function select(cond: Arr, t: Arr, e: Arr): Arr {
  return { shape: [...t.shape], data: t.data.map((v, i) => (cond.data[i] !== 0 ? v : e.data[i])) };
}

// ---- convolutions and pooling (NHWC) ----

export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Output size and leading padding of one spatial axis. */
function axisGeometry(size: number, k: number, stride: number, pad: Pad, axis: 1 | 2): [number, number] {
  if (pad === 'valid') return [Math.ceil((size - k + 1) / stride), 0];
  if (pad === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + k - size, 0);
    return [out, Math.floor(total / 2)];
  }
  const [before, after] = pad[axis];
  return [Math.floor((size + before + after - k) / stride) + 1, before];
}

/** `conv2d(x [N,H,W,C], w [kh,kw,C,O])`. */
export function conv2d(x: Arr, w: Arr, stride: number, pad: Pad): Arr {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , o] = w.shape;
  const [oh, top] = axisGeometry(h, kh, stride, pad, 1);
  const [ow, left] = axisGeometry(wd, kw, stride, pad, 2);
  const out = arr([n, oh, ow, o]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let q = 0; q < o; q++) {
          let s = 0;
          for (let di = 0; di < kh; di++)
            for (let dj = 0; dj < kw; dj++) {
              const y = i * stride + di - top;
              const z = j * stride + dj - left;
              if (y < 0 || y >= h || z < 0 || z >= wd) continue;
              for (let p = 0; p < c; p++)
                s += x.data[ravel([b, y, z, p], x.shape)] * w.data[ravel([di, dj, p, q], w.shape)];
            }
          out.data[ravel([b, i, j, q], out.shape)] = s;
        }
  return out;
}

/** `depthwiseConv2d(x [N,H,W,C], w [kh,kw,C,M])`: output channel `c·M + m`. */
export function depthwiseConv2d(x: Arr, w: Arr, stride: number, pad: Pad): Arr {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, , m] = w.shape;
  const [oh, top] = axisGeometry(h, kh, stride, pad, 1);
  const [ow, left] = axisGeometry(wd, kw, stride, pad, 2);
  const out = arr([n, oh, ow, c * m]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < c; p++)
          for (let q = 0; q < m; q++) {
            let s = 0;
            for (let di = 0; di < kh; di++)
              for (let dj = 0; dj < kw; dj++) {
                const y = i * stride + di - top;
                const z = j * stride + dj - left;
                if (y < 0 || y >= h || z < 0 || z >= wd) continue;
                s += x.data[ravel([b, y, z, p], x.shape)] * w.data[ravel([di, dj, p, q], w.shape)];
              }
            out.data[ravel([b, i, j, p * m + q], out.shape)] = s;
          }
  return out;
}

/** Max / average pooling over in-bounds elements of each window (padding excluded, as TensorFlow does). */
export function pool(x: Arr, k: number, stride: number, pad: 'same' | 'valid', kind: 'max' | 'avg'): Arr {
  const [n, h, wd, c] = x.shape;
  const [oh, top] = axisGeometry(h, k, stride, pad, 1);
  const [ow, left] = axisGeometry(wd, k, stride, pad, 2);
  const out = arr([n, oh, ow, c]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < c; p++) {
          let best = -Infinity;
          let sum = 0;
          let count = 0;
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) {
              const y = i * stride + di - top;
              const z = j * stride + dj - left;
              if (y < 0 || y >= h || z < 0 || z >= wd) continue;
              const v = x.data[ravel([b, y, z, p], x.shape)];
              best = Math.max(best, v);
              sum += v;
              count++;
            }
          out.data[ravel([b, i, j, p], out.shape)] = kind === 'max' ? best : sum / count;
        }
  return out;
}

/** Batched `op(a)·op(b)` over the last two axes, batch axes broadcast. */
export function matMul(a: Arr, b: Arr, tA: boolean, tB: boolean): Arr {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = tA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [k2, p] = tB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (k !== k2) throw new Error('inner dimensions differ');
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = arr([...batch, m, p]);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const pick = (t: Arr, tb: number[], idx: number[], r: number, c: number, tr: boolean) => {
    const lead = idx.length - tb.length;
    const full = tb.map((d, i) => (d === 1 ? 0 : idx[lead + i]));
    return t.data[ravel([...full, ...(tr ? [c, r] : [r, c])], t.shape)];
  };
  for (let bi = 0; bi < sizeOf(batch); bi++) {
    const idx = unravel(bi, batch);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += pick(a, aBatch, idx, i, q, tA) * pick(b, bBatch, idx, q, j, tB);
        out.data[ravel([...idx, i, j], out.shape)] = s;
      }
  }
  return out;
}

/** Softmax along the last axis. */
export function softmax(x: Arr): Arr {
  const k = x.shape[x.shape.length - 1];
  const out = arr(x.shape);
  for (let r = 0; r < x.data.length / k; r++) {
    const row = x.data.subarray(r * k, (r + 1) * k);
    const mx = Math.max(...row);
    const e = row.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, i) => (out.data[r * k + i] = v / s));
  }
  return out;
}

/** `(x − mean)/√(var + ε)·scale + offset`, the statistics broadcast along the last axis. */
export function batchNorm(x: Arr, mean: Arr, variance: Arr, offset: Arr, scale: Arr, eps: number): Arr {
  const c = x.shape[x.shape.length - 1];
  return {
    shape: [...x.shape],
    data: x.data.map((v, i) => {
      const q = i % c;
      return ((v - mean.data[q]) / Math.sqrt(variance.data[q] + eps)) * scale.data[q] + offset.data[q];
    }),
  };
}

// ---- shapes ----

export function transpose(x: Arr, perm: number[]): Arr {
  const shape = perm.map((p) => x.shape[p]);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, d) => (src[p] = idx[d]));
    out.data[i] = x.data[ravel(src, x.shape)];
  }
  return out;
}

export function slice(x: Arr, begin: number[], size: number[]): Arr {
  const out = arr(size);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, size).map((v, d) => v + begin[d]);
    out.data[i] = x.data[ravel(idx, x.shape)];
  }
  return out;
}

export function pad(x: Arr, paddings: [number, number][], value = 0): Arr {
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const out = arr(shape);
  out.data.fill(value);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => v + paddings[d][0]);
    out.data[ravel(idx, shape)] = x.data[i];
  }
  return out;
}

export function concat(xs: Arr[], axis: number): Arr {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const out = arr(shape);
  let offset = 0;
  for (const x of xs) {
    for (let i = 0; i < x.data.length; i++) {
      const idx = unravel(i, x.shape);
      idx[axis] += offset;
      out.data[ravel(idx, shape)] = x.data[i];
    }
    offset += x.shape[axis];
  }
  return out;
}

export function stack(xs: Arr[], axis: number): Arr {
  const expanded = xs.map((x) => ({
    shape: [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)],
    data: x.data,
  }));
  return concat(expanded, axis);
}

/** Slices of `x` along `axis` of the given sizes. */
export function split(x: Arr, sizes: number[], axis: number): Arr[] {
  let offset = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, d) => (d === axis ? offset : 0));
    const size = x.shape.map((dd, d) => (d === axis ? s : dd));
    offset += s;
    return slice(x, begin, size);
  });
}

export function tile(x: Arr, reps: number[]): Arr {
  const shape = x.shape.map((d, i) => d * reps[i]);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape).map((v, d) => v % x.shape[d]);
    out.data[i] = x.data[ravel(idx, x.shape)];
  }
  return out;
}

/** Reduction over `axes` (all when null) with `f` over each group's values. */
export function reduce(x: Arr, axes: number[] | null, keepDims: boolean, f: (vals: number[]) => number): Arr {
  const ax = axes ?? x.shape.map((_, i) => i);
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (ax.includes(d) ? 0 : v));
    const key = ravel(idx, kept);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(x.data[i]);
  }
  const out = arr(keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i)));
  for (const [key, vals] of groups) out.data[key] = f(vals);
  return out;
}

export const sumOf = (v: number[]) => v.reduce((a, b) => a + b, 0);
export const meanOf = (v: number[]) => sumOf(v) / v.length;

/** Nearest-neighbour resize of `x [N,H,W,C]` to `[oh, ow]`, TensorFlow's index rule for each mode. */
export function resizeNearest(
  x: Arr,
  oh: number,
  ow: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Arr {
  const [n, h, w, c] = x.shape;
  const src = (o: number, size: number, out: number) => {
    if (alignCorners && out > 1) return Math.round((o * (size - 1)) / (out - 1));
    if (halfPixelCenters) return Math.max(0, Math.min(size - 1, Math.floor(((o + 0.5) * size) / out)));
    return Math.min(size - 1, Math.floor((o * size) / out));
  };
  const y = arr([n, oh, ow, c]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let q = 0; q < c; q++)
          y.data[ravel([b, i, j, q], y.shape)] = x.data[ravel([b, src(i, h, oh), src(j, w, ow), q], x.shape)];
  return y;
}
