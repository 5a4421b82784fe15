import { metricAt } from '../metrics';
import type { Callback } from './callback';

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  monitor?: string;
  mode?: 'max' | 'min';
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change that counts as an improvement. */
  minDelta?: number;
}

/** Stops training when the monitored metric has not improved for `patience` epochs. State: best and wait. */
export function earlyStopping(o: EarlyStoppingOptions = {}): Callback {
  const monitor = o.monitor ?? 'val.top1';
  const sign = (o.mode ?? (monitor.endsWith('loss') ? 'min' : 'max')) === 'max' ? 1 : -1;
  const patience = o.patience ?? 5;
  const minDelta = o.minDelta ?? 0;
  let state: { best: number | null; wait: number } = { best: null, wait: 0 };
  return {
    name: 'earlyStopping',
    onEpochEnd(ctx, r) {
      const v = metricAt(r, monitor);
      if (v === undefined) return;
      if (state.best === null || sign * (v - state.best) > minDelta) state = { best: v, wait: 0 };
      else if (++state.wait >= patience) ctx.stop(`${monitor} did not improve for ${patience} epochs`);
    },
    getState: () => ({ ...state }),
    setState: (s) => {
      state = { ...(s as typeof state) };
    },
  };
}
