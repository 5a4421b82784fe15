/**
 * Float32Array loops of the fused training-mode batch norm over channels-last data viewed as `[rows, C]`
 * (rows = N·H·W). Shared by the wasm kernels (views of the wasm heap) and the cpu kernels.
 *
 * Every pass walks blocks of 4 channels down the rows with scalar float64 accumulators / float64
 * coefficients in locals (measured ~4× faster than a pixel-major loop over per-channel arrays for the
 * reductions); channel sums are shifted by the first row, so there is no cancellation when |mean| ≫ std.
 */

/**
 * The two loops every pass is made of; {@link jsBnLoops} by default, the wasm kernels pass SIMD versions that
 * compute the same bits (`wasm/simd/bn-kernels`).
 */
export interface BnLoops {
  channelSums: typeof channelSums;
  channelAffine: typeof channelAffine;
}

/** `acc1[c] += Σ (a − ka[c])`, `acc2[c] += Σ (a − ka[c])·(b − kb[c])` over rows, for every channel. */
function channelSums(
  a: Float32Array,
  b: Float32Array,
  ka: Float64Array,
  kb: Float64Array,
  C: number,
  acc1: Float64Array,
  acc2: Float64Array,
): void {
  forEachTile(a.length, C, (t0, t1) => sumsTile(a, b, ka, kb, C, acc1, acc2, t0, t1));
}

/**
 * Calls `each(t0, t1)` for the element ranges of consecutive tiles of `n` elements (`C` channels): whole rows,
 * ~16 KiB of floats per operand, so the 4-channel passes over a tile stay in L1.
 */
export function forEachTile(n: number, C: number, each: (t0: number, t1: number) => void): void {
  const tile = Math.max(1, Math.floor(4096 / C)) * C;
  for (let t0 = 0; t0 < n; t0 += tile) each(t0, Math.min(n, t0 + tile));
}

/** {@link channelSums} over the elements [start, n) of channels c0Start… (one tile). */
export function sumsTile(
  a: Float32Array,
  b: Float32Array,
  ka: Float64Array,
  kb: Float64Array,
  C: number,
  acc1: Float64Array,
  acc2: Float64Array,
  start: number,
  n: number,
  c0Start = 0,
): void {
  let c0 = c0Start;
  for (; c0 + 4 <= C; c0 += 4) {
    const ka0 = ka[c0], ka1 = ka[c0 + 1], ka2 = ka[c0 + 2], ka3 = ka[c0 + 3]; // prettier-ignore
    const kb0 = kb[c0], kb1 = kb[c0 + 1], kb2 = kb[c0 + 2], kb3 = kb[c0 + 3]; // prettier-ignore
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0; // prettier-ignore
    for (let i = start + c0; i < n; i += C) {
      const d0 = a[i] - ka0;
      const d1 = a[i + 1] - ka1;
      const d2 = a[i + 2] - ka2;
      const d3 = a[i + 3] - ka3;
      s0 += d0;
      s1 += d1;
      s2 += d2;
      s3 += d3;
      q0 += d0 * (b[i] - kb0);
      q1 += d1 * (b[i + 1] - kb1);
      q2 += d2 * (b[i + 2] - kb2);
      q3 += d3 * (b[i + 3] - kb3);
    }
    acc1[c0] += s0;
    acc1[c0 + 1] += s1;
    acc1[c0 + 2] += s2;
    acc1[c0 + 3] += s3;
    acc2[c0] += q0;
    acc2[c0 + 1] += q1;
    acc2[c0 + 2] += q2;
    acc2[c0 + 3] += q3;
  }
  for (; c0 < C; c0++) {
    const k = ka[c0];
    const kk = kb[c0];
    let s = 0;
    let q = 0;
    for (let i = start + c0; i < n; i += C) {
      const d = a[i] - k;
      s += d;
      q += d * (b[i] - kk);
    }
    acc1[c0] += s;
    acc2[c0] += q;
  }
}

/**
 * `out = a·A[c] + D[c]` (b == null) or `out = a·A[c] + b·B[c] + D[c]`, per channel; with `clampHi` (a fused
 * activation: relu `Infinity`, relu6 6) each result is then clamped to [0, clampHi].
 */
function channelAffine(
  a: Float32Array,
  A: Float64Array,
  b: Float32Array | null,
  B: Float64Array,
  D: Float64Array,
  C: number,
  out: Float32Array,
  clampHi: number | null = null,
): void {
  forEachTile(a.length, C, (t0, t1) => {
    affineTile(a, A, b, B, D, C, out, t0, t1);
    if (clampHi != null) clampTile(out, t0, t1, clampHi);
  });
}

/**
 * `out[i] = min(max(out[i], 0), hi)` over [start, n): on the float32 results this gives the same bits as clamping
 * the float64 value before rounding (rounding is monotonic and 0, 6 are exact); −0 becomes +0.
 */
export function clampTile(out: Float32Array, start: number, n: number, hi: number): void {
  for (let i = start; i < n; i++) out[i] = Math.min(Math.max(out[i], 0), hi);
}

