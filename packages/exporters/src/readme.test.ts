/** Runs the first code block of README.md (imports become requires; the output goes to a temporary dir). */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

jest.setTimeout(60_000);

it('the README example runs and ONNX matches runModelIR', async () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)![1];
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'netaug-readme-')), 'tiny.onnx');
  const body = code
    .replace(/^import (\{[^}]*\}) from '([^']+)';$/gm, 'const $1 = require("$2");')
    .replace("out: 'tiny.onnx'", `out: ${JSON.stringify(out)}`)
    .replace('console.log(comparison);', 'return comparison;');
  expect(body).not.toMatch(/^import /m);
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
  const run = new AsyncFunction('require', body);
  const comparison = await run(require);
  rmSync(path.dirname(out), { recursive: true, force: true });
  expect(comparison.maxAbsDiff).toBeLessThan(1e-5);
  expect(comparison.top1Agreement).toBe(1);
});
