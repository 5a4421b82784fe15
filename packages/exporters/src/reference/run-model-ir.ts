import {
  NetAugError,
  inferShapes,
  modelOutputs,
  samePadding,
  type ActivationKind,
  type IRNode,
  type ModelIR,
} from '@netaug/core';

// Local copies: inside jest's vm sandbox every access to the global `Math` is ~40× slower than a local.
const { exp, sqrt, floor, max, min } = Math;

/** Options of {@link runModelIR}. */
export interface RunModelIROptions {
  /**
   * Called once per node with that node's output for the whole batch (NHWC / NC, float64, row-major,
   * batch first) and its per-example shape. Used by int8 calibration to collect activation ranges.
   * The array is the executor's working buffer: copy what you keep. Writing to it changes what later nodes
   * read (used for simulated quantization).
   */
  onNode?: (node: IRNode, output: Float64Array, shape: number[]) => void;
}

/**
 * Reference executor: runs a {@link ModelIR} on a batch of NHWC images with plain loops and float64
 * accumulation. Slow, simple and independent of every runtime, so it serves as ground truth in tests and
 * as the float model during int8 calibration.
 *
 * @param ir the network (validated with `inferShapes`).
 * @param input `batch × H × W × C` values, NHWC, batch first.
 * @param batch number of images in `input`.
 * @returns the (first) output node's values for each image, `batch × numClasses` for a classifier (float32,
 *   row-major). {@link runModelIROutputs} returns every output of a multi-output IR.
 */
export function runModelIR(
  ir: ModelIR,
  input: Float32Array,
  batch = 1,
  options: RunModelIROptions = {},
): Float32Array {
  return run(ir, input, batch, options, [ir.output])[0];
}

/**
 * {@link runModelIR} for every output of the IR (`ir.outputs`, or the single `ir.output`), in order: one
 * Float32Array per output, `batch × (its per-example size)`, NHWC feature maps row-major, batch first.
 */
export function runModelIROutputs(
  ir: ModelIR,
  input: Float32Array,
  batch = 1,
  options: RunModelIROptions = {},
): Float32Array[] {
  return run(ir, input, batch, options, modelOutputs(ir));
}

function run(
  ir: ModelIR,
  input: Float32Array,
  batch: number,
  options: RunModelIROptions,
  outputs: string[],
): Float32Array[] {
  const shapes = inferShapes(ir);
  const [h0, w0, c0] = ir.inputShape;
  if (!Number.isInteger(batch) || batch < 1 || input.length !== batch * h0 * w0 * c0) {
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `runModelIR('${ir.name}'): input has ${input.length} values, expected batch ${batch} × ${h0}×${w0}×${c0}`,
    );
  }
  const keep = new Set(outputs);
  // last reader of every value, so intermediate buffers can be released early
  const lastUse = new Map<string, number>();
  ir.nodes.forEach((n, i) => n.inputs.forEach((x) => lastUse.set(x, i)));
  const values = new Map<string, Float64Array>();
  ir.nodes.forEach((node, i) => {
    const ins = node.inputs.map((x) => values.get(x)!);
    const inShapes = node.inputs.map((x) => shapes.get(x)!);
    const out = evalNode(node, ins, inShapes, shapes.get(node.name)!, batch, input);
    values.set(node.name, out);
    options.onNode?.(node, out, shapes.get(node.name)!);
    for (const x of node.inputs) if (lastUse.get(x) === i && !keep.has(x)) values.delete(x);
  });
  return outputs.map((o) => Float32Array.from(values.get(o)!));
}

