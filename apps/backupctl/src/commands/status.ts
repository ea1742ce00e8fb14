import {
  copyHealth,
  type DestinationCopyHealth,
  type DestinationListing,
  failureAnswered,
  type Manifest,
  readCatalog,
  type TargetFailure,
  type TargetHealthState,
  targetHealth,
  verificationState,
  withCurrentCopies,
} from '@pgbackup/backup-core';
import {
  connectedWorkers,
  countsAgainstTarget,
  FAILED_JOBS_JUDGED,
  failureOfJob,
  QUEUE_NAME,
  readDiscovery,
  type ScheduleState,
  watchedSince,
  withDiscoveredTargets,
} from '@pgbackup/queue';
import type { JobSchedulerJson } from 'bullmq';
import { classifyError } from '../classify-error.js';
import type { CliContext, RedisState } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { humanAge, humanDuration, table } from '../output.js';
import { fetchJobs, type JobRow } from './jobs.js';
import { dumpSchedulers, rowScheduleState, scheduleRow } from './schedules.js';

/** One target's health as `status --json` prints it. */
export interface TargetStatus {
  target: string;
  /** Neither stale nor failing. */
  ok: boolean;
  /** The health rule's word (targetHealth): ok, stale, missing or failing. */
  state: TargetHealthState;
  /** No verified backup yet, but watched for less than its maximum age (a new target). */
  inGrace: boolean;
  /**
   * No verified backup within maxAgeMs. A target never backed up is stale too, unless a worker
   * has watched it for less than maxAgeMs (`inGrace`: a new target waiting for its first run).
   */
  stale: boolean;
  /**
   * A job of the target (restores and drills aside) failed for good, and no backup verified since answers it
   * (failureAnswered: a backup taken after the failure, or the failed one verified again); null
   * when Redis is unreachable.
   */
  failing: boolean | null;
  maxAgeMs: number;
  lastBackup: { id: string; createdAt: string; ageMs: number; status: Manifest['status'] } | null;
  lastVerified: { id: string; createdAt: string; ageMs: number; level: string; verifiedAt: string } | null;
  nextRun: string | null;
  /** `scheduler`: the run pending in Redis; `config`: computed from the cron (no scheduler seen). */
  nextRunSource: 'scheduler' | 'config';
  /**
   * Whether its scheduled runs will happen (scheduleState): `missing` (no job scheduler in Redis)
   * and `overdue` (a run past its time and no worker to take it) make the target not ok.
   */
  schedule: ScheduleState;
  /** The newest dump, verify or prune failure that makes the target failing. */
  failingJob: { id: string; name: string; reason: string | null; finishedAt: string | null } | null;
  /**
   * A dump, verify or prune of the target waiting to retry after a failed attempt (the newest):
   * what the target's next final failure will be about, seen before the attempts run out.
   */
  retrying: { id: string; name: string; attempt: string; reason: string | null } | null;
  /** Every failed job of the target (restores included); null when Redis is unreachable. */
  failedJobs: {
    count: number;
    newest: { id: string; name: string; reason: string | null; finishedAt: string | null } | null;
  } | null;
  /**
   * Per destination of the target: its newest confirmed copy, and `behind` when a verified
   * backup older than maxAgeMs has no confirmed copy there and no newer backup has one (which
   * makes the target not ok: COPY MISSING).
   */
  copies: DestinationCopyHealth[];
}

/**
 * `status --json`. `ok` is false when a target is not ok, Redis is unreachable, or a destination
 * the catalog includes could not be listed.
 */
export interface StatusDocument {
  ok: boolean;
  redis: RedisState;
  /**
   * Workers connected to the queue; 0 makes `ok` false (no scheduled run will start); null when
   * Redis is unreachable or does not say (CLIENT LIST refused).
   */
  workers: number | null;
  /**
   * Where the backups were read from (readCatalog): `local`, or `union` (with a target at
   * retention 0, the buckets too), and for `union` how each destination's listing went.
   */
  catalog: { source: 'local' | 'union'; destinations: DestinationListing[] };
  targets: TargetStatus[];
  /**
   * Each server target (BACKUP_DISCOVER, `databases:`): its databases are rows of `targets`.
   * `failing`: a discover run failed after the newest backup of any of its databases.
   */
  servers: ServerStatus[];
}

export interface ServerStatus {
  server: string;
  /** Target names of the databases backed up at every run; null when Redis is unreachable. */
  databases: string[] | null;
  /** Databases gone from the server: no longer dumped, their backups kept under retention. */
  vanished: Array<{ target: string; database: string; since: string }> | null;
  failing: boolean | null;
  failingJob: { id: string; name: string; reason: string | null; finishedAt: string | null } | null;
}

