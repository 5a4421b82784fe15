import * as tf from '@tensorflow/tfjs-core';
import { NetAugError, type ModelIR, type Supernet } from '@netaug/core';

/** Options of {@link loadModelIR}. */
export interface LoadModelIROptions {
  /**
   * Leave the classifier (the last `dense` node) as initialised: a new head, for a model trained on other
   * classes. Without it a classifier of another size is a SHAPE_MISMATCH error.
   */
  newHead?: boolean;
}

/** What {@link loadModelIR} did. */
export interface LoadModelIRResult {
  /** Variables written (their first channels). */
  loaded: string[];
  /** Variables left as initialised (the classifier with `newHead`). */
  kept: string[];
}

/** IR weight fields by node op → the suffix of the supernet variable that holds them. */
const FIELDS: Record<string, Record<string, string>> = {
  conv2d: { weight: 'weight', bias: 'bias' },
  depthwiseConv2d: { weight: 'weight', bias: 'bias' },
  dense: { weight: 'weight', bias: 'bias' },
  batchNorm: { gamma: 'gamma', beta: 'beta', mean: 'runningMean', variance: 'runningVar' },
};

/** Copies `src` (shape `s`) into the leading block of `dst` (shape `d`, every dim ≥ `s`'s). */
function copyLeading(dst: Float32Array, d: number[], src: Float32Array, s: number[]): void {
  const rank = d.length;
  const dStride = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) dStride[i] = dStride[i + 1] * d[i + 1];
  const inner = s[rank - 1];
  const outer = src.length / Math.max(inner, 1);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < outer; o++) {
    let off = 0;
    for (let i = 0; i < rank - 1; i++) off += idx[i] * dStride[i];
    dst.set(src.subarray(o * inner, (o + 1) * inner), off);
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < s[i]) break;
      idx[i] = 0;
    }
  }
}

/**
 * Writes trained weights into a supernet: each weighted node of `ir` (a tiny model extracted from a supernet of
 * the same architecture, a run's `model.nair`, or an imported model aligned to one) goes into the FIRST channels
 * of the supernet variables of the same name (`<node>.weight`, `<node>.bias`, `<node>.gamma`, …,
 * `<node>.runningMean`) — the tiny model's slice; the rest of the supernet keeps its initial weights. BN running
 * statistics are loaded too. Every variable of the supernet must get weights (a model of another architecture is
 * refused, naming the first variable without them), except the classifier with `newHead`.
 *
 * @throws NetAugError `SHAPE_MISMATCH` naming the layer when a tensor does not fit or is missing.
 */
export function loadModelIR(
  supernet: Supernet<tf.Tensor, tf.Variable>,
  ir: ModelIR,
  o: LoadModelIROptions = {},
): LoadModelIRResult {
  const vars = new Map(supernet.variables().map((v) => [v.name, v.variable]));
  // the tiny model's shapes: the weights must be exactly a tiny model of this architecture (a wider model would
  // also fit inside the supernet's largest widths, and be cut to its first channels without a word)
  const previous = supernet.getActive();
  supernet.setActive('min');
  const tiny = new Map<string, number[]>();
  for (const n of supernet.extract().nodes) {
    const fields = FIELDS[n.op];
    for (const [field, suffix] of Object.entries(fields ?? {})) {
      const t = (n as unknown as Record<string, { shape: number[] } | undefined>)[field];
      if (t) tiny.set(`${n.name}.${suffix}`, t.shape);
    }
  }
  supernet.setActive(previous);
  const dense = ir.nodes.filter((n) => n.op === 'dense');
  const classifier = dense.length ? dense[dense.length - 1].name : undefined;
  const loaded: string[] = [];
  const kept: string[] = [];
  const writes: { name: string; v: tf.Variable; data: Float32Array; shape: number[] }[] = [];
  for (const node of ir.nodes) {
    const fields = FIELDS[node.op];
    if (!fields) continue;
    for (const [field, suffix] of Object.entries(fields)) {
      const t = (node as unknown as Record<string, { shape: number[]; data: Float32Array } | undefined>)[
        field
      ];
      if (!t) continue;
      const name = `${node.name}.${suffix}`;
      const v = vars.get(name);
      if (!v) {
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `layer ${node.name} (${node.op}) has no counterpart in ${supernet.name} (no variable ${name})`,
          { hint: 'initialise from a model of the same architecture (the same zoo model and width)' },
        );
      }
      const want = tiny.get(name) ?? [];
      const isHead = node.name === classifier;
      const fits = t.shape.length === want.length && t.shape.every((n, i) => n === want[i]);
      if (isHead && o.newHead) {
        kept.push(name);
        continue;
      }
      if (!fits) {
        throw new NetAugError(
          'SHAPE_MISMATCH',
          `layer ${node.name}: the weights' ${field} is [${t.shape}], the tiny ${supernet.name}'s is [${want}]` +
            (isHead ? ' — the classifier has another number of classes' : ''),
          {
            hint: isHead
              ? 'pass --new-head (newHead: true) to start a new classifier for your classes'
              : 'initialise from a model of the same architecture (the same zoo model and width)',
          },
        );
      }
      // a node may hold a variable with fewer dims (a 1×1 conv after pooling is a dense node): leading 1s
      const shape = [...new Array<number>(v.shape.length - t.shape.length).fill(1), ...t.shape];
      writes.push({ name, v, data: t.data, shape });
    }
  }
  const written = new Set([...writes.map((w) => w.name), ...kept]);
  const missing = [...vars.keys()].find(
    (n) => !written.has(n) && !(o.newHead && n.startsWith(`${classifier}.`)),
  );
  if (missing) {
    throw new NetAugError(
      'SHAPE_MISMATCH',
      `the weights have nothing for ${supernet.name}'s ${missing}: a model of another architecture`,
      { hint: 'initialise from a model of the same architecture (the same zoo model and width)' },
    );
  }
  for (const w of writes) {
    const full = new Float32Array(w.v.dataSync() as Float32Array);
    copyLeading(full, [...w.v.shape], w.data, w.shape);
    tf.tidy(() => w.v.assign(tf.tensor(full, w.v.shape)));
    loaded.push(w.name);
  }
  return { loaded, kept };
}
