import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** Writes `<runDir>/<file>` (default `metrics.csv`), one row per epoch; rewritten from history on (re)start. */
export function csvLogger(file = 'metrics.csv'): Callback {
  let target = '';
  const row = (r: EpochRecord) => COLUMNS.map(([, f]) => f(r) ?? '').join(',') + '\n';
  return {
    name: 'csvLogger',
    onTrainBegin(ctx) {
      if (!ctx.runDir) return;
      target = path.join(ctx.runDir, file);
      fs.mkdirSync(ctx.runDir, { recursive: true });
      fs.writeFileSync(target, COLUMNS.map(([k]) => k).join(',') + '\n' + ctx.history.map(row).join(''));
    },
    onEpochEnd(_ctx, r) {
      if (target) fs.appendFileSync(target, row(r));
    },
  };
}
