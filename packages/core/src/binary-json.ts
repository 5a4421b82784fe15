import { NetAugError, type NetAugErrorCode } from './errors';

/**
 * The one binary container of the project's files (`.nair` models, training checkpoints): a 4-byte magic
 * (u32 little-endian), the u32 byte length of a UTF-8 JSON header, the header (every `Float32Array` in the value
 * replaced by `{ $f32: offset, length }`, offsets in floats), zero padding to 4 bytes, then all float32 data
 * little-endian, in the order the JSON names them.
 */
export function encodeBinaryJson(magic: number, value: unknown): Uint8Array {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const json = JSON.stringify(value, (_k, v) => {
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
  const base = head + ((4 - (head % 4)) % 4);
  const out = new Uint8Array(base + offset * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  view.setUint32(4, text.length, true);
  out.set(text, 8);
  let pos = base;
  for (const c of chunks) {
    if (LITTLE_ENDIAN) new Float32Array(out.buffer, pos, c.length).set(c);
    else for (let i = 0; i < c.length; i++) view.setFloat32(pos + 4 * i, c[i], true);
    pos += 4 * c.length;
  }
  return out;
}

/** How {@link decodeBinaryJson} reports a file that is not what the caller expects. */
export interface BinaryJsonErrors {
  /** Error code of every failure (e.g. `DATA_FORMAT`, `CHECKPOINT`). */
  code: NetAugErrorCode;
  /** What the file should be, e.g. `NetAug ModelIR file`. */
  what: string;
  /** Hint for a wrong magic. */
  hint?: string;
}

/** Decodes what {@link encodeBinaryJson} wrote with the same `magic`; a wrong magic or truncation throws `errors.code`. */
export function decodeBinaryJson<T>(magic: number, bytes: Uint8Array, errors: BinaryJsonErrors): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8 || view.getUint32(0, true) !== magic)
    throw new NetAugError(
      errors.code,
      `Not a ${errors.what} (bad magic)`,
      errors.hint ? { hint: errors.hint } : {},
    );
  const len = view.getUint32(4, true);
  const head = 8 + len;
  if (head > bytes.byteLength) throw new NetAugError(errors.code, `Truncated ${errors.what} (header)`);
  const base = head + ((4 - (head % 4)) % 4);
  const json = new TextDecoder().decode(bytes.subarray(8, head));
  return JSON.parse(json, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$f32 === 'number') {
      const start = base + v.$f32 * 4;
      if (start + v.length * 4 > bytes.byteLength)
        throw new NetAugError(errors.code, `Truncated ${errors.what} (tensors)`);
      const a = new Float32Array(v.length);
      if (LITTLE_ENDIAN) new Uint8Array(a.buffer).set(bytes.subarray(start, start + v.length * 4));
      else for (let i = 0; i < v.length; i++) a[i] = view.getFloat32(start + i * 4, true);
      return a;
    }
    return v;
  }) as T;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
