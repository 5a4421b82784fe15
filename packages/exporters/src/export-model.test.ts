import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { isNetAugError, type IRNode, type ModelIR } from '@netaug/core';
import { mobilenetLike, randomImages } from './test-utils';
import { withTempPath } from './atomic-write';
import { exportModel } from './export-model';
import { readTfliteModel } from './tflite/schema-reader';
import { verifyTflite } from './verify/tflite';
import type { ExportFormat } from './support';

jest.setTimeout(120_000);

const root = mkdtempSync(path.join(tmpdir(), 'netaug-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = (name: string) => {
  const d = path.join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
};

/** The test net with one node replaced by an op no exporter knows. */
function withUnknownOp(): ModelIR {
  const ir = mobilenetLike([28, 28, 1]);
  const i = ir.nodes.findIndex((n) => n.op === 'depthwiseConv2d');
  const bad = { ...ir.nodes[i], op: 'maxPool2d' } as unknown as IRNode;
  return { ...ir, nodes: ir.nodes.map((n, k) => (k === i ? bad : n)) };
}

describe('exportModel', () => {
  const ir = mobilenetLike([28, 28, 1]);

  it.each([
    ['tfjs', 'tfjs-model'],
    ['onnx', 'model.onnx'],
    ['tflite', 'model.tflite'],
    ['tflite-int8', 'model_int8.tflite'],
  ] as [ExportFormat, string][])('writes %s and reports files and bytes', async (format, name) => {
    const out = path.join(fresh(format), name);
    const res =
      format === 'tflite-int8'
        ? await exportModel(ir, { format, out, quantize: { calibration: randomImages([28, 28, 1], 4) } })
        : await exportModel(ir, { format, out } as Parameters<typeof exportModel>[1]);
    expect(res.format).toBe(format);
    expect(res.files.length).toBeGreaterThan(0);
    expect(res.files.every((f) => existsSync(f))).toBe(true);
    expect(res.bytes).toBeGreaterThan(1000);
    // no temporary files left next to the output
    expect(readdirSync(path.dirname(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.each(['tfjs', 'onnx', 'tflite', 'tflite-int8'] as ExportFormat[])(
    'throws UNSUPPORTED_OP naming the node and format for %s, writing nothing',
    async (format) => {
      const dir = fresh(`unsupported-${format}`);
      const out = path.join(dir, 'model');
      const err = await exportModel(withUnknownOp(), {
        format,
        out,
        quantize: { calibration: randomImages([28, 28, 1], 2) },
      } as Parameters<typeof exportModel>[1]).catch((e) => e);
      expect(isNetAugError(err)).toBe(true);
      expect(err.code).toBe('UNSUPPORTED_OP');
      expect(err.message).toContain("node 'dw_");
      expect(err.message).toContain('maxPool2d');
      expect(err.message).toContain(format);
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('leaves no partial file when quantization fails (non-finite weights)', async () => {
    const dir = fresh('numeric');
    const bad = mobilenetLike([28, 28, 1]);
    const conv = bad.nodes.find((n) => n.op === 'conv2d')!;
    if (conv.op === 'conv2d') conv.weight.data[0] = NaN;
    const err = await exportModel(bad, {
      format: 'tflite-int8',
      out: path.join(dir, 'q.tflite'),
      quantize: { calibration: randomImages([28, 28, 1], 2) },
    }).catch((e) => e);
    expect(err.code).toBe('NUMERIC');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the previous output and removes the temporary files when writing fails midway', async () => {
    const dir = fresh('midway');
    const target = path.join(dir, 'model-dir');
    mkdirSync(target);
    writeFileSync(path.join(target, 'model.json'), 'old');
    await expect(
      withTempPath(target, async (tmp) => {
        mkdirSync(tmp);
        writeFileSync(path.join(tmp, 'model.json'), 'half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(readdirSync(dir)).toEqual(['model-dir']);
    expect(readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('old');
    // and a successful write replaces a whole directory
    await exportModel(ir, { format: 'tfjs', out: target });
    expect(readdirSync(target).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(readdirSync(dir)).toEqual(['model-dir']);
  });

  it('rejects tflite-int8 without calibration images and unknown formats', async () => {
    await expect(
      exportModel(ir, {
        format: 'tflite-int8',
        out: path.join(root, 'x.tflite'),
        quantize: { calibration: [] },
      }),
    ).rejects.toThrow(/calibration/);
    await expect(
      exportModel(ir, { format: 'coreml', out: 'x' } as unknown as Parameters<typeof exportModel>[1]),
    ).rejects.toThrow(/unknown export format/);
  });

  it('int8 with int8Io has int8 model input and output and no QUANTIZE/DEQUANTIZE', async () => {
    const out = path.join(fresh('int8io'), 'q.tflite');
    await exportModel(ir, {
      format: 'tflite-int8',
      out,
      quantize: { calibration: randomImages([28, 28, 1], 4), int8Io: true },
    });
    const m = readTfliteModel(new Uint8Array(readFileSync(out)));
    expect(m.tensors[m.inputs[0]].type).toBe('INT8');
    expect(m.tensors[m.outputs[0]].type).toBe('INT8');
    expect(m.operators.map((o) => o.op)).not.toContain('QUANTIZE');
    expect(m.operators.map((o) => o.op)).not.toContain('DEQUANTIZE');
    await expect(verifyTflite(out, randomImages([28, 28, 1], 1))).rejects.toThrow(
      /input\/output types are INT8\/INT8.*float32-I\/O models only/,
    );
    // the input's quantization covers [0, 1] images: scale ≈ 1/255, zero point -128
    const q = m.tensors[m.inputs[0]].quantization!;
    expect(q.zeroPoint[0]).toBe(-128);
    expect(q.scale[0]).toBeLessThanOrEqual(1 / 255 + 1e-9);
  });
});
