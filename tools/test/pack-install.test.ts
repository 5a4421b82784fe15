/**
 * Pack-and-install: every package under packages/ is packed as npm would publish it, installed ALONE into an
 * empty project (its tarball, the tarballs of the @netaug packages it depends on — they are not on the registry —
 * and only what its README example imports or names as a needed optional peer), and its README example is run
 * there with plain Node and checked on the values it prints. Also `npm publish --dry-run` and the tarball's
 * file list, source maps and imports.
 *
 * One temporary project per package keeps "only its declared dependencies" honest (a dependency missing from
 * package.json would be hidden by another package's install in a shared project); the npm cache is shared,
 * so every install is a copy out of the cache (`--prefer-offline`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ROOT,
  assertOk,
  childEnv,
  describeRun,
  internalClosure,
  listPackages,
  rootManifest,
  run,
  type Manifest,
  type RunResult,
  type WorkspacePackage,
} from './support/workspace';
import { findExample, importedPackages, toRunnable, type ExampleSelector } from './support/readme-example';

/** How each package's README example is found, what it needs besides its imports, and what it must print. */
interface ExampleSpec {
  selector: ExampleSelector;
  /**
   * Packages the example needs at run time without importing them. Each must be one the package declares
   * (a dependency or a peer dependency, usually optional): these tests never install anything undeclared.
   */
  runtime?: string[];
  check: (out: ExampleOutput) => void | Promise<void>;
}

interface ExampleOutput {
  stdout: string;
  stderr: string;
  lines: string[];
  /** The temporary project the example ran in. */
  project: string;
  /** Runs `node -e <code>` (CommonJS) in the project. */
  node: (code: string) => Promise<RunResult>;
}

const num = String.raw`(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)`;

