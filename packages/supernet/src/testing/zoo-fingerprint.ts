/**
 * A compact fingerprint of a zoo supernet (test helper, not exported): profiles, forward outputs, the `.nair`
 * bytes of extracted sub-networks, variable names / shapes / initial values, gradients and channel sorting.
 * `zoo-regression.test.ts` compares the zoo against fingerprints recorded from the code BEFORE the block
 * refactor (`__fixtures__/zoo-regression.json`); it only uses the `Supernet` contract of `@netaug/core`.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, encodeModelIR, profile, type ActiveConfig, type Shape3, type Supernet } from '@netaug/core';
import { createSupernet } from '../registry';
import { seededTensor } from './helpers';

export interface ZooCase {
  /** Key in the fixture. */
  id: string;
  model: string;
  width?: number;
  smallInput: boolean;
  inputShape: Shape3;
  numClasses: number;
  /** ImageNet-form cases: resolution at which params / MACs of the tiny model are also recorded. */
  paperResolution?: number;
}

/** Outputs of one eval forward: their sum and 8 evenly spaced logits. */
export interface LogitsSample {
  sum: number;
  sample: number[];
}

export interface ConfigPrint {
  config: ActiveConfig;
  params: number;
  macs: number;
  logits: LogitsSample;
  /** sha256 of `encodeModelIR(extract())`. */
  nair: string;
}

export interface ZooPrint {
  choices: { width: string[]; expand: string[] };
  /** sha256 of `name shape trainable weightDecay` of every variable, in order. */
  variableLayout: string;
  variableCount: number;
  /** sha256 of every variable's float32 bytes right after creation (the seeded init). */
  initialWeights: string;
  paper?: { params: number; macs: number };
  /** Sum of the training-mode logits at `max` (first pass: batch statistics). */
  trainMaxSum: number;
  min: ConfigPrint;
  max: ConfigPrint;
  random: ConfigPrint;
  /** Σ|g| over the gradients of Σ(logits·w) at the random config, training mode. */
  gradL1: number;
  sort: {
    permutations: number;
    /** sha256 of the permutations (variable, axis, perm). */
    hash: string;
    /** `extract()` at max after sorting (the sorted weights). */
    maxNair: string;
    maxLogits: LogitsSample;
    minLogits: LogitsSample;
  };
}

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

function sampleLogits(y: tf.Tensor): LogitsSample {
  const d = y.dataSync();
  const sample = Array.from({ length: 8 }, (_, i) => d[Math.floor((i * d.length) / 8)]);
  let sum = 0;
  for (const v of d) sum += v;
  return { sum, sample };
}

function evalPrint(net: Supernet<tf.Tensor, tf.Variable>, x: tf.Tensor, shape: Shape3): ConfigPrint {
  const y = net.forward(x, { training: false });
  const logits = sampleLogits(y);
  y.dispose();
  const ir = net.extract();
  const p = profile(ir, shape);
  return { config: net.getActive(), params: p.params, macs: p.macs, logits, nair: sha(encodeModelIR(ir)) };
}

/** The fingerprint of one case (on the current tfjs backend). */
export function zooFingerprint(c: ZooCase): ZooPrint {
  const net = createSupernet(c.model, {
    numClasses: c.numClasses,
    inputShape: c.inputShape,
    smallInput: c.smallInput,
    width: c.width,
    seed: 3,
  }) as Supernet<tf.Tensor, tf.Variable>;
  try {
    const vars = net.variables();
    const layout = vars
      .map((v) => `${v.name} ${v.variable.shape} ${v.trainable} ${v.weightDecay}`)
      .join('\n');
    const h = createHash('sha256');
    for (const v of vars) {
      const a = v.variable.dataSync() as Float32Array;
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    const initialWeights = h.digest('hex');
    let paper: ZooPrint['paper'];
    if (c.paperResolution) {
      net.setActive('min');
      const p = profile(net.extract(), [c.paperResolution, c.paperResolution, 3]);
      paper = { params: p.params, macs: p.macs };
    }
    const x = seededTensor([2, ...c.inputShape], 11);
    net.setActive('max');
    const yt = net.forward(x, { training: true });
    const trainMaxSum = sampleLogits(yt).sum;
    yt.dispose();
    net.setActive('min');
    const min = evalPrint(net, x, c.inputShape);
    net.setActive('max');
    const max = evalPrint(net, x, c.inputShape);
    net.setActive('random', new Rng(7));
    const random = evalPrint(net, x, c.inputShape);
    const w = seededTensor([2, c.numClasses], 12);
    const trainable = vars.filter((v) => v.trainable).map((v) => v.variable);
    const gradL1 = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(net.forward(x, { training: true }), w)) as tf.Scalar,
        trainable,
      );
      let s = 0;
      for (const g of Object.values(grads)) s += tf.sum(tf.abs(g)).dataSync()[0];
      return s;
    });
    net.setActive('max');
    const perms = net.sortChannels();
    const permText = perms.map((p) => `${p.variable} ${p.axis} ${Array.from(p.perm)}`).join('\n');
    const ym = net.forward(x, { training: false });
    const maxLogits = sampleLogits(ym);
    const maxNair = sha(encodeModelIR(net.extract()));
    net.setActive('min');
    const yn = net.forward(x, { training: false });
    const minLogits = sampleLogits(yn);
    tf.dispose([x, w, ym, yn]);
    return {
      choices: { width: [...net.choices.width], expand: [...net.choices.expand] },
      variableLayout: sha(layout),
      variableCount: vars.length,
      initialWeights,
      paper,
      trainMaxSum,
      min,
      max,
      random,
      gradL1,
      sort: { permutations: perms.length, hash: sha(permText), maxNair, maxLogits, minLogits },
    };
  } finally {
    net.dispose();
  }
}

/** Every zoo model, in its ImageNet form (at a small resolution, 1000 classes) and its small-input form. */
export const ZOO_CASES: ZooCase[] = [
  ['mobilenetv2', 0.35, 160],
  ['mobilenetv2', 1, 224],
  ['mobilenetv2-tiny', undefined, 144],
  ['proxylessnas', 0.35, 160],
  ['mcunet', undefined, 176],
  ['mobilenetv3', 0.35, 160],
].flatMap(([model, width, res]) => {
  const tag = `${model}${width !== undefined ? `-w${width}` : ''}`;
  return [
    {
      id: `${tag} imagenet`,
      model: model as string,
      width: width as number | undefined,
      smallInput: false,
      inputShape: [32, 32, 3] as Shape3,
      numClasses: 1000,
      paperResolution: res as number,
    },
    {
      id: `${tag} small`,
      model: model as string,
      width: width as number | undefined,
      smallInput: true,
      inputShape: [12, 12, model === 'mobilenetv2-tiny' ? 1 : 3] as Shape3,
      numClasses: 10,
    },
  ];
});
