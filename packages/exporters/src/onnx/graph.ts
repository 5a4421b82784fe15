/**
 * Reading ONNX graphs (for {@link importOnnx}): tensor decoding, attributes, and a small evaluator of
 * constant sub-graphs — enough to read the weights (initializers, `Constant` nodes, `Identity` aliases) and
 * the constant inputs PyTorch computes with shape arithmetic (the `pads` of an `nn.ZeroPad2d`:
 * `ConstantOfShape`, `Concat`, `Reshape`, `Slice`, `Transpose`, `Cast`…).
 */
import { NetAugError } from '@netaug/core';
import { onnx, type OnnxTypes } from './proto';

/** A constant tensor: dims and values (float64 holds every float32, float16 and int32 exactly). */
export interface ConstTensor {
  dims: number[];
  data: Float64Array;
  /** Integer element type (int64, int32, bool…): shape arithmetic, never weights. */
  int: boolean;
}

const DT = onnx.TensorProto.DataType;

/** An int64 field of onnx-proto: a number, or a `Long` when the `long` package is installed. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** IEEE half → number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Decodes a TensorProto (raw little-endian data or the typed repeated fields) to a {@link ConstTensor};
 * undefined for element types it does not read (strings, complex…). External data is refused with a
 * `DATA_FORMAT` error.
 */
export function decodeTensor(t: OnnxTypes.ITensorProto, what: string): ConstTensor | undefined {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new NetAugError(
      'DATA_FORMAT',
      `ONNX tensor '${t.name ?? what}' is stored in an external data file`,
      {
        hint: 'save the model with all tensors inside the .onnx file (onnx.save(model, path, save_as_external_data=False))',
      },
    );
  }
  const dims = (t.dims ?? []).map(num);
  const n = size(dims);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const out = new Float64Array(n);
  const fill = (bytes: number, read: (v: DataView, off: number) => number, field?: ArrayLike<unknown>) => {
    if (view) {
      if (view.byteLength !== n * bytes) return false;
      for (let i = 0; i < n; i++) out[i] = read(view, i * bytes);
      return true;
    }
    const src = field ?? [];
    if (src.length !== n) return false;
    for (let i = 0; i < n; i++) out[i] = num(src[i]);
    return true;
  };
  let ok: boolean;
  let int = true;
  switch (t.dataType) {
    case DT.FLOAT:
      int = false;
      ok = fill(4, (v, o) => v.getFloat32(o, true), t.floatData ?? undefined);
      break;
    case DT.DOUBLE:
      int = false;
      ok = fill(8, (v, o) => v.getFloat64(o, true), t.doubleData ?? undefined);
      break;
    case DT.FLOAT16:
      int = false;
      ok = fill(2, (v, o) => halfToNumber(v.getUint16(o, true)), (t.int32Data ?? []).map(halfToNumber));
      break;
    case DT.INT64:
      ok = fill(8, (v, o) => Number(v.getBigInt64(o, true)), t.int64Data ?? undefined);
      break;
    case DT.UINT64:
      ok = fill(8, (v, o) => Number(v.getBigUint64(o, true)), t.uint64Data ?? undefined);
      break;
    case DT.INT32:
      ok = fill(4, (v, o) => v.getInt32(o, true), t.int32Data ?? undefined);
      break;
    case DT.UINT32:
      ok = fill(4, (v, o) => v.getUint32(o, true), t.uint64Data ?? undefined);
      break;
    case DT.INT16:
      ok = fill(2, (v, o) => v.getInt16(o, true), t.int32Data ?? undefined);
      break;
    case DT.UINT16:
      ok = fill(2, (v, o) => v.getUint16(o, true), t.int32Data ?? undefined);
      break;
    case DT.INT8:
      ok = fill(1, (v, o) => v.getInt8(o), t.int32Data ?? undefined);
      break;
    case DT.UINT8:
    case DT.BOOL:
      ok = fill(1, (v, o) => v.getUint8(o), t.int32Data ?? undefined);
      break;
    default:
      return undefined;
  }
  if (!ok) {
    throw new NetAugError(
      'DATA_FORMAT',
      `ONNX tensor '${t.name ?? what}' of shape [${dims}] does not hold ${n} values`,
      { hint: 'the file is damaged or not an ONNX model' },
    );
  }
  return { dims, data: out, int };
}

