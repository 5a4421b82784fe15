import * as path from 'node:path';
import { writeFileAtomicSync } from '@netaug/core/node';
import type { EpochRecord } from '../metrics';
import type { Callback } from './callback';

/**
 * Writes one JSON line per epoch to `<runDir>/<file>` (default `metrics.jsonl`), wall-clock `seconds` included.
 * On (re)start it rewrites the file from the run history, so a resumed run has exactly one line per epoch; every
 * epoch rewrites the whole file atomically (`writeFileAtomicSync`), so it is never half-written.
 */
export function jsonlLogger(file = 'metrics.jsonl'): Callback {
  let target = '';
  let lines: string[] = [];
  const write = () => writeFileAtomicSync(target, lines.join(''));
  return {
    name: 'jsonlLogger',
    onTrainBegin(ctx) {
      if (!ctx.runDir) return;
      target = path.join(ctx.runDir, file);
      lines = ctx.history.map((r) => JSON.stringify(r) + '\n');
      write();
    },
    onEpochEnd(_ctx, record: EpochRecord) {
      if (!target) return;
      lines.push(JSON.stringify(record) + '\n');
      write();
    },
  };
}
