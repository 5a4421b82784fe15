export * from './callback';
export * from './progress';
export * from './jsonl-logger';
export * from './csv-logger';
export * from './best-checkpoint';
export * from './early-stopping';
export * from './step-logger';
export * from './tensorboard';
