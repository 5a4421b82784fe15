import { requireOptional } from '../optional-require';
import { fsIOHandler } from './fs-io-handler';

/**
 * What {@link loadTfjsModel} returns: tfjs-layers' `LayersModel`, typed by the members callers use so that this
 * package's published types do not need the optional `@tensorflow/tfjs-layers` installed (cast to `LayersModel`
 * for the rest).
 */
export interface LoadedTfjsModel {
  readonly inputs: readonly { readonly shape: readonly (number | null)[] }[];
  /** `tf.Tensor` in, `tf.Tensor` (or one per output) out. */
  predict(x: unknown): unknown;
  save(handler: unknown): Promise<unknown>;
  dispose(): void;
}

/**
 * Loads a LayersModel saved in `dir` (by {@link exportTfjs} or `model.save(fsIOHandler(dir))`) with
 * `tf.loadLayersModel` and the fs IOHandler — for Node without tfjs-node. Needs the optional peers
 * `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers` and a registered backend; when none is registered yet,
 * `@tensorflow/tfjs-backend-cpu` is loaded if installed.
 */
export async function loadTfjsModel(dir: string): Promise<LoadedTfjsModel> {
  const tfc = requireOptional<typeof import('@tensorflow/tfjs-core')>(
    '@tensorflow/tfjs-core',
    'loadTfjsModel',
  );
  const tfl = requireOptional<typeof import('@tensorflow/tfjs-layers')>(
    '@tensorflow/tfjs-layers',
    'loadTfjsModel',
  );
  if (!tfc.engine().backendNames().length) requireOptional('@tensorflow/tfjs-backend-cpu', 'loadTfjsModel');
  return (await tfl.loadLayersModel(
    fsIOHandler(dir) as unknown as Parameters<typeof tfl.loadLayersModel>[0],
  )) as unknown as LoadedTfjsModel;
}
