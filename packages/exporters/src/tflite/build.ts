import { NetAugError, type ModelIR } from '@netaug/core';
import { lowerToTflite, type LoweredGraph } from './lower';
import { planInt8, type Int8Plan, type WeightGranularityOptions } from './plan';
import {
  activationQuantParams,
  quantizeBias,
  quantizeConstant,
  quantizePerChannel,
  quantizePerTensorSymmetric,
  type QuantParams,
} from './quantize';
import { writeTfliteModel, type TflModel, type TflOperatorCode, type TflTensor } from './schema-writer';
import type { BuiltinOperatorName } from './schema';

/** Full-integer post-training quantization settings. */
export interface TfliteQuantizeOptions extends WeightGranularityOptions {
  /** Representative NHWC images (each `H·W·C` floats, preprocessed exactly like the model's inputs). */
  calibration: readonly Float32Array[];
  /**
   * Make the model's input and output int8 tensors (for TFLite-Micro). Default false: the model takes and
   * returns float32 and converts with QUANTIZE / DEQUANTIZE at the edges (LiteRT.js needs this).
   */
  int8Io?: boolean;
  /** Images per reference-executor batch during calibration (memory vs. speed). Default 16. */
  calibrationBatchSize?: number;
  /** A plan from `planInt8(ir, calibration, …)` to use as is (skips calibration and the granularity choice). */
  plan?: Int8Plan;
}

/** Options of {@link exportTflite} / {@link buildTflite}. */
export interface TfliteExportOptions {
  /** When given, writes a full-integer int8 model; otherwise float32. */
  quantize?: TfliteQuantizeOptions;
  /** `Model.description` (default: "NetAug.js <ir.name>"). */
  description?: string;
  /**
   * Diagnostics: IR node names whose values become extra model outputs (after the logits, float32 through
   * DEQUANTIZE in int8 models), to compare a runtime layer by layer with `runModelIR`. Fused activations expose
   * the activation node, not the conv before it.
   */
  probe?: readonly string[];
}

/** Builds a `.tflite` model in memory (float32, or int8 with `options.quantize`). */
export function buildTflite(ir: ModelIR, options: TfliteExportOptions = {}): Uint8Array {
  return writeTfliteModel(buildTfliteModel(ir, options));
}

/** The model {@link buildTflite} serialises (tables before flatbuffer encoding; for tools and tests). */
export function buildTfliteModel(ir: ModelIR, options: TfliteExportOptions = {}): TflModel {
  const int8 = !!options.quantize;
  const graph = lowerToTflite(ir, int8 ? 'tflite-int8' : 'tflite');
  const description = options.description ?? `NetAug.js ${ir.name}`;
  const model = int8
    ? int8Model(
        graph,
        options.quantize!.plan ?? planInt8(ir, options.quantize!.calibration, options.quantize!),
        !!options.quantize!.int8Io,
        description,
      )
    : floatModel(graph, description);
  for (const name of options.probe ?? []) addProbe(model, name, int8);
  return model;
}

function addProbe(model: TflModel, name: string, int8: boolean): void {
  const sg = model.subgraph;
  const t = sg.tensors.findIndex((x) => x.name === name || x.name === `${name}/int8`);
  if (t < 0)
    throw new NetAugError('INVALID_ARGUMENT', `probe: no tensor for IR node '${name}' (absorbed by fusion?)`);
  if (!int8 || sg.tensors[t].type !== 'INT8') {
    sg.outputs.push(t);
    return;
  }
  let code = model.operatorCodes.findIndex((c) => c.op === 'DEQUANTIZE');
  if (code < 0) code = model.operatorCodes.push({ op: 'DEQUANTIZE', version: 2 }) - 1;
  const out =
    sg.tensors.push({ name: `${name}/probe`, shape: sg.tensors[t].shape, type: 'FLOAT32', buffer: 0 }) - 1;
  sg.operators.push({ opcodeIndex: code, inputs: [t], outputs: [out] });
  sg.outputs.push(out);
}

