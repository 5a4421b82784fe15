export * from './strategy';
export * from './baseline';
export * from './netaug';
export * from './distillation';
