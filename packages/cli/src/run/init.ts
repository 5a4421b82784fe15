import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { NetAugError, type ModelIR } from '@netaug/core';
import type { MobileNetSupernet } from '@netaug/supernet';
import { readModel, readRunFolder } from './read-run';

/** The file whose weights `init` names: a run folder's `model.nair`, or the `.nair` / `.onnx` file itself. */
export function initWeightsFile(init: string): string {
  if (!existsSync(init)) {
    throw new NetAugError('DATA_NOT_FOUND', `--init ${init}: no such file or folder`, {
      hint: 'pass a run folder (the --out of a finished run), a model.nair or a model.onnx',
    });
  }
  if (statSync(init).isDirectory()) return join(init, 'model.nair');
  const ext = extname(init).toLowerCase();
  if (ext !== '.nair' && ext !== '.onnx') {
    throw new NetAugError('INVALID_ARGUMENT', `--init ${init}: not a run folder, .nair or .onnx model`, {
      hint: 'export the model to ONNX, or pass the run folder it was trained in',
    });
  }
  return init;
}

/**
 * The identity of the weights `init` names, for the run's hash: a finished run folder is its run's hash
 * (`run:<hash>`; the same hash trains the same weights), found in its `config.json`, or in `knownRuns` for a run
 * not trained yet (a study plans its fine-tuning cells before their pretraining runs exist); a file is its
 * contents (`sha256:<hex>`).
 */
export function initIdentity(init: string, knownRuns?: ReadonlyMap<string, string>): string {
  const known = knownRuns?.get(init);
  if (known) return `run:${known}`;
  const file = initWeightsFile(init);
  if (statSync(init).isDirectory()) {
    let hash: string | undefined;
    try {
      hash = (JSON.parse(readFileSync(join(init, 'config.json'), 'utf8')) as { meta?: { hash?: string } }).meta
        ?.hash;
    } catch {
      hash = undefined;
    }
    if (hash) return `run:${hash}`;
    if (!existsSync(file)) {
      throw new NetAugError('DATA_NOT_FOUND', `--init ${init}: not a finished run folder (no model.nair)`, {
        hint: 'finish that run first (netaug train --config … --resume), or pass a model.nair / model.onnx',
      });
    }
  }
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/** What {@link initFromWeights} loaded, for the log and the run's record. */
export interface InitResult {
  file: string;
  /** Variables written (their tiny-model slices). */
  loaded: number;
  /** The classifier was re-initialised (and why), or kept. */
  head: 'kept' | 'new';
  reason?: string;
  /** Notes of the ONNX import (e.g. batch norm folded into the convolutions). */
  notes: string[];
}

/** The classifier's class count of a model: the size of its last dense node's output. */
function classCount(ir: ModelIR): number | undefined {
  const dense = ir.nodes.filter((n) => n.op === 'dense');
  const last = dense[dense.length - 1] as { weight: { shape: number[] } } | undefined;
  return last ? last.weight.shape[last.weight.shape.length - 1] : undefined;
}

/**
 * Initialises the tiny model of `supernet` (the first channels of every layer) from the trained weights `init`
 * names. The classifier is re-initialised when `newHead` is set, when the source has another number of classes,
 * or when its class names (known for a run folder) differ from `classNames`; it is kept otherwise.
 */
export async function initFromWeights(
  supernet: MobileNetSupernet,
  init: string,
  o: { newHead?: boolean; allowPaddingMismatch?: boolean; classNames: string[] },
): Promise<InitResult> {
  const file = initWeightsFile(init);
  let ir: ModelIR;
  let sourceClasses: string[] | undefined;
  const notes: string[] = [];
  if (statSync(init).isDirectory()) {
    const run = readRunFolder(init);
    ir = run.ir;
    sourceClasses = run.data.classNames;
  } else if (extname(file).toLowerCase() === '.onnx') {
    const { importOnnx } = await import('@netaug/exporters');
    supernet.setActive('min');
    const target = supernet.extract();
    const r = importOnnx(new Uint8Array(readFileSync(file)), target, {
      newHead: o.newHead,
      allowPaddingMismatch: o.allowPaddingMismatch,
    });
    ir = r.ir;
    notes.push(...r.notes);
  } else {
    ir = readModel(file);
  }
  let reason: string | undefined;
  const count = classCount(ir);
  if (o.newHead) reason = '--new-head';
  else if (count !== undefined && count !== o.classNames.length)
    reason = `${count} classes in the weights, ${o.classNames.length} in the data`;
  else if (sourceClasses && sourceClasses.join('\n') !== o.classNames.join('\n'))
    reason = `other classes (${sourceClasses.slice(0, 3).join(', ')}${sourceClasses.length > 3 ? ', …' : ''})`;
  const { loadModelIR } = await import('@netaug/supernet');
  const r = loadModelIR(supernet, ir, { newHead: reason !== undefined });
  return { file, loaded: r.loaded.length, head: reason ? 'new' : 'kept', reason, notes };
}
