import { availableParallelism, cpus, loadavg } from 'node:os';
import type * as tfTypes from '@tensorflow/tfjs-core';
import type { ActiveConfig, Batch, ModelIR, Shape3 } from '@netaug/core';
import { round, timingStats } from './stats';
import { buildTorchSpec, runTorch, type TorchResult } from './torch';

export type BenchStrategy = 'baseline' | 'netaug';
export type AugConfigMode = 'random' | 'max';

/** One measured case of `netaug bench step`. */
export interface StepCase {
  model: string;
  /** Width multiplier (mobilenetv2 / proxylessnas / mobilenetv3). */
  width?: number;
  smallInput: boolean;
  input: Shape3;
  batch: number;
  strategy: BenchStrategy;
}

/** How every case is measured. */
export interface StepBenchSettings {
  /** `random`: `configs` seeded random augmented configs, cycled step by step; `max`: the largest augmented model. */
  augConfig: AugConfigMode;
  /** Random augmented configs of a NetAug case (timed steps are at least this many, so each is timed once). */
  configs: number;
  warmup: number;
  steps: number;
  numClasses: number;
  /** Seed of the weights, the batch and the augmented-config sampling. */
  seed: number;
  /** Gradient checkpointing in the tfjs step (recompute activations in the backward pass). */
  recompute?: boolean;
  /** PyTorch side, or null to skip it. */
  pytorch: { script: string; python: string; threads: number } | null;
}

/** The JSON object printed for one case. */
export interface StepRecord {
  bench: 'step';
  backend: string;
  model: string;
  width?: number;
  smallInput: boolean;
  input: string;
  batch: number;
  strategy: BenchStrategy;
  augConfig?: AugConfigMode;
  augConfigs?: number;
  /** Gradient checkpointing was on in the tfjs step. */
  recompute: boolean;
  warmup: number;
  steps: number;
  /** Median milliseconds per training step (forward, loss, backward, optimizer update). */
  msPerStep: number;
  msMean: number;
  msMin: number;
  msMax: number;
  msP25: number;
  msP75: number;
  imagesPerSec: number;
  tinyParams: number;
  tinyMacs: number;
  /** Mean MACs (per image) of the augmented models the NetAug steps trained next to the tiny model. */
  augMeanMacs?: number;
  augMaxMacs?: number;
  /** Peak memory in bytes; `peakBytesKind` says what it is. */
  peakBytes: number;
  peakBytesKind: 'wasm-heap' | 'rss';
  /** High-water mark of tf.memory().numBytes over one step (tf.profile, at the largest config). */
  tensorPeakBytes: number;
  /** wasm memory size after the case (the heap only grows: process high-water mark); wasm backend only. */
  wasmHeapBytes?: number;
  /**
   * max process.memoryUsage().rss sampled after every step: the whole process, so the case's own figure when it
   * ran in its own process (`netaug bench step` runs each case in a child process when it measures several).
   */
  rssPeakBytes: number;
  numTensorsBefore: number;
  numTensorsAfter: number;
  leakedTensors: number;
  tfjsThreads?: number;
  /**
   * `native` backend, over the timed steps: oneDNN primitives found cached / created (convolutions counted
   * per primitive, matmuls per shape), milliseconds creating them per step, the share of output allocations
   * served by recycled memory (small buffers and arena blocks), and the arena's bytes after the timed steps.
   */
  primitiveHits?: number;
  primitiveMisses?: number;
  primitiveHitRate?: number;
  primitiveCreateMsPerStep?: number;
  poolHitRate?: number;
  arenaBytes?: number;
  /**
   * NetAug: (tiny MACs + mean augmented MACs) / tiny MACs, the step's arithmetic relative to the baseline's,
   * and msPerStep / (the same run's baseline msPerStep × macScale): 1 means a NetAug step costs exactly its
   * extra arithmetic (set when the run measured the baseline of the same model, input and batch).
   */
  macScale?: number;
  macBoundRatio?: number;
  /** The same ratio for PyTorch's steps. */
  pytorchMacBoundRatio?: number;
  pytorchMsPerStep?: number;
  pytorchMsMean?: number;
  pytorchMsMin?: number;
  pytorchMsMax?: number;
  pytorchThreads?: number;
  torchVersion?: string;
  /** NetAug: PyTorch's step shared one set of full-size weights (first-channel slices, as the authors' code). */
  pytorchWeightSharing?: boolean;
  pytorchSharedParams?: number;
  /** Peak RSS of the PyTorch process (its own process, one case). */
  pytorchRssPeakBytes?: number;
  /** msPerStep / pytorchMsPerStep: how many times longer the tfjs step takes. */
  ratio?: number;
  pytorchError?: string;
  /** The timed steps failed (e.g. the wasm heap is exhausted). */
  error?: string;
  /** Only the extra tf.profile step failed (it allocates more than a plain step); timings are valid. */
  profileError?: string;
}

