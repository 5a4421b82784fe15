export * from './config';
export * from './lr-schedule';
export * from './augmentation-scheduler';
