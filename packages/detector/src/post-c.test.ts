/**
 * The C post-processing (`c/netaug_detect_post.c`) against the JavaScript `decodeRaw`: compiled with
 * `gcc -std=c11 -Wall -Wextra -Werror -pedantic`, run (through `c/example_decode.c`) on raw outputs written by this
 * test — a detector's outputs at three levels with widely spread logits (many candidates, much NMS), with and
 * without a letterbox and other thresholds, int8-quantized outputs, and outputs that are all equal (every score
 * tied) — and its detections compared with `decodeRaw`'s on the same values. Skipped with a warning where gcc is
 * missing, unless CI is set (then it fails).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@netaug/core';
import { letterboxParams, type Detection, type LetterboxParams } from '@netaug/detection';
import { decodeRaw, type DetectorDecodeOptions } from './decode';
import { createDetector, type Detector } from './detector';
import { levelLayout, type Level } from './levels';
import { seededImages, useFastBackend } from './test-utils';

const C_DIR = join(__dirname, '..', 'c');
const dir = mkdtempSync(join(tmpdir(), 'netaug-post-c-'));
const hasGcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasGcc && process.env.CI)
  throw new Error(
    'gcc is missing: CI must have it (it installs g++, which brings gcc) to test the C post-processing',
  );
if (!hasGcc) console.warn('post-c.test.ts: gcc not found, the C post-processing is not tested here');
const itC = hasGcc ? it : it.skip;

const C = 3;
let det: Detector;
/** Per image: the per-level raw outputs of the detector (64×64 input, strides 8, 16, 32). */
let raws: Float32Array[][];

beforeAll(async () => {
  await useFastBackend();
  det = createDetector({
    backbone: 'mobilenetv2-tiny',
    numClasses: C,
    inputShape: [64, 64, 1],
    strides: [8, 16, 32],
    neckChannels: 8,
    seed: 4,
  });
  // a predictor with spread-out weights and biases: class probabilities from ~0 to ~1, boxes of many sizes
  const rng = new Rng(9);
  tf.tidy(() => {
    for (const v of det.variables()) {
      const fill = (f: () => number) =>
        tf.tensor(Float32Array.from({ length: v.variable.size }, f), v.variable.shape);
      if (v.name === 'det.pred.weight') v.variable.assign(fill(() => rng.normal(0, 1.5)));
      if (v.name === 'det.pred.bias') v.variable.assign(fill(() => rng.normal(0, 1)));
    }
  });
  const x = tf.tensor4d(seededImages(6, [64, 64, 1], 3), [6, 64, 64, 1]);
  const levels = det.forwardLevels(x, { training: false });
  const flat = levels.map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, ...levels]);
  raws = Array.from({ length: 6 }, (_, i) =>
    flat.map((f) => f.slice((i * f.length) / 6, ((i + 1) * f.length) / 6)),
  );
});

