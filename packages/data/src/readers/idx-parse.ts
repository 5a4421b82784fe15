import { NetAugError } from '@netaug/core';
import { MemoryDataset, sharedBytes, sharedLabels } from '../memory-dataset';

/** A parsed IDX file: its dimensions and its unsigned-byte payload. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses IDX bytes (the MNIST format: magic `00 00 <type> <ndims>`, big-endian int32 dims, payload).
 * Only the unsigned-byte type (0x08) is supported, which is what MNIST-style datasets use.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const fail = (msg: string) =>
    new NetAugError('DATA_FORMAT', `${file}: ${msg}`, {
      hint: 'expected an IDX file (MNIST format), raw or gzip-compressed',
      details: { file },
    });
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw fail('wrong magic number (not an IDX file)');
  const type = bytes[2];
  const ndims = bytes[3];
  if (type !== 0x08)
    throw fail(`unsupported IDX element type 0x${type.toString(16)} (only unsigned byte 0x08)`);
  if (ndims < 1 || ndims > 4) throw fail(`unsupported number of dimensions ${ndims}`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw fail('truncated header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < header + count) {
    throw fail(
      `truncated: header announces ${dims.join('×')} = ${count} bytes, file holds ${bytes.length - header}`,
    );
  }
  return { dims, data: bytes.subarray(header, header + count) };
}

/** Options of {@link loadIdx} (and of the browser's `fetchIdx`). */
export interface IdxOptions {
  /** Class names indexed by label; default `"0"…"<max label>"`. */
  classNames?: string[];
  /** Recorded in `dataset.source`; default the images path. */
  source?: string;
}

/**
 * An in-memory dataset from a parsed images IDX array (`N×H×W` or `N×H×W×C`) and a labels IDX array (`N`);
 * `imagesFile` / `labelsFile` name them in errors. What {@link loadIdx} does after reading the two files.
 */
export function idxDataset(
  images: IdxArray,
  labels: IdxArray,
  imagesFile: string,
  labelsFile: string,
  options: IdxOptions = {},
): MemoryDataset {
  if (images.dims.length < 3) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${imagesFile}: expected an images file (3 or 4 dims), got dims ${images.dims.join('×')}`,
      {
        details: { file: imagesFile },
      },
    );
  }
  if (labels.dims.length !== 1) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${labelsFile}: expected a labels file (1 dim), got dims ${labels.dims.join('×')}`,
      {
        details: { file: labelsFile },
      },
    );
  }
  const [n, h, w, c = 1] = images.dims;
  if (labels.dims[0] !== n) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${imagesFile} holds ${n} images but ${labelsFile} holds ${labels.dims[0]} labels`,
      { hint: 'the two files must belong to the same split', details: { file: imagesFile, labelsFile } },
    );
  }
  const pixels = sharedBytes(images.data.length);
  pixels.set(images.data);
  const lab = sharedLabels(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    lab[i] = labels.data[i];
    if (lab[i] > max) max = lab[i];
  }
  const classNames = options.classNames ?? Array.from({ length: max + 1 }, (_, i) => String(i));
  if (max >= classNames.length) {
    throw new NetAugError(
      'DATA_FORMAT',
      `${labelsFile}: label ${max} out of range for ${classNames.length} classes`,
      {
        details: { file: labelsFile },
      },
    );
  }
  return new MemoryDataset({
    pixels,
    labels: lab,
    shape: [h, w, c],
    classNames,
    format: 'idx',
    source: options.source ?? imagesFile,
  });
}