function evalNode(
  node: IRNode,
  ins: Float64Array[],
  inShapes: number[][],
  outShape: number[],
  batch: number,
  input: Float32Array,
): Float64Array {
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(batch * outSize);
  switch (node.op) {
    case 'input':
      for (let i = 0; i < out.length; i++) out[i] = input[i];
      return out;
    case 'conv2d':
    case 'depthwiseConv2d': {
      const [ih, iw, cin] = inShapes[0];
      const [oh, ow, cout] = outShape;
      const [kh, kw] = node.weight.shape;
      const [sh, sw] = node.strides;
      const padT = node.padding === 'same' ? samePadding(ih, kh, sh).before : 0;
      const padL = node.padding === 'same' ? samePadding(iw, kw, sw).before : 0;
      const w = node.weight.data;
      const bias = node.bias?.data;
      const x = ins[0];
      const dw = node.op === 'depthwiseConv2d';
      for (let b = 0; b < batch; b++) {
        const xb = b * ih * iw * cin;
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const o = b * outSize + (oy * ow + ox) * cout;
            for (let co = 0; co < cout; co++) out[o + co] = bias ? bias[co] : 0;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh + ky - padT;
              if (iy < 0 || iy >= ih) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw + kx - padL;
                if (ix < 0 || ix >= iw) continue;
                const xi = xb + (iy * iw + ix) * cin;
                if (dw) {
                  const wi = (ky * kw + kx) * cin;
                  for (let c = 0; c < cin; c++) out[o + c] += x[xi + c] * w[wi + c];
                } else {
                  for (let ci = 0; ci < cin; ci++) {
                    const xv = x[xi + ci];
                    const wi = ((ky * kw + kx) * cin + ci) * cout;
                    for (let co = 0; co < cout; co++) out[o + co] += xv * w[wi + co];
                  }
                }
              }
            }
          }
        }
      }
      return out;
    }
    case 'batchNorm': {
      const c = node.gamma.data.length;
      const x = ins[0];
      const scale = new Float64Array(c);
      const shift = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        scale[ch] = node.gamma.data[ch] / sqrt(node.variance.data[ch] + node.epsilon);
        shift[ch] = node.beta.data[ch] - node.mean.data[ch] * scale[ch];
      }
      for (let i = 0; i < out.length; i += c) {
        for (let ch = 0; ch < c; ch++) out[i + ch] = x[i + ch] * scale[ch] + shift[ch];
      }
      return out;
    }
    case 'activation': {
      const f = activationFn(node.activation);
      const x = ins[0];
      for (let i = 0; i < out.length; i++) out[i] = f(x[i]);
      return out;
    }
    case 'add': {
      const [a, b] = ins;
      for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
      return out;
    }
    case 'mul': {
      const [a, b] = ins;
      const bSize = inShapes[1].reduce((p, q) => p * q, 1);
      if (bSize === outSize) {
        for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
      } else {
        // [1, 1, C] gate broadcast over H and W
        const c = inShapes[1][2];
        for (let bi = 0; bi < batch; bi++) {
          for (let i = 0; i < outSize; i++) out[bi * outSize + i] = a[bi * outSize + i] * b[bi * c + (i % c)];
        }
      }
      return out;
    }
    case 'maxPool': {
      const [ih, iw, c] = inShapes[0];
      const [oh, ow] = outShape;
      const [kh, kw] = node.poolSize;
      const [sh, sw] = node.strides;
      const padT = node.padding === 'same' ? samePadding(ih, kh, sh).before : 0;
      const padL = node.padding === 'same' ? samePadding(iw, kw, sw).before : 0;
      const x = ins[0];
      for (let b = 0; b < batch; b++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const o = b * outSize + (oy * ow + ox) * c;
            for (let ch = 0; ch < c; ch++) out[o + ch] = -Infinity;
            // padded positions never win (TensorFlow SAME)
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh + ky - padT;
              if (iy < 0 || iy >= ih) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw + kx - padL;
                if (ix < 0 || ix >= iw) continue;
                const xi = (b * ih * iw + iy * iw + ix) * c;
                for (let ch = 0; ch < c; ch++) if (x[xi + ch] > out[o + ch]) out[o + ch] = x[xi + ch];
              }
            }
          }
        }
      }
      return out;
    }
    case 'globalAvgPool': {
      const [h, w, c] = inShapes[0];
      const x = ins[0];
      for (let b = 0; b < batch; b++) {
        for (let p = 0; p < h * w; p++) {
          const xi = (b * h * w + p) * c;
          for (let ch = 0; ch < c; ch++) out[b * c + ch] += x[xi + ch];
        }
        for (let ch = 0; ch < c; ch++) out[b * c + ch] /= h * w;
      }
      return out;
    }
    case 'dense': {
      const [nin, nout] = node.weight.shape;
      const w = node.weight.data;
      const x = ins[0];
      for (let b = 0; b < batch; b++) {
        for (let o = 0; o < nout; o++) out[b * nout + o] = node.bias ? node.bias.data[o] : 0;
        for (let i = 0; i < nin; i++) {
          const xv = x[b * nin + i];
          for (let o = 0; o < nout; o++) out[b * nout + o] += xv * w[i * nout + o];
        }
      }
      return out;
    }
    case 'concat': {
      // along the last axis: per example and position, the inputs' last-axis blocks one after another
      const widths = inShapes.map((sh) => sh[sh.length - 1]);
      const total = outShape[outShape.length - 1];
      const positions = (batch * outSize) / total;
      let o = 0;
      for (let p = 0; p < positions; p++) {
        for (let k = 0; k < ins.length; k++) {
          const wk = widths[k];
          const src = ins[k];
          const base = p * wk;
          for (let c = 0; c < wk; c++) out[o++] = src[base + c];
        }
      }
      return out;
    }
    case 'upsample': {
      const [ih, iw, c] = inShapes[0];
      const [oh, ow] = outShape;
      const [sh, sw] = node.scale;
      const x = ins[0];
      if (node.mode === 'nearest') {
        // output (i, j) copies input (⌊i / sh⌋, ⌊j / sw⌋): integer division, exact
        for (let b = 0; b < batch; b++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = (oy - (oy % sh)) / sh;
            for (let ox = 0; ox < ow; ox++) {
              const ix = (ox - (ox % sw)) / sw;
              const xi = (b * ih * iw + iy * iw + ix) * c;
              const o = (b * oh * ow + oy * ow + ox) * c;
              for (let ch = 0; ch < c; ch++) out[o + ch] = x[xi + ch];
            }
          }
        }
        return out;
      }
      // bilinear, half-pixel centers: source coordinate max(0, (i + 0.5) / s − 0.5), neighbours clamped
      const taps = (n: number, s: number, size: number) => {
        const lo = new Int32Array(n);
        const hi = new Int32Array(n);
        const frac = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const src = max(0, (i + 0.5) / s - 0.5);
          const f = floor(src);
          lo[i] = min(f, size - 1);
          hi[i] = min(f + 1, size - 1);
          frac[i] = src - f;
        }
        return { lo, hi, frac };
      };
      const ty = taps(oh, sh, ih);
      const tx = taps(ow, sw, iw);
      for (let b = 0; b < batch; b++) {
        const xb = b * ih * iw;
        for (let oy = 0; oy < oh; oy++) {
          const r0 = xb + ty.lo[oy] * iw;
          const r1 = xb + ty.hi[oy] * iw;
          const fy = ty.frac[oy];
          for (let ox = 0; ox < ow; ox++) {
            const c0 = tx.lo[ox];
            const c1 = tx.hi[ox];
            const fx = tx.frac[ox];
            const o = (b * oh * ow + oy * ow + ox) * c;
            const a00 = (r0 + c0) * c;
            const a01 = (r0 + c1) * c;
            const a10 = (r1 + c0) * c;
            const a11 = (r1 + c1) * c;
            for (let ch = 0; ch < c; ch++) {
              const top = x[a00 + ch] + (x[a01 + ch] - x[a00 + ch]) * fx;
              const bottom = x[a10 + ch] + (x[a11 + ch] - x[a10 + ch]) * fx;
              out[o + ch] = top + (bottom - top) * fy;
            }
          }
        }
      }
      return out;
    }
    default:
      throw new NetAugError(
        'UNSUPPORTED_OP',
        `runModelIR: node '${(node as IRNode).name}' has unknown op '${(node as IRNode).op}'`,
      );
  }
}

const relu6 = (x: number) => (x < 0 ? 0 : x > 6 ? 6 : x);

/** The scalar function of an IR activation (float64). */
export function activationFn(kind: ActivationKind): (x: number) => number {
  switch (kind) {
    case 'relu':
      return (x) => (x > 0 ? x : 0);
    case 'relu6':
      return relu6;
    case 'hsigmoid':
      return (x) => relu6(x + 3) / 6;
    case 'hswish':
      return (x) => (x * relu6(x + 3)) / 6;
    case 'sigmoid':
      return (x) => 1 / (1 + exp(-x));
    default:
      throw new NetAugError('UNSUPPORTED_OP', `unknown activation '${kind as string}'`);
  }
}
