import type { Command } from 'commander';
import { listModels } from '@netaug/supernet';
import { formatTable, type Output } from '../output';

export function registerModels(program: Command, io: Output): void {
  program
    .command('models')
    .description('List the model zoo')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ netaug models\n  $ netaug models --json')
    .action((opts: { json?: boolean }) => {
      const models = listModels();
      if (opts.json) {
        io.out(JSON.stringify(models, null, 2) + '\n');
        return;
      }
      io.out(formatTable([['model', 'description'], ...models.map((m) => [m.name, m.description])]));
    });
}
