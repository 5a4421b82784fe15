/**
 * Locates and loads the compiled addon (`netaug_native.node`). Looked for next to this module (the build
 * copies it into `dist/`), then in the package's `build/Release` and `prebuilds/<platform>-<arch>` (node-gyp-build).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** Counters of one of the addon's primitive caches (since the process started). */
export interface PrimitiveCacheStats {
  /** Calls that found their oneDNN primitive cached / had to create it. */
  hits: number;
  misses: number;
  /** Least recently used entries dropped at the cache's capacity. */
  evictions: number;
  /** Milliseconds spent creating primitives. */
  createMs: number;
}

/** What the C++ side exports (see `src/native/addon.cc`). */
export interface NativeAddon {
  /** Set instead of the functions when oneDNN (libdnnl.so.2) could not be loaded. */
  loadError?: string;
  info(): {
    onednn: string;
    onednnHash: string;
    cpuRuntime: string;
    isa: string;
    threads: number;
    ompMaxThreads: number;
    convPrimitives: number;
    matmulPrimitives: number;
    convCache: PrimitiveCacheStats;
    matmulCache: PrimitiveCacheStats;
  };
  setThreads(n: number): void;
  /** Keeps freed memory in glibc's heap (no page faults on reuse); false where not glibc. */
  tuneMalloc(): boolean;
  clearCaches(): void;
  /** mode 0: (x, filter) → y; 1: (dy, filter) → dx; 2: (x, dy) → dFilter. */
  conv(mode: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  convImpl(mode: 0 | 1 | 2, dims: Int32Array): string;
  /** dims: [batchA, batchB, M, K, N, transposeA, transposeB]. */
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  batchNormTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    /** Activation after the normalisation: 0 none (default), 1 relu, 2 relu6. */
    act?: 0 | 1 | 2,
  ): void;
  batchNormTrainGrad(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dmean: Float32Array,
    dvariance: Float32Array,
    epsilon: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    /** The forward output (act ≠ 0): the gradient is that of act(batchNorm(x)). */
    y?: Float32Array,
    act?: 0 | 1 | 2,
  ): void;
  /** op 0 relu, 1 relu6. */
  eltwise(op: 0 | 1, x: Float32Array, y: Float32Array): void;
  eltwiseGrad(op: 0 | 1, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** SGD with momentum: `g' = g + wd·w`, `buf' = m·buf + g'`, `d = g' + m·buf'` (Nesterov) or `buf'`, `w' = w − lr·d`. */
  sgdUpdate(
    w: Float32Array,
    g: Float32Array,
    buf: Float32Array,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
    wOut: Float32Array,
    bufOut: Float32Array,
  ): void;
  /** op 0 add, 1 sub, 2 mul, 3 div; mode 0 same shape, 1 scalar b, 2 scalar a, 3/4 b/a repeats every `inner`. */
  binary(
    op: 0 | 1 | 2 | 3,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    mode: number,
    inner: number,
  ): void;
  /** Copies the box `size` of src at srcBegin into dst at dstBegin (dst filled with `fill` first if given). */
  copyBox(
    src: Float32Array,
    srcShape: Int32Array,
    srcBegin: Int32Array,
    dst: Float32Array,
    dstShape: Int32Array,
    dstBegin: Int32Array,
    size: Int32Array,
    fill?: number,
  ): void;
}

export const ADDON_FILE = 'netaug_native.node';
/** Written by `scripts/build-addon.mjs` next to the addon: whether the last build worked, and why not. */
export const STATUS_FILE = 'netaug-native-build.json';

const PACKAGE_NAME = '@netaug/backend-native';

let cached: { addon: NativeAddon; file: string } | null = null;

/** The directory of this module (dist/ in the bundles, src/ under jest). */
function moduleDir(): string | null {
  return typeof __dirname === 'string' ? __dirname : null;
}

/** The package root: the first ancestor (up to 3 levels) whose package.json is this package's. */
function packageRoot(start: string): string | null {
  let dir = start;
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return dir;
    } catch {
      // no package.json here
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Directories to search, in order. */
function searchDirs(): { here: string | null; root: string | null } {
  let here = moduleDir();
  let root = here != null ? packageRoot(here) : null;
  if (root == null) {
    // e.g. bundled into another file: resolve the installed package from the working directory
    try {
      const req = createRequire(path.join(process.cwd(), 'index.js'));
      root = path.dirname(req.resolve(`${PACKAGE_NAME}/package.json`));
      here ??= path.join(root, 'dist');
    } catch {
      // not resolvable
    }
  }
  return { here, root };
}

/** Path of the addon binary, or null with the reason it is missing. */
export function findAddon(): { file: string | null; reason: string } {
  const { here, root } = searchDirs();
  const candidates: string[] = [];
  // next to this module first (dist/ of an installed package), then node-gyp's output (a fresh local build)
  if (here != null) candidates.push(path.join(here, ADDON_FILE));
  if (root != null) {
    candidates.push(path.join(root, 'build', 'Release', ADDON_FILE), path.join(root, 'dist', ADDON_FILE));
  }
  for (const c of candidates) if (fs.existsSync(c)) return { file: c, reason: '' };
  if (root != null) {
    try {
      const req = createRequire(path.join(root, 'index.js'));
      const gypBuild = req('node-gyp-build') as { path(dir: string): string };
      return { file: gypBuild.path(root), reason: '' };
    } catch {
      // no prebuild either
    }
  }
  return { file: null, reason: buildFailureReason(here, root) };
}

function buildFailureReason(here: string | null, root: string | null): string {
  const statusFiles = [here, root && path.join(root, 'dist'), root && path.join(root, 'build')]
    .filter((d): d is string => d != null)
    .map((d) => path.join(d, STATUS_FILE));
  for (const f of statusFiles) {
    try {
      const s = JSON.parse(fs.readFileSync(f, 'utf8')) as { ok?: boolean; reason?: string };
      if (s.ok === false && s.reason) return `the native addon failed to build: ${s.reason}`;
    } catch {
      // no status file here
    }
  }
  return 'the native addon is not built (no netaug_native.node found)';
}

/**
 * Loads the addon once. Throws an Error whose first line says why it cannot be used (not built, build
 * failed and why, or the shared libraries it links — libdnnl — missing).
 */
export function loadAddon(): { addon: NativeAddon; file: string } {
  if (cached != null) return cached;
  const hint =
    'Build it with `npm run build -w @netaug/backend-native` after installing oneDNN and a C++ toolchain ' +
    '(Debian/Ubuntu: apt-get install libdnnl-dev g++ make python3).';
  const { file, reason } = findAddon();
  if (file == null) throw new Error(`@netaug/backend-native: ${reason}\n${hint}`);
  // How long idle OpenMP workers spin (see loadRuntime() in src/native/addon.cc, which sets it in the real
  // environment before libgomp loads on Linux; elsewhere libgomp is linked and this is the only chance).
  if (process.env.OMP_WAIT_POLICY == null && process.env.GOMP_SPINCOUNT == null)
    process.env.GOMP_SPINCOUNT = '100000';
  let addon: NativeAddon;
  try {
    const req = createRequire(file);
    addon = req(file) as NativeAddon;
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new Error(`@netaug/backend-native: cannot load ${file}: ${msg}\n${hint}`);
  }
  if (addon.loadError != null) throw new Error(`@netaug/backend-native: ${addon.loadError}\n${hint}`);
  cached = { addon, file };
  return cached;
}