/** The attributes of a node by name. */
export function attrs(node: OnnxTypes.INodeProto): Map<string, OnnxTypes.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

export const attrInt = (a: Map<string, OnnxTypes.IAttributeProto>, name: string, dflt: number) =>
  a.has(name) ? num(a.get(name)!.i) : dflt;
export const attrFloat = (a: Map<string, OnnxTypes.IAttributeProto>, name: string, dflt: number) =>
  a.has(name) ? (a.get(name)!.f ?? dflt) : dflt;
export const attrInts = (a: Map<string, OnnxTypes.IAttributeProto>, name: string) =>
  a.has(name) ? (a.get(name)!.ints ?? []).map(num) : undefined;
export const attrString = (a: Map<string, OnnxTypes.IAttributeProto>, name: string, dflt: string) =>
  a.has(name) ? new TextDecoder().decode(a.get(name)!.s ?? new Uint8Array()) : dflt;

/** Row-major strides. */
function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Largest constant the evaluator materialises (shape arithmetic is tiny; this guards ConstantOfShape). */
const MAX_EVAL = 1 << 20;

/**
 * The graph as a lookup structure: producers and consumers of every value, and the value of every constant
 * (memoised; `undefined` for values that depend on the graph input or on ops the evaluator does not know).
 */
export class OnnxGraph {
  readonly nodes: OnnxTypes.INodeProto[];
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  private readonly initializers = new Map<string, OnnxTypes.ITensorProto>();
  private readonly cache = new Map<string, ConstTensor | undefined>();

