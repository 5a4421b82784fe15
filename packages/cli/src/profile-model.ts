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
  /** `detect`: the FCOS-style detector of @netaug/detector on this backbone (default: the classifier). */
  task?: 'classify' | 'detect';
  /** `detect`: the detector's neck width, head tower width and depth (createDetector's defaults otherwise). */
  neckChannels?: number;
  headChannels?: number;
  headDepth?: number;
}

/** MACs and params of a part of a detector (the exported graph's: the shared head counted once per level). */
export interface PartProfile {
  params: number;
  macs: number;
}

export interface ModelProfile extends Profile {
  model: string;
  numClasses: number;
  smallInput: boolean;
  config: string;
  /** Flash for the weights and peak activation RAM, float32 and int8 (see `deployFigures` in run/deploy.ts). */
  deploy: DeployFigures;
  /**
   * A detector: its levels and the figures of backbone, neck (`neck.*` nodes) and head (`det.*` nodes) — the head's
   * conv weights are shared by the levels in the model but copied into each level's nodes of the exported graph,
   * and `params` counts them as exported (once per level).
   */
  detector?: {
    levels: { stride: number; height: number; width: number }[];
    parts: { backbone: PartProfile; neck: PartProfile; head: PartProfile };
  };
}

/** Sums a profile's layers into backbone, neck (`neck.*`) and head (`det.*`). */
export function detectorParts(p: Profile): { backbone: PartProfile; neck: PartProfile; head: PartProfile } {
  const parts = {
    backbone: { params: 0, macs: 0 },
    neck: { params: 0, macs: 0 },
    head: { params: 0, macs: 0 },
  };
  for (const l of p.layers) {
    const part = l.name.startsWith('neck.')
      ? parts.neck
      : l.name.startsWith('det.')
        ? parts.head
        : parts.backbone;
    part.params += l.params;
    part.macs += l.macs;
  }
  return parts;
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
  const headFlags = (['neckChannels', 'headChannels', 'headDepth'] as const).filter(
    (k) => req[k] !== undefined,
  );
  if (req.task !== 'detect' && headFlags.length)
    throw new UsageError(
      `${headFlags.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} ${headFlags.length > 1 ? 'are' : 'is'} for detectors: add --task detect`,
    );
  if (req.task === 'detect') {
    const { createDetector } = await import('@netaug/detector');
    if (req.smallInput)
      throw new UsageError('--small-input is for classifiers: the detector taps the ImageNet form');
    const det = createDetector({
      backbone: req.model,
      numClasses: req.numClasses,
      inputShape: [resolution, resolution, req.channels],
      width: req.width,
      widthMults: req.widthMults,
      expandFactors: req.expandFactors,
      neckChannels: req.neckChannels,
      headChannels: req.headChannels,
      headDepth: req.headDepth,
    });
    try {
      det.setActive(req.config as 'min' | 'max');
      const ir = det.extract();
      const p = profile(ir);
      return {
        model: req.model,
        numClasses: req.numClasses,
        smallInput: false,
        config: req.config,
        ...p,
        deploy: deployFigures(ir),
        detector: {
          levels: det.levels.map((l) => ({ stride: l.stride, height: l.height, width: l.width })),
          parts: detectorParts(p),
        },
      };
    } finally {
      det.dispose();
    }
  }
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