afterAll(() => {
  det?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Compiles the harness with the library; returns the executable. */
function build(name: string, defines: string[] = []): string {
  const exe = join(dir, name);
  const r = spawnSync(
    'gcc',
    [
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-pedantic',
      '-O2',
      ...defines,
      join(C_DIR, 'example_decode.c'),
      join(C_DIR, 'netaug_detect_post.c'),
      '-lm',
      '-o',
      exe,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return exe;
}

interface Case {
  levels: Level[];
  options?: DetectorDecodeOptions;
  /** Per level scale and zero point: the raw values are int8. */
  int8?: { scale: number; zeroPoint: number }[];
}

/** Writes the spec and the raw values, runs the C decoder, parses its detections per image. */
function runC(exe: string, c: Case, images: ArrayLike<number>[][]): Detection[][] {
  const o = c.options ?? {};
  const lb: LetterboxParams | undefined = o.letterbox;
  const g = (v: number) => v.toPrecision(17);
  const spec = [
    `classes ${C}`,
    `levels ${c.levels.length}`,
    ...c.levels.map((l) => `${l.stride} ${l.height} ${l.width}`),
    `threshold ${g(o.scoreThreshold ?? 0.05)} pre ${o.preNmsTopK ?? 1000} iou ${g(o.iouThreshold ?? 0.6)} topk ${o.topK ?? 100}`,
    lb
      ? `letterbox 1 ${[lb.left, lb.top, lb.scaleX, lb.scaleY, lb.srcWidth, lb.srcHeight].map(g).join(' ')}`
      : 'letterbox 0',
    c.int8 ? `int8 1\n${c.int8.map((q) => `${g(q.scale)} ${q.zeroPoint}`).join('\n')}` : 'int8 0',
    `images ${images.length}`,
  ].join('\n');
  writeFileSync(join(dir, 'spec.txt'), spec + '\n');
  const parts = images.flatMap((outs) =>
    outs.map((a) => (c.int8 ? Int8Array.from(a) : Float32Array.from(a))),
  );
  writeFileSync(join(dir, 'raw.bin'), Buffer.concat(parts.map((p) => Buffer.from(p.buffer))));
  const r = spawnSync(exe, [join(dir, 'spec.txt'), join(dir, 'raw.bin')], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out: Detection[][] = [];
  for (const line of r.stdout.trim().split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'image') out.push([]);
    else {
      const [label, score, x, y, w, h] = f.map(Number);
      out[out.length - 1].push({ label, score, x, y, w, h });
    }
  }
  expect(out).toHaveLength(images.length);
  return out;
}

/** In order: same labels; largest |Δ| of coordinates and of scores. */
function diff(a: Detection[][], b: Detection[][]): { box: number; score: number; count: number } {
  let box = 0;
  let score = 0;
  let count = 0;
  a.forEach((da, i) => {
    expect(da.map((d) => d.label)).toEqual(b[i].map((d) => d.label));
    da.forEach((d, k) => {
      for (const key of ['x', 'y', 'w', 'h'] as const) box = Math.max(box, Math.abs(d[key] - b[i][k][key]));
      score = Math.max(score, Math.abs(d.score - b[i][k].score));
    });
    count += da.length;
  });
  return { box, score, count };
}

const CASES: [string, (levels: Level[]) => DetectorDecodeOptions][] = [
  ['defaults', () => ({})],
  [
    'a letterbox (100×80 source), threshold 0.2, pre-NMS 40, IoU 0.3, top 7',
    () => ({
      letterbox: letterboxParams(100, 80, 64, 64),
      scoreThreshold: 0.2,
      preNmsTopK: 40,
      iouThreshold: 0.3,
      topK: 7,
    }),
  ],
];

describe('C post-processing (netaug_detect_post.c)', () => {
  itC.each(CASES)('float outputs, %s: the same detections as decodeRaw', (_, opts) => {
    const exe = build('decode');
    const options = opts(det.levels);
    const js = raws.map((r) => decodeRaw(r, det.levels, C, options));
    const cOut = runC(exe, { levels: det.levels, options }, raws);
    const d = diff(cOut, js);
    console.log(
      `C (double) vs decodeRaw: ${d.count} detections, max |Δbox| ${d.box}, max |Δscore| ${d.score}`,
    );
    expect(d.count).toBeGreaterThan(options.topK ? 20 : 100);
    expect(d.box).toBeLessThanOrEqual(1e-9);
    expect(d.score).toBeLessThanOrEqual(1e-12);
  });

  itC(
    'int8 outputs (scale, zero point per level): the same detections as decodeRaw of the dequantized values',
    () => {
      const exe = build('decode');
      // per-level asymmetric quantization over the images' range, as a TFLite int8 output would be
      const quant = det.levels.map((_, l) => {
        const all = raws.flatMap((r) => Array.from(r[l]));
        const [lo, hi] = [Math.min(0, ...all), Math.max(0, ...all)];
        const scale = Math.fround((hi - lo) / 255);
        return { scale, zeroPoint: Math.round(-128 - lo / scale) };
      });
      const q = raws.map((r) =>
        r.map((a, l) =>
          Int8Array.from(a, (v) =>
            Math.max(-128, Math.min(127, Math.round(v / quant[l].scale) + quant[l].zeroPoint)),
          ),
        ),
      );
      // TFLite's DEQUANTIZE: float(scale · (q − zero point))
      const deq = q.map((r) =>
        r.map((a, l) => Float32Array.from(a, (v) => Math.fround(quant[l].scale * (v - quant[l].zeroPoint)))),
      );
      const js = deq.map((r) => decodeRaw(r, det.levels, C));
      const d = diff(runC(exe, { levels: det.levels, int8: quant }, q), js);
      console.log(`C int8 vs decodeRaw: ${d.count} detections, max |Δbox| ${d.box}, max |Δscore| ${d.score}`);
      expect(d.count).toBeGreaterThan(100);
      expect(d.box).toBeLessThanOrEqual(1e-9);
      expect(d.score).toBeLessThanOrEqual(1e-12);
    },
  );

  itC('every score tied: the order is location, then class, as decodeRaw; NMS keeps the same boxes', () => {
    const exe = build('decode');
    const levels = levelLayout(32, 32, [8, 16]);
    // all logits 1 and box values 0.4: every (location, class) scores the same, boxes differ by location only
    const raw = levels.map((l) => new Float32Array(l.height * l.width * (C + 5)).fill(1));
    raw.forEach((a) => a.forEach((_, i) => (i % (C + 5) >= C && i % (C + 5) < C + 4 ? (a[i] = 0.4) : 0)));
    const options = { iouThreshold: 0.2, topK: 1000 };
    const js = [decodeRaw(raw, levels, C, options)];
    const d = diff(runC(exe, { levels, options }, [raw]), js);
    expect(d.count).toBe(js[0].length);
    expect(new Set(js[0].map((x) => x.score)).size).toBe(1);
    expect(js[0].length).toBeGreaterThan(10);
    expect(d.box).toBeLessThanOrEqual(1e-9);
  });

  itC(
    'built with -DNADP_REAL=float (MCUs): the same candidates within float rounding; NMS differs only on near-ties',
    () => {
      const exe = build('decode-float', ['-DNADP_REAL=float']);
      /** Pairs each JS detection with the C detection of its class and nearest box; the unpaired and the largest |Δ|. */
      const pair = (cOut: Detection[][], js: Detection[][]) => {
        let box = 0;
        let score = 0;
        let far = 0;
        let total = 0;
        cOut.forEach((dc, i) => {
          const free = new Set(dc.keys());
          for (const d of js[i]) {
            total++;
            let best = -1;
            let bestDist = Infinity;
            for (const k of free) {
              if (dc[k].label !== d.label) continue;
              const dist = Math.max(
                ...(['x', 'y', 'w', 'h'] as const).map((key) => Math.abs(dc[k][key] - d[key])),
              );
              if (dist < bestDist) [best, bestDist] = [k, dist];
            }
            if (best < 0 || bestDist > 1e-3) {
              far++;
              continue;
            }
            free.delete(best);
            box = Math.max(box, bestDist);
            score = Math.max(score, Math.abs(dc[best].score - d.score));
          }
        });
        return { box, score, far, total };
      };
      // without suppression (IoU never > 1) and without a cut: every candidate, in float
      const all = { iouThreshold: 1, topK: 1000 };
      const a = pair(
        runC(exe, { levels: det.levels, options: all }, raws),
        raws.map((r) => decodeRaw(r, det.levels, C, all)),
      );
      console.log(
        `C (float) vs decodeRaw, no NMS: ${a.total} candidates, max |Δbox| ${a.box}, max |Δscore| ${a.score}`,
      );
      expect(a.far).toBe(0);
      expect(a.total).toBeGreaterThan(1000);
      expect(a.box).toBeLessThanOrEqual(1e-4);
      expect(a.score).toBeLessThanOrEqual(1e-6);
      // with NMS: scores equal to ~1e-7 (saturated class probabilities here) can come out in the other order, and
      // then NMS keeps the other box of the pair
      const b = pair(
        runC(exe, { levels: det.levels }, raws),
        raws.map((r) => decodeRaw(r, det.levels, C)),
      );
      console.log(`C (float) vs decodeRaw, NMS: ${b.far} of ${b.total} detections without a counterpart`);
      expect(b.far / b.total).toBeLessThanOrEqual(0.05);
    },
  );

  itC('refuses bad arguments and a scratch buffer that is too small (error codes)', () => {
    writeFileSync(
      join(dir, 'errors.c'),
      `#include <stdio.h>
#include "netaug_detect_post.h"
int main(void) {
  nadp_level lv[1] = {{8, 2, 2}};
  float raw[2 * 2 * 8] = {0};
  const float *outs[1] = {raw};
  nadp_options o;
  nadp_default_options(&o);
  static double scratch[1024];
  nadp_detection d[4];
  size_t need = nadp_scratch_size(lv, 1, 3, &o);
  printf("%d %d %d %d %d\\n",
         nadp_decode(outs, lv, 1, 3, &o, scratch, need - 1, d, 4),
         nadp_decode(outs, lv, 1, 0, &o, scratch, sizeof scratch, d, 4),
         nadp_decode(NULL, lv, 1, 3, &o, scratch, sizeof scratch, d, 4),
         nadp_decode(outs, lv, 0, 3, &o, scratch, sizeof scratch, d, 4),
         nadp_decode(outs, lv, 1, 3, &o, scratch, need, d, 4));
  return 0;
}
`,
    );
    const exe = join(dir, 'errors');
    const c = spawnSync(
      'gcc',
      [
        '-std=c11',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-pedantic',
        `-I${C_DIR}`,
        join(dir, 'errors.c'),
        join(C_DIR, 'netaug_detect_post.c'),
        '-lm',
        '-o',
        exe,
      ],
      { encoding: 'utf8' },
    );
    expect(c.stderr).toBe('');
    // all logits 0: p = 0.5 > 0.05 for each of 4 locations × 3 classes, boxes 8 px around each centre (IoU 0 between
    // neighbours), one detection per location and class, at most 4 returned
    expect(spawnSync(exe, { encoding: 'utf8' }).stdout.trim()).toBe(`${-2} ${-1} ${-1} ${-1} 4`);
  });
});