export async function statusCommand(ctx: CliContext): Promise<number> {
  const config = ctx.config();
  const now = Date.now();
  // Local manifests, or with a target at retention 0 the buckets' too (readCatalog decides).
  const catalog = await readCatalog(config);
  const listing = { manifests: catalog.backups.map((backup) => backup.manifest) };
  for (const problem of catalog.problems) ctx.out.note(`warning: ${problem.where}: ${problem.message}`);

  let redisError: CliError | undefined;
  let schedulers: Map<string, JobSchedulerJson> | undefined;
  let failed: JobRow[] | undefined;
  let delayed: JobRow[] | undefined;
  let watched: Map<string, Date> | undefined;
  let workers: number | undefined;
  // Without Redis the discovered databases are unknown: only the configured targets are shown.
  let targets = config.targets;
  const discoveries = new Map<string, Awaited<ReturnType<typeof readDiscovery>>>();
  try {
    const redis = await ctx.redis();
    // Independent reads, sent together.
    const servers = config.targets.filter((target) => target.discover);
    [schedulers, targets, watched, failed, delayed, workers] = await Promise.all([
      dumpSchedulers(ctx),
      withDiscoveredTargets(redis, config),
      watchedSince(redis, config.redis.prefix),
      fetchJobs(ctx, ['failed'], undefined, FAILED_JOBS_JUDGED),
      fetchJobs(ctx, ['delayed'], undefined, 1_000),
      ctx.queue().then(connectedWorkers),
      ...servers.map(async (server) =>
        discoveries.set(server.name, await readDiscovery(redis, config.redis.prefix, server.name)),
      ),
    ]);
  } catch (error) {
    const reported = classifyError(error);
    if (reported.exitCode !== exitCodes.unreachable) throw error;
    redisError =
      error instanceof CliError
        ? error
        : new CliError(reported.code, reported.message, exitCodes.unreachable);
  }

  // Each target's manifests (newest first, as listed) and jobs, found once: filtering the whole
  // catalog per target cost 500 x 15,000 comparisons at fleet scale.
  const manifestsOf = groupBy(listing.manifests, (manifest) => manifest.target);
  const failedOf = failed ? groupBy(failed, (job) => job.target) : undefined;
  const delayedOf = delayed ? groupBy(delayed, (job) => job.target) : undefined;
  // A server target has no backups of its own: its databases are rows, the server a line below.
  const statuses: TargetStatus[] = targets
    .filter((target) => !target.discover)
    .map((target) => {
      // Copies count only where their destination keeps them now (currentCopies).
      const manifests = withCurrentCopies(manifestsOf.get(target.name) ?? [], config.destinations);
      const last = manifests[0];
      const jobs = failedOf ? [...(failedOf.get(target.name) ?? [])] : undefined;
      const byNewest = (a: JobRow, b: JobRow) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '');
      const newest = jobs?.sort(byNewest)[0];
      // Restores and drills aside (countsAgainstTarget): they have their own alerts.
      const backupJobs = jobs?.filter(countsAgainstTarget);
      const newestFailure = backupJobs?.find((job) => job.finishedAt);
      const health = targetHealth({
        maxAgeMs: target.maxAgeMs,
        manifests,
        now: new Date(now),
        watchedSince: watched?.get(target.name),
        lastFailure: backupJobs === undefined ? null : newestFailure ? failureOf(newestFailure) : undefined,
      });
      const { stale, failing, verifiedAt } = health;
      const verified = health.lastVerified;
      const verifiedState = verified ? verificationState(verified) : undefined;
      const failingJobs = backupJobs?.filter(
        (job) => job.finishedAt && !failureAnswered(failureOf(job), verified, verifiedAt, manifests),
      );
      const retryingJob = delayedOf
        ?.get(target.name)
        ?.filter((job) => countsAgainstTarget(job) && job.failedReason)
        .sort((a, b) => Number(b.id) - Number(a.id) || b.id.localeCompare(a.id))[0];
      // A discovered database runs on its server's schedule.
      const schedule = scheduleRow(target, schedulers?.get(target.server ?? target.name), new Date(now));
      const scheduled = rowScheduleState(schedule, schedulers !== undefined, workers, new Date(now));
      const copies = copyHealth({
        destinations: target.destinations,
        manifests,
        maxAgeMs: target.maxAgeMs,
        now: new Date(now),
      });
      return {
        target: target.name,
        ok:
          !health.problem &&
          !copies.some((copy) => copy.behind) &&
          scheduled !== 'missing' &&
          scheduled !== 'overdue',
        state: health.state,
        stale,
        inGrace: health.inGrace,
        failing,
        maxAgeMs: target.maxAgeMs,
        lastBackup: last
          ? {
              id: last.id,
              createdAt: last.createdAt,
              ageMs: now - Date.parse(last.createdAt),
              status: last.status,
            }
          : null,
        lastVerified:
          verified && verifiedState?.state === 'verified'
            ? {
                id: verified.id,
                createdAt: verified.createdAt,
                ageMs: now - Date.parse(verified.createdAt),
                level: verifiedState.level,
                verifiedAt: verifiedState.at,
              }
            : null,
        failingJob: failingJobs?.[0] ? brief(failingJobs[0]) : null,
        retrying: retryingJob
          ? {
              id: retryingJob.id,
              name: retryingJob.name,
              attempt: `${retryingJob.attemptsMade}/${retryingJob.attempts}`,
              reason: retryingJob.failedReason,
            }
          : null,
        nextRun: schedule.nextRuns[0] ?? null,
        nextRunSource: schedule.scheduler ? 'scheduler' : 'config',
        schedule: scheduled,
        failedJobs: jobs
          ? {
              count: jobs.length,
              newest: newest ? brief(newest) : null,
            }
          : null,
        copies,
      };
    });

  const servers = config.targets
    .filter((target) => target.discover)
    .map((server) =>
      serverStatus(
        server.name,
        discoveries.get(server.name),
        failed,
        listing.manifests.map((manifest) => ({ manifest })),
      ),
    );
  const unlisted = catalog.destinations.filter(
    (destination): destination is Extract<DestinationListing, { ok: false }> => !destination.ok,
  );
  const ok =
    statuses.every((status) => status.ok) &&
    workers !== 0 &&
    servers.every((server) => server.failing !== true) &&
    unlisted.length === 0;
  ctx.out.document({
    ok: ok && !redisError,
    redis: { reachable: !redisError, ...(redisError ? { error: redisError.message } : {}) },
    workers: workers ?? null,
    catalog: { source: catalog.source, destinations: catalog.destinations },
    targets: statuses,
    servers,
  } satisfies StatusDocument);
  ctx.out.text(
    table(
      ['TARGET', 'STATE', 'LAST BACKUP', 'LAST VERIFIED', 'NEXT RUN', 'FAILED JOBS'],
      statuses.map((status) => [
        status.target,
        stateText(status),
        status.lastBackup
          ? `${humanAge(status.lastBackup.createdAt, now)}${status.lastBackup.status === 'suspicious' ? ' SUSPICIOUS' : ''}`
          : 'never',
        status.lastVerified
          ? `${humanAge(status.lastVerified.createdAt, now)} (${status.lastVerified.level})`
          : 'never',
        status.nextRun
          ? `${humanAge(status.nextRun, now)}${status.nextRunSource === 'config' ? ' (no scheduler)' : status.schedule === 'overdue' ? ' (not started)' : ''}`
          : '-',
        status.failedJobs ? String(status.failedJobs.count) : '?',
      ]),
    ),
  );
  for (const status of statuses) {
    if (status.inGrace) {
      ctx.out.text(
        `${status.target}: MISSING: no verified backup yet; a new target, stale after ${humanDuration(status.maxAgeMs)} without one (run backupctl dump --target ${status.target} --wait)`,
      );
    }
    if (status.stale) {
      ctx.out.text(
        status.lastVerified
          ? `${status.target}: STALE: newest verified backup ${status.lastVerified.id} is ${humanDuration(status.lastVerified.ageMs)} old; at most ${humanDuration(status.maxAgeMs)} allowed`
          : `${status.target}: STALE: no verified backup at all`,
      );
    }
    if (status.schedule === 'missing') {
      ctx.out.text(
        `${status.target}: SCHEDULE MISSING: no job scheduler in Redis, so no scheduled backup will run: no worker has started with this target, or Redis lost its schedulers and no worker is running to put them back (start the worker; backupctl schedules)`,
      );
    }
    if (status.schedule === 'overdue') {
      ctx.out.text(
        `${status.target}: OVERDUE: the run due ${humanAge(status.nextRun!, now)} has not started and no worker is connected to start it`,
      );
    }
    if (status.retrying) {
      const { id, name, attempt, reason } = status.retrying;
      ctx.out.text(
        `${status.target}: RETRYING: ${name} job ${id}: attempt ${attempt} failed: ${reason ?? '?'}`,
      );
    }
    for (const copy of status.copies.filter((c) => c.behind)) {
      const { id, createdAt } = copy.uncopied!;
      ctx.out.text(
        `${status.target}: COPY MISSING: ${copy.destination} has no confirmed copy of backup ${id} (${humanAge(createdAt, now)}) nor of any newer one; at most ${humanDuration(status.maxAgeMs)} allowed (copy it: backupctl copy ${id} --destination ${copy.destination} --wait)`,
      );
    }
    const newest = status.failingJob;
    if (newest) {
      ctx.out.text(
        `${status.target}: FAILING: ${newest.name} job ${newest.id} failed${newest.finishedAt ? ` ${humanAge(newest.finishedAt, now)}` : ''}: ${newest.reason ?? '?'} (retry: backupctl retry ${newest.id})`,
      );
    }
  }
  if (workers === 0) {
    ctx.out.text(
      `workers: NONE: no worker is connected to queue ${QUEUE_NAME} (prefix ${config.redis.prefix}): no scheduled backup, verification or prune will start (start the worker; it puts its schedules back on start)`,
    );
  }
  for (const destination of unlisted) {
    // The targets above were judged without this bucket's backups: a STALE may be this.
    ctx.out.text(
      `catalog: INCOMPLETE: destination ${destination.destination} could not be listed: ${destination.code}: ${destination.message}`,
    );
  }
  for (const server of servers) {
    ctx.out.text(
      server.databases === null
        ? `${server.server}: server: discovered databases unknown (Redis unreachable)`
        : `${server.server}: server: ${server.databases.length} database(s) backed up at every run${server.vanished?.length ? `; vanished (backups kept under retention): ${server.vanished.map((v) => v.target).join(', ')}` : ''}`,
    );
    const job = server.failingJob;
    if (server.failing && job)
      ctx.out.text(
        `${server.server}: FAILING: ${job.name} job ${job.id} failed${job.finishedAt ? ` ${humanAge(job.finishedAt, now)}` : ''}: ${job.reason ?? '?'} (retry: backupctl retry ${job.id})`,
      );
  }
  if (redisError) {
    ctx.out.note(`backupctl: ${redisError.code}: ${redisError.message}`);
    ctx.out.note('Shown from the manifests only: failed jobs and scheduled runs are unknown.');
    return exitCodes.unreachable;
  }
  return ok ? exitCodes.ok : exitCodes.failed;
}

