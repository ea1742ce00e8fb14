import type { BackupConfig, Logger, TargetConfig, TargetFailure } from '@pgbackup/backup-core';
import {
  connectedWorkers,
  dumpSchedulersByTarget,
  FAILED_JOBS_JUDGED,
  failureCodeOf,
  jobStates,
  newestFailureByTarget,
} from '@pgbackup/queue';
import type { Job, Queue } from 'bullmq';
import { Gauge, Registry } from 'prom-client';
import { dashboardCatalog, unlistedDestinations } from './catalog.js';
import { backupStates, targetStatuses } from './catalog-status.js';
import { addCopyMetrics, copyFailureGauge } from './copy-metrics.js';
import { addDrillMetrics } from './drill-metrics.js';
import { withTimeout } from './timeout.js';

export interface MetricsSources {
  config: Pick<BackupConfig, 'targets' | 'backupDir'> & {
    drill?: BackupConfig['drill'] | undefined;
    /** Read into the catalog when a target keeps backups only until copied (retention 0). */
    destinations?: BackupConfig['destinations'] | undefined;
  };
  queue: Queue;
  logger: Logger;
  now: () => Date;
  /** Since when workers have watched each target (new targets' grace); undefined: unknown. */
  watchedSince?: Map<string, Date> | undefined;
  /** Every known target, discovered databases included (DashboardDeps.knownTargets). Default: config.targets. */
  targets?: TargetConfig[];
  /** Longest wait for Redis per scrape (Prometheus gives up after 10 s by default). Default 3 s. */
  redisTimeoutMs?: number;
  /**
   * Failed jobs read per scrape to count failures by code; the newest are read first. Failed jobs
   * are kept 90 days, so this bounds the scrape's cost if something fails in a loop. Default 5000.
   */
  maxFailedJobs?: number;
}

/** `PG_UNREACHABLE: could not connect` -> `PG_UNREACHABLE`; anything else (a stall, a crash) -> `UNKNOWN`. */
export function failureCode(failedReason: string | undefined): string {
  return failureCodeOf(failedReason) ?? 'UNKNOWN';
}

