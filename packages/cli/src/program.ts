import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { reportError, EXIT } from './errors';
import { processOutput, type Output } from './output';
import { registerModels } from './commands/models';
import { registerProfile } from './commands/profile';
import { registerData } from './commands/data';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerExport } from './commands/export';
import { registerPredict } from './commands/predict';
import { registerBench } from './commands/bench';
import { registerCompare } from './commands/compare';
import { registerStudy } from './commands/study';

/** The version of this @netaug/cli (its package.json). */
function cliVersion(): string {
  try {
    const req = createRequire(typeof __filename !== 'undefined' ? __filename : join(process.cwd(), 'x.js'));
    return (req('@netaug/cli/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Builds the `netaug` command tree; `io` receives everything it prints. */
export function createProgram(io: Output = processOutput): Command {
  const program = new Command('netaug')
    .description('NetAug.js — train tiny neural networks with Network Augmentation, and export them')
    .version(cliVersion(), '-V, --version', 'print the version of netaug')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // one line for every usage error: "netaug: error: unknown option '--epoch' (Did you mean --epochs?) …"
      outputError: (str, write) =>
        write(
          `netaug: ${str
            .trim()
            .split('\n')
            .map((l) => l.trim())
            .join(' ')} (see --help)\n`,
        ),
    });
  registerModels(program, io);
  registerProfile(program, io);
  registerData(program, io);
  registerTrain(program, io);
  registerCompare(program, io);
  registerStudy(program, io);
  registerEval(program, io);
  registerExport(program, io);
  registerPredict(program, io);
  registerBench(program, io);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code instead of exiting. */
export async function runCli(argv: string[], io: Output = processOutput): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are "errors" with exit code 0; commander already printed its one-line message
      return e.exitCode === 0 ? EXIT.ok : EXIT.user;
    }
    return reportError(e, argv.includes('--verbose'), io.err);
  }
}
