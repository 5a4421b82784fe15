import { NetAugError, type Batch, type Dataset, type Sample, type Shape3 } from '@netaug/core';
import { deriveRng, STREAM_SAMPLE } from './seed';
import type { Transform } from './transforms/transform';

/**
 * Builds one batch: fetches `indices` (concurrently when the dataset is async), applies `transform` to each
 * sample with the generator derived from (seed, epoch, dataset index), and packs NHWC floats + int labels.
 * The same function runs in-thread and in prefetch workers, so both give identical batches.
 */
export async function assembleBatch(
  dataset: Dataset,
  transform: Transform | undefined,
  seed: number,
  epoch: number,
  indices: ArrayLike<number>,
  outShape: Shape3,
): Promise<Batch> {
  const n = indices.length;
  const [h, w, c] = outShape;
  const stride = h * w * c;
  const images = new Float32Array(n * stride);
  const labels = new Int32Array(n);
  const [ih, iw, ic] = dataset.shape;
  const put = (k: number, s: Sample) => {
    const idx = indices[k];
    let img = { data: s.image, height: ih, width: iw, channels: ic };
    if (transform) img = transform.apply(img, deriveRng(seed, STREAM_SAMPLE, epoch, idx));
    if (img.data.length !== stride || img.height !== h || img.width !== w) {
      throw new NetAugError(
        'SHAPE_MISMATCH',
        `Example ${idx} became ${img.height}×${img.width}×${img.channels} after transforms, batch expects ${h}×${w}×${c}`,
      );
    }
    images.set(img.data, k * stride);
    labels[k] = s.label;
  };
  const first = dataset.get(indices[0]);
  if (first instanceof Promise) {
    const samples = await Promise.all(
      Array.from({ length: n }, (_, k) => (k === 0 ? first : dataset.get(indices[k]))),
    );
    samples.forEach((s, k) => put(k, s));
  } else {
    put(0, first);
    for (let k = 1; k < n; k++) {
      const s = dataset.get(indices[k]);
      put(k, s instanceof Promise ? await s : s);
    }
  }
  return { images, labels, shape: [n, h, w, c] };
}
