import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Callback } from './callback';

/**
 * Writes one JSON line per epoch to `<runDir>/<file>` (default `metrics.jsonl`). On (re)start it rewrites the
 * file from the run history, so a resumed run has exactly one line per epoch.
 */
export function jsonlLogger(file = 'metrics.jsonl'): Callback {
  let target = '';
  return {
    name: 'jsonlLogger',
    onTrainBegin(ctx) {
      if (!ctx.runDir) return;
      target = path.join(ctx.runDir, file);
      fs.mkdirSync(ctx.runDir, { recursive: true });
      fs.writeFileSync(target, ctx.history.map((r) => JSON.stringify(r) + '\n').join(''));
    },
    onEpochEnd(_ctx, record) {
      if (target) fs.appendFileSync(target, JSON.stringify(record) + '\n');
    },
  };
}
