import { readFileSync, existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { NetAugError } from '@netaug/core';
import { parse as parseYaml } from 'yaml';
import { getPreset } from './presets';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './run-config';

/** Reads a YAML or JSON config file into plain keys; errors name the file and the line where possible. */
export function readConfigFile(file: string): Partial<RunConfigInput> {
  if (!existsSync(file)) {
    throw new NetAugError('DATA_NOT_FOUND', `config file '${file}' does not exist`, {
      hint: 'check the --config path',
    });
  }
  const text = readFileSync(file, 'utf8');
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${file}: expected a mapping of keys (model: …, data: …, epochs: …)`,
    );
  }
  return value as Partial<RunConfigInput>;
}

/** preset < config file < flags; the result is validated (errors name the key). */
export function resolveRunConfig(opts: {
  preset?: string;
  configFile?: string;
  flags: Partial<RunConfigInput>;
  /**
   * Refuse NetAug-only flags given for a baseline run (`netaug train`). Only flags: a config file may be a
   * complete resolved config (a study's cell.json carries every key, defaults included).
   */
  strict?: boolean;
}): RunConfig {
  const preset = opts.preset ? getPreset(opts.preset).config : {};
  const file = opts.configFile ? readConfigFile(opts.configFile) : {};
  const flags = Object.fromEntries(Object.entries(opts.flags).filter(([, v]) => v !== undefined));
  const merged = { ...preset, ...file, ...flags };
  // detection: the embedded scenes on MobileNetV2-Tiny unless said otherwise, the detector's batch and rate
  if (merged.task === 'detect') {
    merged.data ??= 'scenes';
    merged.model ??= 'mobilenetv2-tiny';
    merged.batch ??= 16;
    merged.lr ??= 0.2;
  }
  // a model spec file names the model after itself unless `model` is given
  if (merged.model === undefined && typeof merged.modelSpec === 'string')
    merged.model = basename(merged.modelSpec, extname(merged.modelSpec));
  for (const key of ['model', 'data', 'epochs'] as const) {
    if (merged[key] === undefined) {
      throw new NetAugError('INVALID_CONFIG', `missing '${key}'`, {
        hint: `pass --${key} or use a preset (--preset fmnist-tiny) or a config file with it`,
      });
    }
  }
  if (opts.strict && (merged.strategy ?? 'netaug') === 'baseline') {
    const given = flags as Record<string, unknown>;
    const netaugOnly = (['alpha', 'stopWidthEpoch', 'widthMults', 'expandFactors'] as const).filter(
      (k) => given[k] !== undefined,
    );
    if (netaugOnly.length) {
      throw new NetAugError(
        'INVALID_CONFIG',
        `${netaugOnly.join(', ')} ${netaugOnly.length > 1 ? 'apply' : 'applies'} to NetAug only, not to the baseline`,
        { hint: 'remove it, or train with --strategy netaug' },
      );
    }
  }
  return parseRunConfig(merged, opts.configFile ?? 'config');
}
