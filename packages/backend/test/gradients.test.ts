/**
 * Every gradient of registerTrainingGradients() against float64 central finite differences of an independent
 * float64 reference forward (test/reference-ops.ts): the op runs in float32 on the cpu backend with only this
 * package's gradients registered, its input gradient for a random upstream `dy` is compared with
 * `∂/∂xᵢ Σ dy·ref(x)` by central differences (h = 1e-6) in float64. The reference forward is checked against
 * the tfjs forward first, so the reference has the op's exact semantics (padding, broadcasting).
 *
 * Tolerance: max |g − g_ref| ≤ 1e-6 · max(1, max |g_ref|) (float32 arithmetic on O(1) values; measured
 * ≤ 1.1e-7; the finite differences themselves are accurate to ~1e-9). Piecewise ops get inputs at least 1e-3
 * away from their kinks.
 * The measured errors are printed (console.log) at the end.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTrainingGradients, TRAINING_GRADIENTS, TRAINING_GRADIENT_KERNELS } from '../src';
import * as R from './reference-ops';
import type { Arr } from './reference-ops';

const TOL = 1e-6;
const H = 1e-6;
const measured = new Map<string, number>();
const covered = new Set<string>();

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
});

afterAll(() => {
  const rows = [...measured].map(([k, v]) => `${k.padEnd(48)} ${v.toExponential(2)}`);
  console.log(
    `max |g − g_ref| / max(1, |g_ref|), float32 gradient vs float64 finite differences:\n${rows.join('\n')}`,
  );
});

let seed = 12345;
/** Deterministic uniform [lo, hi) values, rounded to float32 (the reference sees exactly the tensor's values). */
function uniform(shape: number[], lo = -1, hi = 1): Arr {
  const a = R.arr(shape);
  for (let i = 0; i < a.data.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    a.data[i] = Math.fround(lo + (seed / 4294967296) * (hi - lo));
  }
  return a;
}

/** Uniform values at least `margin` away from every point of `kinks`. */
function awayFrom(shape: number[], kinks: number[], lo = -1, hi = 1, margin = 1e-3): Arr {
  const a = uniform(shape, lo, hi);
  a.data = a.data.map((v) => {
    for (const k of kinks)
      if (Math.abs(v - k) < margin) v = Math.fround(k + (v < k ? -2 * margin : 2 * margin));
    return v;
  });
  return a;
}

/** Distinct values (a shuffled grid with spacing 0.01), so max / min have no ties near the perturbation. */
function distinct(shape: number[]): Arr {
  const n = R.sizeOf(shape);
  const vals = Array.from({ length: n }, (_, i) => Math.fround(-1 + (2 * i) / n + 0.003));
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    [vals[i], vals[j]] = [vals[j], vals[i]];
  }
  return R.arr(shape, vals);
}

const toTensor = (a: Arr) => tf.tensor(Float32Array.from(a.data), a.shape, 'float32');

/**
 * Checks the gradients of `op` w.r.t. the inputs listed in `wrt` (default all) for upstream `dy` against
 * finite differences of `ref`, that `op`'s kernel has this package's gradient, and that computing the gradient
 * leaves no tensor behind.
 */
