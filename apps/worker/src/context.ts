import type { BackupConfig, Logger, OperatorKey } from '@pgbackup/backup-core';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KnownTargets } from './discovery/known-targets.js';
import type { Slots } from './locks/slots.js';
import type { TargetLocks } from './locks/target-lock.js';
import type { Alerts } from './notify/alerts.js';
import type { DrillAlerts } from './notify/drill-alerts.js';

/** What every job handler needs, built once at start. */
export interface WorkerContext {
  config: BackupConfig;
  queue: Queue;
  redis: Redis;
  /** Configured and discovered targets; `config.targets` stays the configured ones. */
  targets: KnownTargets;
  locks: TargetLocks;
  /** Budgets shared by every worker: drills (BACKUP_DRILL_CONCURRENCY), a server's dumps. */
  slots: Slots;
  alerts: Alerts;
  drillAlerts: DrillAlerts;
  logger: Logger;
  /** The key new backups are encrypted with (none: unencrypted). */
  encryptionKey: OperatorKey | undefined;
  /** Every key that may decrypt an existing backup (current first). */
  keyring: OperatorKey[];
  /** How long a job waits before trying again for a busy target lock. */
  lockRetryMs: number;
}
