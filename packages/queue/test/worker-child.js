// A worker in its own process for the lost-worker test (it gets SIGKILLed). It runs the TypeScript source through
// @swc/core (a root devDependency), so no build is needed. Its handler writes a marker file, then waits (event
// loop free) until killed.
// Usage: node worker-child.js <queue-url> <study> <worker-name> <marker-dir> <lockDurationMs> <stalledIntervalMs>
const fs = require('fs');
const path = require('path');
const swc = require('@swc/core');

require.extensions['.ts'] = (mod, filename) => {
  const { code } = swc.transformFileSync(filename, {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  mod._compile(code, filename);
};

const { parseQueueUrl, startWorker } = require('../src/index.ts');

const [url, study, name, dir, lockDuration, stalledInterval] = process.argv.slice(2);
const w = startWorker(
  parseQueueUrl(url),
  study,
  async (cell) => {
    // written then renamed: the test never sees the marker before its contents
    const marker = path.join(dir, `${name}.started`);
    fs.writeFileSync(`${marker}.tmp`, cell.hash);
    fs.renameSync(`${marker}.tmp`, marker);
    await new Promise((resolve) => setTimeout(resolve, 600_000));
  },
  {
    name,
    lockDuration: Number(lockDuration),
    stalledInterval: Number(stalledInterval),
    onEvent: (line) => process.stderr.write(`[${name}] ${line}\n`),
  },
);
w.ready().then(
  () => fs.writeFileSync(path.join(dir, `${name}.ready`), ''),
  (e) => {
    process.stderr.write(`[${name}] ${e.message}\n`);
    process.exit(1);
  },
);
