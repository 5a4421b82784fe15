export { QueueUrl, parseQueueUrl, DEFAULT_REDIS_PORT } from './url';
export {
  waitForRedis,
  redisBackoffMs,
  REDIS_BACKOFF_START_MS,
  REDIS_BACKOFF_CAP_MS,
  type WaitForRedisOptions,
} from './redis';
export { PermanentError, RetryableError, isPermanentError } from './errors';
export { QUEUE_PREFIX, CELL_JOB_NAME, type CellJobData, type CellInput } from './cells';
export {
  enqueueCells,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  type EnqueueOptions,
  type EnqueueResult,
} from './enqueue';
export {
  startWorker,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_STALLED_INTERVAL_MS,
  DEFAULT_MAX_STALLED_COUNT,
  type CellHandler,
  type CellJobContext,
  type CellProgress,
  type QueueWorker,
  type WorkerOptions,
} from './worker';
export { queueStatus, type CellState, type CellStatus } from './status';
