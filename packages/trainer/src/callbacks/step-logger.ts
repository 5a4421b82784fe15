import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ActiveConfig } from '@netaug/core';
import { writeFileAtomicSync } from '@netaug/core/node';
import { appendDurableSync } from '../append';
import type { BatchInfo, Callback } from './callback';

/** One line of `steps.jsonl`: what one training step did. */
export interface StepRecord {
  epoch: number;
  /** Step within the epoch (0-based). */
  step: number;
  /** Step within the run (0-based). */
  globalStep: number;
  lr: number;
  /** The summed objective of the step (the tiny model's loss plus every strategy's term). */
  loss: number;
  /** Every loss term: `tiny` (the tiny model), `aug0`… (NetAug's `α·L(augmented model)`), `kd`… */
  terms: Record<string, number>;
  /** Top-1 accuracy of the tiny model on this training batch (training mode, augmented data); absent for a task without accuracy (detection). */
  top1?: number;
  /** Images in the batch. */
  images: number;
  /** Wall-clock seconds of the step, data loading included (timing: differs between identical runs). */
  seconds: number;
  /** `images / seconds` (timing). */
  imagesPerSec: number;
  /**
   * What the NetAug strategy trained next to the tiny model (absent without it): the sampling mode (`null`
   * where the scheduler samples no augmented model) and one config per augmented model (`aug0`, `aug1`…).
   */
  aug?: { mode: string | null; configs: ActiveConfig[] };
}

/** The fields of a {@link StepRecord} that are wall-clock measurements (they differ between identical runs). */
export const STEP_TIMING_FIELDS = ['seconds', 'imagesPerSec'] as const;

/** Training images per second of a step (`size / seconds`; 0 when no time was measured). */
export function imagesPerSecond(info: Pick<BatchInfo, 'size' | 'seconds'>): number {
  return info.seconds > 0 ? info.size / info.seconds : 0;
}

/** The `steps.jsonl` line of a step. */
export function stepRecord(info: BatchInfo): StepRecord {
  const r: StepRecord = {
    epoch: info.epoch,
    step: info.step,
    globalStep: info.globalStep,
    lr: info.lr,
    loss: info.loss,
    terms: { ...info.terms },
    ...(info.correct !== undefined ? { top1: info.size > 0 ? info.correct / info.size : 0 } : {}),
    images: info.size,
    seconds: info.seconds,
    imagesPerSec: imagesPerSecond(info),
  };
  if (info.record.augMode !== undefined)
    r.aug = { mode: info.record.augMode, configs: info.record.augConfigs ?? [] };
  return r;
}

/** Reads `steps.jsonl` (complete lines only; a torn last line is left out). */
export function readSteps(file: string): StepRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: StepRecord[] = [];
  for (const line of completeLines(fs.readFileSync(file, 'utf8'))) {
    try {
      out.push(JSON.parse(line) as StepRecord);
    } catch {
      break;
    }
  }
  return out;
}

/** The newline-terminated lines of `text` (without their newline). */
function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a torn line
  return lines;
}

/**
 * Cuts `file` to the steps before `globalStep`: the longest prefix of complete lines that parse and have
 * `globalStep` below it. Rewritten atomically when that changes anything. Returns the lines kept.
 */
export function trimSteps(file: string, globalStep: number): number {
  if (!fs.existsSync(file)) return 0;
  const text = fs.readFileSync(file, 'utf8');
  let keep = 0;
  let count = 0;
  for (const line of completeLines(text)) {
    let g: unknown;
    try {
      g = (JSON.parse(line) as { globalStep?: unknown }).globalStep;
    } catch {
      break;
    }
    if (typeof g !== 'number' || g >= globalStep) break;
    keep += line.length + 1;
    count++;
  }
  if (keep !== text.length) writeFileAtomicSync(file, text.slice(0, keep), { label: 'step log' });
  return count;
}

/** Options of {@link stepLogger}. */
export interface StepLoggerOptions {
  /** File name inside the run folder (default `steps.jsonl`). */
  file?: string;
  /** Also append every this many steps (default: once per epoch, at its end, and when `fit()` ends or fails). */
  every?: number;
}

/**
 * Writes one JSON line per training step ({@link StepRecord}) to `<runDir>/steps.jsonl`. On by default when the
 * trainer has a run folder (trainer option `logSteps: false` turns it off). Lines are buffered in memory and
 * appended with one fsync'd append per epoch (or every `every` steps), before the epoch's checkpoint. When a run
 * starts or resumes, the file is cut to the steps before the run's step count (a resumed run: the checkpoint's),
 * dropping a torn last line and the steps of epochs trained after the checkpoint: a resumed run's file equals an
 * uninterrupted run's, apart from the timing fields ({@link STEP_TIMING_FIELDS}). No checkpointed state.
 */
export function stepLogger(o: StepLoggerOptions = {}): Callback {
  let target = '';
  let buffer: string[] = [];
  const flush = () => {
    if (!target || buffer.length === 0) return;
    const text = buffer.join('');
    buffer = [];
    appendDurableSync(target, text);
  };
  return {
    name: 'stepLogger',
    onTrainBegin(ctx) {
      buffer = [];
      target = ctx.runDir ? path.join(ctx.runDir, o.file ?? 'steps.jsonl') : '';
      if (target) trimSteps(target, ctx.globalStep);
    },
    onBatchEnd(_ctx, info) {
      if (!target) return;
      buffer.push(JSON.stringify(stepRecord(info)) + '\n');
      if (o.every && buffer.length >= o.every) flush();
    },
    onEpochEnd: flush,
    onTrainEnd: flush,
    onTrainError: flush,
  };
}
