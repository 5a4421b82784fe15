import type { Command } from 'commander';
import type { Output } from '../output';
import { formatTable } from '../output';
import { parsePositiveInt } from '../parse';
import { UsageError } from '../errors';

interface StudyFlags {
  status?: boolean;
  reportOnly?: boolean;
  parallel?: number;
  nativeThreads?: number;
  retryFailed?: boolean;
  plain?: boolean;
  json?: boolean;
}

export function registerStudy(program: Command, io: Output): void {
  program
    .command('study')
    .description(
      'Run a declarative study (arms × factors × seeds from a YAML file): trains every cell not done yet, then writes report.md, results.json and plots',
    )
    .argument('<file>', 'study file (YAML or JSON)')
    .option(
      '--status',
      'show what is done, running and left (with an estimate of the time left); trains nothing',
    )
    .option('--report-only', 'write the report from the finished cells; trains nothing')
    .option(
      '--parallel <n>',
      'train n cells at once, each in its own process (default 1: in this process)',
      parsePositiveInt('--parallel'),
    )
    .option(
      '--native-threads <n>',
      'native threads of cells that do not set nativeThreads (default: cores / parallel)',
      parsePositiveInt('--native-threads'),
    )
    .option('--retry-failed', 'train cells that failed before again')
    .option('--plain', 'per-epoch progress lines of cells trained in this process')
    .option('--json', 'print the status or the report as JSON')
    .addHelpText(
      'after',
      `
A cell is one run (arm, one level of each factor, seed). Its folder is <out>/runs/<cell>-<hash>, where the hash
covers every setting that changes the result (backend and thread count included): a finished run with the same
hash is reused, an interrupted one resumes from its last checkpoint, so re-running the command continues the
study. Thread counts are part of the hash: keep --parallel / --native-threads the same for one study.

Examples:
  $ netaug study studies/ci-tiny.yaml
  $ netaug study studies/fmnist-netaug.yaml --parallel 2
  $ netaug study studies/fmnist-netaug.yaml --status`,
    )
    .action(async (file: string, flags: StudyFlags) => {
      const { readStudyFile } = await import('../study/spec');
      const { cellStates, estimateSecondsLeft, planCells } = await import('../study/cells');
      const { runStudy, formatDuration, defaultNativeThreads } = await import('../study/runner');
      const study = readStudyFile(file);
      // --status and --report-only place cells as the last run of the study did (thread counts change hashes)
      const { readStudySettings, writeStudySettings } = await import('../study/cells');
      const last = flags.parallel || flags.nativeThreads ? undefined : readStudySettings(study);
      const parallel = flags.parallel ?? last?.parallel ?? 1;
      const nativeThreads = last ? last.nativeThreads : defaultNativeThreads(parallel, flags.nativeThreads);
      if (!flags.status && !flags.reportOnly) writeStudySettings(study, { parallel, nativeThreads });
      if (flags.status) {
        const states = cellStates(await planCells(study, { nativeThreads }), study.out);
        const left = estimateSecondsLeft(states, parallel);
        if (flags.json) {
          io.out(
            JSON.stringify(
              {
                study: study.name,
                out: study.out,
                secondsLeft: left,
                cells: states.map((s) => ({
                  id: s.cell.id,
                  status: s.status,
                  epoch: s.epoch,
                  epochs: s.epochs,
                  runDir: s.cell.runDir,
                  hash: s.cell.hash,
                  ...(s.lock ? { pid: s.lock.pid, host: s.lock.host } : {}),
                  ...(s.error ? { error: s.error } : {}),
                })),
              },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        const count = (st: string) => states.filter((s) => s.status === st).length;
        io.out(
          formatTable([
            ['cell', 'status', 'epoch', 'where'],
            ...states.map((s) => [
              s.cell.id,
              s.status,
              `${s.epoch}/${s.epochs}`,
              s.lock ? `pid ${s.lock.pid} on ${s.lock.host}` : s.error ? s.error.message.slice(0, 60) : '',
            ]),
          ]) +
            `${count('done')} done, ${count('running')} running, ${count('partial')} interrupted, ` +
            `${count('pending')} pending, ${count('failed')} failed` +
            (left != null ? `; about ${formatDuration(left)} left with ${parallel} at a time` : '') +
            '\n',
        );
        return;
      }
      const result = flags.reportOnly
        ? undefined
        : await runStudy(study, {
            parallel,
            nativeThreads,
            retryFailed: flags.retryFailed,
            plainProgress: flags.plain,
            log: (s) => io.err(s + '\n'),
          });
      const { writeStudyReport } = await import('../study/report');
      const report = await writeStudyReport(study, { nativeThreads });
      if (flags.json) io.out(JSON.stringify(report.results, null, 2) + '\n');
      else io.out(report.markdown + `\nreport: ${report.dir}\n`);
      if (result?.failed.length)
        throw new UsageError(
          `${result.failed.length} cell(s) failed or were not run: ${result.failed.join(', ')} (their run folders hold failed.json)`,
        );
    });
}
