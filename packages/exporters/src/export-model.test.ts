import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { isNetAugError, type IRNode, type ModelIR } from '@netaug/core';
import { mobilenetLike, randomImages } from './test-utils';
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

/**
 * Makes the `call`-th write into the temporary file whose name contains `marker` fail with ENOSPC (earlier calls
 * write half of what they are asked, as a nearly full disk might).
 */
function failWritesOf(marker: string, call = 1): void {
  const realOpen = fs.openSync.bind(fs) as (...a: unknown[]) => number;
  const realWrite = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  const fds = new Set<number>();
  let calls = 0;
  jest.spyOn(fs, 'openSync').mockImplementation(((...a: unknown[]) => {
    const fd = realOpen(...a);
    if (path.basename(String(a[0])).startsWith(marker)) fds.add(fd);
    return fd;
  }) as typeof fs.openSync);
  jest.spyOn(fs, 'writeSync').mockImplementation(((...a: unknown[]) => {
    if (!fds.has(a[0] as number)) return realWrite(...a);
    if (++calls >= call)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
        syscall: 'write',
      });
    return realWrite(a[0], a[1], a[2], Math.ceil((a[3] as number) / 2), a[4]);
  }) as typeof fs.writeSync);
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
    // no temporary files left next to the output (nor inside the tfjs folder)
    const left = [path.dirname(out), ...(format === 'tfjs' ? [out] : [])].flatMap((d) =>
      readdirSync(d).filter((f) => f.endsWith('.tmp')),
    );
    expect(left).toEqual([]);
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

  it('tfjs: ENOSPC writing model.json (the 2nd file) → IO naming it; previous shard and model.json kept, no temp', async () => {
    const dir = fresh('midway');
    const target = path.join(dir, 'model-dir');
    mkdirSync(target);
    writeFileSync(path.join(target, 'model.json'), 'old');
    writeFileSync(path.join(target, 'group1-shard1of1.bin'), 'old shard');
    failWritesOf('.model.json.');
    const err = await exportModel(ir, { format: 'tfjs', out: target }).catch((e) => e);
    jest.restoreAllMocks();
    expect(isNetAugError(err)).toBe(true);
    expect(err.code).toBe('IO');
    expect(err.message).toBe(
      `no space left on device writing ${path.join(target, 'model.json')} (the previous tfjs model is kept) — ` +
        `free space on the disk that holds ${target}, or write to another disk`,
    );
    expect(readdirSync(target).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('old');
    expect(readFileSync(path.join(target, 'group1-shard1of1.bin'), 'utf8')).toBe('old shard');
    expect(readdirSync(dir)).toEqual(['model-dir']);
    // a successful export replaces both, removes shards of an earlier export, leaves other files alone
    writeFileSync(path.join(target, 'group1-shard2of2.bin'), 'stale');
    writeFileSync(path.join(target, 'notes.txt'), 'mine');
    const res = await exportModel(ir, { format: 'tfjs', out: target });
    expect(readdirSync(target).sort()).toEqual(['group1-shard1of1.bin', 'model.json', 'notes.txt']);
    expect(res.files).toEqual([path.join(target, 'group1-shard1of1.bin'), path.join(target, 'model.json')]);
    expect(
      JSON.parse(readFileSync(path.join(target, 'model.json'), 'utf8')).weightsManifest[0].paths,
    ).toEqual(['group1-shard1of1.bin']);
  });

  it.each([
    ['onnx', 'model.onnx'],
    ['tflite', 'model.tflite'],
  ] as ['onnx' | 'tflite', string][])(
    '%s: ENOSPC mid-write → IO "no space left on device writing <file> (the previous model is kept)"',
    async (format, name) => {
      const dir = fresh(`enospc-${format}`);
      const out = path.join(dir, name);
      writeFileSync(out, 'previous model');
      failWritesOf(`.${name}.`, 2);
      const err = await exportModel(ir, { format, out }).catch((e) => e);
      jest.restoreAllMocks();
      expect(err.code).toBe('IO');
      expect(
        err.message.startsWith(`no space left on device writing ${out} (the previous model is kept) — `),
      ).toBe(true);
      expect(readFileSync(out, 'utf8')).toBe('previous model');
      expect(readdirSync(dir)).toEqual([name]);
    },
  );

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