const INT8_VERSIONS: Partial<Record<BuiltinOperatorName, number>> = {
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 3,
  FULLY_CONNECTED: 4,
  ADD: 2,
  MUL: 2,
  MEAN: 2,
  MAX_POOL_2D: 2,
  CONCATENATION: 2,
  RESIZE_NEAREST_NEIGHBOR: 2,
  RESIZE_BILINEAR: 2,
  LOGISTIC: 2,
  RELU: 2,
  RELU6: 2,
  HARD_SWISH: 1,
  QUANTIZE: 1,
  DEQUANTIZE: 2,
};

class ModelAssembler {
  readonly codes: TflOperatorCode[] = [];
  readonly buffers: Uint8Array[] = [new Uint8Array(0)];
  readonly tensors: TflTensor[] = [];
  readonly operators: TflModel['subgraph']['operators'] = [];
  constructor(private readonly int8: boolean) {}

  /** Index of the operator code of `op`, added on first use; `minVersion`: the options need this kernel version. */
  opcode(op: BuiltinOperatorName, minVersion = 1): number {
    let i = this.codes.findIndex((c) => c.op === op);
    const version = Math.max(this.int8 ? (INT8_VERSIONS[op] ?? 1) : 1, minVersion);
    if (i < 0) i = this.codes.push({ op, version }) - 1;
    else if (this.codes[i].version < version) this.codes[i].version = version;
    return i;
  }

  buffer(data: ArrayBufferView | undefined): number {
    if (!data) return 0;
    return this.buffers.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()) - 1;
  }
}

function floatModel(g: LoweredGraph, description: string): TflModel {
  const m = new ModelAssembler(false);
  for (const t of g.tensors) {
    m.tensors.push({
      name: t.name,
      shape: t.shape,
      type: t.kind === 'int32' ? 'INT32' : 'FLOAT32',
      buffer: m.buffer(t.data),
    });
  }
  for (const op of g.ops)
    m.operators.push({
      opcodeIndex: m.opcode(op.op, op.minVersion),
      inputs: op.inputs,
      outputs: op.outputs,
      options: op.options,
    });
  return {
    description,
    operatorCodes: m.codes,
    subgraph: {
      name: g.name,
      tensors: m.tensors,
      inputs: [g.input],
      outputs: [...g.outputs],
      operators: m.operators,
    },
    buffers: m.buffers,
  };
}

