import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ModelIR } from '@netaug/core';

/** The Python that has PyTorch here (Debian `python3-torch`); override with env `NETAUG_PYTHON`. */
export function defaultPython(): string {
  return process.env.NETAUG_PYTHON || '/usr/bin/python3';
}

/** A ModelIR whose tensors carry only their shape (what tools/bench/torch_step.py needs). */
export type StrippedIR = Omit<ModelIR, 'nodes'> & { nodes: Record<string, unknown>[] };

/** Copies `ir` replacing every weight tensor `{shape, data}` by `{shape}` (no weight data goes to Python). */
export function stripWeights(ir: ModelIR): StrippedIR {
  const nodes = ir.nodes.map((n) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) {
      if (v && typeof v === 'object' && 'shape' in v && 'data' in v) {
        out[k] = { shape: [...(v as { shape: number[] }).shape] };
      } else {
        out[k] = Array.isArray(v) ? [...v] : v;
      }
    }
    return out;
  });
  const { metadata: _m, ...rest } = ir;
  return { ...rest, inputShape: [...ir.inputShape] as ModelIR['inputShape'], nodes };
}

/** One case of the PyTorch spec: the tiny model and, for `netaug`, the augmented models cycled step by step. */
export interface TorchCase {
  id: string;
  strategy: 'baseline' | 'netaug';
  tiny: StrippedIR;
  aug?: StrippedIR[];
  /** NetAug: the supernet's largest config; the step then shares one set of full-size weights (authors' way). */
  full?: StrippedIR;
  /** Also compare the shared net's forward pass with a static copy of the sliced weights (`checkMaxAbsDiff`). */
  check?: boolean;
  warmup?: number;
  steps?: number;
}

/** The JSON object tools/bench/torch_step.py reads on stdin. */
export interface TorchSpec {
  threads: number;
  batch: number;
  input: [number, number, number];
  numClasses: number;
  warmup: number;
  steps: number;
  cases: TorchCase[];
}

/** What tools/bench/torch_step.py prints for one case. */
export interface TorchResult {
  id: string;
  pytorchMsPerStep: number;
  pytorchMsMin: number;
  pytorchMsMax: number;
  pytorchMsMean?: number;
  pytorchSteps?: number;
  torchVersion: string;
  threads: number;
  /** The NetAug step shared one set of full-size weights (the case had `full`). */
  weightSharing?: boolean;
  /** Parameters of the shared full-size weights. */
  pytorchSharedParams?: number;
  /** Peak RSS of the Python process (ru_maxrss). */
  pytorchRssPeakBytes?: number;
  /** With `check`: the largest |shared − static copy| over the tiny and first augmented forward passes. */
  checkMaxAbsDiff?: number;
}

/** Builds the spec of one PyTorch run; IRs are stripped of weight data here. */
export function buildTorchSpec(o: {
  threads: number;
  batch: number;
  input: [number, number, number];
  numClasses: number;
  warmup: number;
  steps: number;
  cases: {
    id: string;
    strategy: 'baseline' | 'netaug';
    tiny: ModelIR;
    aug?: ModelIR[];
    full?: ModelIR;
    check?: boolean;
    warmup?: number;
    steps?: number;
  }[];
}): TorchSpec {
  return {
    threads: o.threads,
    batch: o.batch,
    input: [...o.input] as [number, number, number],
    numClasses: o.numClasses,
    warmup: o.warmup,
    steps: o.steps,
    cases: o.cases.map((c) => ({
      id: c.id,
      strategy: c.strategy,
      tiny: stripWeights(c.tiny),
      ...(c.strategy === 'netaug' ? { aug: (c.aug ?? []).map(stripWeights) } : {}),
      ...(c.strategy === 'netaug' && c.full ? { full: stripWeights(c.full) } : {}),
      ...(c.check ? { check: true } : {}),
      ...(c.warmup !== undefined ? { warmup: c.warmup } : {}),
      ...(c.steps !== undefined ? { steps: c.steps } : {}),
    })),
  };
}

/** `{ ok, version }` when `python` can import torch, else `{ ok: false, reason }`. */
export function probeTorch(
  python = defaultPython(),
): { ok: true; version: string } | { ok: false; reason: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) return { ok: false, reason: `${python}: ${r.error.message}` };
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return { ok: false, reason: `${python} cannot import torch: ${last}` };
  }
  return { ok: true, version: r.stdout.trim() };
}

/**
 * Finds tools/bench/torch_step.py: env `NETAUG_TORCH_SCRIPT`, else walking up from this module and from the
 * working directory (the script lives in the repository, not in the published package).
 */
export function findTorchScript(): string | null {
  if (process.env.NETAUG_TORCH_SCRIPT) {
    return existsSync(process.env.NETAUG_TORCH_SCRIPT) ? resolve(process.env.NETAUG_TORCH_SCRIPT) : null;
  }
  const starts = [typeof __dirname !== 'undefined' ? __dirname : null, process.cwd()].filter(
    (d): d is string => !!d,
  );
  for (const start of starts) {
    let d = resolve(start);
    for (;;) {
      const f = join(d, 'tools', 'bench', 'torch_step.py');
      if (existsSync(f)) return f;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return null;
}

/** Runs torch_step.py on `spec` and returns its result lines (rejects with its stderr when it fails). */
export function runTorch(spec: TorchSpec, script: string, python = defaultPython()): Promise<TorchResult[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        const last = err.trim().split('\n').pop() ?? '';
        reject(new Error(`PyTorch bench failed (exit ${code}): ${last}`));
        return;
      }
      try {
        resolvePromise(
          out
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as TorchResult),
        );
      } catch (e) {
        reject(new Error(`PyTorch bench printed something that is not JSON: ${(e as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(spec));
  });
}
