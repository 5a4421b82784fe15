import type { Metrics } from './evaluate';

/** One line of `metrics.jsonl`: what an epoch did. */
export interface EpochRecord {
  epoch: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** `top1`: of the tiny model on the training batches; absent for a task without accuracy (detection). */
  train: { loss: number; top1?: number; terms: Record<string, number> };
  /**
   * Tiny model on the validation loader (after BN re-estimation unless disabled): loss, top-1 and top-5, or a
   * task's own figures (detection: `vocMAP`, `cocoMAP`, …).
   */
  val?: Metrics;
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
