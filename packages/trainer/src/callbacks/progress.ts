import { SingleBar } from 'cli-progress';
import { isEvalMetrics } from '../evaluate';
import type { EpochRecord } from '../metrics';
import type { BatchInfo, Callback, CallbackContext, PhaseInfo } from './callback';

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** Plain log lines (no ANSI codes) instead of a cli-progress bar. */
  plain?: boolean;
  /** Plain mode: also a step line every this many steps. */
  every?: number;
  /**
   * Plain mode: a step (or phase) line when this many seconds have passed since the last line (default 30; 0:
   * after every step and batch).
   */
  intervalSeconds?: number;
  stream?: NodeJS.WritableStream;
}

/** `0:45`, `12:03`, `1:02:10`; `?` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rate = (images: number, seconds: number) => (seconds > 0 ? Math.round(images / seconds) : 0);

/** `loss 1.234 (tiny 0.612)`: the summed objective, and the tiny model's term when there are others. */
function lossText(loss: number, terms: Record<string, number>, digits: number): string {
  const others = Object.keys(terms).some((k) => k !== 'tiny');
  return (
    `loss ${loss.toFixed(digits)}` +
    (others && 'tiny' in terms ? ` (tiny ${terms.tiny.toFixed(digits)})` : '')
  );
}

/**
 * Progress output with throughput and time estimates.
 * - Training, per epoch: `epoch 3/30 [████░░] 120/430 loss 0.812 lr 9.8e-2 412 img/s ETA 0:45 (run ETA 1:02:10)`
 *   — a cli-progress bar (on a TTY redrawn in place and cleared when done; without a TTY, with `noTTYOutput`, a
 *   line every 5 s and its last state), or with `plain` the same text as lines (`epoch 3/30 step 120/430 …`) every
 *   `intervalSeconds` / `every` steps. `loss` is the running mean of the summed objective over the epoch so far
 *   (with the tiny model's term in parentheses when strategies add terms), img/s the epoch's training throughput
 *   so far (data loading included), ETA the rest of the epoch's steps at that pace, run ETA the run's remaining
 *   steps at this `fit()`'s mean pace plus the remaining epochs' BN re-estimation and evaluation at the last
 *   epoch's duration (the end-of-run evaluations are not included).
 * - BN re-estimation, evaluation and the test evaluation: a bar (`epoch 3/30 bn-reestimation [██░░] 800/2000
 *   images 645 img/s ETA 0:02`), and when the phase ends a line (`epoch 3/30 bn-reestimation 2000 images in 3.1 s
 *   (645 img/s)`; without a TTY the bar's last state `… 2000/2000 images 645 img/s in 3.1 s`); plain: that line,
 *   and a progress line every `intervalSeconds` while the phase runs.
 * - A line per epoch: `epoch 3/30 train loss … (tiny …) top1 …% val loss … top1 …% top5 …% (12.3 s, 412 img/s,
 *   run ETA …)`.
 */
