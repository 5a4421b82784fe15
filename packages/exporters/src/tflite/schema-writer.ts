/**
 * A hand-written TFLite flatbuffer writer on top of the `flatbuffers` runtime. No package ships the TFLite
 * schema or its generated TypeScript, so the few tables this package needs are built here field by field,
 * following the field ids of schema.fbs (see ./schema.ts).
 */
import { Builder } from 'flatbuffers';
import {
  ActivationFunctionType,
  BuiltinOperator,
  BuiltinOptionsType,
  Fields,
  PaddingType,
  TFLITE_FILE_IDENTIFIER,
  TFLITE_SCHEMA_VERSION,
  TensorType,
  type BuiltinOperatorName,
  type FusedActivation,
  type TensorTypeName,
} from './schema';

/** Quantization parameters of one tensor (`QuantizationParameters`). */
export interface TflQuantization {
  scale: number[];
  zeroPoint: number[];
  /** Axis the scales refer to when there is more than one (per-channel). */
  quantizedDimension?: number;
}

/** One tensor of the subgraph. */
export interface TflTensor {
  name: string;
  shape: number[];
  type: TensorTypeName;
  /** Index into {@link TflModel.buffers}; 0 = no data (activations). */
  buffer: number;
  quantization?: TflQuantization;
}

/** Builtin options of an operator, tagged by the option table. */
export type TflOptions =
  | {
      kind: 'Conv2DOptions';
      padding: 'SAME' | 'VALID';
      strideH: number;
      strideW: number;
      activation: FusedActivation;
    }
  | {
      kind: 'DepthwiseConv2DOptions';
      padding: 'SAME' | 'VALID';
      strideH: number;
      strideW: number;
      depthMultiplier: number;
      activation: FusedActivation;
    }
  | {
      kind: 'Pool2DOptions';
      padding: 'SAME' | 'VALID';
      strideH: number;
      strideW: number;
      filterH: number;
      filterW: number;
      activation: FusedActivation;
    }
  | { kind: 'FullyConnectedOptions'; activation: FusedActivation; keepNumDims?: boolean }
  | { kind: 'AddOptions'; activation: FusedActivation }
  | { kind: 'MulOptions'; activation: FusedActivation }
  | { kind: 'ReducerOptions'; keepDims: boolean }
  | { kind: 'ReshapeOptions'; newShape: number[] }
  | { kind: 'ConcatenationOptions'; axis: number; activation: FusedActivation }
  | { kind: 'ResizeBilinearOptions'; alignCorners: boolean; halfPixelCenters: boolean }
  | { kind: 'ResizeNearestNeighborOptions'; alignCorners: boolean; halfPixelCenters: boolean }
  | { kind: 'QuantizeOptions' }
  | { kind: 'DequantizeOptions' }
  | { kind: 'HardSwishOptions' };

/** One operator; `opcode` refers to {@link TflModel.operatorCodes}. */
export interface TflOperator {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
  options?: TflOptions;
}

/** An operator code: builtin operator and kernel version. */
export interface TflOperatorCode {
  op: BuiltinOperatorName;
  version: number;
}

/** A single-subgraph TFLite model. */
export interface TflModel {
  description: string;
  operatorCodes: TflOperatorCode[];
  subgraph: {
    name: string;
    tensors: TflTensor[];
    inputs: number[];
    outputs: number[];
    operators: TflOperator[];
  };
  /** Raw little-endian data; entry 0 must be empty (the schema's sentinel). */
  buffers: Uint8Array[];
}

function int32Vector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function float32Vector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function int64Vector(b: Builder, values: readonly number[]): number {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
  return b.endVector();
}

/**
 * Writes each distinct vector once and lets every table that holds the same values point at it. A flatbuffer
 * is a DAG of offsets, so shared vectors are valid (the flatbuffers verifier checks bounds and alignment, not
 * uniqueness) and readers see ordinary vectors. Used for tensor shapes and quantization zero points (all zeros
 * of one length for every per-channel tensor with that many channels: 8 bytes a channel otherwise).
 */
class SharedVectors {
  private readonly cache = new Map<string, number>();
  constructor(private readonly b: Builder) {}
  get(kind: 'i32' | 'i64', values: readonly number[]): number {
    const key = `${kind}:${values.join(',')}`;
    let off = this.cache.get(key);
    if (off === undefined) {
      off = kind === 'i32' ? int32Vector(this.b, values) : int64Vector(this.b, values);
      this.cache.set(key, off);
    }
    return off;
  }
}

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

