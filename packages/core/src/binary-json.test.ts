import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeBinaryJson, encodeBinaryJson } from './binary-json';
import { decodeModelIR, encodeModelIR } from './serialize';

const errors = { code: 'DATA_FORMAT', what: 'test file' } as const;

test('the byte layout, worked out by hand: magic, JSON length, JSON, zero padding, float32 LE', () => {
  const bytes = encodeBinaryJson(0x44434241, { w: new Float32Array([1, -2.5]), s: 'é!' });
  const json = '{"w":{"$f32":0,"length":2},"s":"é!"}'; // 36 characters, 37 UTF-8 bytes (é is two)
  const text = Buffer.from(json, 'utf8');
  expect(text.length).toBe(37);
  const expected = Buffer.concat([
    Buffer.from('ABCD', 'latin1'), // 0x44434241 little-endian
    Buffer.from([37, 0, 0, 0]),
    text,
    Buffer.from([0, 0, 0]), // 8 + 37 = 45 → three zeros to 48
    Buffer.from([0x00, 0x00, 0x80, 0x3f]), // 1.0f
    Buffer.from([0x00, 0x00, 0x20, 0xc0]), // -2.5f
  ]);
  expect(Buffer.from(bytes).equals(expected)).toBe(true);
  const back = decodeBinaryJson<{ w: Float32Array; s: string }>(0x44434241, bytes, errors);
  expect(back.s).toBe('é!');
  expect(Array.from(back.w)).toEqual([1, -2.5]);
});

test('several tensors keep their order and bits (NaN, −0, subnormals); a sliced input decodes too', () => {
  const a = new Float32Array([Number.NaN, -0, 1.4e-45, 3.4028234663852886e38]);
  const b = new Float32Array([0.1, 0.2, 0.3]);
  const bytes = encodeBinaryJson(7, { list: [a, { b }], n: 3 });
  const framed = new Uint8Array(bytes.length + 5);
  framed.set(bytes, 3); // not 4-aligned in its buffer
  const back = decodeBinaryJson<{ list: [Float32Array, { b: Float32Array }]; n: number }>(
    7,
    framed.subarray(3, 3 + bytes.length),
    errors,
  );
  expect(new Uint32Array(back.list[0].buffer)).toEqual(new Uint32Array(a.buffer));
  expect(back.list[1].b).toEqual(b);
  expect(back.n).toBe(3);
});

test('wrong magic, short header and missing tensor bytes are typed errors of the caller', () => {
  const bytes = encodeBinaryJson(7, { t: new Float32Array(4) });
  expect(() => decodeBinaryJson(8, bytes, { code: 'CHECKPOINT', what: 'NetAug checkpoint' })).toThrow(
    /^Not a NetAug checkpoint \(bad magic\)$/,
  );
  expect(() => decodeBinaryJson(7, bytes.subarray(0, 12), errors)).toThrow(/Truncated test file \(header\)/);
  expect(() => decodeBinaryJson(7, bytes.subarray(0, bytes.length - 4), errors)).toThrow(
    /Truncated test file \(tensors\)/,
  );
});

test('a .nair written before the shared container decodes and re-encodes to the same bytes', () => {
  const file = fs.readFileSync(path.join(__dirname, '__fixtures__/v1-classifier.nair'));
  const again = encodeModelIR(decodeModelIR(new Uint8Array(file)));
  expect(Buffer.from(again).equals(file)).toBe(true);
});