function check(
  label: string,
  kernel: string,
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  ref: (...xs: Arr[]) => Arr,
  inputs: Arr[],
  wrt: number[] = inputs.map((_, i) => i),
): void {
  const ours = TRAINING_GRADIENTS.find((g) => g.kernelName === kernel);
  expect(ours).toBeDefined();
  expect(tf.getGradient(kernel)).toBe(ours);
  covered.add(kernel);
  const xs = inputs.map(toTensor);
  // the reference has the op's semantics
  const y = op(...xs);
  const yRef = ref(...inputs);
  expect(y.shape).toEqual(yRef.shape);
  const yv = y.dataSync();
  const scale = Math.max(1, ...yRef.data.map(Math.abs));
  yRef.data.forEach((v, i) => expect(Math.abs(yv[i] - v)).toBeLessThanOrEqual(1e-5 * scale));
  y.dispose();

  const dy = uniform(yRef.shape);
  const dyT = toTensor(dy);
  const before = tf.memory().numTensors;
  const grads = tf.grads((...t: tf.Tensor[]) => op(...t))(xs, dyT);
  const values = grads.map((g) => g.dataSync().slice());
  grads.forEach((g, k) => expect(g.shape).toEqual(inputs[k].shape));
  tf.dispose(grads);
  expect(tf.memory().numTensors).toBe(before); // no tensor left behind by the gradient computation

  const loss = (ins: Arr[]) => {
    const out = ref(...ins);
    let s = 0;
    for (let i = 0; i < out.data.length; i++) s += out.data[i] * dy.data[i];
    return s;
  };
  let worst = 0;
  for (const k of wrt) {
    const x = inputs[k];
    const expected = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      const plus = inputs.map((a, j) => (j === k ? { shape: a.shape, data: a.data.slice() } : a));
      plus[k].data[i] = v + H;
      const minus = inputs.map((a, j) => (j === k ? { shape: a.shape, data: a.data.slice() } : a));
      minus[k].data[i] = v - H;
      expected[i] = (loss(plus) - loss(minus)) / (2 * H);
    }
    const s = Math.max(1, ...expected.map(Math.abs));
    for (let i = 0; i < expected.length; i++) {
      const err = Math.abs(values[k][i] - expected[i]) / s;
      worst = Math.max(worst, err);
      if (!(err <= TOL)) {
        throw new Error(
          `${label}: d/dinput${k}[${i}] = ${values[k][i]}, reference ${expected[i]} (error ${err})`,
        );
      }
    }
  }
  measured.set(label, Math.max(measured.get(label) ?? 0, worst));
  tf.dispose([...xs, dyT]);
}

beforeAll(() => {
  registerTrainingGradients();
});

describe('binary ops with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [
      [2, 1, 4],
      [3, 1],
    ],
    [[], [2, 3]],
    [
      [1, 3, 1],
      [2, 1, 5],
    ],
  ];
  for (const [sa, sb] of shapes) {
    const tag = `[${sa}]·[${sb}]`;
    test(`Add, Sub, Multiply ${tag}`, () => {
      check(`Add ${tag}`, 'Add', tf.add, (a, b) => R.binary(a, b, (x, y) => x + y), [
        uniform(sa),
        uniform(sb),
      ]);
      check(`Sub ${tag}`, 'Sub', tf.sub, (a, b) => R.binary(a, b, (x, y) => x - y), [
        uniform(sa),
        uniform(sb),
      ]);
      check(`Multiply ${tag}`, 'Multiply', tf.mul, (a, b) => R.binary(a, b, (x, y) => x * y), [
        uniform(sa),
        uniform(sb),
      ]);
    });
    test(`RealDiv, SquaredDifference, Pow ${tag}`, () => {
      check(`RealDiv ${tag}`, 'RealDiv', tf.div, (a, b) => R.binary(a, b, (x, y) => x / y), [
        uniform(sa),
        uniform(sb, 0.5, 2),
      ]);
      check(
        `SquaredDifference ${tag}`,
        'SquaredDifference',
        tf.squaredDifference,
        (a, b) => R.binary(a, b, (x, y) => (x - y) ** 2),
        [uniform(sa), uniform(sb)],
      );
      check(`Pow ${tag}`, 'Pow', tf.pow, (a, b) => R.binary(a, b, (x, y) => x ** y), [
        uniform(sa, 0.5, 2),
        uniform(sb, -1.5, 2.5),
      ]);
    });
    test(`Maximum, Minimum ${tag}`, () => {
      // operands drawn from disjoint grids: |a − b| ≥ 0.002 everywhere
      const a = R.map(uniform(sa), (v) => Math.fround(Math.round(v * 100) / 100 + 0.002));
      const b = R.map(uniform(sb), (v) => Math.fround(Math.round(v * 100) / 100 - 0.002));
      check(`Maximum ${tag}`, 'Maximum', tf.maximum, (p, q) => R.binary(p, q, Math.max), [a, b]);
      check(`Minimum ${tag}`, 'Minimum', tf.minimum, (p, q) => R.binary(p, q, Math.min), [a, b]);
    });
  }

  test('AddN of three', () => {
    const s = [2, 3, 2];
    check(
      'AddN',
      'AddN',
      (...xs) => tf.addN(xs),
      (...xs) => R.addN(xs),
      [uniform(s), uniform(s), uniform(s)],
    );
  });

  test('Select (t / e; the condition is not differentiable)', () => {
    const cond = R.map(uniform([3, 4]), (v) => (v > 0 ? 1 : 0));
    const condT = tf.tidy(() => tf.cast(tf.tensor(Float32Array.from(cond.data), cond.shape), 'bool'));
    check(
      'Select',
      'Select',
      (t, e) => tf.where(condT, t, e),
      (t, e) => R.select(cond, t, e),
      [uniform([3, 4]), uniform([3, 4])],
    );
    condT.dispose();
  });
});