/** `[ubyte] (force_align: 16)` */
function alignedByteVector(b: Builder, data: Uint8Array): number {
  b.startVector(1, data.length, 16);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
  return b.endVector();
}

function writeQuantization(b: Builder, q: TflQuantization, shared: SharedVectors): number {
  const F = Fields.QuantizationParameters;
  const scale = float32Vector(b, q.scale);
  const zp = shared.get('i64', q.zeroPoint);
  b.startObject(7);
  b.addFieldOffset(F.scale, scale, 0);
  b.addFieldOffset(F.zero_point, zp, 0);
  b.addFieldInt32(F.quantized_dimension, q.quantizedDimension ?? 0, 0);
  return b.endObject();
}

function writeTensor(b: Builder, t: TflTensor, shared: SharedVectors): number {
  const F = Fields.Tensor;
  const shape = shared.get('i32', t.shape);
  const name = b.createString(t.name);
  const quant = t.quantization ? writeQuantization(b, t.quantization, shared) : 0;
  b.startObject(6);
  b.addFieldOffset(F.shape, shape, 0);
  b.addFieldInt8(F.type, TensorType[t.type], 0);
  b.addFieldInt32(F.buffer, t.buffer, 0);
  b.addFieldOffset(F.name, name, 0);
  if (quant) b.addFieldOffset(F.quantization, quant, 0);
  return b.endObject();
}

function writeOptions(b: Builder, o: TflOptions): number {
  const act = (a: FusedActivation) => ActivationFunctionType[a];
  switch (o.kind) {
    case 'Conv2DOptions': {
      const F = Fields.Conv2DOptions;
      b.startObject(6);
      b.addFieldInt8(F.padding, PaddingType[o.padding], 0);
      b.addFieldInt32(F.stride_w, o.strideW, 0);
      b.addFieldInt32(F.stride_h, o.strideH, 0);
      b.addFieldInt8(F.fused_activation_function, act(o.activation), 0);
      b.addFieldInt32(F.dilation_w_factor, 1, 1);
      b.addFieldInt32(F.dilation_h_factor, 1, 1);
      return b.endObject();
    }
    case 'DepthwiseConv2DOptions': {
      const F = Fields.DepthwiseConv2DOptions;
      b.startObject(7);
      b.addFieldInt8(F.padding, PaddingType[o.padding], 0);
      b.addFieldInt32(F.stride_w, o.strideW, 0);
      b.addFieldInt32(F.stride_h, o.strideH, 0);
      b.addFieldInt32(F.depth_multiplier, o.depthMultiplier, 0);
      b.addFieldInt8(F.fused_activation_function, act(o.activation), 0);
      b.addFieldInt32(F.dilation_w_factor, 1, 1);
      b.addFieldInt32(F.dilation_h_factor, 1, 1);
      return b.endObject();
    }
    case 'Pool2DOptions': {
      const F = Fields.Pool2DOptions;
      b.startObject(6);
      b.addFieldInt8(F.padding, PaddingType[o.padding], 0);
      b.addFieldInt32(F.stride_w, o.strideW, 0);
      b.addFieldInt32(F.stride_h, o.strideH, 0);
      b.addFieldInt32(F.filter_width, o.filterW, 0);
      b.addFieldInt32(F.filter_height, o.filterH, 0);
      b.addFieldInt8(F.fused_activation_function, act(o.activation), 0);
      return b.endObject();
    }
    case 'FullyConnectedOptions': {
      const F = Fields.FullyConnectedOptions;
      b.startObject(3);
      b.addFieldInt8(F.fused_activation_function, act(o.activation), 0);
      b.addFieldInt8(F.keep_num_dims, o.keepNumDims ? 1 : 0, 0);
      return b.endObject();
    }
    case 'AddOptions':
    case 'MulOptions':
      b.startObject(1);
      b.addFieldInt8(0, act(o.activation), 0);
      return b.endObject();
    case 'ReducerOptions':
      b.startObject(1);
      b.addFieldInt8(Fields.ReducerOptions.keep_dims, o.keepDims ? 1 : 0, 0);
      return b.endObject();
    case 'ReshapeOptions': {
      const v = int32Vector(b, o.newShape);
      b.startObject(1);
      b.addFieldOffset(Fields.ReshapeOptions.new_shape, v, 0);
      return b.endObject();
    }
    case 'ConcatenationOptions': {
      const F = Fields.ConcatenationOptions;
      b.startObject(2);
      b.addFieldInt32(F.axis, o.axis, 0);
      b.addFieldInt8(F.fused_activation_function, act(o.activation), 0);
      return b.endObject();
    }
    case 'ResizeBilinearOptions': {
      const F = Fields.ResizeBilinearOptions;
      b.startObject(4);
      b.addFieldInt8(F.align_corners, o.alignCorners ? 1 : 0, 0);
      b.addFieldInt8(F.half_pixel_centers, o.halfPixelCenters ? 1 : 0, 0);
      return b.endObject();
    }
    case 'ResizeNearestNeighborOptions': {
      const F = Fields.ResizeNearestNeighborOptions;
      b.startObject(2);
      b.addFieldInt8(F.align_corners, o.alignCorners ? 1 : 0, 0);
      b.addFieldInt8(F.half_pixel_centers, o.halfPixelCenters ? 1 : 0, 0);
      return b.endObject();
    }
    case 'QuantizeOptions':
    case 'DequantizeOptions':
    case 'HardSwishOptions':
      b.startObject(0);
      return b.endObject();
  }
}

