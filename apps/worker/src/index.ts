export {
  createBackupQueue,
  defaultJobOptions,
  dumpDeduplicationId,
  enqueueDump,
  enqueuePrune,
  enqueueRestore,
  enqueueVerify,
} from './queue/backup-queue.js';
export { createCommandConnection, createRedisConnection } from './queue/connection.js';
export {
  type DumpJobData,
  InvalidJobDataError,
  isJobName,
  jobDataSchemas,
  type ParsedJobData,
  type PruneJobData,
  parseJobData,
  type RestoreJobData,
  type VerifyJobData,
} from './queue/job-data.js';
export {
  dumpSchedulerId,
  type JobName,
  type JobState,
  jobNames,
  jobStates,
  QUEUE_NAME,
  targetOfSchedulerId,
} from './queue/names.js';
export { startWorkerService, type WorkerService, type WorkerServiceOptions } from './service.js';
