import { SingleBar } from 'cli-progress';
import type { Callback } from './callback';

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** Plain log lines (one per epoch, plus every `every` steps) instead of a cli-progress bar. */
  plain?: boolean;
  every?: number;
  stream?: NodeJS.WritableStream;
}

/**
 * Progress output: a cli-progress bar per epoch (with `noTTYOutput`, so it also prints in CI logs) or plain lines.
 */
export function progress(o: ProgressOptions = {}): Callback {
  const stream = o.stream ?? process.stderr;
  let bar: SingleBar | null = null;
  const line = (s: string) => stream.write(s + '\n');
  return {
    name: 'progress',
    onEpochBegin(ctx, epoch) {
      if (o.plain) return;
      bar = new SingleBar({
        format: `epoch ${epoch + 1}/${ctx.epochs} [{bar}] {value}/{total} loss {loss} lr {lr}`,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        stream: stream as NodeJS.WriteStream,
        hideCursor: false,
      });
      bar.start(ctx.stepsPerEpoch, 0, { loss: '-', lr: '-' });
    },
    onBatchEnd(ctx, info) {
      if (bar) bar.update(info.step + 1, { loss: info.loss.toFixed(4), lr: info.lr.toExponential(2) });
      else if (o.every && (info.step + 1) % o.every === 0) {
        line(
          `epoch ${info.epoch + 1} step ${info.step + 1}/${ctx.stepsPerEpoch} loss ${info.loss.toFixed(4)} lr ${info.lr.toExponential(2)}`,
        );
      }
    },
    onEpochEnd(ctx, r) {
      bar?.stop();
      bar = null;
      const val = r.val
        ? ` val loss ${r.val.loss.toFixed(4)} top1 ${(100 * r.val.top1).toFixed(2)}% top5 ${(100 * r.val.top5).toFixed(2)}%`
        : '';
      line(
        `epoch ${r.epoch + 1}/${ctx.epochs} train loss ${r.train.loss.toFixed(4)} top1 ${(100 * r.train.top1).toFixed(2)}%${val} (${r.seconds.toFixed(1)} s)`,
      );
    },
    onTrainEnd() {
      bar?.stop();
      bar = null;
    },
  };
}
