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
  const json = JSON.parse(readFileSync(cfgFile, 'utf8'));
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
    data: meta.data,
    ir: decodeModelIR(new Uint8Array(readFileSync(modelFile))),
  };
}