/** Machine facts printed once per run. */
export function machineInfo(): { cores: number; cpu: string; loadavg: number[]; node: string } {
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    loadavg: loadavg().map((x) => round(x, 2)),
    node: process.version,
  };
}

export function shapeName(s: Shape3): string {
  return s.join('x');
}

/** The fields of a record that name its case. */
export function caseFields(c: StepCase, backend: string) {
  return {
    bench: 'step' as const,
    backend,
    model: c.model,
    ...(c.width !== undefined ? { width: c.width } : {}),
    smallInput: c.smallInput,
    input: shapeName(c.input),
    batch: c.batch,
    strategy: c.strategy,
  };
}

/** A deterministic batch of uniform pixels and labels `i mod numClasses`. */
export function syntheticBatch(batch: number, input: Shape3, numClasses: number, seed: number): Batch {
  const n = batch * input[0] * input[1] * input[2];
  const images = new Float32Array(n);
  let s = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[i] = s / 2 ** 32;
  }
  const labels = Int32Array.from({ length: batch }, (_, i) => i % numClasses);
  return { images, labels, shape: [batch, input[0], input[1], input[2]] };
}

function wasmHeapBytes(tf: typeof tfTypes): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const b = tf.backend() as unknown as {
    wasm?: { HEAPU8?: Uint8Array; wasmMemory?: { buffer: ArrayBuffer } };
  };
  return b.wasm?.wasmMemory?.buffer.byteLength ?? b.wasm?.HEAPU8?.buffer.byteLength;
}

async function wasmThreads(tf: typeof tfTypes): Promise<number | undefined> {
  if (tf.getBackend() !== 'wasm') return tf.getBackend() === 'cpu' ? 1 : undefined;
  try {
    const w = (await import('@tensorflow/tfjs-backend-wasm')) as { getThreadsCount?: () => number };
    return w.getThreadsCount?.();
  } catch {
    return undefined;
  }
}

interface NativeCounters {
  hits: number;
  misses: number;
  createMs: number;
  poolHits: number;
  poolMisses: number;
  arenaBytes?: number;
}

/** The native backend's cache counters (undefined on other backends). */
async function nativeCounters(tf: typeof tfTypes): Promise<NativeCounters | undefined> {
  if (tf.getBackend() !== 'native') return undefined;
  try {
    const name = '@netaug/backend-native'; // not bundled: an optional peer of @netaug/backend
    const mod = (await import(name)) as {
      nativeInfo(): {
        convCache?: { hits: number; misses: number; createMs: number };
        matmulCache?: { hits: number; misses: number; createMs: number };
        pool: { hits: number; misses: number; arena?: { hits: number; misses: number; bytes: number } };
      };
    };
    const i = mod.nativeInfo();
    if (!i.convCache || !i.matmulCache) return undefined;
    return {
      hits: i.convCache.hits + i.matmulCache.hits,
      misses: i.convCache.misses + i.matmulCache.misses,
      createMs: i.convCache.createMs + i.matmulCache.createMs,
      poolHits: i.pool.hits + (i.pool.arena?.hits ?? 0),
      poolMisses: i.pool.misses + (i.pool.arena?.misses ?? 0),
      arenaBytes: i.pool.arena?.bytes,
    };
  } catch {
    return undefined;
  }
}

