import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeStaleTemps, writeFileAtomicSync } from '@netaug/core/node';
import { appendDurableSync } from '../append';
import { isEvalMetrics, type Metrics } from '../evaluate';
import type { EpochRecord } from '../metrics';
import { FILE_VERSION, encodeEvent, readRecords, tfrecord, type EventScalar } from '../tfevents';
import type { Callback } from './callback';
import { imagesPerSecond } from './step-logger';

/** Options of {@link tensorboard}. */
export interface TensorBoardOptions {
  /**
   * Folder of the event files (default `<runDir>/tensorboard`; without either the callback does nothing). It must
   * be this run's own folder: every `fit()` cuts the event files in it (for several runs, give each its own
   * folder and point `tensorboard --logdir` at their parent).
   */
  dir?: string;
  /** Also append every this many steps (default: per epoch, and every `flushSeconds`). */
  every?: number;
  /** Also append when this many seconds have passed since the last append (default 60; 0: only per epoch). */
  flushSeconds?: number;
}

/** Is `name` an event file (TensorBoard reads every file whose name contains `tfevents`)? */
export const isEventFile = (name: string) => name.includes('tfevents') && !name.endsWith('.tmp');

/**
 * Cuts the event files of `dir` to the events of steps before `globalStep` (atomic rewrites; a torn last record
 * is dropped; a file left without a scalar is removed). Returns the files kept.
 */
export function trimEventFiles(dir: string, globalStep: number): string[] {
  const kept: string[] = [];
  if (!fs.existsSync(dir)) return kept;
  for (const name of fs.readdirSync(dir).filter(isEventFile).sort()) {
    const file = path.join(dir, name);
    const buf = fs.readFileSync(file);
    const records = readRecords(buf);
    const keep = records.filter((r, i) => i === 0 || r.step < globalStep);
    // the first record is the file_version event (step 0): alone it is not worth a file
    if (keep.length <= 1 || records[0].step >= globalStep) {
      fs.rmSync(file, { force: true });
      continue;
    }
    const bytes = Buffer.concat(keep.map((r) => r.record));
    if (!bytes.equals(buf)) writeFileAtomicSync(file, bytes, { label: 'event file' });
    kept.push(name);
  }
  return kept;
}

