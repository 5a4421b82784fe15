/**
 * The generated references: docs/cli.md must be what tools/gen-cli-reference.mjs writes from the built CLI, and
 * the TypeDoc API reference (typedoc.json) must build from every package's src/index.ts with no error and no
 * warning (broken {@link}s, referenced but unexported types). docs/api itself is not committed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, assertOk, childEnv, listPackages, run } from './support/workspace';

test('docs/cli.md is up to date with the commands (node tools/gen-cli-reference.mjs)', async () => {
  const r = await run(process.execPath, [path.join(ROOT, 'tools/gen-cli-reference.mjs'), '--check'], {
    cwd: ROOT,
    env: childEnv(),
  });
  assertOk('node tools/gen-cli-reference.mjs --check', r);
  const doc = fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
  for (const c of [
    'models',
    'profile',
    'data inspect',
    'train',
    'eval',
    'export',
    'bench step',
    'bench data',
  ])
    expect(doc).toContain(`\`netaug ${c}\``);
});

test('the API reference builds with TypeDoc: every package, zero errors, zero warnings', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-typedoc-'));
  try {
    const r = await run(
      path.join(ROOT, 'node_modules/.bin/typedoc'),
      ['--out', out, '--treatWarningsAsErrors', '--logLevel', 'Warn'],
      { cwd: ROOT, env: childEnv({ NO_COLOR: '1' }), timeoutMs: 240000 },
    );
    assertOk('typedoc --treatWarningsAsErrors', r);
    expect((r.stdout + r.stderr).match(/\[(warning|error)\].*/g) ?? []).toEqual([]);
    for (const p of listPackages().filter((x) => fs.existsSync(path.join(x.dir, 'src/index.ts'))))
      expect(fs.existsSync(path.join(out, p.manifest.name, 'README.md'))).toBe(true);
    for (const page of [
      '@netaug/core/interfaces/ModelIR.md',
      '@netaug/core/interfaces/Supernet.md',
      '@netaug/trainer/classes/Trainer.md',
    ])
      expect(fs.existsSync(path.join(out, page))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
