import { decodeBinaryJson, encodeBinaryJson } from './binary-json';
import { NetAugError } from './errors';
import { MODEL_IR_SCHEMA_VERSION, type IRTensor, type ModelIR } from './model-ir';

const MAGIC = 0x5249414e; // "NAIR" little-endian

/**
 * Encodes a ModelIR into one self-contained binary file (the container of {@link encodeBinaryJson}): `NAIR`
 * magic, u32 JSON length, UTF-8 JSON (tensors replaced by `{$f32, length}`), zero padding to 4 bytes, then all
 * float32 data little-endian.
 */
export function encodeModelIR(ir: ModelIR): Uint8Array {
  return encodeBinaryJson(MAGIC, ir);
}

/** Decodes what {@link encodeModelIR} wrote. Throws DATA_FORMAT on anything else. */
export function decodeModelIR(bytes: Uint8Array): ModelIR {
  const ir = decodeBinaryJson<ModelIR>(MAGIC, bytes, {
    code: 'DATA_FORMAT',
    what: 'NetAug ModelIR file',
    hint: 'pass a model.nair file written by encodeModelIR / a training run',
  });
  if (ir.schemaVersion !== MODEL_IR_SCHEMA_VERSION) {
    throw new NetAugError('DATA_FORMAT', `ModelIR schemaVersion ${ir.schemaVersion} is not supported`, {
      hint: `this library reads version ${MODEL_IR_SCHEMA_VERSION}`,
    });
  }
  return ir;
}

/** Deep copy of a tensor. */
export function cloneTensor(t: IRTensor): IRTensor {
  return { shape: [...t.shape], data: new Float32Array(t.data) };
}