const SPECS: Record<string, ExampleSpec> = {
  '@netaug/core': {
    selector: {},
    check: ({ lines }) => {
      expect(lines).toEqual(['8 8', 'true linear']);
    },
  },
  '@netaug/schedulers': {
    selector: {},
    check: ({ lines, stdout }) => {
      const [warm, peak, mid] = lines[0].split(' ').map(Number);
      expect(warm).toBeCloseTo(0.4 / 6255, 12);
      expect(peak).toBe(0.4);
      expect(mid).toBeCloseTo(0.2, 12);
      expect(stdout).toContain("mode: 'random'");
      expect(lines.at(-1)).toBe('min_w');
    },
  },
  '@netaug/supernet': {
    selector: {},
    check: ({ lines, stdout }) => {
      expect(lines).toContain('305482 11342560'); // MobileNetV2-Tiny 28×28×1, 10 classes: params, MACs
      expect(stdout.match(/^Tensor$/gm)).toHaveLength(2); // the two printed [2, 10] logits
    },
  },
  '@netaug/backend': {
    selector: { after: '## Example' },
    runtime: ['@tensorflow/tfjs-backend-wasm'],
    check: ({ stdout }) => {
      const lines = stdout.split('\n').filter((l) => l && !l.startsWith('[netaug] ')); // verbose: true logs attempts
      expect(lines[0]).toMatch(
        /^wasm \(tfjs-core 4\.\d+\.\d+, .*netaug grad kernels 3\/3.*gradients registered\)/,
      );
      expect(lines[0]).toMatch(/tensorflow:false native:false wasm:true$/);
      const m = new RegExp(`^wasm ${num} \\[ 3, 3, 8, 1 \\]$`).exec(lines[1]);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0); // mean of squares
    },
  },
  '@netaug/data': {
    selector: { after: '## Example' },
    check: async ({ lines, node }) => {
      const m = /^(\d+) \[ 28, 28, 1 \] (embedded|system|env|dataDir)$/.exec(lines[0]);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(m![2] === 'embedded' ? 10000 : 60000);
      expect(lines[1]).toMatch(/^\[ 128, 28, 28, 1 \] Int32Array\(8\)/);
      // the embedded subset ships in the tarball (assets/) and reads, whichever source the example found
      const r = await node(
        `const d = require('@netaug/data');
         d.loadBuiltin('fashion-mnist', { split: 'test', dataDir: d.EMBEDDED_FASHION_MNIST_DIR })
          .then((t) => console.log(t.size, t.shape.join('x'), t.classNames.length, require('path').relative(process.cwd(), t.sourceDir)));`,
      );
      assertOk('loading the embedded subset', r);
      expect(r.stdout.trim()).toBe('2000 28x28x1 10 node_modules/@netaug/data/assets/fashion-mnist-subset');
    },
  },
  '@netaug/trainer': {
    selector: {},
    // no tfjs-layers: @netaug/backend registers the gradients training needs
    check: ({ stdout, stderr, project }) => {
      expect(stderr).toMatch(/^epoch 6\/6 train loss/m); // progress({ plain: true }) writes to stderr
      expect(stdout).toMatch(/val: \{ loss: /);
      const summary = JSON.parse(fs.readFileSync(path.join(project, 'runs/netaug/summary.json'), 'utf8'));
      expect(summary.epochs).toBe(6);
      expect(summary.final.val.top1).toBeGreaterThanOrEqual(0.8); // README: ~0.94–0.98
      for (const f of ['model.nair', 'checkpoint.bin', 'loss.png', 'accuracy.svg', 'metrics.jsonl'])
        expect(fs.existsSync(path.join(project, 'runs/netaug', f))).toBe(true);
    },
  },
  '@netaug/backend-native': {
    selector: {},
    runtime: ['@tensorflow/tfjs-backend-cpu'], // the native backend is the cpu backend plus native kernels
    check: ({ lines, stdout }) => {
      expect(stdout).toMatch(/onednn: '\d+\.\d+/);
      expect(stdout).toMatch(/threads: 2/);
      expect(lines.at(-1)).toBe('native 100');
    },
  },
  '@netaug/exporters': {
    selector: { after: '## Example' },
    runtime: ['onnxruntime-node'], // verifyOnnx (optional peer)
    check: ({ lines, project }) => {
      const m = new RegExp(`^\\{ maxAbsDiff: ${num}, top1Agreement: 1 \\}$`).exec(lines.at(-1)!);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(1e-5);
      expect(fs.statSync(path.join(project, 'tiny.onnx')).size).toBeGreaterThan(200);
    },
  },
  '@netaug/detection': {
    selector: { after: '## Example' },
    check: ({ lines }) => {
      expect(lines).toEqual([
        '100 345 268 77 0',
        '96 96 1 T-shirt/top 39,21,39x44 | Bag 40,47,41x35',
        'true',
        '1.0000 0.6797 1.0000 0.8096',
        '0.9 0.7 0.1429 -0.0794',
      ]);
    },
  },
  '@netaug/detector': {
    selector: { after: '## Example' },
    // no tfjs-layers: trainDetector registers @netaug/backend's gradient functions
    check: ({ lines }) => {
      expect(lines).toEqual([
        'neck det.tower.0 det.tower.1 8:12x12 16:6x6', // choice points of neck and head; the two levels
        '{ neck: 83, tower: [ 83, 83 ] }', // round(32 · 2.6) at the largest config
        'tiny+aug0 tiny+aug0 4', // NetAug: tiny + one augmented detector per step; 2 epochs × 2 batches
        '16 true true', // detections for each of the 16 test images; mAPs computed
      ]);
    },
  },
  '@netaug/queue': {
    selector: { after: '## Quick check' },
    check: ({ lines }) => {
      expect(lines).toEqual(['rediss://***@10.0.0.5:6380/2 true 6380 2 false']);
    },
  },
  '@netaug/cli': {
    selector: { after: '## Use from code' },
    check: async ({ stdout, project, node }) => {
      const p = JSON.parse(stdout);
      expect(p).toMatchObject({ model: 'mcunet', params: 737408, macs: 81785520, inputShape: [176, 176, 3] });
      // the bin, with the commands of the README's first shell block that need no data or training
      const readme = fs.readFileSync(path.join(ROOT, 'packages/cli/README.md'), 'utf8');
      const shell = /```sh\n([\s\S]*?)```/.exec(readme)![1];
      const commands = shell
        .split('\n')
        .map((l) => l.replace(/#.*$/, '').trim())
        .filter((l) => /^netaug (models|profile)\b/.test(l));
      expect(commands.length).toBeGreaterThanOrEqual(2);
      for (const c of commands) {
        const args = c.split(/\s+/).slice(1);
        const r = await run(path.join(project, 'node_modules/.bin/netaug'), args, { cwd: project });
        assertOk(c, r);
        if (args[0] === 'models') expect(r.stdout).toMatch(/mobilenetv2-tiny/);
        if (args[0] === 'profile' && args.includes('--json')) {
          expect(JSON.parse(r.stdout)).toMatchObject({
            model: 'mobilenetv2-tiny',
            params: 305482,
            macs: 11342560,
          });
        }
      }
      const r = await node(`require('@netaug/cli').runCli(['--help']).then((c) => process.exitCode = c)`);
      assertOk('runCli --help', r);
    },
  },
};

const packages = listPackages();
const manifests = new Map<string, Manifest>(packages.map((p) => [p.manifest.name, p.manifest]));
const unbuilt = packages.filter((p) => !p.built);
const built = packages.filter((p) => p.built);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netaug-pack-'));
/** name → packed tarball, its file list, and the folder it was unpacked to (what the static checks read). */
const packed = new Map<string, { tarball: string; files: string[]; unpacked: string }>();
/** name → the temporary project with the package installed (started in beforeAll, two at a time). */
const installs = new Map<string, Promise<Installed>>();
const env = childEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }); // onnxruntime-node's postinstall would download CUDA EPs
const timings: string[] = [];

interface Installed {
  project: string;
  install: RunResult;
  internal: string[];
  thirdParty: string[];
  error?: Error;
}

if (unbuilt.length) {
  // visible, not silent: one skipped test per package without build output, and a warning
  console.warn(`pack-install: not checked (no dist/ yet): ${unbuilt.map((p) => p.manifest.name).join(', ')}`);
}

/** What a package's example needs besides the package: its @netaug dependencies and third-party packages. */
function needs(pkg: WorkspacePackage): { internal: string[]; thirdParty: string[]; specs: string[] } {
  const name = pkg.manifest.name;
  const spec = SPECS[name];
  if (!spec) throw new Error(`no example spec for ${name}`);
  const example = findExample(fs.readFileSync(path.join(pkg.dir, 'README.md'), 'utf8'), spec.selector);
  const internal = internalClosure(name, manifests);
  const root = rootManifest().devDependencies ?? {};
  const m = pkg.manifest;
  const declared: Record<string, string> = { ...m.peerDependencies, ...m.dependencies };
  for (const r of spec.runtime ?? []) {
    if (!declared[r]) throw new Error(`${name} does not declare ${r}; the example must not need it`);
  }
  const imported = importedPackages(example.code).filter((d) => d !== name && !internal.includes(d));
  for (const d of imported) {
    if (d.startsWith('@netaug/')) throw new Error(`${name}'s README example imports ${d}, not a dependency`);
  }
  const thirdParty = [...new Set([...imported, ...(spec.runtime ?? [])])].sort();
  // the versions the npm cache holds (root devDependencies, what npm ci installed), else the declared range
  const specs = thirdParty.map((d) => `${d}@${root[d] ?? declared[d] ?? 'latest'}`);
  return { internal, thirdParty, specs };
}

/** Installs one package into a new empty project: its tarball, its @netaug dependencies' tarballs, `specs`. */
async function installAlone(pkg: WorkspacePackage): Promise<Installed> {
  const name = pkg.manifest.name;
  const { internal, thirdParty, specs } = needs(pkg);
  const project = fs.mkdtempSync(path.join(work, `${pkg.folder}-`));
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: `try-${pkg.folder}`, version: '1.0.0', private: true }, null, 2),
  );
  const tgz = (d: string) => {
    const t = packed.get(d)?.tarball;
    if (!t) throw new Error(`${name} depends on ${d}, which was not packed (not built?)`);
    return t;
  };
  const install = await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      tgz(name),
      ...internal.map(tgz),
      ...specs,
    ],
    { cwd: project, env, timeoutMs: 280000 },
  );
  return { project, install, internal, thirdParty };
}

