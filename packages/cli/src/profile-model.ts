import { profile, type Profile } from '@netaug/core';
import { UsageError } from './errors';
import { deployFigures, type DeployFigures } from './run/deploy';

export interface ProfileRequest {
  model: string;
  resolution?: number;
  channels: number;
  numClasses: number;
  width?: number;
  smallInput: boolean;
  widthMults?: number[];
  expandFactors?: number[];
  config: string;
}

export interface ModelProfile extends Profile {
  model: string;
  numClasses: number;
  smallInput: boolean;
  config: string;
  /** Flash for the weights and peak activation RAM, float32 and int8 (see `deployFigures` in run/deploy.ts). */
  deploy: DeployFigures;
}

/** Builds the supernet on the cpu backend, picks the config and profiles the extracted sub-network. */
export async function profileModel(req: ProfileRequest): Promise<ModelProfile> {
  if (req.config !== 'min' && req.config !== 'max') {
    throw new UsageError(`--config must be 'min' or 'max', got '${req.config}'`);
  }
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  // the cpu backend's one-time "install tfjs-node" notice is noise here: profiling does no heavy compute
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const { createSupernet, listModels } = await import('@netaug/supernet');
  // the resolution the model is profiled at in its paper, as the zoo records it
  const resolution = req.resolution ?? listModels().find((m) => m.name === req.model)?.paperResolution ?? 224;
  const net = createSupernet(req.model, {
    numClasses: req.numClasses,
    inputShape: [resolution, resolution, req.channels],
    width: req.width,
    smallInput: req.smallInput,
    widthMults: req.widthMults,
    expandFactors: req.expandFactors,
  });
  try {
    net.setActive(req.config as 'min' | 'max');
    const ir = net.extract();
    const p = profile(ir);
    return {
      model: req.model,
      numClasses: req.numClasses,
      smallInput: req.smallInput,
      config: req.config,
      ...p,
      deploy: deployFigures(ir),
    };
  } finally {
    net.dispose();
  }
}