function writeOperator(b: Builder, op: TflOperator): number {
  const F = Fields.Operator;
  const inputs = int32Vector(b, op.inputs);
  const outputs = int32Vector(b, op.outputs);
  const options = op.options ? writeOptions(b, op.options) : 0;
  b.startObject(5);
  b.addFieldInt32(F.opcode_index, op.opcodeIndex, 0);
  b.addFieldOffset(F.inputs, inputs, 0);
  b.addFieldOffset(F.outputs, outputs, 0);
  if (op.options) {
    b.addFieldInt8(F.builtin_options_type, BuiltinOptionsType[op.options.kind], 0);
    b.addFieldOffset(F.builtin_options, options, 0);
  }
  return b.endObject();
}

function writeOperatorCode(b: Builder, c: TflOperatorCode): number {
  const F = Fields.OperatorCode;
  const code = BuiltinOperator[c.op];
  b.startObject(4);
  // deprecated_builtin_code holds codes below 127 (PLACEHOLDER_FOR_GREATER_OP_CODES), builtin_code all of them
  b.addFieldInt8(F.deprecated_builtin_code, Math.min(code, 127), 0);
  b.addFieldInt32(F.version, c.version, 1);
  b.addFieldInt32(F.builtin_code, code, 0);
  return b.endObject();
}

/** Serialises a {@link TflModel} to `.tflite` bytes (flatbuffer with identifier "TFL3"). */
export function writeTfliteModel(model: TflModel): Uint8Array {
  const size = model.buffers.reduce((a, x) => a + x.length + 32, 1024);
  const b = new Builder(size);
  // children first: flatbuffers cannot nest table construction
  const buffers = model.buffers.map((data) => {
    const vec = data.length ? alignedByteVector(b, data) : 0;
    b.startObject(1);
    if (vec) b.addFieldOffset(Fields.Buffer.data, vec, 0);
    return b.endObject();
  });
  const sg = model.subgraph;
  const shared = new SharedVectors(b);
  const tensors = sg.tensors.map((t) => writeTensor(b, t, shared));
  const operators = sg.operators.map((o) => writeOperator(b, o));
  const S = Fields.SubGraph;
  const tensorsVec = offsetVector(b, tensors);
  const inputsVec = int32Vector(b, sg.inputs);
  const outputsVec = int32Vector(b, sg.outputs);
  const opsVec = offsetVector(b, operators);
  const sgName = b.createString(sg.name);
  b.startObject(5);
  b.addFieldOffset(S.tensors, tensorsVec, 0);
  b.addFieldOffset(S.inputs, inputsVec, 0);
  b.addFieldOffset(S.outputs, outputsVec, 0);
  b.addFieldOffset(S.operators, opsVec, 0);
  b.addFieldOffset(S.name, sgName, 0);
  const subgraph = b.endObject();

  const codes = model.operatorCodes.map((c) => writeOperatorCode(b, c));
  const M = Fields.Model;
  const codesVec = offsetVector(b, codes);
  const subgraphsVec = offsetVector(b, [subgraph]);
  const description = b.createString(model.description);
  const buffersVec = offsetVector(b, buffers);
  b.startObject(5);
  b.addFieldInt32(M.version, TFLITE_SCHEMA_VERSION, 0);
  b.addFieldOffset(M.operator_codes, codesVec, 0);
  b.addFieldOffset(M.subgraphs, subgraphsVec, 0);
  b.addFieldOffset(M.description, description, 0);
  b.addFieldOffset(M.buffers, buffersVec, 0);
  const root = b.endObject();
  b.finish(root, TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}
