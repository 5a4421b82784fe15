import * as path from 'node:path';
import { metricAt } from '../metrics';
import type { Callback } from './callback';

/** Options of {@link bestCheckpoint}. */
export interface BestCheckpointOptions {
  /** Dotted metric path (default `val.top1`). */
  monitor?: string;
  mode?: 'max' | 'min';
  /** File name inside the run folder (default `best.bin`). */
  file?: string;
}

/** Saves a checkpoint to `<runDir>/best.bin` whenever the monitored metric improves. State: best value and epoch. */
export function bestCheckpoint(o: BestCheckpointOptions = {}): Callback {
  const monitor = o.monitor ?? 'val.top1';
  const sign = (o.mode ?? (monitor.endsWith('loss') ? 'min' : 'max')) === 'max' ? 1 : -1;
  let state: { best: number | null; epoch: number | null } = { best: null, epoch: null };
  return {
    name: 'bestCheckpoint',
    onEpochEnd(ctx, r) {
      const v = metricAt(r, monitor);
      if (v === undefined || !ctx.runDir) return;
      if (state.best === null || sign * (v - state.best) > 0) {
        state = { best: v, epoch: r.epoch };
        ctx.saveCheckpoint(path.join(ctx.runDir, o.file ?? 'best.bin'));
      }
    },
    getState: () => ({ ...state }),
    setState: (s) => {
      state = { ...(s as typeof state) };
    },
  };
}
