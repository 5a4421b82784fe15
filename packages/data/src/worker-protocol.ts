import type { Batch, Shape3 } from '@netaug/core';
import type { TransformSpec } from './transforms/transform';
import type { DatasetSpec } from './types';

/** `workerData` of a prefetch worker. */
export interface WorkerInit {
  dataset: DatasetSpec;
  transform?: TransformSpec;
  outShape: Shape3;
}

/** One batch to build. */
export interface WorkerJob {
  id: number;
  seed: number;
  epoch: number;
  indices: Int32Array;
}

/** Messages from a prefetch worker. */
export type WorkerReply =
  | { type: 'batch'; id: number; batch: Batch; stats?: Record<string, number> }
  | {
      type: 'error';
      id: number;
      error: {
        name: string;
        code?: string;
        message: string;
        hint?: string;
        details?: Record<string, unknown>;
      };
    }
  | { type: 'warn'; message: string };