async function failuresByCode(
  queue: Queue,
  limit: number,
  timeoutMs: number,
  copyCounts = new Map<string, number>(),
  read: Job[] = [],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const pageSize = 500;
  for (let start = 0; start < limit; start += pageSize) {
    const end = Math.min(start + pageSize, limit) - 1;
    const jobs = await withTimeout(queue.getFailed(start, end), timeoutMs, 'Redis');
    read.push(...jobs);
    for (const job of jobs) {
      const code = failureCode(job.failedReason);
      counts.set(code, (counts.get(code) ?? 0) + 1);
      const destination = (job.data as { destination?: unknown } | undefined)?.destination;
      if (job.name === 'copy' && typeof destination === 'string') {
        const key = JSON.stringify([destination, code]);
        copyCounts.set(key, (copyCounts.get(key) ?? 0) + 1);
      }
    }
    if (jobs.length < end - start + 1) break;
  }
  return counts;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * Builds the Prometheus text from scratch at every scrape, in a registry of its own: the values
 * come from the files and the queue as they are now, nothing lingers from an earlier scrape or
 * leaks into prom-client's global registry. The catalog is the source of truth for backups; the
 * queue only for job counts and failures, and a Redis outage shows as pgbackup_redis_up 0 while
 * the backup metrics are still served.
 */
export async function collectMetrics(
  sources: MetricsSources,
): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const lastSuccess = gauge(
    'pgbackup_last_success_timestamp_seconds',
    'When the newest complete (not suspicious) backup of the target finished, Unix time.',
    ['target'],
  );
  const lastVerified = gauge(
    'pgbackup_last_verified_timestamp_seconds',
    'When the snapshot of the newest verified backup of the target was taken, Unix time.',
    ['target'],
  );
  const lastSize = gauge(
    'pgbackup_last_backup_size_bytes',
    'Size on disk of the newest backup of the target.',
    ['target'],
  );
  const lastDuration = gauge(
    'pgbackup_last_backup_duration_seconds',
    'How long the dump of the newest backup of the target took.',
    ['target'],
  );
  const backups = gauge(
    'pgbackup_backups',
    'Backups in the catalog by state: verified, unverified, failed (latest verification failed), suspicious.',
    ['target', 'state'],
  );
  const stale = gauge(
    'pgbackup_stale',
    '1 when a target (configured, or a database a server target discovered) has no verified backup younger than its maximum age (BACKUP_MAX_AGE).',
    ['target'],
  );
  const maxAge = gauge('pgbackup_max_age_seconds', 'Maximum age allowed for the newest verified backup.', [
    'target',
  ]);
  const catalogProblems = gauge(
    'pgbackup_catalog_problems',
    'Manifests (files, or objects in a listed destination) that could not be read.',
  );
  const destinationUp = gauge(
    'pgbackup_catalog_destination_up',
    '1 when the destination could be listed for this scrape, 0 when not (the backup metrics then miss what only it holds). Only when the catalog includes the buckets (a target with retention 0).',
    ['destination'],
  );
  const failures = gauge(
    'pgbackup_job_failures',
    'Failed jobs kept in the queue (90 days), by the error code their failure starts with.',
    ['code'],
  );
  const queueJobs = gauge('pgbackup_queue_jobs', 'Jobs in the backup queue by state.', ['state']);
  const redisUp = gauge(
    'pgbackup_redis_up',
    '1 when the dashboard could read the queue from Redis for this scrape.',
  );
  const failing = gauge(
    'pgbackup_failing',
    "1 when a job of the target (restores and drills aside) failed for good and no backup verified since answers it: backupctl status's FAILING. Absent when Redis could not be read.",
    ['target'],
  );
  const workers = gauge(
    'pgbackup_workers',
    'Workers connected to the backup queue; 0 means no scheduled backup will start. Absent when Redis does not say (CLIENT LIST refused).',
  );
  const scheduleMissing = gauge(
    'pgbackup_schedule_missing',
    "1 when Redis holds no job scheduler for the target (a discovered database: its server's), so no scheduled backup of it will run: backupctl status's NO SCHEDULE.",
    ['target'],
  );

  const copyFailures = copyFailureGauge(registry);

  const now = sources.now();
  const catalog = await dashboardCatalog(sources.config);
  const unlisted = unlistedDestinations(catalog);
  catalogProblems.set(catalog.problems.length);
  for (const listing of catalog.destinations)
    destinationUp.set({ destination: listing.destination }, listing.ok ? 1 : 0);
  for (const { destination, code } of unlisted)
    sources.logger.warn({ destination, code }, 'metrics: could not list a destination of the catalog');
  const entries = catalog.backups;
  const targets = sources.targets ?? sources.config.targets;
  addCopyMetrics(registry, targets, entries, now, sources.config.destinations ?? []);
  const timeoutMs = sources.redisTimeoutMs ?? 3_000;
  let failuresByTarget: Map<string, TargetFailure> | null = null;
  try {
    const counts = await withTimeout(sources.queue.getJobCounts(...jobStates), timeoutMs, 'Redis');
    const copyCounts = new Map<string, number>();
    const failedJobs: Job[] = [];
    const byCode = await failuresByCode(
      sources.queue,
      Math.min(counts.failed ?? 0, sources.maxFailedJobs ?? 5_000),
      timeoutMs,
      copyCounts,
      failedJobs,
    );
    const [schedulers, connected] = await Promise.all([
      withTimeout(dumpSchedulersByTarget(sources.queue), timeoutMs, 'Redis'),
      withTimeout(connectedWorkers(sources.queue), timeoutMs, 'Redis'),
    ]);
    for (const state of jobStates) queueJobs.set({ state }, counts[state] ?? 0);
    for (const [code, count] of byCode) failures.set({ code }, count);
    for (const [key, count] of copyCounts) {
      const [destination, code] = JSON.parse(key) as [string, string];
      copyFailures.set({ destination, code }, count);
    }
    // The newest ones only, as status and the page read them (failures by code count them all).
    failuresByTarget = newestFailureByTarget(failedJobs.slice(0, FAILED_JOBS_JUDGED));
    if (connected !== undefined) workers.set(connected);
    // The rows status judges: a server target's databases and globals, not the server itself.
    for (const target of targets.filter((candidate) => !candidate.discover))
      scheduleMissing.set({ target: target.name }, schedulers.has(target.server ?? target.name) ? 0 : 1);
    redisUp.set(1);
  } catch (error) {
    sources.logger.warn({ err: error }, 'metrics: could not read the queue');
    redisUp.set(0);
  }

  for (const status of targetStatuses(targets, entries, now, sources.watchedSince, failuresByTarget)) {
    const target = status.target;
    if (status.lastComplete) lastSuccess.set({ target }, seconds(status.lastComplete.completedAt));
    if (status.lastVerified) lastVerified.set({ target }, seconds(status.lastVerified.createdAt));
    if (status.newest) {
      lastSize.set({ target }, status.newest.sizeBytes);
      lastDuration.set({ target }, status.newest.durationMs / 1000);
    }
    for (const state of backupStates) backups.set({ target, state }, status.counts[state]);
    if (status.config) {
      stale.set({ target }, status.stale ? 1 : 0);
      if (status.failing !== null) failing.set({ target }, status.failing ? 1 : 0);
      maxAge.set({ target }, status.config.maxAgeMs / 1000);
    }
  }

  addDrillMetrics(registry, sources.config, entries);

  return { contentType: registry.contentType, body: await registry.metrics() };
}
