/**
 * Runs every ```js block of README.md that is followed by "It prints:" and a ``` block, and compares what it logs
 * with that block, line by line (imports become requires of the package sources; `console.log` is captured and
 * formatted as Node prints it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { format } from 'util';
import { useCpu } from './test-utils';

jest.setTimeout(300_000);

// the examples import the pure-JS cpu backend; its "use tfjs-node" banner is noise here
beforeAll(useCpu);
const dir = mkdtempSync(path.join(tmpdir(), 'netaug-detector-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```\n\nIt prints:\n\n```\n([\s\S]*?)```/g)].map(
  (m) => ({ code: m[1], printed: m[2] }),
);

it('the README has examples with their output', () => {
  expect(examples.length).toBeGreaterThanOrEqual(1);
});

it.each(examples.map((e, i) => [i, e] as const))(
  'README example %i prints what the README says',
  async (_, e) => {
    const body = e.code
      .replace(/^import '([^']+)';$/gm, 'require("$1");')
    .replace(/^import \* as (\w+) from '([^']+)';$/gm, 'const $1 = require("$2");')
      .replace(/^import (\{[^}]*\}) from '([^']+)';$/gm, (_m, names: string, from: string) => {
        const spec = names.replace(/\s+as\s+/g, ': ');
        return `const ${spec} = require("${from}");`;
      })
      .replace(/\bconsole\.log\(/g, '__log(')
      // files the examples write go to a temporary folder
      .replace(/'([\w-]+\.onnx)'/g, (_m, f: string) => JSON.stringify(path.join(dir, f)));
    expect(body).not.toMatch(/^import /m);
    const lines: string[] = [];
    const log = (...args: unknown[]) => lines.push(format(...args));
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    await new AsyncFunction('require', '__log', body)(require, log);
    expect(lines.join('\n') + '\n').toBe(e.printed);
  },
);
