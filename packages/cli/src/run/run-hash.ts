import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { RunConfig } from './run-config';
import { fileHash } from './user-models';
import { initIdentity } from './init';

/**
 * What a run config leaves open and the machine decides, resolved: each changes the bits of the result. The
 * backend (`auto` → the one that loads), the native backend's thread count (its reductions round per thread
 * count; null where the project does not set it), and the data the run reads (a built-in name → the folder
 * it is loaded from: the embedded subset and the full set are different data).
 */
export interface RunEnvironment {
  backend: 'tensorflow' | 'native' | 'wasm' | 'cpu';
  threads: number | null;
  data: string;
}

/** Threads the native backend uses for `nativeThreads` (else env NETAUG_THREADS, else every core). */
export function nativeThreadsFor(nativeThreads: number | undefined): number {
  if (nativeThreads != null) return nativeThreads;
  const env = Number(process.env.NETAUG_THREADS?.trim());
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** The run's data as the hash sees it: the folder a built-in loads from, or the absolute path. */
export async function resolveDataIdentity(
  cfg: Pick<RunConfig, 'data' | 'dataDir'> & { task?: RunConfig['task'] },
): Promise<string> {
  if (cfg.task === 'detect') {
    const { detectDataIdentity } = await import('./detect-data');
    return detectDataIdentity(cfg.data);
  }
  if (cfg.data === 'fashion-mnist' || cfg.data === 'mnist') {
    const data = await import('@netaug/data');
    const ds = await data.loadBuiltin(cfg.data, { split: 'test', dataDir: cfg.dataDir });
    return `${cfg.data}@${ds.sourceKind === 'embedded' ? 'embedded' : ds.sourceDir}`;
  }
  return resolve(cfg.data);
}

/** Keys of a run config that do not change its result (where it is written, how data is found, how often it is saved). */
const NOT_IN_HASH = new Set(['out', 'backend', 'nativeThreads', 'dataDir', 'data', 'checkpointEvery']);

/** Options of {@link canonicalRun} / {@link runHash}. */
export interface HashOptions {
  /** Hashes of runs by run folder, for `init` folders whose runs are planned but not trained yet. */
  knownRuns?: ReadonlyMap<string, string>;
}

/**
 * The canonical form of a run: every setting that changes the result, with the machine's choices resolved
 * ({@link RunEnvironment}), keys sorted, absent optional keys left out (so that adding an optional key keeps
 * old runs' hashes). The run folder's location is not part of it.
 */
export function canonicalRun(
  cfg: RunConfig,
  env: RunEnvironment,
  o: HashOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all: Record<string, unknown> = {
    ...cfg,
    // a user's model is its spec's and plugins' contents, not where the files are
    ...(cfg.modelSpec ? { modelSpec: `sha256:${fileHash(cfg.modelSpec)}` } : {}),
    // trained weights are their contents (a run folder's model.nair), not where they are
    ...(cfg.init ? { init: initIdentity(cfg.init, o.knownRuns) } : {}),
    ...(cfg.plugins ? { plugins: cfg.plugins.map((p) => `sha256:${fileHash(p)}`) } : {}),
    ...env,
  };
  for (const k of Object.keys(all).sort()) {
    if (NOT_IN_HASH.has(k) && !(k in env)) continue;
    const v = all[k];
    if (v === undefined) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The run's canonical config hash (sha256 of {@link canonicalRun} as JSON, hex): two runs with the same hash
 * compute the same result. The study reuses finished runs by it, a run folder records it, and the job queue
 * uses it as the job id.
 */
export function runHash(cfg: RunConfig, env: RunEnvironment, o: HashOptions = {}): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalRun(cfg, env, o)))
    .digest('hex');
}

/** The environment a run will get here: `auto` probes the backends (and activates the one found). */
export async function resolveRunEnvironment(cfg: RunConfig): Promise<RunEnvironment> {
  let backend = cfg.backend;
  if (backend === 'auto') {
    const { setupBackend } = await import('./backend');
    backend = (await setupBackend('auto', cfg.nativeThreads)).name as RunEnvironment['backend'];
  }
  return {
    backend,
    threads: backend === 'native' ? nativeThreadsFor(cfg.nativeThreads) : backend === 'tensorflow' ? null : 1,
    data: await resolveDataIdentity(cfg),
  };
}
