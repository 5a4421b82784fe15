/**
 * The package's structure: what a block does lives in its block file (no `instanceof` on block classes
 * elsewhere), and no module imports itself through others (no import cycle, type-only imports included).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = __dirname;

function sources(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '__fixtures__' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

test('no instanceof on block classes outside src/blocks/', () => {
  const blockClasses =
    /instanceof\s+(ConvBnAct|ConvBlock|DSBlock|MBBlock|BasicBlock|BottleneckBlock|ResidualBlock)\b/;
  const offenders = sources()
    .filter((f) => !rel(f).startsWith('blocks/'))
    .filter((f) => blockClasses.test(fs.readFileSync(f, 'utf8')))
    .map(rel);
  expect(offenders).toEqual([]);
});

test('no import cycle between the package’s modules', () => {
  const files = sources();
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) => {
      const base = path.resolve(path.dirname(f), m[1]);
      return fs.existsSync(`${base}.ts`) ? `${base}.ts` : path.join(base, 'index.ts');
    });
    graph.set(f, deps);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map(rel).join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  expect(cycles).toEqual([]);
  expect(graph.size).toBeGreaterThan(20);
});
