export { createProgram, runCli } from './program';
export { profileModel, type ProfileRequest, type ModelProfile } from './profile-model';
export { EXIT, UsageError, reportError } from './errors';
export type { Output } from './output';
