/**
 * A trained tiny detector, extracted (`Detector.extract()`) and exported with `@netaug/exporters` to ONNX, TFLite
 * float32, TFLite int8 and a tfjs LayersModel; each file runs in its real runtime (onnxruntime-node, LiteRT.js,
 * tfjs-layers — the exporters' verifiers), its raw per-level outputs are decoded with `decodeRaw` (sigmoid, top-k,
 * boxes, class-wise NMS, letterbox undone) and the detections are compared with those of the detector's own tfjs
 * forward: float formats detection by detection (tight), int8 by matching (stated tolerances), and by VOC mAP.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { profile, type ModelIR } from '@netaug/core';
import {
  evaluateVoc,
  iou,
  loadEmbeddedScenes,
  unletterboxBox,
  type Box,
  type DetectionDataset,
  type Detection,
} from '@netaug/detection';
import { exportModel, verifyOnnx, verifyTfjs, verifyTflite } from '@netaug/exporters';
import { decodeRaw, type DetectorDecodeOptions } from './decode';
import type { Detector } from './detector';
import { prepareImages, trainDetector, type PreparedImages } from './train';
import { useFastBackend } from './test-utils';

jest.setTimeout(300_000);

const SIZE = 48;
const C = 10;
let det: Detector;
let ir: ModelIR;
let test: PreparedImages;
let calibration: Float32Array[];
let gts: Box[][];
/** Per test image: the tfjs forward's per-level outputs and their detections. */
let refRaw: Float32Array[][];
let reference: Detection[][];
const dir = mkdtempSync(path.join(tmpdir(), 'netaug-det-export-'));

const first = (ds: DetectionDataset, n: number): DetectionDataset => ({
  size: n,
  classNames: ds.classNames,
  get: (i) => ds.get(i),
  annotation: (i) => ds.annotation!(i),
});

const decodeAll = (raws: readonly (readonly ArrayLike<number>[])[], opts: DetectorDecodeOptions = {}) =>
  raws.map((r, i) => decodeRaw(r, det.levels, C, { ...opts, letterbox: test.letterbox[i] ?? undefined }));

beforeAll(async () => {
  await useFastBackend();
  const [train, testSet] = await Promise.all([loadEmbeddedScenes('train'), loadEmbeddedScenes('test')]);
  // 200 scenes letterboxed to 48×48, 20 baseline epochs (≈ 40 s on the native backend, one thread): a detector
  // whose detections are not noise (VOC mAP ≈ 0.1 on the test scenes), so that int8 is compared on real outputs
  const r = await trainDetector({
    train: first(train, 200),
    test: first(testSet, 8),
    inputSize: [SIZE, SIZE],
    epochs: 20,
    netaug: false,
    seed: 0,
    lr: 0.3,
    keepDetector: true,
  });
  det = r.detector!;
  det.setActive('min');
  ir = det.extract();
  test = await prepareImages(first(testSet, 32), SIZE, SIZE);
  gts = test.samples.map((s, i) => s.boxes.map((b) => unletterboxBox(b, test.letterbox[i]!)));
  calibration = (await prepareImages(first(train, 64), SIZE, SIZE)).samples.map((s) => s.image);
  // the reference: the detector's own eval-mode forward on the tfjs backend, per level
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(Float32Array.from(test.samples.flatMap((s) => Array.from(s.image))), [
    test.samples.length,
    SIZE,
    SIZE,
    1,
  ]);
  const levels = det.forwardLevels(x, { training: false });
  const flat = levels.map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, ...levels]);
  expect(tf.memory().numTensors).toBe(before);
  refRaw = test.samples.map((_, i) =>
    flat.map((f) =>
      f.slice((i * f.length) / test.samples.length, ((i + 1) * f.length) / test.samples.length),
    ),
  );
  reference = decodeAll(refRaw, { topK: 1000 });
}, 600_000);