/** The plain JS loops. */
export const jsBnLoops: BnLoops = { channelSums, channelAffine };

/** {@link channelAffine} over the elements [start, n) of channels c0Start… (one tile). */
export function affineTile(
  a: Float32Array,
  A: Float64Array,
  b: Float32Array | null,
  B: Float64Array,
  D: Float64Array,
  C: number,
  out: Float32Array,
  start: number,
  n: number,
  c0Start = 0,
): void {
  let c0 = c0Start;
  for (; c0 + 4 <= C; c0 += 4) {
    const a0 = A[c0], a1 = A[c0 + 1], a2 = A[c0 + 2], a3 = A[c0 + 3]; // prettier-ignore
    const d0 = D[c0], d1 = D[c0 + 1], d2 = D[c0 + 2], d3 = D[c0 + 3]; // prettier-ignore
    if (b == null) {
      for (let i = start + c0; i < n; i += C) {
        out[i] = a[i] * a0 + d0;
        out[i + 1] = a[i + 1] * a1 + d1;
        out[i + 2] = a[i + 2] * a2 + d2;
        out[i + 3] = a[i + 3] * a3 + d3;
      }
    } else {
      const b0 = B[c0], b1 = B[c0 + 1], b2 = B[c0 + 2], b3 = B[c0 + 3]; // prettier-ignore
      for (let i = start + c0; i < n; i += C) {
        out[i] = a[i] * a0 + b[i] * b0 + d0;
        out[i + 1] = a[i + 1] * a1 + b[i + 1] * b1 + d1;
        out[i + 2] = a[i + 2] * a2 + b[i + 2] * b2 + d2;
        out[i + 3] = a[i + 3] * a3 + b[i + 3] * b3 + d3;
      }
    }
  }
  for (; c0 < C; c0++) {
    const ac = A[c0];
    const bc = B[c0];
    const dc = D[c0];
    if (b == null) for (let i = start + c0; i < n; i += C) out[i] = a[i] * ac + dc;
    else for (let i = start + c0; i < n; i += C) out[i] = a[i] * ac + b[i] * bc + dc;
  }
}

/**
 * Forward: writes `y`, the batch `mean` and the biased `variance` (each `[C]`); with `clampHi` `y` is the fused
 * activation's output (see `channelAffine`).
 */
export function bnForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  epsilon: number,
  C: number,
  y: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  loops: BnLoops = jsBnLoops,
  clampHi: number | null = null,
): void {
  const rows = x.length / C;
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) shift[c] = rows > 0 ? x[c] : 0;
  const s = new Float64Array(C);
  const q = new Float64Array(C);
  loops.channelSums(x, x, shift, shift, C, s, q);
  const scale = new Float64Array(C);
  const offset = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const mu = rows > 0 ? s[c] / rows : 0;
    const v = rows > 0 ? Math.max(0, (q[c] - s[c] * mu) / rows) : 0;
    const m = shift[c] + mu;
    mean[c] = m;
    variance[c] = v;
    scale[c] = gamma[c] / Math.sqrt(v + epsilon);
    offset[c] = beta[c] - m * scale[c];
  }
  loops.channelAffine(x, scale, null, scale, offset, C, y, clampHi);
}

/**
 * Backward of {@link bnForward} given `dy` and the gradients of the `mean` / `variance` outputs (`[C]`, zeros
 * when unused): writes `dx`, `dgamma`, `dbeta`. With x̂ = (x − μ)/σ, σ = √(var + ε), m = rows:
 * `dβ = Σ dy`, `dγ = Σ dy·x̂`, `dx = γ/σ·(dy − dβ/m − x̂·dγ/m) + dμ/m + 2·dvar·(x − μ)/m`.
 */
export function bnBackward(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  dmean: Float32Array,
  dvariance: Float32Array,
  epsilon: number,
  C: number,
  dx: Float32Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  loops: BnLoops = jsBnLoops,
): void {
  const rows = x.length / C;
  const zero = new Float64Array(C);
  const mu = Float64Array.from(mean);
  const sdy = new Float64Array(C);
  const sdyx = new Float64Array(C);
  loops.channelSums(dy, x, zero, mu, C, sdy, sdyx); // Σ dy, Σ dy·(x − μ)
  // dx = dy·A + x·B + D per channel
  const A = new Float64Array(C);
  const B = new Float64Array(C);
  const D = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(variance[c] + epsilon);
    const db = sdy[c];
    const dg = sdyx[c] * inv;
    dbeta[c] = db;
    dgamma[c] = dg;
    if (rows === 0) continue;
    const a = gamma[c] * inv;
    A[c] = a;
    B[c] = (-a * inv * dg) / rows + (2 * dvariance[c]) / rows;
    D[c] = -B[c] * mu[c] - (a * db) / rows + dmean[c] / rows;
  }
  loops.channelAffine(dy, A, x, B, D, C, dx);
}