/** Runs `f` over `items`, at most `limit` at a time; returns one promise per item (in order). */
function pool<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): Promise<R>[] {
  let running = 0;
  const queue: (() => void)[] = [];
  return items.map(
    (item) =>
      new Promise<R>((resolve, reject) => {
        const start = () => {
          running++;
          f(item)
            .then(resolve, reject)
            .finally(() => {
              running--;
              queue.shift()?.();
            });
        };
        if (running < limit) start();
        else queue.push(start);
      }),
  );
}

beforeAll(async () => {
  const missing = built.filter((p) => p.manifest.main && !fs.existsSync(path.join(p.dir, p.manifest.main)));
  if (missing.length)
    throw new Error(
      `build first (npm run build): no ${missing.map((p) => `${p.folder}/${p.manifest.main}`)}`,
    );
  const r = await run(
    'npm',
    ['pack', '--json', '--pack-destination', work, ...built.flatMap((p) => ['-w', `packages/${p.folder}`])],
    { cwd: ROOT, env },
  );
  assertOk('npm pack', r);
  for (const p of JSON.parse(r.stdout) as { name: string; filename: string; files: { path: string }[] }[]) {
    const tarball = path.join(work, p.filename);
    const unpacked = path.join(work, 'unpacked', p.filename.replace(/\.tgz$/, ''));
    fs.mkdirSync(unpacked, { recursive: true });
    assertOk('tar', await run('tar', ['-xzf', tarball, '-C', unpacked], { cwd: work }));
    packed.set(p.name, {
      tarball,
      files: p.files.map((f) => f.path),
      unpacked: path.join(unpacked, 'package'),
    });
  }
  // installs are I/O-bound copies out of the npm cache: two at a time; each test awaits its own
  const promises = pool(built, 2, (p) =>
    installAlone(p).catch((error: Error) => ({
      project: '',
      install: undefined!,
      internal: [],
      thirdParty: [],
      error,
    })),
  );
  built.forEach((p, i) => installs.set(p.manifest.name, promises[i]));
}, 120000);