/** A fresh event file name: `events.out.tfevents.<unix seconds>.<hostname>` (`.1`, `.2`… if taken). */
function eventFileName(dir: string): string {
  const base = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}`;
  let name = base;
  for (let n = 1; fs.existsSync(path.join(dir, name)); n++) name = `${base}.${n}`;
  return name;
}

/** Loss, top-1 and top-5 (classification), or every figure of a task but its image count (`…_vocMAP`, …). */
const metricScalars = (prefix: string, m: Metrics): EventScalar[] =>
  isEvalMetrics(m)
    ? [
        { tag: `${prefix}_loss`, value: m.loss },
        { tag: `${prefix}_top1`, value: m.top1 },
        { tag: `${prefix}_top5`, value: m.top5 },
      ]
    : Object.entries(m)
        .filter(([k]) => k !== 'count')
        .map(([k, value]) => ({ tag: `${prefix}_${k}`, value }));

/** The per-epoch scalars of an epoch record (see the README for the tags). */
export function epochScalars(r: EpochRecord): EventScalar[] {
  const out: EventScalar[] = [
    { tag: 'epoch/train_loss', value: r.train.loss },
    ...Object.entries(r.train.terms).map(([k, v]) => ({ tag: `epoch/train_loss_${k}`, value: v })),
    ...(r.train.top1 !== undefined ? [{ tag: 'epoch/train_top1', value: r.train.top1 }] : []),
    { tag: 'epoch/lr', value: r.lr },
  ];
  if (r.val) {
    out.push(...metricScalars('epoch/val', r.val));
    if (r.train.top1 !== undefined && isEvalMetrics(r.val))
      out.push({ tag: 'epoch/fit_gap_top1', value: r.train.top1 - r.val.top1 });
  }
  return out;
}

/**
 * TensorBoard event files (`tensorboard --logdir <runDir>/tensorboard`): TFRecord-framed `Event` messages with
 * `simple_value` scalars, written without a dependency (see `tfevents.ts`).
 * - per step (step = the 0-based global step, as in `steps.jsonl`): `step/loss` (the summed objective),
 *   `step/loss_<term>` for every term (`tiny`, `aug0`, `kd`…), `step/lr`, `step/images_per_sec`;
 * - per epoch (step = the global step of the epoch's last step): `epoch/train_loss`, `epoch/train_loss_<term>`,
 *   `epoch/train_top1`, `epoch/lr`, and with validation data `epoch/val_loss`, `epoch/val_top1`,
 *   `epoch/val_top5`, `epoch/fit_gap_top1` (train top-1 on the augmented training batches − val top-1);
 * - at the end (step = the run's step count): `final/val_*` and `final/test_*` (loss, top1, top5) of the
 *   selected model, `final/selected_epoch`.
 *
 * Events are buffered and appended with an fsync per epoch (and every `flushSeconds`). Each `fit()` writes a new
 * file; before that, the folder's event files are cut to the events of steps before the run's step count (for a
 * resumed run: the checkpoint's), so no step appears twice after a resume.
 */
export function tensorboard(o: TensorBoardOptions = {}): Callback {
  let file = '';
  let buffer: Buffer[] = [];
  let lastFlush = 0;
  const flushMs = (o.flushSeconds ?? 60) * 1000;
  const push = (step: number, scalars: EventScalar[]) => {
    if (file) buffer.push(tfrecord(encodeEvent({ wallTime: Date.now() / 1000, step, scalars })));
  };
  const flush = () => {
    lastFlush = performance.now();
    if (!file || buffer.length === 0) return;
    const bytes = Buffer.concat(buffer);
    buffer = [];
    appendDurableSync(file, bytes);
  };
  return {
    name: 'tensorboard',
    onTrainBegin(ctx) {
      buffer = [];
      file = '';
      const dir = o.dir ?? (ctx.runDir ? path.join(ctx.runDir, 'tensorboard') : undefined);
      if (!dir) return;
      fs.mkdirSync(dir, { recursive: true });
      removeStaleTemps(dir); // TensorBoard would read a temp file of an interrupted trim as an event file
      trimEventFiles(dir, ctx.globalStep);
      file = path.join(dir, eventFileName(dir));
      buffer.push(tfrecord(encodeEvent({ wallTime: Date.now() / 1000, step: 0, fileVersion: FILE_VERSION })));
      flush();
    },
    onBatchEnd(_ctx, info) {
      if (!file) return;
      push(info.globalStep, [
        { tag: 'step/loss', value: info.loss },
        ...Object.entries(info.terms).map(([k, v]) => ({ tag: `step/loss_${k}`, value: v })),
        { tag: 'step/lr', value: info.lr },
        { tag: 'step/images_per_sec', value: imagesPerSecond(info) },
      ]);
      if ((o.every && buffer.length >= o.every) || (flushMs > 0 && performance.now() - lastFlush >= flushMs))
        flush();
    },
    onEpochEnd(ctx, r) {
      push(Math.max(0, ctx.globalStep - 1), epochScalars(r));
      flush();
    },
    onTrainEnd(ctx, summary) {
      const final = (summary as { final?: { selected: { epoch: number }; val?: Metrics; test?: Metrics } })
        .final;
      if (final) {
        push(ctx.globalStep, [
          ...(final.val ? metricScalars('final/val', final.val) : []),
          ...(final.test ? metricScalars('final/test', final.test) : []),
          { tag: 'final/selected_epoch', value: final.selected.epoch },
        ]);
      }
      flush();
    },
    onTrainError: flush,
  };
}