describe('unary ops', () => {
  const s = [3, 5];
  const cases: [string, (x: tf.Tensor) => tf.Tensor, (v: number) => number, () => Arr][] = [
    ['Neg', tf.neg, (v) => -v, () => uniform(s)],
    ['Square', tf.square, (v) => v * v, () => uniform(s, -2, 2)],
    ['Sqrt', tf.sqrt, Math.sqrt, () => uniform(s, 0.2, 3)],
    ['Rsqrt', tf.rsqrt, (v) => 1 / Math.sqrt(v), () => uniform(s, 0.2, 3)],
    ['Reciprocal', tf.reciprocal, (v) => 1 / v, () => R.map(uniform(s, 0.4, 2), (v) => (v > 1.2 ? -v : v))],
    ['Exp', tf.exp, Math.exp, () => uniform(s, -2, 2)],
    ['Log', tf.log, Math.log, () => uniform(s, 0.2, 3)],
    ['Log1p', tf.log1p, Math.log1p, () => uniform(s, -0.5, 2)],
    ['Abs', tf.abs, Math.abs, () => awayFrom(s, [0])],
    ['Relu', tf.relu, (v) => Math.max(v, 0), () => awayFrom(s, [0])],
    ['Relu6', tf.relu6, (v) => Math.min(Math.max(v, 0), 6), () => awayFrom(s, [0, 6], -2, 8)],
    ['LeakyRelu', (x) => tf.leakyRelu(x, 0.2), (v) => (v > 0 ? v : 0.2 * v), () => awayFrom(s, [0])],
    ['Sigmoid', tf.sigmoid, (v) => 1 / (1 + Math.exp(-v)), () => uniform(s, -4, 4)],
    ['Tanh', tf.tanh, Math.tanh, () => uniform(s, -2, 2)],
    ['Softplus', tf.softplus, (v) => Math.log1p(Math.exp(v)), () => uniform(s, -4, 4)],
    [
      'ClipByValue',
      (x) => tf.clipByValue(x, -0.5, 0.7),
      (v) => Math.min(Math.max(v, -0.5), 0.7),
      () => awayFrom(s, [-0.5, 0.7]),
    ],
  ];
  for (const [kernel, op, f, data] of cases) {
    test(kernel, () => check(kernel, kernel, op, (x) => R.map(x, f), [data()]));
  }
});