/** The counters' change over `steps` timed steps, as record fields. */
function counterFields(a: NativeCounters | undefined, b: NativeCounters | undefined, steps: number) {
  if (!a || !b || steps < 1) return {};
  const hits = b.hits - a.hits;
  const misses = b.misses - a.misses;
  const ph = b.poolHits - a.poolHits;
  const pm = b.poolMisses - a.poolMisses;
  return {
    primitiveHits: hits,
    primitiveMisses: misses,
    primitiveHitRate: hits + misses > 0 ? round(hits / (hits + misses), 4) : 1,
    primitiveCreateMsPerStep: round((b.createMs - a.createMs) / steps),
    poolHitRate: ph + pm > 0 ? round(ph / (ph + pm), 4) : 1,
    ...(b.arenaBytes != null ? { arenaBytes: b.arenaBytes } : {}),
  };
}

/**
 * NetAug's `macScale` and `macBoundRatio` (and PyTorch's) from the baseline record of the same model, input
 * and batch measured in the same run; nothing when there is none.
 */
export function macBoundFields(
  rec: StepRecord,
  all: readonly StepRecord[],
): Pick<StepRecord, 'macScale' | 'macBoundRatio' | 'pytorchMacBoundRatio'> {
  if (rec.strategy !== 'netaug' || rec.augMeanMacs === undefined || !(rec.tinyMacs > 0)) return {};
  const base = all.find(
    (r) =>
      r.strategy === 'baseline' &&
      r.model === rec.model &&
      r.width === rec.width &&
      r.smallInput === rec.smallInput &&
      r.input === rec.input &&
      r.batch === rec.batch &&
      Number.isFinite(r.msPerStep),
  );
  const macScale = (rec.tinyMacs + rec.augMeanMacs) / rec.tinyMacs;
  const out: Pick<StepRecord, 'macScale' | 'macBoundRatio' | 'pytorchMacBoundRatio'> = {
    macScale: round(macScale, 3),
  };
  if (base && Number.isFinite(rec.msPerStep))
    out.macBoundRatio = round(rec.msPerStep / (base.msPerStep * macScale), 3);
  if (base?.pytorchMsPerStep !== undefined && rec.pytorchMsPerStep !== undefined)
    out.pytorchMacBoundRatio = round(rec.pytorchMsPerStep / (base.pytorchMsPerStep * macScale), 3);
  return out;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Measures one case on the active tfjs backend (the caller initialises it), then — when `settings.pytorch` is
 * set — the same architecture(s) and step in PyTorch. Never throws for a failing step: the record carries
 * `error` (e.g. a wasm out-of-bounds crash) so a matrix run goes on.
 */
export async function benchStepCase(c: StepCase, settings: StepBenchSettings): Promise<StepRecord> {
  const tf = await import('@tensorflow/tfjs-core');
  const { createSupernet } = await import('@netaug/supernet');
  const { profile, Rng } = await import('@netaug/core');
  const { trainStep, createOptimizer, baseline, netaug, labelSmoothing } = await import('@netaug/trainer');
  const { AugmentationScheduler, createAugmentationScheduler } = await import('@netaug/schedulers');

  const isNetaug = c.strategy === 'netaug';
  const warmup = settings.warmup;
  const steps =
    isNetaug && settings.augConfig === 'random' ? Math.max(settings.steps, settings.configs) : settings.steps;
  const backend = tf.getBackend();
  const base = {
    ...caseFields(c, backend),
    ...(isNetaug ? { augConfig: settings.augConfig } : {}),
    recompute: settings.recompute ?? false,
    warmup,
    steps,
  };

  const net = createSupernet(c.model, {
    numClasses: settings.numClasses,
    inputShape: c.input,
    width: c.width,
    smallInput: c.smallInput,
    seed: settings.seed,
    // as `netaug train`: the baseline allocates (and updates) the tiny model's weights only
    tinyOnly: !isNetaug,
  });
  let opt: ReturnType<typeof createOptimizer> | undefined;
  try {
    // --- architectures: the tiny model and the augmented configs (sampled once, seeded) -----------------------
    net.setActive('min');
    const tinyIR = net.extract();
    const tinyProfile = profile(tinyIR);
    let augConfigs: ActiveConfig[] = [];
    let augIRs: ModelIR[] = [];
    let augMacs: number[] = [];
    let fullIR: ModelIR | undefined;
    if (isNetaug) {
      const sched = createAugmentationScheduler({
        epochs: 1,
        widthMults: net.space.widthMults,
        expandFactors: net.space.expandFactors,
      });
      const rng = new Rng(settings.seed);
      const counts = { width: net.choices.width.length, expand: net.choices.expand.length };
      const n = settings.augConfig === 'max' ? 1 : settings.configs;
      augConfigs = Array.from({ length: n }, () => sched.sampleConfig(settings.augConfig, rng, counts));
      augIRs = augConfigs.map((cfg) => {
        net.setActive(cfg);
        return net.extract();
      });
      augMacs = augIRs.map((ir) => profile(ir).macs);
      if (settings.pytorch) {
        // the weight-sharing PyTorch step allocates the supernet's full-size weights, like this one
        net.setActive('max');
        fullIR = net.extract();
      }
      net.setActive('min');
    }

    // --- the step: the trainer's own trainStep with the NetAug strategy fed the sampled configs ---------------
    const fixed = augConfigs;
    class CyclingScheduler extends AugmentationScheduler {
      override sample(_epoch: number, step: number) {
        return { mode: settings.augConfig, alpha: 1, configs: [fixed[step % fixed.length]] };
      }
    }
    const strategies = isNetaug
      ? [
          netaug(
            new CyclingScheduler(
              createAugmentationScheduler({
                epochs: 1,
                widthMults: net.space.widthMults,
                expandFactors: net.space.expandFactors,
              }).config,
            ),
          ),
          labelSmoothing(0.1),
        ]
      : [baseline(), labelSmoothing(0.1)];
    const batch = syntheticBatch(c.batch, c.input, settings.numClasses, settings.seed);
    opt = createOptimizer(
      { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 4e-5 },
      net.variables().filter((v) => v.trainable),
    );
    const numTensorsBefore = tf.memory().numTensors;
    const rng = new Rng(settings.seed);
    let rssPeak = process.memoryUsage().rss;
    const step = (i: number) =>
      trainStep(
        { supernet: net, strategies, batch, epoch: 0, step: i, rng, recompute: settings.recompute },
        opt!,
        0.01,
      );

    const times: number[] = [];
    let tensorPeakBytes = 0;
    let error: string | undefined;
    let profileError: string | undefined;
    let countersBefore: NativeCounters | undefined;
    let countersAfter: NativeCounters | undefined;
    try {
      for (let i = 0; i < warmup + steps; i++) {
        if (i === warmup) countersBefore = await nativeCounters(tf);
        const t0 = performance.now();
        step(i);
        const dt = performance.now() - t0;
        if (i >= warmup) times.push(dt);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      countersAfter = await nativeCounters(tf);
    } catch (e) {
      error = errorMessage(e);
    }
    const tensorsAfterSteps = tf.memory().numTensors;
    if (!error) {
      // one more (untimed) step under tf.profile, at the largest sampled config: the tensor-bytes high-water mark
      try {
        const big = isNetaug ? augMacs.indexOf(Math.max(...augMacs)) : 0;
        const info = await tf.profile(() => {
          step(big);
        });
        tensorPeakBytes = info.peakBytes;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      } catch (e) {
        profileError = errorMessage(e);
      }
    }
    // a failed profiling step leaves its tape behind; the leak check covers the timed steps
    const numTensorsAfter = profileError ? tensorsAfterSteps : tf.memory().numTensors;
    opt.dispose();
    opt = undefined;
    const heap = wasmHeapBytes(tf);
    const st = times.length ? timingStats(times) : null;
    const rec: StepRecord = {
      ...base,
      ...(isNetaug ? { augConfigs: augConfigs.length } : {}),
      msPerStep: st ? round(st.median) : NaN,
      msMean: st ? round(st.mean) : NaN,
      msMin: st ? round(st.min) : NaN,
      msMax: st ? round(st.max) : NaN,
      msP25: st ? round(st.p25) : NaN,
      msP75: st ? round(st.p75) : NaN,
      imagesPerSec: st ? round((c.batch * 1000) / st.median) : NaN,
      tinyParams: tinyProfile.params,
      tinyMacs: tinyProfile.macs,
      ...(isNetaug
        ? {
            augMeanMacs: Math.round(augMacs.reduce((a, b) => a + b, 0) / augMacs.length),
            augMaxMacs: Math.max(...augMacs),
          }
        : {}),
      peakBytes: heap ?? rssPeak,
      peakBytesKind: heap !== undefined ? 'wasm-heap' : 'rss',
      tensorPeakBytes,
      ...(heap !== undefined ? { wasmHeapBytes: heap } : {}),
      rssPeakBytes: rssPeak,
      numTensorsBefore,
      numTensorsAfter,
      leakedTensors: numTensorsAfter - numTensorsBefore,
      tfjsThreads: await wasmThreads(tf),
      ...counterFields(countersBefore, countersAfter, times.length),
      ...(error ? { error } : {}),
      ...(profileError ? { profileError } : {}),
    };
    if (rec.tfjsThreads === undefined) delete rec.tfjsThreads;
    if (error && !st) {
      // nothing timed: skip PyTorch too, the comparison would be meaningless
      return rec;
    }

    // --- PyTorch: the same architectures, the same configs in the same order ---------------------------------
    if (settings.pytorch) {
      const spec = buildTorchSpec({
        threads: settings.pytorch.threads,
        batch: c.batch,
        input: c.input,
        numClasses: settings.numClasses,
        warmup,
        steps,
        cases: [{ id: 'case', strategy: c.strategy, tiny: tinyIR, aug: augIRs, full: fullIR }],
      });
      try {
        const [r]: TorchResult[] = await runTorch(spec, settings.pytorch.script, settings.pytorch.python);
        Object.assign(rec, {
          pytorchMsPerStep: round(r.pytorchMsPerStep),
          ...(r.pytorchMsMean !== undefined ? { pytorchMsMean: round(r.pytorchMsMean) } : {}),
          pytorchMsMin: round(r.pytorchMsMin),
          pytorchMsMax: round(r.pytorchMsMax),
          pytorchThreads: r.threads,
          torchVersion: r.torchVersion,
          ...(r.weightSharing !== undefined ? { pytorchWeightSharing: r.weightSharing } : {}),
          ...(r.pytorchSharedParams !== undefined ? { pytorchSharedParams: r.pytorchSharedParams } : {}),
          ...(r.pytorchRssPeakBytes !== undefined ? { pytorchRssPeakBytes: r.pytorchRssPeakBytes } : {}),
          ratio: round(rec.msPerStep / r.pytorchMsPerStep, 2),
        });
      } catch (e) {
        rec.pytorchError = errorMessage(e);
      }
    }
    return rec;
  } finally {
    opt?.dispose();
    net.dispose();
  }
}
