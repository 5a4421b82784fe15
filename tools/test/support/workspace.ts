import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** What a package.json of this repository declares (the fields these tests read). */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  module?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Folder name under packages/. */
  folder: string;
  dir: string;
  manifest: Manifest;
  /** Whether `dist/` exists (the package was built). */
  built: boolean;
}

/** Every package under packages/, read from the folder (not from a hard-coded list). */
export function listPackages(): WorkspacePackage[] {
  const base = path.join(ROOT, 'packages');
  return fs
    .readdirSync(base)
    .filter((d) => fs.existsSync(path.join(base, d, 'package.json')))
    .sort()
    .map((folder) => {
      const dir = path.join(base, folder);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
      const dist = path.join(dir, 'dist');
      const built = fs.existsSync(dist) && fs.readdirSync(dist).length > 0;
      return { folder, dir, manifest, built };
    });
}

/** The root package.json (its devDependencies pin the versions the npm cache holds). */
export function rootManifest(): Manifest {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
}

/**
 * The `@netaug/*` packages `name` needs at run time, transitively, through `dependencies` and non-optional
 * `peerDependencies` (not devDependencies, not optional peers).
 */
export function internalClosure(name: string, all: Map<string, Manifest>): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    const m = all.get(n);
    if (!m) throw new Error(`${n} is not a package of this repository`);
    const required = [
      ...Object.keys(m.dependencies ?? {}),
      ...Object.keys(m.peerDependencies ?? {}).filter((p) => !m.peerDependenciesMeta?.[p]?.optional),
    ];
    for (const d of required) {
      if (d.startsWith('@netaug/') && !seen.has(d)) {
        seen.add(d);
        visit(d);
      }
    }
  };
  visit(name);
  return [...seen].sort();
}

/**
 * The environment for child npm / node processes: without the `npm_*` variables of the npm that started jest
 * (`npm test` exports its own prefix, package and lifecycle, which a nested npm would pick up), keeping the
 * settings a user or CI sets on purpose (cache, registry, proxies, certificates).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
    'npm_config_globalconfig',
    'npm_config_proxy',
    'npm_config_https_proxy',
    'npm_config_noproxy',
    'npm_config_strict_ssl',
    'npm_config_cafile',
    'npm_config_offline',
  ]);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if (lower.startsWith('npm_') && !keep.has(lower)) continue;
    if (k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (never throws on a non-zero exit; the caller asserts). */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 240000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A failure message with the command's output, for `expect(...)` messages. */
export function describeRun(what: string, r: RunResult): string {
  const tail = (s: string) => s.split('\n').slice(-40).join('\n');
  return `${what} exited with ${r.code} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Asserts that a command succeeded, with its output in the failure message. */
export function assertOk(what: string, r: RunResult): void {
  if (r.code !== 0) throw new Error(describeRun(what, r));
}