describe('convolutions, matMul, pooling', () => {
  const convCases: [string, number[], number, number, R.Pad][] = [
    ['3×3 stride 1 same', [2, 5, 6, 3], 3, 1, 'same'],
    ['3×3 stride 2 same, even input (asymmetric padding)', [2, 6, 6, 3], 3, 2, 'same'],
    ['3×3 stride 2 valid', [1, 7, 6, 2], 3, 2, 'valid'],
    ['5×5 stride 2 same, odd input', [1, 7, 5, 2], 5, 2, 'same'],
    ['1×1 stride 1', [2, 4, 3, 5], 1, 1, 'valid'],
    [
      '3×3 explicit padding',
      [1, 5, 5, 2],
      3,
      1,
      [
        [0, 0],
        [1, 0],
        [0, 2],
        [0, 0],
      ],
    ],
  ];
  for (const [tag, xs, k, stride, pad] of convCases) {
    test(`Conv2D ${tag}`, () => {
      check(
        `Conv2D ${tag}`,
        'Conv2D',
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
        (x, w) => R.conv2d(x, w, stride, pad),
        [uniform(xs), uniform([k, k, xs[3], 4])],
      );
    });
    if (pad === 'same' || pad === 'valid') {
      test(`DepthwiseConv2dNative ${tag}`, () => {
        for (const mult of [1, 2]) {
          check(
            `DepthwiseConv2dNative ${tag}`,
            'DepthwiseConv2dNative',
            (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
            (x, w) => R.depthwiseConv2d(x, w, stride, pad),
            [uniform(xs), uniform([k, k, xs[3], mult])],
          );
        }
      });
    }
  }

  test('BatchMatMul: every transpose combination, batched, broadcast batch', () => {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const sa = tA ? [4, 3] : [3, 4];
        const sb = tB ? [5, 4] : [4, 5];
        const tag = `${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'}`;
        check(
          `BatchMatMul ${tag}`,
          'BatchMatMul',
          (a, b) => tf.matMul(a, b, tA, tB),
          (a, b) => R.matMul(a, b, tA, tB),
          [uniform(sa), uniform(sb)],
        );
        check(
          `BatchMatMul batched ${tag}`,
          'BatchMatMul',
          (a, b) => tf.matMul(a, b, tA, tB),
          (a, b) => R.matMul(a, b, tA, tB),
          [uniform([2, ...sa]), uniform([2, ...sb])],
        );
      }
    }
    check(
      'BatchMatMul broadcast batch',
      'BatchMatMul',
      (a, b) => tf.matMul(a, b),
      (a, b) => R.matMul(a, b, false, false),
      [uniform([1, 3, 4]), uniform([2, 4, 5])],
    );
    check(
      'BatchMatMul rank 3 · rank 2',
      'BatchMatMul',
      (a, b) => tf.matMul(a, b),
      (a, b) => R.matMul(a, b, false, false),
      [uniform([2, 3, 4]), uniform([4, 5])],
    );
  });

  const poolCases: [string, number[], number, number, 'same' | 'valid'][] = [
    ['3×3 stride 2 same', [2, 5, 6, 3], 3, 2, 'same'],
    ['3×3 stride 2 same, even input', [1, 6, 6, 2], 3, 2, 'same'],
    ['2×2 stride 2 valid', [2, 4, 6, 2], 2, 2, 'valid'],
    ['3×3 stride 1 same', [1, 4, 5, 2], 3, 1, 'same'],
  ];
  for (const [tag, xs, k, stride, pad] of poolCases) {
    test(`MaxPool, AvgPool ${tag}`, () => {
      check(
        `MaxPool ${tag}`,
        'MaxPool',
        (x) => tf.maxPool(x as tf.Tensor4D, k, stride, pad),
        (x) => R.pool(x, k, stride, pad, 'max'),
        [distinct(xs)],
      );
      check(
        `AvgPool ${tag}`,
        'AvgPool',
        (x) => tf.avgPool(x as tf.Tensor4D, k, stride, pad),
        (x) => R.pool(x, k, stride, pad, 'avg'),
        [uniform(xs)],
      );
    });
  }

  const resizeCases: [string, number[], number, number, boolean, boolean][] = [
    ['2× upsampling (feature pyramid)', [2, 3, 4, 2], 6, 8, false, false],
    ['3×2 upsampling', [1, 2, 3, 2], 6, 6, false, false],
    ['5×4 → 7×9', [1, 5, 4, 2], 7, 9, false, false],
    ['downsampling 6×5 → 4×3 (some pixels unused)', [1, 6, 5, 1], 4, 3, false, false],
    ['alignCorners 4×3 → 7×5', [1, 4, 3, 2], 7, 5, true, false],
    ['halfPixelCenters 3×4 → 5×7', [2, 3, 4, 1], 5, 7, false, true],
  ];
  for (const [tag, xs, oh, ow, align, half] of resizeCases) {
    test(`ResizeNearestNeighbor ${tag}`, () => {
      check(
        `ResizeNearestNeighbor ${tag}`,
        'ResizeNearestNeighbor',
        (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [oh, ow], align, half),
        (x) => R.resizeNearest(x, oh, ow, align, half),
        [uniform(xs)],
      );
    });
  }

  test('Softmax', () => {
    check('Softmax', 'Softmax', (x) => tf.softmax(x), R.softmax, [uniform([3, 5], -3, 3)]);
    check('Softmax rank 3', 'Softmax', (x) => tf.softmax(x), R.softmax, [uniform([2, 2, 4], -3, 3)]);
  });

  test('FusedBatchNorm (tf.batchNorm): x, mean, variance, offset, scale', () => {
    check(
      'FusedBatchNorm',
      'FusedBatchNorm',
      (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3),
      (x, m, v, o, s) => R.batchNorm(x, m, v, o, s, 1e-3),
      [uniform([2, 3, 2, 4]), uniform([4]), uniform([4], 0.3, 2), uniform([4]), uniform([4], 0.5, 1.5)],
    );
  });
});

