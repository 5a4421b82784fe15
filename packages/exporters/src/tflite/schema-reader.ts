/**
 * Reads back the parts of a `.tflite` flatbuffer that ./schema-writer.ts writes (one subgraph, builtin
 * operators, tensors with quantization parameters, buffers). Used to inspect exported files in tests and
 * tools; it is not a general TFLite parser.
 */
import { ByteBuffer } from 'flatbuffers';
import { NetAugError } from '@netaug/core';
import {
  BuiltinOperator,
  BuiltinOptionsType,
  Fields,
  TFLITE_FILE_IDENTIFIER,
  TensorType,
  slot,
} from './schema';
import type { TflQuantization } from './schema-writer';

/** A tensor as read back from a file. */
export interface ReadTensor {
  name: string;
  shape: number[];
  type: string;
  buffer: number;
  quantization?: TflQuantization;
}

/** A model as read back from a file. */
export interface ReadTfliteModel {
  version: number;
  description: string;
  operatorCodes: { op: string; code: number; version: number }[];
  tensors: ReadTensor[];
  inputs: number[];
  outputs: number[];
  operators: {
    op: string;
    inputs: number[];
    outputs: number[];
    optionsType: string;
    /** Fields of the options tables of CONCATENATION and the RESIZE ops (others are not decoded). */
    options?: Record<string, number | boolean>;
  }[];
  buffers: Uint8Array[];
}

const byValue = <T extends Record<string, number>>(e: T) =>
  new Map(Object.entries(e).map(([k, v]) => [v, k] as const));
const tensorTypeNames = byValue(TensorType);
const opNames = byValue(BuiltinOperator);
const optionNames = byValue(BuiltinOptionsType);

class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}
  private off(id: number): number {
    return this.bb.__offset(this.pos, slot(id));
  }
  int(id: number, def = 0, width: 8 | 32 = 32): number {
    const o = this.off(id);
    if (!o) return def;
    return width === 8 ? this.bb.readInt8(this.pos + o) : this.bb.readInt32(this.pos + o);
  }
  str(id: number): string {
    const o = this.off(id);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  table(id: number): Table | undefined {
    const o = this.off(id);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }
  private vec(id: number): { start: number; len: number } {
    const o = this.off(id);
    return o
      ? { start: this.bb.__vector(this.pos + o), len: this.bb.__vector_len(this.pos + o) }
      : { start: 0, len: 0 };
  }
  ints(id: number): number[] {
    const { start, len } = this.vec(id);
    return Array.from({ length: len }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  floats(id: number): number[] {
    const { start, len } = this.vec(id);
    return Array.from({ length: len }, (_, i) => this.bb.readFloat32(start + 4 * i));
  }
  longs(id: number): number[] {
    const { start, len } = this.vec(id);
    return Array.from({ length: len }, (_, i) => Number(this.bb.readInt64(start + 8 * i)));
  }
  bytes(id: number): Uint8Array {
    const { start, len } = this.vec(id);
    return this.bb.bytes().subarray(start, start + len);
  }
  tables(id: number): Table[] {
    const { start, len } = this.vec(id);
    return Array.from({ length: len }, (_, i) => new Table(this.bb, this.bb.__indirect(start + 4 * i)));
  }
}

function readOptions(kind: string, t: Table | undefined): Record<string, number | boolean> | undefined {
  if (!t) return undefined;
  switch (kind) {
    case 'ConcatenationOptions': {
      const F = Fields.ConcatenationOptions;
      return { axis: t.int(F.axis), fusedActivation: t.int(F.fused_activation_function, 0, 8) };
    }
    case 'ResizeBilinearOptions':
    case 'ResizeNearestNeighborOptions': {
      const F =
        kind === 'ResizeBilinearOptions' ? Fields.ResizeBilinearOptions : Fields.ResizeNearestNeighborOptions;
      return {
        alignCorners: t.int(F.align_corners, 0, 8) !== 0,
        halfPixelCenters: t.int(F.half_pixel_centers, 0, 8) !== 0,
      };
    }
    default:
      return undefined;
  }
}

/** Parses a `.tflite` buffer written by this package. */
export function readTfliteModel(bytes: Uint8Array): ReadTfliteModel {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier(TFLITE_FILE_IDENTIFIER)) {
    throw new NetAugError('DATA_FORMAT', 'not a TFLite flatbuffer (file identifier "TFL3" missing)');
  }
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  const M = Fields.Model;
  const sg = model.tables(M.subgraphs)[0];
  if (!sg) throw new NetAugError('DATA_FORMAT', 'TFLite model has no subgraph');
  const S = Fields.SubGraph;
  const T = Fields.Tensor;
  const Q = Fields.QuantizationParameters;
  const O = Fields.Operator;
  const C = Fields.OperatorCode;
  const operatorCodes = model.tables(M.operator_codes).map((c) => {
    const code = Math.max(c.int(C.builtin_code), c.int(C.deprecated_builtin_code, 0, 8));
    return { op: opNames.get(code) ?? `BUILTIN_${code}`, code, version: c.int(C.version, 1) };
  });
  const tensors = sg.tables(S.tensors).map((t): ReadTensor => {
    const q = t.table(T.quantization);
    const scale = q?.floats(Q.scale) ?? [];
    return {
      name: t.str(T.name),
      shape: t.ints(T.shape),
      type: tensorTypeNames.get(t.int(T.type, 0, 8)) ?? `TYPE_${t.int(T.type, 0, 8)}`,
      buffer: t.int(T.buffer),
      quantization:
        q && scale.length
          ? { scale, zeroPoint: q.longs(Q.zero_point), quantizedDimension: q.int(Q.quantized_dimension) }
          : undefined,
    };
  });
  const operators = sg.tables(S.operators).map((o) => {
    const optionsType = optionNames.get(o.int(O.builtin_options_type, 0, 8)) ?? 'NONE';
    return {
      op: operatorCodes[o.int(O.opcode_index)]?.op ?? '?',
      inputs: o.ints(O.inputs),
      outputs: o.ints(O.outputs),
      optionsType,
      options: readOptions(optionsType, o.table(O.builtin_options)),
    };
  });
  return {
    version: model.int(M.version),
    description: model.str(M.description),
    operatorCodes,
    tensors,
    inputs: sg.ints(S.inputs),
    outputs: sg.ints(S.outputs),
    operators,
    buffers: model.tables(M.buffers).map((b) => b.bytes(Fields.Buffer.data)),
  };
}