afterAll(async () => {
  await Promise.all(installs.values()); // none left running when the folder goes
  if (timings.length) console.log(`pack-install timings:\n  ${timings.join('\n  ')}`);
  if (!process.env.NETAUG_KEEP_TMP) fs.rmSync(work, { recursive: true, force: true });
}, 300000);

test('every folder under packages/ has an example spec here', () => {
  // a new package must say how its README example is checked (or fail here instead of being skipped silently):
  // add it to SPECS above — which README block, which optional peers it needs, which printed values to check
  const names = built.map((p) => p.manifest.name);
  const without = names.filter((n) => !SPECS[n]);
  if (without.length)
    throw new Error(
      `no README example spec in tools/test/pack-install.test.ts (SPECS) for ${without.join(', ')}`,
    );
});

for (const p of unbuilt) {
  test.skip(`${p.manifest.name}: not built (no dist/), pack and install not checked`, () => {});
}

/**
 * Files a package may publish besides dist/, README.md, LICENSE and package.json: the data package's embedded
 * subset and the detection package's embedded scenes, the detector's C post-processing (c/), the CLI's command stub (bin/netaug.js, which loads dist/), and the native backend's addon sources
 * (node-gyp builds them on install where no binary fits).
 */
const EXTRA_FILES: Record<string, RegExp> = {
  '@netaug/data': /^assets\//,
  '@netaug/detection': /^assets\//,
  '@netaug/detector': /^c\/[a-z_]+\.[ch]$/,
  '@netaug/cli': /^bin\/netaug\.js$/,
  '@netaug/backend-native': /^(binding\.gyp$|src\/native\/|scripts\/)/,
};