describe('shapes and copies', () => {
  test('Reshape, ExpandDims, Transpose, Cast, Identity', () => {
    check(
      'Reshape',
      'Reshape',
      (x) => tf.reshape(x, [6, 4]),
      (x) => ({ shape: [6, 4], data: x.data }),
      [uniform([2, 3, 4])],
    );
    check(
      'ExpandDims',
      'ExpandDims',
      (x) => tf.expandDims(x, 1),
      (x) => ({ shape: [2, 1, 3], data: x.data }),
      [uniform([2, 3])],
    );
    check(
      'Transpose',
      'Transpose',
      (x) => tf.transpose(x, [2, 0, 1]),
      (x) => R.transpose(x, [2, 0, 1]),
      [uniform([2, 3, 4])],
    );
    check(
      'Cast',
      'Cast',
      (x) => tf.cast(x, 'float32'),
      (x) => x,
      [uniform([2, 3])],
    );
    check(
      'Identity',
      'Identity',
      (x) => tf.clone(x),
      (x) => x,
      [uniform([2, 3])],
    );
  });

  test('Slice (begin / size lists, size −1, a scalar begin)', () => {
    check(
      'Slice',
      'Slice',
      (x) => tf.slice(x, [1, 0, 2], [1, 2, -1]),
      (x) => R.slice(x, [1, 0, 2], [1, 2, 2]),
      [uniform([2, 3, 4])],
    );
    check(
      'Slice leading',
      'Slice',
      (x) => tf.slice(x, 1, 2),
      (x) => R.slice(x, [1, 0], [2, 3]),
      [uniform([4, 3])],
    );
  });

  test('PadV2', () => {
    const p: [number, number][] = [
      [1, 0],
      [0, 2],
      [2, 1],
    ];
    check(
      'PadV2',
      'PadV2',
      (x) => tf.pad(x, p, 0.5),
      (x) => R.pad(x, p, 0.5),
      [uniform([2, 3, 2])],
    );
  });

  test('Concat, Pack along several axes', () => {
    for (const axis of [0, 1, -1]) {
      check(
        `Concat axis ${axis}`,
        'Concat',
        (...xs) => tf.concat(xs, axis),
        (...xs) => R.concat(xs, axis < 0 ? axis + 3 : axis),
        [
          uniform([2, 3, 2]),
          uniform(axis === 0 ? [1, 3, 2] : axis === 1 ? [2, 1, 2] : [2, 3, 3]),
          uniform([2, 3, 2]),
        ],
      );
    }
    for (const axis of [0, 2]) {
      check(
        `Pack axis ${axis}`,
        'Pack',
        (...xs) => tf.stack(xs, axis),
        (...xs) => R.stack(xs, axis),
        [uniform([2, 3]), uniform([2, 3]), uniform([2, 3])],
      );
    }
  });

  test('Unpack and SplitV (multiple outputs, one of them unused)', () => {
    const w = [uniform([2, 4]), uniform([2, 4])];
    const wT = w.map(toTensor);
    const dot = (parts: tf.Tensor[], idx: number[]) =>
      tf.addN(idx.map((i, j) => tf.sum(tf.mul(parts[i], wT[j]))));
    const dotRef = (parts: Arr[], idx: number[]): Arr => {
      let s = 0;
      idx.forEach((i, j) => parts[i].data.forEach((v, q) => (s += v * w[j].data[q])));
      return R.arr([], [s]);
    };
    check(
      'Unpack',
      'Unpack',
      (x) => dot(tf.unstack(x, 1), [0, 2]),
      (x) => {
        const parts = [0, 1, 2]
          .map((i) => R.slice(x, [0, i, 0], [2, 1, 4]))
          .map((p) => ({ shape: [2, 4], data: p.data }));
        return dotRef(parts, [0, 2]);
      },
      [uniform([2, 3, 4])],
    );
    check(
      'SplitV',
      'SplitV',
      (x) => dot(tf.split(x, [4, 1, 4], 1), [0, 2]),
      (x) => dotRef(R.split(x, [4, 1, 4], 1), [0, 2]),
      [uniform([2, 9])],
    );
    tf.dispose(wT);
  });

  test('Tile', () => {
    check(
      'Tile',
      'Tile',
      (x) => tf.tile(x, [2, 1, 3]),
      (x) => R.tile(x, [2, 1, 3]),
      [uniform([2, 3, 2])],
    );
    check(
      'Tile rank 1',
      'Tile',
      (x) => tf.tile(x, [3]),
      (x) => R.tile(x, [3]),
      [uniform([4])],
    );
  });
});

