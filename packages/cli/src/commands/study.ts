import { resolve } from 'node:path';
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
  cells?: string[];
  queue?: string;
  queueName: string;
  wait: boolean;
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
    .option(
      '--cells <patterns>',
      "train (with --queue: enqueue) only the cells whose ids match these comma-separated patterns ('*' matches any text, e.g. 'netaug-*,baseline-s0'); the report covers every finished cell",
      (v: string) =>
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
    )
    .option(
      '--queue <url>',
      'put the cells on a job queue (redis://[:password@]host:port, rediss:// for TLS; also NETAUG_QUEUE_URL) for `netaug worker` processes on any machine',
    )
    .option('--queue-name <name>', 'the queue (workers serve one queue)', 'studies')
    .option('--no-wait', 'with --queue: enqueue and return (the last worker to finish writes the report)')
    .option('--plain', 'per-epoch progress lines of cells trained in this process')
    .option('--json', 'print the status or the report as JSON')
    .addHelpText(
      'after',
      `
A cell is one run (arm, one level of each factor, seed). Its folder is <out>/runs/<cell>-<hash>, where the hash
covers every setting that changes the result (backend and thread count included): a finished run with the same
hash is reused, an interrupted one resumes from its last checkpoint, so re-running the command continues the
study. Thread counts are part of the hash: keep --parallel / --native-threads the same for one study.

With \`records: <folder>\` in the study file, each finished cell's config, summary and metrics are also copied to
<folder>/<cell>-<hash> (tens of KB; commit them): a recorded cell counts as done without its run folder, so a
fresh clone reports the study and trains only what is not recorded.

With --queue, the study's out folder must be on storage every worker sees, at the same path. Guide:
docs/guides/distributed.md.

Examples:
  $ netaug study studies/ci-tiny.yaml
  $ netaug study studies/fmnist-netaug.yaml --parallel 2
  $ netaug study studies/fmnist-netaug.yaml --status
  $ netaug study studies/fmnist-netaug.yaml --queue redis://10.0.0.5:6379 --native-threads 2`,
    )
    .action(async (file: string, flags: StudyFlags) => {
      const { readStudyFile } = await import('../study/spec');
      const { cellStates, estimateSecondsLeft, planCells, readStudySettings, writeStudySettings } =
        await import('../study/cells');
      const { runStudy, formatDuration, defaultNativeThreads } = await import('../study/runner');
      const { queueUrl } = await import('../study/queue');
      const q = await queueUrl(flags.queue);
      const study = readStudyFile(file);
      // workers on other machines see the study's folder at the same (absolute) path
      if (q) {
        study.out = resolve(study.out);
        if (study.records) study.records = resolve(study.records);
      }
      // --status and --report-only place cells as the last run of the study did (thread counts change hashes)
      const last = flags.parallel || flags.nativeThreads ? undefined : readStudySettings(study);
      const parallel = flags.parallel ?? last?.parallel ?? 1;
      const nativeThreads = last ? last.nativeThreads : defaultNativeThreads(parallel, flags.nativeThreads);
      const cells = await planCells(study, { nativeThreads });
      const log = (s: string) => io.err(s + '\n');

      if (flags.status) {
        const states = cellStates(cells, study.out, study.records);
        const jobs = q
          ? await (await import('../study/queue')).studyJobs(q, flags.queueName, study.name, log)
          : undefined;
        const rows = states.map((s) => {
          const job = jobs?.get(s.cell.hash);
          const status =
            s.status === 'done' || !job ? s.status : job.state === 'active' ? 'running' : job.state;
          const where = job?.worker
            ? job.worker
            : s.lock
              ? `pid ${s.lock.pid} on ${s.lock.host}`
              : (job?.failedReason ?? s.error?.message ?? '');
          return { s, status, where };
        });
        const count = (st: string) => rows.filter((r) => r.status === st).length;
        // on a queue, as many at a time as are training now (the workers' number is not known here)
        const slots = jobs ? Math.max(1, count('running')) : parallel;
        const left = estimateSecondsLeft(states, slots);
        if (flags.json) {
          io.out(
            JSON.stringify(
              {
                study: study.name,
                out: study.out,
                secondsLeft: left,
                atATime: slots,
                cells: rows.map(({ s, status, where }) => ({
                  id: s.cell.id,
                  status,
                  epoch: s.epoch,
                  epochs: s.epochs,
                  where,
                  runDir: s.cell.runDir,
                  hash: s.cell.hash,
                })),
              },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        io.out(
          formatTable([
            ['cell', 'status', 'epoch', 'where'],
            ...rows.map(({ s, status, where }) => [
              s.cell.id,
              status,
              `${s.epoch}/${s.epochs}`,
              where.slice(0, 60),
            ]),
          ]) +
            `${count('done')} done, ${count('running')} running, ${count('partial')} interrupted, ` +
            `${count('pending') + count('waiting') + count('delayed') + count('waiting-children')} pending, ` +
            `${count('failed')} failed` +
            // nothing left: no time left to estimate ("about 0 s left with 1 at a time" said nothing)
            (left != null && count('done') < rows.length
              ? `; about ${formatDuration(left)} left with ${slots} at a time`
              : '') +
            '\n',
        );
        return;
      }

      // --cells: the cells trained here, or with --queue the cells enqueued (the report still covers them all)
      let chosen = cells;
      if (flags.cells) {
        const { matchesCell } = await import('../study/runner');
        const unmatched = flags.cells.filter((p) => !cells.some((c) => matchesCell(c.id, [p])));
        if (unmatched.length)
          throw new UsageError(
            `--cells: no cell of ${study.name} matches ${unmatched.map((p) => `'${p}'`).join(', ')} ` +
              `(its cells: ${cells.map((c) => c.id).join(', ')})`,
          );
        chosen = cells.filter((c) => matchesCell(c.id, flags.cells!));
      }
      let failed: string[] = [];
      if (q && !flags.reportOnly) {
        const { enqueueStudy, waitForStudy } = await import('../study/queue');
        writeStudySettings(study, { parallel, nativeThreads });
        const r = await enqueueStudy(q, study, cells, {
          queueName: flags.queueName,
          retryFailed: flags.retryFailed,
          only: chosen,
          log,
        });
        log(
          `netaug study ${study.name}: ${r.added.length + r.retried.length} cells enqueued on ${q.redacted} ` +
            `(queue '${flags.queueName}'), ${r.existing.length} already queued, ${r.skippedDone.length} finished → ${study.out}`,
        );
        if (!flags.wait) return;
        failed = await waitForStudy(q, study, chosen, { queueName: flags.queueName, log });
      } else if (!flags.reportOnly) {
        writeStudySettings(study, { parallel, nativeThreads });
        failed = (
          await runStudy(study, cells, {
            parallel,
            retryFailed: flags.retryFailed,
            plainProgress: flags.plain,
            cells: flags.cells,
            log,
          })
        ).failed;
      }
      const { writeStudyReport } = await import('../study/report');
      const report = await writeStudyReport(study, cells);
      if (flags.json) io.out(JSON.stringify(report.results, null, 2) + '\n');
      else io.out(report.markdown + `\nreport: ${report.dir}\n`);
      if (failed.length)
        throw new UsageError(
          `${failed.length} cell(s) failed or were not run: ${failed.join(', ')} (their run folders hold failed.json)`,
        );
    });

  program
    .command('worker')
    .description('Take study cells from a job queue and train them (any number of workers, on any machines)')
    .option('--queue <url>', 'redis://[:password@]host:port (rediss:// for TLS); also NETAUG_QUEUE_URL')
    .option('--queue-name <name>', 'the queue to serve', 'studies')
    .option(
      '--concurrency <n>',
      'cells trained at once, each in its own process',
      parsePositiveInt('--concurrency'),
      1,
    )
    .option('--name <name>', 'shown in `netaug study --status` (default worker-<host>-<pid>)')
    .option(
      '--lock-duration <ms>',
      'stall detection: job lock (default 30000)',
      parsePositiveInt('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'stall detection: check interval (default 15000)',
      parsePositiveInt('--stalled-interval'),
    )
    .addHelpText(
      'after',
      `
A worker trains each cell in a child process with the cell's own backend and thread count (both are part of the
cell's hash, fixed by the study). A worker that dies loses nothing: after the stall check (15–45 s) another worker
resumes the cell from its last checkpoint. Stop a worker with Ctrl-C or SIGTERM: its cells go back to the queue.

Example:
  $ NETAUG_QUEUE_URL=redis://:secret@10.0.0.5:6379 netaug worker --concurrency 2`,
    )
    .action(
      async (flags: {
        queue?: string;
        queueName: string;
        concurrency: number;
        name?: string;
        lockDuration?: number;
        stalledInterval?: number;
      }) => {
        const { queueUrl, startCellWorker, checkStorage } = await import('../study/queue');
        const q = await queueUrl(flags.queue);
        if (!q) throw new UsageError('netaug worker needs --queue <redis://host:port> (or NETAUG_QUEUE_URL)');
        const log = (s: string) => io.err(s + '\n');
        const blind = await checkStorage(q, flags.queueName);
        if (blind) throw new UsageError(blind);
        let fatal: string | undefined;
        let stopped: () => void = () => undefined;
        const w = await startCellWorker(q, {
          onFatal: (m) => {
            fatal ??= m;
            log(`netaug worker: ${m}; stopping, the cell goes back to the queue`);
            void w.close({ abort: true }).then(stopped);
          },
          queueName: flags.queueName,
          concurrency: flags.concurrency,
          name: flags.name,
          lockDuration: flags.lockDuration,
          stalledInterval: flags.stalledInterval,
          log,
        });
        await w.ready();
        log(
          `netaug worker ${w.name}: serving queue '${flags.queueName}' on ${q.redacted} (concurrency ${flags.concurrency})`,
        );
        await new Promise<void>((done) => {
          stopped = done;
          const stop = (sig: string) => {
            log(`netaug worker ${w.name}: ${sig}: putting running cells back in the queue and stopping`);
            void w.close({ abort: true }).then(done, done);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        if (fatal) throw new UsageError(fatal);
      },
    );
}