function int8Model(g: LoweredGraph, plan: Int8Plan, int8Io: boolean, description: string): TflModel {
  const m = new ModelAssembler(true);
  const { ranges } = plan;
  const granularity = new Map(plan.layers.map((l) => [l.node, l.granularity]));
  const rangeOf = (name: string): [number, number] => {
    const r = ranges.get(name);
    if (!r) throw new NetAugError('INTERNAL', `no calibration range for IR node '${name}'`);
    return r;
  };
  const act = new Map<number, QuantParams>();
  g.tensors.forEach((t, i) => {
    if (t.kind === 'activation') act.set(i, t.fixedQuant ?? activationQuantParams(...t.range!(rangeOf)));
  });
  // weights and biases need their operator: bias scale = input scale × weight scale
  const weightQuant = new Map<number, { data: Int8Array; scales: number[] }>();
  const biasQuant = new Map<number, { data: Int32Array; scales: number[] }>();
  for (const op of g.ops) {
    if (op.op !== 'CONV_2D' && op.op !== 'DEPTHWISE_CONV_2D' && op.op !== 'FULLY_CONNECTED') continue;
    const [x, w, b] = op.inputs;
    const wt = g.tensors[w];
    // dense: always per-tensor; conv / depthwise: per-channel unless the plan says per-tensor
    const q =
      op.op !== 'FULLY_CONNECTED' && granularity.get(op.node) !== 'per-tensor'
        ? quantizePerChannel(wt.data as Float32Array, wt.shape, wt.channelDim!)
        : quantizePerTensorSymmetric(wt.data as Float32Array, wt.shape[wt.channelDim!]);
    weightQuant.set(w, q);
    biasQuant.set(b, quantizeBias(g.tensors[b].data as Float32Array, act.get(x)!.scale, q.scales));
  }
  g.tensors.forEach((t, i) => {
    const base = { name: t.name, shape: t.shape };
    switch (t.kind) {
      case 'activation': {
        const q = act.get(i)!;
        m.tensors.push({
          ...base,
          type: 'INT8',
          buffer: 0,
          quantization: { scale: [q.scale], zeroPoint: [q.zeroPoint] },
        });
        break;
      }
      case 'weight': {
        const q = weightQuant.get(i)!;
        const perTensor = q.scales.every((s) => s === q.scales[0]);
        const scale = perTensor ? [q.scales[0]] : q.scales;
        m.tensors.push({
          ...base,
          type: 'INT8',
          buffer: m.buffer(q.data),
          quantization: {
            scale,
            zeroPoint: scale.map(() => 0),
            quantizedDimension: perTensor ? 0 : t.channelDim,
          },
        });
        break;
      }
      case 'bias': {
        const q = biasQuant.get(i)!;
        const perTensor = q.scales.every((s) => s === q.scales[0]);
        const scale = perTensor ? [q.scales[0]] : q.scales;
        m.tensors.push({
          ...base,
          type: 'INT32',
          buffer: m.buffer(q.data),
          quantization: { scale, zeroPoint: scale.map(() => 0), quantizedDimension: 0 },
        });
        break;
      }
      case 'const': {
        const q = quantizeConstant(t.data as Float32Array);
        m.tensors.push({
          ...base,
          type: 'INT8',
          buffer: m.buffer(q.data),
          quantization: { scale: [q.params.scale], zeroPoint: [q.params.zeroPoint] },
        });
        break;
      }
      case 'int32':
        m.tensors.push({ ...base, type: 'INT32', buffer: m.buffer(t.data) });
        break;
    }
  });
  let input = g.input;
  let outputs = [...g.outputs];
  if (!int8Io) {
    // float32 model I/O: QUANTIZE the input, DEQUANTIZE every output
    const qIn = m.tensors[g.input];
    input = m.tensors.push({ name: qIn.name, shape: qIn.shape, type: 'FLOAT32', buffer: 0 }) - 1;
    qIn.name = `${qIn.name}/int8`;
    outputs = g.outputs.map((o) => {
      const qOut = m.tensors[o];
      const f = m.tensors.push({ name: qOut.name, shape: qOut.shape, type: 'FLOAT32', buffer: 0 }) - 1;
      qOut.name = `${qOut.name}/int8`;
      return f;
    });
    m.operators.push({ opcodeIndex: m.opcode('QUANTIZE'), inputs: [input], outputs: [g.input] });
  }
  for (const op of g.ops) {
    let inputs = op.inputs;
    if (op.op === 'CONCATENATION') {
      // the int8 kernel copies values: every input must have the output's scale and zero point. Inputs
      // calibrated to another range are requantized (QUANTIZE int8 → int8) to the output's; the output's range
      // is the union of the inputs' (concat moves values), so nothing saturates.
      const q = act.get(op.outputs[0])!;
      inputs = op.inputs.map((i, k) => {
        const p = act.get(i)!;
        if (p.scale === q.scale && p.zeroPoint === q.zeroPoint) return i;
        const t = m.tensors[i];
        const r =
          m.tensors.push({
            name: `${op.node}/requantized_${k}`,
            shape: t.shape,
            type: 'INT8',
            buffer: 0,
            quantization: { scale: [q.scale], zeroPoint: [q.zeroPoint] },
          }) - 1;
        m.operators.push({ opcodeIndex: m.opcode('QUANTIZE'), inputs: [i], outputs: [r] });
        return r;
      });
    }
    m.operators.push({
      opcodeIndex: m.opcode(op.op, op.minVersion),
      inputs,
      outputs: op.outputs,
      options: op.options,
    });
  }
  if (!int8Io)
    g.outputs.forEach((o, k) =>
      m.operators.push({ opcodeIndex: m.opcode('DEQUANTIZE'), inputs: [o], outputs: [outputs[k]] }),
    );
  return {
    description,
    operatorCodes: m.codes,
    subgraph: {
      name: g.name,
      tensors: m.tensors,
      inputs: [input],
      outputs,
      operators: m.operators,
    },
    buffers: m.buffers,
  };
}
