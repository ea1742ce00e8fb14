/**
 * What the worker, backupctl and the dashboard share about the queue, so that none of them
 * imports another app: the names, the job data and result schemas, enqueueing, the failure
 * reason format and the retry policy. The only public surface: nothing else is reachable.
 */
export {
  copyJobId,
  createBackupQueue,
  discoverDeduplicationId,
  drillDeduplicationId,
  dumpDeduplicationId,
  enqueueChainPrune,
  enqueueCopy,
  enqueueDiscover,
  enqueueDrill,
  enqueueDump,
  enqueuePrune,
  enqueueRestore,
  enqueueVerify,
} from './backup-queue.js';
export { createCommandConnection, createRedisConnection, redisAuthFailure } from './connection.js';
export {
  type DiscoveryChanges,
  findDiscoveredTarget,
  type RegistryEntry,
  readDiscovery,
  recordDiscovery,
  type ServerDiscovery,
  withDiscoveredTargets,
} from './discovery-registry.js';
export { failureCodeOf, formatFailureReason } from './failure-reason.js';
export {
  type CopyJobData,
  type DiscoverJobData,
  type DrillJobData,
  type DumpJobData,
  isJobName,
  type PruneJobData,
  type RestoreJobData,
  type VerifyJobData,
} from './job-data.js';
export {
  InvalidJobDataError,
  type JobResult,
  JobResultInvalidError,
  jobKinds,
  type ParsedJobData,
  parseJobData,
  parseJobResult,
} from './job-kinds.js';
export type {
  CopyJobResult,
  DiscoverJobResult,
  DrillJobResult,
  DumpJobResult,
  PruneJobResult,
  RestoreJobResult,
  VerifyJobResult,
} from './job-results.js';
export { backupIdForJob, targetOfJob } from './job-target.js';
export {
  drillSchedulerId,
  dumpSchedulerId,
  type JobName,
  type JobState,
  jobNames,
  jobStates,
  QUEUE_NAME,
  targetOfDrillSchedulerId,
  targetOfSchedulerId,
} from './names.js';
export { type KeyKindUsage, redisMemoryByKind } from './redis-memory.js';
export { replicaAckTimeoutMs, replicasConfirming } from './replica-ack.js';
export { describeRestore, isRestoreJob, restoreAgainCommand } from './restore-replay.js';
export {
  completedJobsKeptNote,
  defaultJobOptions,
  errorCodeOf,
  isFinalFailure,
  restoreJobOptions,
  toJobError,
} from './retry-policy.js';
export {
  connectedWorkers,
  dumpSchedulersByTarget,
  pendingRunOf,
  SCHEDULE_OVERDUE_GRACE_MS,
  type ScheduleState,
  scheduleState,
} from './schedule-state.js';
export {
  countsAgainstTarget,
  FAILED_JOBS_JUDGED,
  failureOfJob,
  newestFailureByTarget,
} from './target-failures.js';
export { markWatched, watchedSince } from './target-watch.js';
