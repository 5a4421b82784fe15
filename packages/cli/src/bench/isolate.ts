import { spawn } from 'node:child_process';
import { cliBin } from '../study/child';
import { caseFields, shapeName, type StepBenchSettings, type StepCase, type StepRecord } from './step';

/** The `netaug bench step` arguments that measure exactly case `c` with `settings` in another process. */
export function stepCaseArgs(c: StepCase, settings: StepBenchSettings, backend: string): string[] {
  return [
    'bench',
    'step',
    '--model',
    c.model,
    ...(c.width !== undefined ? ['--width', String(c.width)] : []),
    ...(c.smallInput ? ['--small-input'] : []),
    '--input',
    shapeName(c.input),
    '--batch',
    String(c.batch),
    '--strategy',
    c.strategy,
    '--aug-config',
    settings.augConfig,
    '--configs',
    String(settings.configs),
    '--warmup',
    String(settings.warmup),
    '--steps',
    String(settings.steps),
    '--backend',
    backend,
    ...(settings.pytorch ? ['--threads', String(settings.pytorch.threads)] : ['--no-pytorch']),
    '--classes',
    String(settings.numClasses),
    '--seed',
    String(settings.seed),
    ...(settings.recompute ? ['--recompute'] : []),
    '--json',
  ];
}

/**
 * Measures one case in a child `netaug bench step` process, so that its peak RSS is its own (a process's
 * RSS only grows: cases measured one after the other in one process would each report the largest so far).
 * A child that dies (e.g. out of memory) gives a record with `error`, like a failing step in-process.
 */
export function benchStepInChild(
  c: StepCase,
  settings: StepBenchSettings,
  backend: string,
): Promise<StepRecord> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliBin(), ...stepCaseArgs(c, settings, backend)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const failed = (why: string): StepRecord =>
      ({ ...caseFields(c, backend), msPerStep: NaN, error: why }) as StepRecord;
    child.on('error', (e) => resolve(failed(`could not start the measuring process: ${e.message}`)));
    child.on('close', (code, signal) => {
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      if (code === 0 && line) {
        try {
          const {
            cores: _c,
            loadavg: _l,
            date: _d,
            ...rec
          } = JSON.parse(line) as StepRecord & {
            cores?: number;
            loadavg?: number[];
            date?: string;
          };
          resolve(rec as StepRecord);
          return;
        } catch {
          // fall through: not JSON
        }
      }
      const last = err.trim().split('\n').pop() ?? '';
      resolve(
        failed(
          `the measuring process ${signal ? `was killed (${signal})` : `exited with code ${code}`}${last ? `: ${last}` : ''}`,
        ),
      );
    });
  });
}