function allowed(pkg: WorkspacePackage, file: string): boolean {
  if (['package.json', 'README.md', 'LICENSE'].includes(file)) return true;
  // an embedded data set's test split (assets/…/test/) is data, not a test file
  if (EXTRA_FILES[pkg.manifest.name]?.test(file)) return !/\.(test|spec)\.[cm]?[jt]s$/.test(file);
  if (/(^|\/)(test|__tests__)\/|\.(test|spec)\./.test(file)) return false;
  return file.startsWith('dist/');
}

describe.each(built.map((p) => [p.manifest.name, p] as const))('%s', (name, pkg) => {
  test('the tarball holds only dist/, README.md, LICENSE, package.json (+ assets/ for data)', () => {
    const files = packed.get(name)!.files;
    expect(files.filter((f) => !allowed(pkg, f))).toEqual([]);
    for (const f of ['package.json', 'README.md', 'LICENSE']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('src/') && !EXTRA_FILES[name]?.test(f))).toEqual([]);
    // every entry point package.json names is in the tarball
    const m = pkg.manifest;
    const targets = [m.main, m.module, m.types, ...Object.values(m.bin ?? {})];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(m.exports);
    for (const t of targets.filter((x): x is string => !!x && x !== './package.json'))
      expect(files).toContain(path.posix.normalize(t));
    if (name === '@netaug/data')
      expect(files.filter((f) => f.startsWith('assets/')).length).toBeGreaterThan(3);
  });

  test('source maps carry no absolute paths; no file contains the checkout path', () => {
    const { files, unpacked } = packed.get(name)!;
    const notes: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(path.join(unpacked, f));
      if (f.startsWith('dist/')) expect([f, text.includes(ROOT)]).toEqual([f, false]);
      if (!f.endsWith('.map')) continue;
      const map = JSON.parse(text.toString('utf8')) as { sources: string[]; sourceRoot?: string };
      const absolute = map.sources.filter((s) => path.isAbsolute(s) || /^[a-z]+:\/\//i.test(s));
      expect([f, absolute]).toEqual([f, []]);
      expect(map.sourceRoot ?? '').not.toMatch(/^\//);
      // relative paths that leave the package (tsup's ESM shim from the root node_modules) — reported only
      const dir = path.dirname(path.join(unpacked, f));
      const outside = map.sources.filter((s) => !path.resolve(dir, s).startsWith(unpacked + path.sep));
      if (outside.length) notes.push(`${f}: ${outside.join(', ')}`);
    }
    if (notes.length)
      console.log(`${name}: source-map paths outside the package (relative):\n  ${notes.join('\n  ')}`);
  });

  test('every package dist/ imports is declared in package.json (or is a Node builtin)', () => {
    const m = pkg.manifest;
    const declared = new Set([
      m.name,
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}),
      ...Object.keys(m.optionalDependencies ?? {}),
    ]);
    const used = new Set<string>();
    const { files, unpacked } = packed.get(name)!;
    for (const f of files.filter((x) => /^dist\/.*\.(c|m)?js$/.test(x))) {
      for (const dep of importedPackages(fs.readFileSync(path.join(unpacked, f), 'utf8'))) used.add(dep);
    }
    expect([...used].filter((d) => !declared.has(d))).toEqual([]);
  });

  test('its published types import only what an install always brings (no optional package)', () => {
    // a type import of an optional package breaks `tsc` with skipLibCheck: false when it is not installed (TS2307)
    const m = pkg.manifest;
    const optionalPeers = Object.entries(m.peerDependenciesMeta ?? {})
      .filter(([, v]) => v.optional)
      .map(([k]) => k);
    const always = new Set([
      m.name,
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}).filter((d) => !optionalPeers.includes(d)),
    ]);
    const { files, unpacked } = packed.get(name)!;
    const bad: string[] = [];
    for (const f of files.filter((x) => /^dist\/.*\.d\.(c|m)?ts$/.test(x))) {
      const code = fs
        .readFileSync(path.join(unpacked, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '') // doc comments may show example imports
        .replace(/^\s*\/\/.*$/gm, '');
      for (const dep of importedPackages(code)) if (!always.has(dep)) bad.push(`${f}: ${dep}`);
    }
    expect(bad).toEqual([]);
  });

  test('npm publish --dry-run succeeds and would publish the packed files', async () => {
    let r = await run('npm', ['publish', '--dry-run', '--json'], { cwd: pkg.dir, env });
    if (r.code !== 0 && /previously published version/.test(r.stdout + r.stderr)) {
      // the registry already has this version (after a release, before the next changeset bump): the
      // packaging is still what this test checks, so repeat without the registry's version check
      console.warn(`${name}@${pkg.manifest.version} is already on the registry; publish --dry-run --force`);
      r = await run('npm', ['publish', '--dry-run', '--force', '--json'], { cwd: pkg.dir, env });
    }
    assertOk('npm publish --dry-run', r);
    const out = JSON.parse(r.stdout);
    const report = (out[name] ?? out) as { name: string; files: { path: string }[] };
    expect(report.name).toBe(name);
    expect(report.files.map((f) => f.path).sort()).toEqual([...packed.get(name)!.files].sort());
  });

  test('installs alone from its tarball; its README example runs with plain Node', async () => {
    const spec = SPECS[name];
    if (!spec) throw new Error(`no README example spec for ${name} in SPECS`);
    const example = findExample(fs.readFileSync(path.join(pkg.dir, 'README.md'), 'utf8'), spec.selector);
    const { project, install, internal, thirdParty, error } = await installs.get(name)!;
    if (error) throw error;
    assertOk(`npm install in ${project}`, install);
    // what ended up top-level: the package, its @netaug dependencies and the example's packages, nothing else asked for
    const deps = Object.keys(
      JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')).dependencies,
    );
    expect(deps.sort()).toEqual([name, ...internal, ...thirdParty].sort());

    // both module formats load and export the same names
    const node = (code: string) => run(process.execPath, ['-e', code], { cwd: project, env });
    const formats = await node(
      `const c = Object.keys(require('${name}')).filter((k) => k !== '__esModule').sort();
       import('${name}').then((e) => { const k = Object.keys(e).filter((x) => x !== 'default' && x !== 'module.exports').sort();
         if (JSON.stringify(k) !== JSON.stringify(c)) { console.error('cjs', c, 'esm', k); process.exit(1); }
         console.log(c.length); });`,
    );
    assertOk('require() and import() of the package', formats);
    expect(Number(formats.stdout.trim())).toBeGreaterThan(0);

    const { source, ext } = toRunnable(example);
    const file = path.join(project, `readme-example${ext}`);
    fs.writeFileSync(file, source);
    const r = await run(process.execPath, [file], { cwd: project, env, timeoutMs: 120000 });
    if (r.code !== 0) throw new Error(describeRun(`README example (README.md line ${example.line})`, r));
    const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
    timings.push(
      `${name}: install ${(install.ms / 1000).toFixed(1)} s, example ${(r.ms / 1000).toFixed(1)} s`,
    );
    try {
      await spec.check({ stdout: r.stdout, stderr: r.stderr, lines, project, node });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${describeRun('README example', r)}`);
    }
    if (name === '@netaug/cli') fullCliKiB = diskKiB(path.join(project, 'node_modules'));
    fs.rmSync(project, { recursive: true, force: true }); // ~0.5 GB for the cli; keep the disk small
  });
});

/** Disk use of a folder in KiB (`du -sk`). */
function diskKiB(dir: string): number {
  const r = require('node:child_process').spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number(String(r.stdout).split(/\s/)[0]);
}
let fullCliKiB: number | undefined;

/** The optional dependencies of the CLI's packages: what `npm install --omit=optional` leaves out. */
const OPTIONAL = [
  'sharp',
  'onnxruntime-node',
  '@litertjs/core',
  'vega',
  'vega-lite',
  '@tensorflow/tfjs-layers',
];

const cliPkg = built.find((p) => p.manifest.name === '@netaug/cli');
(cliPkg ? test : test.skip)(
  '@netaug/cli with --omit=optional: trains and exports; what needs an optional package names it; MB measured',
  async () => {
    const project = fs.mkdtempSync(path.join(work, 'cli-lean-'));
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'try-lean', private: true }));
    const tgz = (d: string) => packed.get(d)!.tarball;
    const internal = internalClosure('@netaug/cli', manifests);
    const install = await run(
      'npm',
      [
        'install',
        '--omit=optional',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
      ].concat([tgz('@netaug/cli'), ...internal.map(tgz)]),
      { cwd: project, env, timeoutMs: 280000 },
    );
    assertOk('npm install --omit=optional', install);
    const nm = path.join(project, 'node_modules');
    expect(OPTIONAL.filter((d) => fs.existsSync(path.join(nm, d)))).toEqual([]);
    const bin = path.join(nm, '.bin/netaug');
    const cli = (args: string[]) => run(bin, args, { cwd: project, env, timeoutMs: 300000 });

    // training needs none of them: the run is complete, the plots are skipped with a warning naming the package
    const train = await cli(
      ['train', '--preset', 'fmnist-tiny', '--subset', '512', '--test-subset', '500', '--epochs', '1'].concat(
        ['--batch', '64', '--backend', 'wasm', '--out', 'run', '--plain'],
      ),
    );
    assertOk('netaug train (lean install)', train);
    expect(train.stderr).toMatch(
      /plots skipped: plotting needs the optional package vega, which is not installed — npm install vega/,
    );
    const summary = JSON.parse(fs.readFileSync(path.join(project, 'run/summary.json'), 'utf8'));
    expect(summary.epochs).toBe(1);
    expect(summary.plotsSkipped).toMatch(/npm install vega$/);
    // 512 images, one epoch (measured 0.21): above chance (0.1 ± 0.013 on 500 test images) by > 3.5 σ
    expect(summary.final.test.top1).toBeGreaterThan(0.15);
    for (const f of ['model.nair', 'metrics.jsonl', 'checkpoint.bin'])
      expect(fs.existsSync(path.join(project, 'run', f))).toBe(true);

    // exporting needs none either; verifying in ONNX Runtime does, and says so in one line
    const exp = await cli(['export', '--run', 'run', '--format', 'onnx', '--out', 'exports']);
    assertOk('netaug export (lean install)', exp);
    expect(fs.statSync(path.join(project, 'exports/model.onnx')).size).toBeGreaterThan(1000);
    const verify = await cli([
      'export',
      '--run',
      'run',
      '--format',
      'onnx',
      '--out',
      'exports2',
      '--verify',
      '10',
    ]);
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(
      /needs the optional package onnxruntime-node, which is not installed — npm install onnxruntime-node/,
    );
    expect(verify.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // reading an image folder needs sharp
    for (const [cls, file] of [
      ['a', '000084.png'],
      ['b', '000092.png'],
    ]) {
      fs.mkdirSync(path.join(project, 'images', cls), { recursive: true });
      fs.copyFileSync(
        path.join(ROOT, 'packages/detection/assets/fashion-scenes/test/images', file),
        path.join(project, 'images', cls, file),
      );
    }
    const inspect = await cli(['data', 'inspect', 'images']);
    expect(inspect.code).not.toBe(0);
    expect(inspect.stderr).toMatch(
      /needs the optional package sharp, which is not installed — npm install sharp/,
    );

    const leanKiB = diskKiB(nm);
    console.log(
      `@netaug/cli install size: ${JSON.stringify({ fullMiB: fullCliKiB && +(fullCliKiB / 1024).toFixed(1), leanMiB: +(leanKiB / 1024).toFixed(1) })}`,
    );
    if (fullCliKiB) expect(leanKiB).toBeLessThan(fullCliKiB);
    fs.rmSync(project, { recursive: true, force: true });
  },
  600000,
);
