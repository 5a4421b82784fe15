import type { EvalMetrics } from './evaluate';

/** One line of `metrics.jsonl`: what an epoch did. */
export interface EpochRecord {
  epoch: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  train: { loss: number; top1: number; terms: Record<string, number> };
  /** Tiny model on the validation loader (after BN re-estimation unless disabled). */
  val?: EvalMetrics;
  /** Wall-clock seconds of the epoch (training + evaluation). */
  seconds: number;
}

/** The value at a dotted path (`'val.top1'`) of a record, or undefined. */
export function metricAt(record: unknown, key: string): number | undefined {
  let v: unknown = record;
  for (const k of key.split('.'))
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : undefined;
}