export function progress(o: ProgressOptions = {}): Callback {
  const stream = o.stream ?? process.stderr;
  const interval = (o.intervalSeconds ?? 30) * 1000;
  const line = (s: string) => stream.write(s + '\n');
  const tty = !!(stream as NodeJS.WriteStream).isTTY;
  let bar: SingleBar | null = null;
  let lastLine = 0;
  // this fit(): training steps and their seconds (the run ETA's pace)
  let fitSteps = 0;
  let fitSeconds = 0;
  // the current epoch
  let epochImages = 0;
  let epochSeconds = 0;
  let epochSteps = 0;
  let lossSum = 0;
  let termSums: Record<string, number> = {};
  let phaseSeconds = 0;
  /** Seconds of the last epoch's BN re-estimation and evaluation (null before one was measured). */
  let evalPerEpoch: number | null = null;

  const newBar = (format: string, total: number, payload: Record<string, string>) => {
    bar = new SingleBar({
      format,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: stream as NodeJS.WriteStream,
      hideCursor: false,
      // no blank line after a bar: a TTY gets the summary lines below instead, a log the bar's last line
      clearOnComplete: true,
      barsize: 30,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
    });
    bar.start(total, 0, payload);
  };
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  /** A plain line now? After step `n` of an epoch (every `every` steps), or when `interval` has passed. */
  const due = (n: number | null) => {
    const now = performance.now();
    if ((o.every && n !== null && n % o.every === 0) || now - lastLine >= interval) {
      lastLine = now;
      return true;
    }
    return false;
  };
  const epochLabel = (ctx: CallbackContext, epoch: number) => `epoch ${epoch + 1}/${ctx.epochs}`;
  const runEta = (ctx: CallbackContext, epoch: number) => {
    if (fitSteps === 0) return Number.NaN;
    const steps = Math.max(0, ctx.epochs * ctx.stepsPerEpoch - ctx.globalStep);
    return (steps * fitSeconds) / fitSteps + (evalPerEpoch ?? 0) * Math.max(0, ctx.epochs - epoch);
  };

  const stepText = (ctx: CallbackContext, info: BatchInfo) => {
    const mean = Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / epochImages]));
    const left = Math.max(0, ctx.stepsPerEpoch - info.step - 1);
    return {
      loss: lossText(lossSum / epochImages, mean, 3),
      lr: info.lr.toExponential(1),
      ips: String(rate(epochImages, epochSeconds)),
      etaEpoch: formatDuration((left * epochSeconds) / epochSteps),
      etaRun: formatDuration(runEta(ctx, info.epoch)),
    };
  };

  return {
    name: 'progress',
    onTrainBegin() {
      fitSteps = 0;
      fitSeconds = 0;
      evalPerEpoch = null;
      lastLine = performance.now();
    },
    onEpochBegin(ctx, epoch) {
      epochImages = epochSeconds = epochSteps = lossSum = phaseSeconds = 0;
      termSums = {};
      if (o.plain) return;
      newBar(
        `${epochLabel(ctx, epoch)} [{bar}] {value}/{total} {loss} lr {lr} {ips} img/s ETA {etaEpoch} (run ETA {etaRun})`,
        ctx.stepsPerEpoch,
        { loss: 'loss -', lr: '-', ips: '-', etaEpoch: '?', etaRun: '?' },
      );
    },
    onBatchEnd(ctx, info) {
      fitSteps++;
      fitSeconds += info.seconds;
      epochSteps++;
      epochImages += info.size;
      epochSeconds += info.seconds;
      lossSum += info.loss * info.size;
      for (const [k, v] of Object.entries(info.terms)) termSums[k] = (termSums[k] ?? 0) + v * info.size;
      if (bar) {
        bar.update(info.step + 1, stepText(ctx, info));
      } else if (o.plain && due(info.step + 1)) {
        const t = stepText(ctx, info);
        line(
          `${epochLabel(ctx, info.epoch)} step ${info.step + 1}/${ctx.stepsPerEpoch} ${t.loss} lr ${t.lr} ` +
            `${t.ips} img/s ETA ${t.etaEpoch} (run ETA ${t.etaRun})`,
        );
      }
    },
    onPhase(ctx, p: PhaseInfo) {
      const label = p.final ? `final ${p.label}` : `${epochLabel(ctx, p.epoch)} ${p.label}`;
      const ips = rate(p.images, p.seconds);
      const eta = p.done > 0 ? formatDuration(((p.total - p.done) * p.seconds) / p.done) : '?';
      if (p.done === 0 && !p.end) {
        stopBar(); // the epoch's training bar, complete
        lastLine = performance.now();
        if (!o.plain)
          newBar(`${label} [{bar}] {value}/{total} ${p.unit} {ips} img/s {tail}`, p.total, {
            ips: '-',
            tail: '',
          });
        return;
      }
      if (p.end) {
        if (!p.final) phaseSeconds += p.seconds;
        const wasBar = !!bar;
        if (bar) {
          bar.update(p.done, { ips: String(ips), tail: `in ${p.seconds.toFixed(1)} s` });
          stopBar(); // without a TTY its last line stays in the log
        }
        if (o.plain || (wasBar && tty)) {
          const what = p.unit === 'images' ? `${p.done} images` : `${p.images} images (${p.done} batches)`;
          line(`${label} ${what} in ${p.seconds.toFixed(1)} s (${ips} img/s)`);
        }
        return;
      }
      if (bar) bar.update(p.done, { ips: String(ips), tail: `ETA ${eta}` });
      else if (o.plain && due(null)) line(`${label} ${p.done}/${p.total} ${p.unit} ${ips} img/s ETA ${eta}`);
    },
    onEpochEnd(ctx, r: EpochRecord) {
      stopBar();
      if (phaseSeconds > 0) evalPerEpoch = phaseSeconds;
      const val = !r.val
        ? ''
        : isEvalMetrics(r.val)
          ? ` val loss ${r.val.loss.toFixed(4)} top1 ${pct(r.val.top1)} top5 ${pct(r.val.top5)}`
          : ` val ${Object.entries(r.val)
              .filter(([k]) => k !== 'count')
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(' ')}`;
      const eta = r.epoch + 1 < ctx.epochs ? `, run ETA ${formatDuration(runEta(ctx, r.epoch + 1))}` : '';
      line(
        `${epochLabel(ctx, r.epoch)} train ${lossText(r.train.loss, r.train.terms, 4)}` +
          (r.train.top1 !== undefined ? ` top1 ${pct(r.train.top1)}` : '') +
          `${val} (${r.seconds.toFixed(1)} s, ${rate(epochImages, epochSeconds)} img/s${eta})`,
      );
    },
    onTrainEnd: stopBar,
    onTrainError: stopBar,
  };
}
