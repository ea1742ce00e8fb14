import {
  assertWritableDirectory,
  type BackupConfig,
  createLogger,
  type Logger,
  loadKeyring,
  redactUrl,
  sweepOrphans,
} from '@pgbackup/backup-core';
import {
  createBackupQueue,
  createRedisConnection,
  describeRestore,
  isFinalFailure,
  isRestoreJob,
  markWatched,
  QUEUE_NAME,
  redisAuthFailure,
  restoreAgainCommand,
  targetOfJob,
} from '@pgbackup/queue';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerContext } from './context.js';
import { discoverAtStart } from './discovery/discover-job.js';
import { KnownTargets } from './discovery/known-targets.js';
import { directoryChecks } from './health/directory-checks.js';
import { startHealthServer } from './health/health-server.js';
import { createProcessor } from './jobs/processor.js';
import { Slots } from './locks/slots.js';
import { TargetLocks } from './locks/target-lock.js';
import { Alerts } from './notify/alerts.js';
import { DrillAlerts } from './notify/drill-alerts.js';
import { type RetrySchedule, Webhook } from './notify/webhook.js';
import { catalogOnce } from './notify/whole-catalog.js';
import { checkRedisSettings } from './redis-checks.js';
import { restoreLostSchedules } from './schedule-keeper.js';
import { syncSchedules } from './schedules.js';

export interface WorkerServiceOptions {
  logger?: Logger;
  /** Overrides BACKUP_JOB_LOCK_MS (tests). */
  lockDurationMs?: number;
  /** Overrides BACKUP_STALLED_INTERVAL_MS (tests). */
  stalledIntervalMs?: number;
  /** How often targets are checked for a missing verified backup, and Redis for lost schedules. Default 60 s. */
  staleCheckIntervalMs?: number;
  /** How long a job waits before retrying a busy target lock. Default 5 s. */
  lockRetryMs?: number;
  /** Waits between webhook attempts. Default about 2 minutes in all (defaultRetrySchedule). */
  webhookRetry?: RetrySchedule;
}

export interface WorkerService {
  worker: Worker;
  context: WorkerContext;
  /** `http://host:port` of /healthz, when enabled. */
  healthUrl: string | undefined;
  /**
   * Two-stage stop: no new jobs; running ones get until the deadline (default
   * BACKUP_SHUTDOWN_TIMEOUT), then are aborted (children killed, partial files removed).
   * `force` aborts at once.
   */
  close(options?: { force?: boolean; deadlineMs?: number }): Promise<void>;
}

/**
 * The connection waits for Redis for ever (maxRetriesPerRequest null), so a bare PING would hold
 * /healthz open through a Redis restart or a Sentinel failover, past any probe's timeout; bounded,
 * the check answers 503 meanwhile and 200 again once the connection has found the primary.
 */
const healthPingTimeoutMs = 2_000;