  constructor(readonly graph: OnnxTypes.IGraphProto) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.nodes.forEach((n, i) => {
      for (const o of n.output ?? []) this.producer.set(o, i);
      for (const x of n.input ?? []) if (x) this.consumers.set(x, [...(this.consumers.get(x) ?? []), i]);
    });
  }

  /** Display name of node `i`: its name, or `#i` with its first output. */
  nodeName(i: number): string {
    const n = this.nodes[i];
    return n.name || `#${i} (output ${n.output?.[0] ?? '?'})`;
  }

  /** The node producing `value`, if a node does (not a graph input or initializer). */
  producerOf(value: string): OnnxTypes.INodeProto | undefined {
    const i = this.producer.get(value);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Nodes reading `value`. */
  consumersOf(value: string): OnnxTypes.INodeProto[] {
    return (this.consumers.get(value) ?? []).map((i) => this.nodes[i]);
  }

  /** The constant value of `value`, or undefined when it is not a constant this evaluator can compute. */
  constant(value: string | null | undefined): ConstTensor | undefined {
    if (!value) return undefined;
    if (this.cache.has(value)) return this.cache.get(value);
    this.cache.set(value, undefined); // cycles (invalid graphs) end here
    const init = this.initializers.get(value);
    let v: ConstTensor | undefined;
    if (init && this.producer.get(value) === undefined) v = decodeTensor(init, value);
    else {
      const node = this.producerOf(value);
      if (node) v = this.evalNode(node, (node.output ?? []).indexOf(value));
    }
    this.cache.set(value, v);
    return v;
  }

  private evalNode(node: OnnxTypes.INodeProto, outIndex: number): ConstTensor | undefined {
    if (outIndex !== 0) return undefined;
    const a = attrs(node);
    const ins = node.input ?? [];
    const arg = (k: number) => (ins[k] ? this.constant(ins[k]) : undefined);
    switch (node.opType) {
      case 'Constant': {
        const t = a.get('value')?.t;
        if (t) return decodeTensor(t, node.output?.[0] ?? '');
        if (a.has('value_float'))
          return { dims: [], data: Float64Array.of(attrFloat(a, 'value_float', 0)), int: false };
        if (a.has('value_floats'))
          return {
            dims: [a.get('value_floats')!.floats?.length ?? 0],
            data: Float64Array.from(a.get('value_floats')!.floats ?? []),
            int: false,
          };
        if (a.has('value_int'))
          return { dims: [], data: Float64Array.of(attrInt(a, 'value_int', 0)), int: true };
        if (a.has('value_ints')) {
          const v = attrInts(a, 'value_ints')!;
          return { dims: [v.length], data: Float64Array.from(v), int: true };
        }
        return undefined;
      }
      case 'Identity':
        return arg(0);
      case 'Cast': {
        const x = arg(0);
        if (!x) return undefined;
        const to = attrInt(a, 'to', DT.FLOAT);
        const int = to !== DT.FLOAT && to !== DT.DOUBLE && to !== DT.FLOAT16 && to !== DT.BFLOAT16;
        const data = int ? x.data.map((v) => Math.trunc(v)) : x.data.slice();
        if (to === DT.FLOAT) for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i]);
        return { dims: x.dims, data, int };
      }
      case 'Shape': {
        const x = arg(0);
        return x ? { dims: [x.dims.length], data: Float64Array.from(x.dims), int: true } : undefined;
      }
      case 'ConstantOfShape': {
        const shape = arg(0);
        if (!shape) return undefined;
        const dims = [...shape.data];
        if (size(dims) > MAX_EVAL) return undefined;
        const t = a.get('value')?.t;
        const v = t ? decodeTensor(t, 'value') : undefined;
        return { dims, data: new Float64Array(size(dims)).fill(v?.data[0] ?? 0), int: v ? v.int : false };
      }
      case 'Concat': {
        const xs = ins.map((_, k) => arg(k));
        if (xs.some((x) => !x) || !xs.length) return undefined;
        const ts = xs as ConstTensor[];
        const rank = ts[0].dims.length;
        const axis = (attrInt(a, 'axis', 0) + rank) % Math.max(rank, 1);
        const outer = size(ts[0].dims.slice(0, axis));
        const dims = [...ts[0].dims];
        dims[axis] = ts.reduce((s, t) => s + t.dims[axis], 0);
        const data = new Float64Array(size(dims));
        let o = 0;
        for (let i = 0; i < outer; i++)
          for (const t of ts) {
            const inner = size(t.dims.slice(axis));
            data.set(t.data.subarray(i * inner, (i + 1) * inner), o);
            o += inner;
          }
        return { dims, data, int: ts.every((t) => t.int) };
      }
      case 'Reshape': {
        const x = arg(0);
        const s = arg(1);
        if (!x || !s) return undefined;
        const dims = [...s.data].map((d, i) => (d === 0 ? x.dims[i] : d));
        const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
        const dimsOut = dims.map((d) => (d === -1 ? x.data.length / known : d));
        return size(dimsOut) === x.data.length ? { dims: dimsOut, data: x.data, int: x.int } : undefined;
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const x = arg(0);
        if (!x) return undefined;
        const axesIn = attrInts(a, 'axes') ?? (arg(1) ? [...arg(1)!.data] : undefined);
        let dims: number[];
        if (node.opType === 'Squeeze') {
          const rank = x.dims.length;
          const axes = (axesIn ?? x.dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map(
            (ax) => (ax + rank) % rank,
          );
          dims = x.dims.filter((_, i) => !axes.includes(i));
        } else {
          if (!axesIn) return undefined;
          const rank = x.dims.length + axesIn.length;
          const axes = axesIn.map((ax) => (ax + rank) % rank);
          dims = [];
          let k = 0;
          for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[k++]);
        }
        return { dims, data: x.data, int: x.int };
      }
      case 'Transpose': {
        const x = arg(0);
        if (!x) return undefined;
        const rank = x.dims.length;
        const perm = attrInts(a, 'perm') ?? [...Array(rank).keys()].reverse();
        const dims = perm.map((p) => x.dims[p]);
        const sIn = strides(x.dims);
        const sOut = strides(dims);
        const data = new Float64Array(x.data.length);
        for (let o = 0; o < data.length; o++) {
          let rem = o;
          let off = 0;
          for (let k = 0; k < rank; k++) {
            const idx = Math.floor(rem / sOut[k]);
            rem -= idx * sOut[k];
            off += idx * sIn[perm[k]];
          }
          data[o] = x.data[off];
        }
        return { dims, data, int: x.int };
      }
      case 'Slice': {
        const x = arg(0);
        if (!x) return undefined;
        const rank = x.dims.length;
        const fromInputs = ins.length > 1;
        const starts = fromInputs ? arg(1) && [...arg(1)!.data] : attrInts(a, 'starts');
        const ends = fromInputs ? arg(2) && [...arg(2)!.data] : attrInts(a, 'ends');
        if (!starts || !ends) return undefined;
        const axes =
          (fromInputs ? (ins[3] ? arg(3) && [...arg(3)!.data] : undefined) : attrInts(a, 'axes')) ??
          starts.map((_, i) => i);
        const steps = (fromInputs && ins[4] ? arg(4) && [...arg(4)!.data] : undefined) ?? starts.map(() => 1);
        const lo = x.dims.map(() => 0);
        const st = x.dims.map(() => 1);
        const cnt = [...x.dims];
        axes.forEach((ax0, i) => {
          const ax = (ax0 + rank) % rank;
          const d = x.dims[ax];
          const step = steps[i];
          const clamp = (v: number, min: number, max: number) => Math.min(Math.max(v, min), max);
          let s = starts[i] < 0 ? starts[i] + d : starts[i];
          let e = ends[i] < 0 ? ends[i] + d : ends[i];
          if (step > 0) {
            s = clamp(s, 0, d);
            e = clamp(e, 0, d);
            cnt[ax] = Math.max(0, Math.ceil((e - s) / step));
          } else {
            s = clamp(s, -1, d - 1);
            e = clamp(e, -1, d - 1);
            cnt[ax] = Math.max(0, Math.ceil((s - e) / -step));
          }
          lo[ax] = s;
          st[ax] = step;
        });
        const sIn = strides(x.dims);
        const sOut = strides(cnt);
        const data = new Float64Array(size(cnt));
        for (let o = 0; o < data.length; o++) {
          let rem = o;
          let off = 0;
          for (let k = 0; k < rank; k++) {
            const idx = Math.floor(rem / sOut[k]);
            rem -= idx * sOut[k];
            off += (lo[k] + idx * st[k]) * sIn[k];
          }
          data[o] = x.data[off];
        }
        return { dims: cnt, data, int: x.int };
      }
      case 'Gather': {
        const x = arg(0);
        const idx = arg(1);
        if (!x || !idx) return undefined;
        const rank = x.dims.length;
        const axis = (attrInt(a, 'axis', 0) + rank) % rank;
        const outer = size(x.dims.slice(0, axis));
        const inner = size(x.dims.slice(axis + 1));
        const d = x.dims[axis];
        const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
        const data = new Float64Array(size(dims));
        let o = 0;
        for (let i = 0; i < outer; i++)
          for (const j0 of idx.data) {
            const j = j0 < 0 ? j0 + d : j0;
            data.set(x.data.subarray((i * d + j) * inner, (i * d + j + 1) * inner), o);
            o += inner;
          }
        return { dims, data, int: x.int };
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const x = arg(0);
        const y = arg(1);
        if (!x || !y) return undefined;
        // same shape, or one side a single value (what shape arithmetic needs)
        const [big, small] = x.data.length >= y.data.length ? [x, y] : [y, x];
        if (small.data.length !== 1 && small.data.length !== big.data.length) return undefined;
        const int = x.int && y.int;
        const f = {
          Add: (p: number, q: number) => p + q,
          Sub: (p: number, q: number) => p - q,
          Mul: (p: number, q: number) => p * q,
          Div: (p: number, q: number) => (int ? Math.trunc(p / q) : p / q),
        }[node.opType];
        const at = (t: ConstTensor, i: number) => (t.data.length === 1 ? t.data[0] : t.data[i]);
        const data = big.data.map((_, i) => f(at(x, i), at(y, i)));
        return { dims: big.dims, data, int };
      }
      default:
        return undefined;
    }
  }
}
