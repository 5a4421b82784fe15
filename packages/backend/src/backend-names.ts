// declared once in @netaug/core (the CLI lists them without loading tfjs)
export { BACKEND_NAMES, isBackendName, type BackendName } from '@netaug/core';
