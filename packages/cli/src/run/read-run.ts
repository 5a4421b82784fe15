import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetAugError, decodeModelIR, type ModelIR } from '@netaug/core';
import { parseRunConfig, type RunConfig } from './run-config';

/** What a run folder holds that evaluation and export need. */
export interface RunFolder {
  dir: string;
  config: RunConfig;
  /** Normalisation and shapes recorded at training time. */
  data: {
    mean: number[];
    std: number[];
    inputShape: [number, number, number];
    classNames: string[];
    source: string;
    /** Shape of the training images before any transform (runs written since this field exists). */
    sourceShape?: [number, number, number];
  };
  /** The tiny model after BN re-estimation. */
  ir: ModelIR;
}

/** Reads `config.json` and `model.nair` of a finished run; errors say what is missing. */
export function readRunFolder(dir: string): RunFolder {
  const cfgFile = join(dir, 'config.json');
  const modelFile = join(dir, 'model.nair');
  if (!existsSync(cfgFile)) {
    throw new NetAugError('DATA_NOT_FOUND', `'${dir}' is not a run folder (no config.json)`, {
      hint: 'pass the --out folder of a `netaug train` run',
    });
  }
  if (!existsSync(modelFile)) {
    throw new NetAugError('DATA_NOT_FOUND', `run '${dir}' has no model.nair (the run did not finish)`, {
      hint: 'finish it with `netaug train --config … --resume` or pass another run',
    });
  }
  let json: { meta?: Record<string, unknown> };
  try {
    json = JSON.parse(readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new NetAugError('RUN_FOLDER', `${cfgFile} is not valid JSON (${(e as Error).message})`, {
      hint: 'the run folder is damaged: train the run again (--overwrite) or pass another run',
    });
  }
  const meta = json.meta ?? {};
  if (!meta.run || !meta.data) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${cfgFile} was not written by \`netaug train\` (no meta.run / meta.data)`,
    );
  }
  return {
    dir,
    config: parseRunConfig(meta.run, cfgFile),
    data: meta.data as RunFolder['data'],
    ir: readModel(modelFile),
  };
}

/** Decodes a `.nair` model; a damaged file is a RUN_FOLDER error naming it. */
export function readModel(file: string): ModelIR {
  try {
    return decodeModelIR(new Uint8Array(readFileSync(file)));
  } catch (e) {
    throw new NetAugError('RUN_FOLDER', `${file} is damaged: ${(e as Error).message}`, {
      hint: 'train the run again (--overwrite), or finish it with --resume if it was interrupted',
    });
  }
}
