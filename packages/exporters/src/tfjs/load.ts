import type { LayersModel } from '@tensorflow/tfjs-layers';
import { requireOptional } from '../optional-require';
import { fsIOHandler } from './fs-io-handler';

/**
 * Loads a LayersModel saved in `dir` (by {@link exportTfjs} or `model.save(fsIOHandler(dir))`) with
 * `tf.loadLayersModel` and the fs IOHandler — for Node without tfjs-node. Needs the optional peers
 * `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers` and a registered backend; when none is registered yet,
 * `@tensorflow/tfjs-backend-cpu` is loaded if installed.
 */
export async function loadTfjsModel(dir: string): Promise<LayersModel> {
  const tfc = requireOptional<typeof import('@tensorflow/tfjs-core')>(
    '@tensorflow/tfjs-core',
    'loadTfjsModel',
  );
  const tfl = requireOptional<typeof import('@tensorflow/tfjs-layers')>(
    '@tensorflow/tfjs-layers',
    'loadTfjsModel',
  );
  if (!tfc.engine().backendNames().length) requireOptional('@tensorflow/tfjs-backend-cpu', 'loadTfjsModel');
  return tfl.loadLayersModel(fsIOHandler(dir) as unknown as Parameters<typeof tfl.loadLayersModel>[0]);
}
