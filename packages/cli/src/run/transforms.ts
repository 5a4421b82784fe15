import type { RunConfig } from './run-config';
import type { RunData } from './build-data';

type DataModule = typeof import('@netaug/data');
type Transform = ReturnType<DataModule['normalize']>;

/** Train and eval transforms of a run: channel conversion, resize, the configured augmentation, normalisation. */
export function runTransforms(
  data: DataModule,
  cfg: RunConfig,
  d: RunData,
): { train: Transform[]; test: Transform[] } {
  const [srcH, srcW, srcC] = d.train.shape;
  const [h, w, c] = d.inputShape;
  const base: Transform[] = [];
  if (srcC !== c) base.push(c === 1 ? data.grayscale(1) : data.toRGB());
  const test = [...base];
  if (srcH !== h || srcW !== w) test.push(data.resize([h, w]));
  const train = [...base];
  switch (cfg.augment) {
    case 'rrc-flip':
      train.push(data.randomResizedCrop([h, w]), data.randomHorizontalFlip());
      break;
    case 'crop-flip':
      if (srcH !== h || srcW !== w) train.push(data.resize([h, w]));
      train.push(
        data.randomCrop([h, w], { padding: Math.max(1, Math.round(h / 8)) }),
        data.randomHorizontalFlip(),
      );
      break;
    case 'flip':
      if (srcH !== h || srcW !== w) train.push(data.resize([h, w]));
      train.push(data.randomHorizontalFlip());
      break;
    case 'none':
      if (srcH !== h || srcW !== w) train.push(data.resize([h, w]));
      break;
  }
  const norm = data.normalize(d.mean, d.std);
  return { train: [...train, norm], test: [...test, norm] };
}