describe('reductions', () => {
  const axesCases: [number[] | null, boolean][] = [
    [[1], false],
    [[0, 2], true],
    [null, false],
    [[-1], false],
  ];
  for (const [axes, keepDims] of axesCases) {
    const tag = `axes ${axes ? `[${axes}]` : 'all'}${keepDims ? ' keepDims' : ''}`;
    const norm = axes?.map((a) => (a < 0 ? a + 3 : a)) ?? null;
    test(`Sum, Mean, Max, Min ${tag}`, () => {
      const ax = axes ?? undefined;
      check(
        `Sum ${tag}`,
        'Sum',
        (x) => tf.sum(x, ax, keepDims),
        (x) => R.reduce(x, norm, keepDims, R.sumOf),
        [uniform([2, 3, 4])],
      );
      check(
        `Mean ${tag}`,
        'Mean',
        (x) => tf.mean(x, ax, keepDims),
        (x) => R.reduce(x, norm, keepDims, R.meanOf),
        [uniform([2, 3, 4])],
      );
      check(
        `Max ${tag}`,
        'Max',
        (x) => tf.max(x, ax, keepDims),
        (x) => R.reduce(x, norm, keepDims, (v) => Math.max(...v)),
        [distinct([2, 3, 4])],
      );
      check(
        `Min ${tag}`,
        'Min',
        (x) => tf.min(x, ax, keepDims),
        (x) => R.reduce(x, norm, keepDims, (v) => Math.min(...v)),
        [distinct([2, 3, 4])],
      );
    });
  }
});

describe('registerTrainingGradients', () => {
  test('every registered gradient is tested above', () => {
    // runs last in this file (jest keeps declaration order)
    expect([...covered].sort()).toEqual([...new Set(TRAINING_GRADIENT_KERNELS)].sort());
  });

  test('is idempotent and does not replace a gradient already registered', () => {
    expect(registerTrainingGradients()).toEqual([]);
    const foreign: tf.GradConfig = { kernelName: 'Relu', gradFunc: () => ({}) };
    tf.unregisterGradient('Relu');
    tf.registerGradient(foreign);
    expect(registerTrainingGradients()).toEqual([]);
    expect(tf.getGradient('Relu')).toBe(foreign);
    tf.unregisterGradient('Relu');
    expect(registerTrainingGradients()).toEqual(['Relu']);
    expect(tf.getGradient('Relu')).toBe(TRAINING_GRADIENTS.find((g) => g.kernelName === 'Relu'));
  });
});
