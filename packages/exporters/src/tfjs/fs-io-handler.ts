import { promises as fsp } from 'fs';
import * as path from 'path';
import { NetAugError, isNetAugError } from '@netaug/core';
import { writeFilesAtomic } from '@netaug/core/node';

/** One weight in a tfjs weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

/** The parts of tfjs' `ModelArtifacts` this handler reads and writes (structurally compatible with tfjs-core). */
export interface TfjsArtifacts {
  modelTopology?: object | ArrayBuffer;
  weightSpecs?: WeightSpec[];
  weightData?: ArrayBuffer | ArrayBuffer[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: object;
  signature?: object;
  userDefinedMetadata?: Record<string, unknown>;
}

/** `model.json` as tfjs writes it. */
export interface TfjsModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  trainingConfig?: object;
  signature?: object;
  userDefinedMetadata?: Record<string, unknown>;
}

/** A tfjs `IOHandler` (save + load) over a directory; no tfjs import needed. */
export interface FsIOHandler {
  save(artifacts: TfjsArtifacts): Promise<{ modelArtifactsInfo: Record<string, unknown> }>;
  load(): Promise<TfjsArtifacts>;
}

/** Default weight shard size of tfjs (4 MiB). */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

function concat(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/**
 * A tfjs IOHandler that saves to and loads from a directory with `fs`: `model.json` plus weight shards
 * `group1-shardKofN.bin` of at most `shardBytes` (tfjs' own layout, so tfjs-node and the browser `http` loader
 * read the same files). Use it with `model.save(fsIOHandler(dir))` and `tf.loadLayersModel(fsIOHandler(dir))`
 * where `file://` (tfjs-node) is not available. Output is deterministic: no timestamps in the files. `save` writes
 * the shards and `model.json` (last) with `writeFilesAtomic` of `@netaug/core/node`: all of them or, on an error,
 * none (the previous files are kept).
 */
export function fsIOHandler(dir: string, options: { shardBytes?: number } = {}): FsIOHandler {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  return {
    async save(artifacts) {
      if (artifacts.modelTopology instanceof ArrayBuffer || !artifacts.modelTopology) {
        throw new NetAugError(
          'INVALID_ARGUMENT',
          'fsIOHandler saves JSON model topologies only (LayersModel / GraphModel JSON)',
        );
      }
      const data = concat(artifacts.weightData);
      const n = Math.max(1, Math.ceil(data.length / shardBytes));
      const paths = Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`);
      const json: TfjsModelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) json.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      const files = [
        ...paths.map((p, i) => ({
          file: path.join(dir, p),
          bytes: data.subarray(i * shardBytes, Math.min(data.length, (i + 1) * shardBytes)),
        })),
        // last: model.json names the shards, so it is renamed into place after them
        { file: path.join(dir, 'model.json'), bytes: JSON.stringify(json) },
      ];
      try {
        await writeFilesAtomic(files, { label: 'tfjs model' });
      } catch (e) {
        if (isNetAugError(e)) throw e;
        throw new NetAugError('IO', `saving a tfjs model to '${dir}' failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(json.modelTopology).length,
          weightSpecsBytes: JSON.stringify(json.weightsManifest[0].weights).length,
          weightDataBytes: data.length,
        },
      };
    },

    async load() {
      let json: TfjsModelJson;
      try {
        json = JSON.parse(await fsp.readFile(path.join(dir, 'model.json'), 'utf8'));
      } catch (e) {
        throw new NetAugError(
          'IO',
          `cannot read '${path.join(dir, 'model.json')}': ${(e as Error).message}`,
          { cause: e },
        );
      }
      const specs: WeightSpec[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          try {
            buffers.push(new Uint8Array(await fsp.readFile(path.join(dir, p))));
          } catch (e) {
            throw new NetAugError(
              'IO',
              `cannot read weight shard '${path.join(dir, p)}': ${(e as Error).message}`,
              { cause: e },
            );
          }
        }
      }
      const data = concat(
        buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
      );
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: data.buffer as ArrayBuffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}
