import { NetAugError } from './errors';
import { MODEL_IR_SCHEMA_VERSION, type IRTensor, type ModelIR } from './model-ir';

const MAGIC = 0x5249414e; // "NAIR" little-endian

/**
 * Encodes a ModelIR into one self-contained binary file: `NAIR` magic, u32 JSON length, UTF-8 JSON
 * (tensors replaced by `{shape, offset}`), zero padding to 4 bytes, then all float32 data little-endian.
 */
export function encodeModelIR(ir: ModelIR): Uint8Array {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const json = JSON.stringify(ir, (_k, v) => {
    if (v instanceof Float32Array) {
      chunks.push(v);
      const ref = { $f32: offset, length: v.length };
      offset += v.length;
      return ref;
    }
    return v;
  });
  const text = new TextEncoder().encode(json);
  const head = 8 + text.length;
  const pad = (4 - (head % 4)) % 4;
  const out = new Uint8Array(head + pad + offset * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, text.length, true);
  out.set(text, 8);
  let pos = head + pad;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++, pos += 4) view.setFloat32(pos, c[i], true);
  }
  return out;
}

/** Decodes what {@link encodeModelIR} wrote. Throws DATA_FORMAT on anything else. */
export function decodeModelIR(bytes: Uint8Array): ModelIR {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8 || view.getUint32(0, true) !== MAGIC) {
    throw new NetAugError('DATA_FORMAT', 'Not a NetAug ModelIR file (bad magic)', {
      hint: 'pass a model.nair file written by encodeModelIR / a training run',
    });
  }
  const len = view.getUint32(4, true);
  if (8 + len > bytes.byteLength) throw new NetAugError('DATA_FORMAT', 'Truncated ModelIR file (header)');
  const head = 8 + len;
  const base = head + ((4 - (head % 4)) % 4);
  const json = new TextDecoder().decode(bytes.subarray(8, head));
  const ir = JSON.parse(json, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$f32 === 'number') {
      const start = base + v.$f32 * 4;
      if (start + v.length * 4 > bytes.byteLength)
        throw new NetAugError('DATA_FORMAT', 'Truncated ModelIR file (weights)');
      const a = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) a[i] = view.getFloat32(start + i * 4, true);
      return a;
    }
    return v;
  }) as ModelIR;
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
