/*
 * TensorBoard event files, written by hand: TFRecord framing around `Event` protocol-buffer messages, as the
 * summary writers of TensorFlow (and tfjs-node, which uses TensorFlow's) produce them. A few dozen lines; no
 * protobuf package is needed for four message fields.
 *
 * TFRecord: uint64 LE length, uint32 LE masked CRC32C of those 8 bytes, the data, uint32 LE masked CRC32C of the
 * data. Masked: `((crc >>> 15) | (crc << 17)) + 0xa282ead8` modulo 2^32.
 *
 * Field numbers (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto):
 *   Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }   Summary.Value { string tag = 1; float simple_value = 2; }
 */

/** The CRC32C (Castagnoli) table of the reflected polynomial 0x82F63B78. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli) of `bytes`, as an unsigned 32-bit number; `crc32c('123456789') === 0xe3069283`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The masked CRC of TFRecord: `((crc >>> 15) | (crc << 17)) + 0xa282ead8` modulo 2^32. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, masked CRC32C of the length, `data`, masked CRC32C of `data`. */
export function tfrecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length + 16);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskCrc(crc32c(out.subarray(0, 8))), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskCrc(crc32c(data)), 12 + data.length);
  return out;
}

/** Base-128 varint of a non-negative integer (up to 2^53). */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2). */
function delimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(bytes.length)]), bytes]);
}

/** One scalar of an event: its tag and value (stored as float32, `simple_value`). */
export interface EventScalar {
  tag: string;
  value: number;
}

/**
 * An `Event` message: `wall_time` (seconds since the epoch), `step` (omitted when 0, the proto3 default), and
 * either `file_version` or a `Summary` of `simple_value` scalars.
 */
export function encodeEvent(e: {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: EventScalar[];
}): Buffer {
  const parts: Buffer[] = [];
  const wall = Buffer.alloc(9);
  wall[0] = (1 << 3) | 1; // fixed64
  wall.writeDoubleLE(e.wallTime, 1);
  parts.push(wall);
  if (e.step !== 0) parts.push(Buffer.from([(2 << 3) | 0, ...varint(e.step)]));
  if (e.fileVersion !== undefined) parts.push(delimited(3, Buffer.from(e.fileVersion, 'utf8')));
  if (e.scalars?.length) {
    const values = e.scalars.map((s) => {
      const v = Buffer.alloc(5);
      v[0] = (2 << 3) | 5; // fixed32
      v.writeFloatLE(s.value, 1);
      return delimited(1, Buffer.concat([delimited(1, Buffer.from(s.tag, 'utf8')), v]));
    });
    parts.push(delimited(5, Buffer.concat(values)));
  }
  return Buffer.concat(parts);
}

/** The first event of every file: `file_version: "brain.Event:2"`. */
export const FILE_VERSION = 'brain.Event:2';

/**
 * The complete records of an event file, in order, with the step of each event (0 when absent). Reading stops at
 * the first record that is incomplete or whose CRCs do not match (the torn tail an interrupted append leaves).
 * Only what trimming needs: the step (field 2) of each event; other fields are skipped by wire type.
 */
export function readRecords(buf: Buffer): { step: number; record: Buffer }[] {
  const out: { step: number; record: Buffer }[] = [];
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const len = Number(buf.readBigUInt64LE(pos));
    if (buf.readUInt32LE(pos + 8) !== maskCrc(crc32c(buf.subarray(pos, pos + 8)))) break;
    const end = pos + 12 + len + 4;
    if (end > buf.length) break;
    const data = buf.subarray(pos + 12, pos + 12 + len);
    if (buf.readUInt32LE(pos + 12 + len) !== maskCrc(crc32c(data))) break;
    const step = eventStep(data);
    if (step === null) break;
    out.push({ step, record: buf.subarray(pos, end) });
    pos = end;
  }
  return out;
}

/** Field 2 (`step`) of an `Event` message; null when the message does not parse. */
function eventStep(m: Uint8Array): number | null {
  let pos = 0;
  let step = 0;
  const readVarint = (): number | null => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= m.length) return null;
      const b = m[pos++];
      v += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return v;
    }
    return null;
  };
  while (pos < m.length) {
    const key = readVarint();
    if (key === null) return null;
    const wire = key % 8;
    if (wire === 0) {
      const v = readVarint();
      if (v === null) return null;
      if (Math.floor(key / 8) === 2) step = v;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const n = readVarint();
      if (n === null) return null;
      pos += n;
    } else return null;
    if (pos > m.length) return null;
  }
  return step;
}
