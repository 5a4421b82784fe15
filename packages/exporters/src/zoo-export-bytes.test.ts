/**
 * The exported files of zoo models are byte for byte what they were before the supernet's block refactor and the
 * `maxPool` op: sha256 of the `.nair`, ONNX, TFLite float32 / int8 and tfjs (topology + weights) bytes of
 * extracted sub-networks at a fixed seed, recorded from the earlier code in `__fixtures__/zoo-export-bytes.json`
 * (written with `NETAUG_WRITE_EXPORT_FIXTURE=1`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, encodeModelIR, type ActiveMode, type ModelIR, type Shape3 } from '@netaug/core';
import { createSupernet } from '@netaug/supernet';
import { buildOnnx } from './onnx/export';
import { buildTflite } from './tflite/export';
import { buildTfjsArtifacts } from './tfjs/topology';
import { randomImages } from './test-utils';

jest.setTimeout(300_000);

const FIXTURE = path.join(__dirname, '__fixtures__', 'zoo-export-bytes.json');
const WRITE = process.env.NETAUG_WRITE_EXPORT_FIXTURE === '1';
const recorded: Record<string, Record<string, string>> = WRITE
  ? {}
  : JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

afterAll(() => {
  if (!WRITE) return;
  fs.mkdirSync(path.dirname(FIXTURE), { recursive: true });
  fs.writeFileSync(FIXTURE, JSON.stringify(recorded, null, 2) + '\n');
});

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const cases: {
  id: string;
  model: string;
  inputShape: Shape3;
  smallInput: boolean;
  mode: ActiveMode;
  int8?: boolean;
}[] = [
  {
    id: 'mobilenetv2-tiny small min',
    model: 'mobilenetv2-tiny',
    inputShape: [28, 28, 1],
    smallInput: true,
    mode: 'min',
    int8: true,
  },
  {
    id: 'mobilenetv3 small random',
    model: 'mobilenetv3',
    inputShape: [16, 16, 3],
    smallInput: true,
    mode: 'random',
  },
  {
    id: 'mobilenetv3 imagenet min',
    model: 'mobilenetv3',
    inputShape: [32, 32, 3],
    smallInput: false,
    mode: 'min',
  },
  { id: 'mcunet imagenet min', model: 'mcunet', inputShape: [32, 32, 3], smallInput: false, mode: 'min' },
  {
    id: 'proxylessnas small max',
    model: 'proxylessnas',
    inputShape: [8, 8, 3],
    smallInput: true,
    mode: 'max',
  },
  {
    id: 'mobilenetv2 small random',
    model: 'mobilenetv2',
    inputShape: [16, 16, 3],
    smallInput: true,
    mode: 'random',
  },
];

function extract(c: (typeof cases)[number]): ModelIR {
  const net = createSupernet(c.model, {
    numClasses: 10,
    inputShape: c.inputShape,
    smallInput: c.smallInput,
    seed: 4,
  });
  try {
    // one training pass at max: non-trivial batch-norm running statistics
    const x = tf.tidy(() => tf.randomUniform([2, ...c.inputShape], -1, 1, 'float32', 5));
    net.setActive('max');
    tf.dispose(net.forward(x, { training: true }));
    x.dispose();
    net.setActive(c.mode, new Rng(9));
    return net.extract();
  } finally {
    net.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test.each(cases.map((c) => [c.id, c] as const))('%s: exported bytes unchanged', (id, c) => {
  const ir = extract(c);
  const tfjs = buildTfjsArtifacts(ir);
  const got: Record<string, string> = {
    nair: sha(encodeModelIR(ir)),
    onnx: sha(buildOnnx(ir)),
    tflite: sha(buildTflite(ir)),
    tfjsTopology: sha(JSON.stringify({ t: tfjs.modelTopology, w: tfjs.weightSpecs })),
    tfjsWeights: sha(new Uint8Array(tfjs.weightData as ArrayBuffer)),
  };
  if (c.int8) {
    const calibration = randomImages(c.inputShape, 4, 3);
    got.tfliteInt8 = sha(buildTflite(ir, { quantize: { calibration } }));
  }
  if (WRITE) recorded[id] = got;
  else expect(got).toEqual(recorded[id]);
});
