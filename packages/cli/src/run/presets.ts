import { NetAugError } from '@netaug/core';
import type { RunConfigInput } from './run-config';

/** A named starting point for `netaug train --preset NAME`; flags and config files override its keys. */
export interface Preset {
  description: string;
  config: Partial<RunConfigInput>;
}

/**
 * The demo and the paper's recipes. The ImageNet presets follow the authors' training code scaled to one
 * machine: batch 128 with lr 0.025 (0.025 per 128 images), 150 epochs + 5 warm-up, cosine, SGD Nesterov 0.9,
 * weight decay 4e-5 (not on BN/bias), label smoothing 0.1, random-resized-crop + flip, BN re-estimation on 16k
 * images. `data` must be given (`--data /path/to/imagenet` with train/ and val/ class folders).
 */
export const PRESETS: Record<string, Preset> = {
  'fmnist-tiny': {
    description:
      'The demo: MobileNetV2-Tiny on 4,000 Fashion-MNIST images (1,000 more held out for validation), 28×28×1, 4 epochs (minutes on 2 cores)',
    config: {
      model: 'mobilenetv2-tiny',
      data: 'fashion-mnist',
      subset: 4000,
      valSplit: 1000,
      epochs: 4,
      batch: 128,
      lr: 0.1,
      // warm-up: the default (1 epoch when there is more than one), so `--epochs 1` works with the preset
      augment: 'none',
      bnImages: 2000,
    },
  },
  'cifar-tiny': {
    description: 'MobileNetV2-Tiny (small-input form) on CIFAR-10 binary files, 32×32×3, 50 epochs',
    config: {
      model: 'mobilenetv2-tiny',
      smallInput: true,
      epochs: 50,
      batch: 128,
      lr: 0.1,
      warmupEpochs: 2,
      augment: 'crop-flip',
    },
  },
  'imagenet-mbv2-tiny': {
    description: "The paper's MobileNetV2-Tiny ImageNet recipe at 144 px (needs --data)",
    config: imagenet({ model: 'mobilenetv2-tiny', resolution: 144 }),
  },
  'imagenet-mbv2-035': {
    description: "The paper's MobileNetV2 w0.35 ImageNet recipe at 160 px (needs --data)",
    config: imagenet({ model: 'mobilenetv2', width: 0.35, resolution: 160 }),
  },
  'imagenet-mcunet': {
    description: "The paper's MCUNet ImageNet recipe at 176 px, width factors [1, 1.6, 2.2] (needs --data)",
    config: imagenet({ model: 'mcunet', resolution: 176, widthMults: [1, 1.6, 2.2] }),
  },
  'imagenet-proxyless': {
    description: "The paper's ProxylessNAS w0.35 ImageNet recipe at 160 px (needs --data)",
    config: imagenet({ model: 'proxylessnas', width: 0.35, resolution: 160 }),
  },
};

function imagenet(c: Partial<RunConfigInput>): Partial<RunConfigInput> {
  return {
    channels: 3,
    epochs: 155,
    warmupEpochs: 5,
    batch: 128,
    lr: 0.025,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 4e-5,
    labelSmoothing: 0.1,
    augment: 'rrc-flip',
    bnImages: 16000,
    stopWidthEpoch: 75,
    ...c,
  };
}

/** The preset's config, or a typed error listing the known presets. */
export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) {
    throw new NetAugError('UNKNOWN_PRESET', `Unknown preset '${name}'`, {
      hint: `choose one of: ${Object.keys(PRESETS).join(', ')}`,
    });
  }
  return p;
}
