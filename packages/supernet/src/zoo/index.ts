import type { ModelDefinition } from './model-definition';
import { mobilenetv2, mobilenetv2Tiny } from './mobilenetv2';
import { proxylessnas } from './proxylessnas';
import { mcunet } from './mcunet';
import { mobilenetv3 } from './mobilenetv3';
import { resnet18, resnet34, resnet50 } from './resnet';

export type { ModelDefinition } from './model-definition';

/** The built-in zoo, in listing order. */
export const ZOO: readonly ModelDefinition[] = [
  mobilenetv2,
  mobilenetv2Tiny,
  proxylessnas,
  mcunet,
  mobilenetv3,
  resnet18,
  resnet34,
  resnet50,
];
