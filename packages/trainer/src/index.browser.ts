/**
 * @netaug/trainer, browser build (the `browser` export condition): the trainer with its run state in memory and
 * checkpoints in a {@link CheckpointStore} (IndexedDB: `indexedDbCheckpointStore`), the training step,
 * strategies, optimizers, losses, metrics, evaluation, BN re-estimation. No Node built-ins: the run folder's
 * files, the file-writing callbacks (`jsonlLogger`, `csvLogger`, `stepLogger`, `tensorboard`, `bestCheckpoint`),
 * the terminal `progress` bar and the plots are in the Node build only.
 */
export * from './trainer-browser';
export * from './step';
export * from './gradients';
export * from './losses';
export * from './metrics';
export * from './evaluate';
export * from './bn-reestimate';
export * from './checkpoint-format';
export * from './checkpoint-indexeddb';
export * from './optimizers';
export * from './strategies';
export * from './callbacks/callback';
export * from './callbacks/early-stopping';
export * from './testing';
export * from './freeze';
