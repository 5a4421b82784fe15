export * from './tiny-supernet';
export * from './array-loader';
export * from './synthetic';
