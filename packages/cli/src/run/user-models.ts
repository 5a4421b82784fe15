import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NetAugError } from '@netaug/core';
import { parse as parseYaml } from 'yaml';

/** What a run needs to build a user's model: a spec file, plugin modules that register block types. */
export interface UserModelConfig {
  model?: string;
  modelSpec?: string;
  plugins?: string[];
}

/** sha256 of a file's bytes (what the run hash records for a spec file or a plugin, not its path). */
export function fileHash(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The model name a spec file registers under: `model`, else the file's name without extension. */
export function specModelName(cfg: UserModelConfig): string | undefined {
  return cfg.modelSpec ? (cfg.model ?? basename(cfg.modelSpec, extname(cfg.modelSpec))) : cfg.model;
}

const loaded = new Set<string>();

/**
 * Imports the plugins (each registers its block types with `registerBlock` of `@netaug/supernet` when imported)
 * and registers the model of the spec file (YAML or JSON: stem, blocks with their `type`, head, classifier;
 * `description`, `widthMults`, `paperResolution` optional). Returns the model name to build. Idempotent per file.
 */
export async function loadUserModels(cfg: UserModelConfig): Promise<string | undefined> {
  for (const p of cfg.plugins ?? []) {
    const file = resolve(p);
    if (loaded.has(file)) continue;
    if (!existsSync(file))
      throw new NetAugError('DATA_NOT_FOUND', `plugin '${p}' does not exist`, {
        hint: 'pass the path of a JavaScript module that calls registerBlock from @netaug/supernet',
      });
    try {
      await import(pathToFileURL(file).href);
    } catch (e) {
      throw new NetAugError('INVALID_CONFIG', `plugin ${p} failed to load: ${(e as Error).message}`, {
        hint: 'run it with node first; it must import @netaug/supernet and call registerBlock',
        cause: e,
      });
    }
    loaded.add(file);
  }
  if (!cfg.modelSpec) return cfg.model;
  const file = resolve(cfg.modelSpec);
  const name = specModelName(cfg)!;
  if (loaded.has(`${file}#${name}`)) return name;
  if (!existsSync(file))
    throw new NetAugError('DATA_NOT_FOUND', `model spec '${cfg.modelSpec}' does not exist`, {
      hint: 'pass a YAML or JSON file with stem, blocks and (optionally) head and classifier',
    });
  let raw: unknown;
  try {
    raw =
      extname(file).toLowerCase() === '.json'
        ? JSON.parse(readFileSync(file, 'utf8'))
        : parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new NetAugError(
      'INVALID_CONFIG',
      `${cfg.modelSpec}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new NetAugError('INVALID_CONFIG', `${cfg.modelSpec}: expected a mapping with stem and blocks`);
  const { description, widthMults, paperResolution, ...spec } = raw as {
    description?: string;
    widthMults?: number[];
    paperResolution?: number;
  } & Record<string, unknown>;
  const { registerModel } = await import('@netaug/supernet');
  try {
    registerModel(name, spec as never, { description, widthMults, paperResolution });
  } catch (e) {
    throw new NetAugError('INVALID_CONFIG', `${cfg.modelSpec}: ${(e as Error).message}`, {
      hint: 'see the model spec format in the @netaug/supernet README (plugins register custom block types)',
      cause: e,
    });
  }
  loaded.add(`${file}#${name}`);
  return name;
}
