import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { Shape3 } from '@netaug/core';
import { fitBatchNormStats, mobilenetLike, randomImages, stack, unstack } from '../test-utils';
import { runModelIR } from '../reference/run-model-ir';
import { verifyOnnx } from '../verify/onnx';
import { buildOnnx, exportOnnx } from './export';

jest.setTimeout(120_000);

const dir = mkdtempSync(path.join(tmpdir(), 'netaug-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** NHWC → NCHW for one image. */
function toNchw(x: Float32Array, [h, w, c]: Shape3): Float32Array {
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++)
    for (let i = 0; i < w; i++)
      for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + i] = x[(y * w + i) * c + ch];
  return out;
}

describe.each([[[28, 28, 1] as Shape3], [[32, 32, 3] as Shape3]])('ONNX export, input %j', (shape) => {
  const ir = mobilenetLike(shape);
  fitBatchNormStats(ir, randomImages(shape, 8, 5));
  const imgs = randomImages(shape, 24, 3);
  const expected = unstack(runModelIR(ir, stack(imgs), imgs.length), imgs.length);

  it.each([
    ['folded BN, opset 13 (hswish composed)', { foldBN: true, opset: 13 }],
    ['unfolded BN, opset 14 (HardSwish)', { foldBN: false, opset: 14 }],
  ])('matches runModelIR in onnxruntime-node: %s', async (_label, opts) => {
    const file = path.join(dir, `${ir.name}-${opts.opset}-${opts.foldBN}.onnx`);
    const { bytes } = await exportOnnx(ir, file, opts);
    const { comparison } = await verifyOnnx(file, imgs, { expected });
    console.log(
      `onnx ${ir.name} ${_label}: ${bytes} bytes, max abs diff ${comparison!.maxAbsDiff.toExponential(2)}`,
    );
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-4);
    expect(comparison!.top1Agreement).toBe(1);
  });

  it('takes NCHW input with inputLayout nchw', async () => {
    const bytes = buildOnnx(ir, { inputLayout: 'nchw', opset: 17 });
    const { comparison } = await verifyOnnx(
      bytes,
      imgs.map((x) => toNchw(x, shape)),
      { expected },
    );
    expect(comparison!.maxAbsDiff).toBeLessThan(1e-4);
  });
});

describe('ONNX export options', () => {
  it('rejects opsets below 13', () => {
    expect(() => buildOnnx(mobilenetLike([28, 28, 1]), { opset: 11 })).toThrow(/opset 11/);
  });
  it('is deterministic', () => {
    const ir = mobilenetLike([28, 28, 1]);
    expect(Buffer.from(buildOnnx(ir)).equals(Buffer.from(buildOnnx(ir)))).toBe(true);
  });
});