async function pingWithin(redis: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const answered = redis.ping().then(
    (reply) => reply === 'PONG',
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the worker: checks, sweep, schedules, the BullMQ worker, alerts and /healthz. */
export async function startWorkerService(
  config: BackupConfig,
  options: WorkerServiceOptions = {},
): Promise<WorkerService> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'pgbackup-worker' });
  // Before anything else: a worker that cannot write its backups or run logs must not start and
  // take jobs it can only fail.
  await assertWritableDirectory(config.backupDir, 'the backup directory (BACKUP_DIR)');
  await assertWritableDirectory(config.logDir, 'the log directory (BACKUP_LOG_DIR)');
  const { encryptionKey, keyring } = await loadKeyring(config);
  const redis = createRedisConnection(config.redis);
  // With maxRetriesPerRequest null the first command waits for Redis as long as it takes: say so.
  const waiting = setTimeout(
    () => logger.warn({ redis: redactUrl(config.redis.url) }, 'waiting for Redis to answer'),
    3_000,
  );
  // A refused login to the sentinels never fails a command: ioredis only reports it as a
  // connection error ("All sentinels are unreachable ... Last error: WRONGPASS ...") and retries,
  // so the PING would wait for ever. Such an error ends the wait instead.
  let onError: ((error: Error) => void) | undefined;
  const refused = new Promise<never>((_, reject) => {
    onError = (error) => {
      if (redisAuthFailure(error, config.redis.url)) reject(error);
    };
    redis.on('error', onError);
  });
  try {
    await Promise.race([redis.ping(), refused]);
    redis.off('error', onError!);
    clearTimeout(waiting);
    await checkRedisSettings(redis, logger);
  } catch (error) {
    redis.off('error', onError!);
    clearTimeout(waiting);
    redis.disconnect();
    // A wrong password is not a Redis that is still starting: waiting would wait for ever.
    throw redisAuthFailure(error, config.redis.url) ?? error;
  }

  const swept = await sweepOrphans(config.backupDir);
  for (const file of swept.removed) logger.warn({ file }, 'removed a partial file left by a dead run');

  const queue = createBackupQueue(config, redis);
  // Without a listener BullMQ prints each connection error (a whole stack) to stderr, outside the
  // JSON log: about 200 lines for a 4-second Redis outage.
  queue.on('error', (error) => logger.warn({ err: error.message }, 'queue connection error'));
  await queue.setGlobalConcurrency(config.worker.concurrency);
  await syncSchedules(queue, redis, config, logger);
  // A new target's grace period (no verified backup yet) starts when a worker first watches it.
  await markWatched(
    redis,
    config.redis.prefix,
    config.targets.map((target) => target.name),
  );

  const webhook = new Webhook(config.worker.webhookUrl, logger, {
    ...(options.webhookRetry ? { schedule: options.webhookRetry } : {}),
  });
  const targets = new KnownTargets(redis, config);
  const alerts = new Alerts(config, redis, webhook, logger, targets);
  const drillAlerts = new DrillAlerts(config, redis, webhook, logger, targets);
  const context: WorkerContext = {
    config,
    queue,
    redis,
    targets,
    // The target lock expires like a job lock: a dead worker's target is free when its job is taken over.
    locks: new TargetLocks(
      redis,
      config.redis.prefix,
      options.lockDurationMs ?? config.worker.lockDurationMs,
    ),
    slots: new Slots(redis, config.redis.prefix, options.lockDurationMs ?? config.worker.lockDurationMs),
    alerts,
    drillAlerts,
    logger,
    encryptionKey,
    keyring,
    lockRetryMs: options.lockRetryMs ?? 5_000,
  };
  const active = new Map<string, AbortController>();
  const worker = new Worker(QUEUE_NAME, createProcessor(context, active), {
    connection: createRedisConnection(config.redis),
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    lockDuration: options.lockDurationMs ?? config.worker.lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? config.worker.stalledIntervalMs,
    // One crash is survived (the job re-runs on another worker); a job that keeps killing its
    // workers fails instead of looping for ever.
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('error', (error) => logger.error({ err: error.message }, 'worker error'));
  worker.on('failed', (job: Job | undefined, error: Error) => {
    if (!job) return;
    if (!isFinalFailure(job, error)) return;
    const target = targetOfJob(job);
    const destination = (job.data as { destination?: unknown } | undefined)?.destination;
    if (target && job.name === 'drill')
      drillAlerts.drillFailed(target, job.id, error.message, job.attemptsMade);
    else if (target && job.name === 'copy' && typeof destination === 'string')
      void alerts
        .copyFailed(target, destination, job.id, error.message, job.attemptsMade)
        .catch(() => undefined);
    else if (target && isRestoreJob(job))
      alerts.restoreFailed(target, job.id, error.message, describeRestore(job), restoreAgainCommand(job));
    else if (target)
      void alerts
        .targetFailed(
          target,
          job.name,
          job.id,
          error.message,
          job.attemptsMade,
          typeof (job.data as { backupId?: unknown } | undefined)?.backupId === 'string'
            ? (job.data as { backupId: string }).backupId
            : undefined,
        )
        .catch(() => undefined);
  });

  // In the background: an unreachable server must not hold up the worker's start.
  const discovering = discoverAtStart(context);
  let keeping = false;
  const keepSchedules = async () => {
    // Redis may be away for minutes: one check at a time, not one more per minute of outage.
    if (keeping) return;
    keeping = true;
    try {
      const restored = await restoreLostSchedules(queue, redis, config, logger);
      if (restored.length > 0) {
        // One message per check: a Redis that lost everything loses every target's schedules.
        const targetsRestored = [...new Set(restored.map(({ schedule }) => schedule.target))];
        const what = restored
          .slice(0, 10)
          .map(
            ({ schedule, lost }) =>
              `the ${schedule.kind} schedule of ${schedule.target} (${lost === 'scheduler' ? 'the whole scheduler' : 'its next run'})`,
          )
          .join(', ');
        const more = restored.length > 10 ? ` and ${restored.length - 10} more` : '';
        void webhook.deliver({
          event: 'schedule_restored',
          target: targetsRestored.length === 1 ? targetsRestored[0]! : '*',
          targets: targetsRestored,
          text: `Missing from Redis and put back: ${what}${more}. Redis lost data: a restart without persistence (use appendonly yes), a failover, or a removed key. Jobs waiting at the time are gone: check \`backupctl status\` and re-run what is missing.`,
        });
      }
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'schedule check failed');
    } finally {
      keeping = false;
    }
  };
  const staleTimer = setInterval(() => {
    void keepSchedules();
    // Another worker's run may have discovered databases since: check them too. Both checks
    // judge the same catalog, read once (with retention 0 it lists every bucket).
    const refreshed = targets.refresh();
    const catalog = catalogOnce(config, () => targets.all, logger, 'stale and drill staleness checks');
    void refreshed
      .then(() => alerts.checkStaleness(new Date(), catalog))
      .catch((error) => logger.warn({ err: (error as Error).message }, 'stale check failed'));
    void refreshed
      .catch(() => undefined)
      .then(() => drillAlerts.checkStaleness(new Date(), catalog))
      .catch((error) => logger.warn({ err: (error as Error).message }, 'drill stale check failed'));
  }, options.staleCheckIntervalMs ?? 60_000);
  staleTimer.unref();

  const health =
    config.worker.healthPort === 0
      ? undefined
      : await startHealthServer(config.worker.healthHost, config.worker.healthPort, async (kind) => {
          const redisOk = await pingWithin(redis, healthPingTimeoutMs);
          const running = worker.isRunning();
          const directories = kind === 'ready' ? await directoryChecks(config, targets.all) : {};
          const checks = { redis: { ok: redisOk }, worker: { ok: running }, ...directories };
          return { ok: Object.values(checks).every((check) => check.ok), checks };
        });
  logger.info(
    {
      targets: config.targets.map((t) => t.name),
      concurrency: config.worker.concurrency,
      // The Sentinel group (sentinel://host:port,.../name) or the URL, never a password.
      redis: redactUrl(config.redis.url),
      health: health?.url,
    },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  const abortActive = (reason: string) => {
    for (const controller of active.values()) controller.abort(reason);
  };
  return {
    worker,
    context,
    healthUrl: health?.url,
    close(closeOptions = {}) {
      if (closeOptions.force) abortActive('the worker was stopped');
      closing ??= (async () => {
        clearInterval(staleTimer);
        await discovering;
        const deadline = closeOptions.deadlineMs ?? config.worker.shutdownTimeoutMs;
        const closed = worker.close();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          closed.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), deadline);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          logger.warn({ active: [...active.keys()] }, 'shutdown deadline passed: aborting running jobs');
          abortActive('the worker is shutting down (BACKUP_SHUTDOWN_TIMEOUT passed)');
          await closed;
        }
        // After the jobs: a job's last failure alert is started before its retries are dropped.
        await alerts.close();
        await health?.close();
        await queue.close();
        redis.disconnect();
        logger.info('worker stopped');
      })();
      return closing;
    },
  };
}