function serverStatus(
  server: string,
  discovery: Awaited<ReturnType<typeof readDiscovery>> | undefined,
  failed: JobRow[] | undefined,
  entries: ReadonlyArray<{ manifest: Manifest }>,
): ServerStatus {
  if (!discovery || !failed)
    return { server, databases: null, vanished: null, failing: null, failingJob: null };
  // ISO times sort as text.
  const newestBackup =
    entries
      .filter((entry) => entry.manifest.target.startsWith(`${server}.`))
      .map((entry) => entry.manifest.createdAt)
      .sort()
      .at(-1) ?? '';
  const failure = failed
    .filter(
      (job) => job.target === server && countsAgainstTarget(job) && (job.finishedAt ?? '') > newestBackup,
    )
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''))[0];
  return {
    server,
    databases: discovery.present.map((entry) => entry.target),
    vanished: discovery.vanished.map(({ target, database, since }) => ({ target, database, since })),
    failing: failure !== undefined,
    failingJob: failure ? brief(failure) : null,
  };
}

/** The items by key, each group in the items' order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** A failed job as the health rule reads it (failureOfJob), from its listed row. */
function failureOf(job: JobRow): TargetFailure {
  return failureOfJob({
    name: job.name,
    data: job.data,
    finishedOn: job.finishedAt ? Date.parse(job.finishedAt) : undefined,
  });
}

function brief(job: JobRow): { id: string; name: string; reason: string | null; finishedAt: string | null } {
  return { id: job.id, name: job.name, reason: job.failedReason, finishedAt: job.finishedAt };
}

function stateText(status: TargetStatus): string {
  const problems = [
    status.stale ? 'STALE' : '',
    status.failing ? 'FAILING' : '',
    status.copies.some((copy) => copy.behind) ? 'COPY MISSING' : '',
    status.schedule === 'missing' ? 'NO SCHEDULE' : '',
    status.schedule === 'overdue' ? 'OVERDUE' : '',
  ].filter(Boolean);
  if (problems.length > 0) return problems.join('+');
  if (status.inGrace) return 'MISSING (new)';
  return status.failing === null ? 'ok?' : 'ok';
}
