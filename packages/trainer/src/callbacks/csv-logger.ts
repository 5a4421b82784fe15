import * as path from 'node:path';
import { writeFileAtomicSync } from '@netaug/core/node';
import type { EpochRecord } from '../metrics';
import type { Callback } from './callback';

const COLUMNS: [string, (r: EpochRecord) => number | undefined][] = [
  ['epoch', (r) => r.epoch],
  ['lr', (r) => r.lr],
  ['train_loss', (r) => r.train.loss],
  ['train_top1', (r) => r.train.top1],
  ['val_loss', (r) => r.val?.loss],
  ['val_top1', (r) => r.val?.top1],
  ['val_top5', (r) => r.val?.top5],
  ['seconds', (r) => r.seconds],
];

/**
 * Writes `<runDir>/<file>` (default `metrics.csv`), one row per epoch; rewritten from history on (re)start, and
 * rewritten whole and atomically (`writeFileAtomicSync`) every epoch.
 */
export function csvLogger(file = 'metrics.csv'): Callback {
  let target = '';
  let rows: string[] = [];
  const row = (r: EpochRecord) => COLUMNS.map(([, f]) => f(r) ?? '').join(',') + '\n';
  const write = () => writeFileAtomicSync(target, COLUMNS.map(([k]) => k).join(',') + '\n' + rows.join(''));
  return {
    name: 'csvLogger',
    onTrainBegin(ctx) {
      if (!ctx.runDir) return;
      target = path.join(ctx.runDir, file);
      rows = ctx.history.map(row);
      write();
    },
    onEpochEnd(_ctx, r) {
      if (!target) return;
      rows.push(row(r));
      write();
    },
  };
}