afterAll(() => {
  det?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Largest |a − b| over every output of every image. */
function rawDiff(
  a: readonly (readonly ArrayLike<number>[])[],
  b: readonly (readonly ArrayLike<number>[])[],
): number {
  let m = 0;
  a.forEach((outs, i) =>
    outs.forEach((o, l) => {
      expect(o.length).toBe(b[i][l].length);
      for (let k = 0; k < o.length; k++) m = Math.max(m, Math.abs(o[k] - b[i][l][k]));
    }),
  );
  return m;
}

/**
 * Float formats: the same detections as the reference, up to their order among (near-)equal scores. Each reference
 * detection is paired with the same-class detection of nearest box (one to one); returns the count and the largest
 * |Δ| of box coordinates (px) and of scores over the pairs. Decoded with `topK` 1000 (nothing cut after NMS), so
 * that a near-tie at the 100th place cannot change the set.
 */
function sameDetections(got: Detection[][]): { boxes: number; scores: number; count: number } {
  let boxes = 0;
  let scores = 0;
  let count = 0;
  got.forEach((g, i) => {
    const r = reference[i];
    expect(g.length).toBe(r.length);
    const free = new Set(g.keys());
    for (const d of r) {
      let best = -1;
      let bestDist = Infinity;
      for (const k of free) {
        if (g[k].label !== d.label) continue;
        const dist = Math.max(...(['x', 'y', 'w', 'h'] as const).map((key) => Math.abs(g[k][key] - d[key])));
        if (dist < bestDist) [best, bestDist] = [k, dist];
      }
      expect(best).toBeGreaterThanOrEqual(0);
      free.delete(best);
      boxes = Math.max(boxes, bestDist);
      scores = Math.max(scores, Math.abs(g[best].score - d.score));
    }
    count += g.length;
  });
  return { boxes, scores, count };
}

/**
 * Int8 against the reference: every reference detection scoring ≥ `minScore` is matched to the same-class int8
 * detection of largest IoU. Returns how many there were, the fraction matched with IoU ≥ 0.5, the median IoU and
 * the median, 95th percentile and largest |Δscore| of the matches (the largest can be a neighbouring location's
 * detection standing in for one NMS suppressed in the other model).
 */
function matchDetections(got: Detection[][], minScore: number) {
  const ious: number[] = [];
  const dScores: number[] = [];
  let n = 0;
  reference.forEach((ref, i) => {
    for (const r of ref.filter((d) => d.score >= minScore)) {
      n++;
      let best: Detection | undefined;
      let bestIou = 0;
      for (const g of got[i]) {
        if (g.label !== r.label) continue;
        const v = iou(r, g);
        if (v > bestIou) [best, bestIou] = [g, v];
      }
      ious.push(bestIou);
      if (best && bestIou >= 0.5) dScores.push(Math.abs(best.score - r.score));
    }
  });
  const quantile = (a: number[], q: number) =>
    [...a].sort((x, y) => x - y)[Math.floor(q * (a.length - 1))] ?? NaN;
  return {
    n,
    matched: dScores.length / n,
    medianIou: quantile(ious, 0.5),
    medianDScore: quantile(dScores, 0.5),
    p95DScore: quantile(dScores, 0.95),
    maxDScore: Math.max(...dScores),
  };
}

const vocMAP = (dets: Detection[][]) => evaluateVoc(gts, dets, { numClasses: C }).mAP ?? 0;

it('the trained tiny detector has confident detections to compare (and its IR profile)', () => {
  const confident = reference.flat().filter((d) => d.score >= 0.3).length;
  const p = profile(ir);
  console.log(
    `tiny detector ${SIZE}×${SIZE}: ${p.params} IR params, ${p.macs} MACs; ${reference.flat().length} detections on ` +
      `${reference.length} test scenes, ${confident} with score ≥ 0.3; VOC mAP@0.5 ${vocMAP(reference).toFixed(4)}`,
  );
  expect(confident).toBeGreaterThan(50);
  expect(vocMAP(reference)).toBeGreaterThan(0.03);
});

it.each([
  ['onnx', 'model.onnx'],
  ['tflite', 'model.tflite'],
  ['tfjs', 'tfjs'],
] as const)('%s (float32): decoded detections equal the tfjs forward’s', async (format, file) => {
  const out = path.join(dir, file);
  const images = test.samples.map((s) => s.image);
  await exportModel(ir, { format, out } as Parameters<typeof exportModel>[1]);
  const r =
    format === 'onnx'
      ? await verifyOnnx(out, images)
      : format === 'tflite'
        ? await verifyTflite(out, images)
        : await verifyTfjs(out, images);
  expect(r.allOutputs[0]).toHaveLength(2);
  const raw = rawDiff(r.allOutputs, refRaw);
  const got = decodeAll(r.allOutputs, { topK: 1000 });
  const d = sameDetections(got);
  console.log(
    `${format}: max |Δraw| ${raw.toExponential(2)}; ${d.count} detections, max |Δbox| ${d.boxes.toExponential(2)} px, ` +
      `max |Δscore| ${d.scores.toExponential(2)}`,
  );
  expect(raw).toBeLessThan(1e-4);
  expect(d.count).toBeGreaterThan(1000);
  expect(d.boxes).toBeLessThan(1e-3); // pixels of the 96×96 scenes
  expect(d.scores).toBeLessThan(1e-5);
});

it('tflite int8 (LiteRT.js): confident detections found again, scores close, VOC mAP close', async () => {
  const out = path.join(dir, 'model_int8.tflite');
  await exportModel(ir, { format: 'tflite-int8', out, quantize: { calibration } });
  const r = await verifyTflite(
    out,
    test.samples.map((s) => s.image),
  );
  const got = decodeAll(r.allOutputs, { topK: 1000 });
  const m = matchDetections(got, 0.3);
  const [refMap, int8Map] = [vocMAP(reference), vocMAP(got)];
  console.log(
    `tflite int8: max |Δraw| ${rawDiff(r.allOutputs, refRaw).toFixed(3)}; of ${m.n} reference detections with score ≥ 0.3, ` +
      `${(100 * m.matched).toFixed(1)}% have a same-class int8 detection with IoU ≥ 0.5 (median IoU ${m.medianIou.toFixed(3)}), ` +
      `|Δscore| median ${m.medianDScore.toFixed(4)}, 95th percentile ${m.p95DScore.toFixed(4)}, max ${m.maxDScore.toFixed(4)}; VOC mAP@0.5 ${int8Map.toFixed(4)} vs float ${refMap.toFixed(4)}`,
  );
  expect(m.matched).toBeGreaterThanOrEqual(0.95);
  expect(m.medianIou).toBeGreaterThanOrEqual(0.9);
  expect(m.medianDScore).toBeLessThanOrEqual(0.02);
  expect(m.p95DScore).toBeLessThanOrEqual(0.05);
  expect(Math.abs(int8Map - refMap)).toBeLessThanOrEqual(0.02);
});
