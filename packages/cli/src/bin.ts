#!/usr/bin/env node
import { runCli } from './program';
import { exitWithParent } from './study/child';

// a training process started by a study or a queue worker ends with its parent (no orphan keeps training)
exitWithParent();

// `netaug … --json | head -1`: the reader went away; that ends the command quietly, not with a stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`netaug: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
