import { nextRuns, type TargetConfig } from '@pgbackup/backup-core';
import {
  dumpSchedulerId,
  dumpSchedulersByTarget,
  pendingRunOf,
  type ScheduleState,
  scheduleState,
  withDiscoveredTargets,
} from '@pgbackup/queue';
import type { JobSchedulerJson } from 'bullmq';
import { classifyError } from '../classify-error.js';
import type { CliContext, RedisState } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { humanAge, shortTime, table } from '../output.js';

/** One target's schedule as `schedules --json` prints it. */
export interface ScheduleRow {
  target: string;
  /** A discovered database: the server target whose scheduler runs it. */
  server?: string;
  schedule: string;
  timeZone: string;
  /** The next 3 runs: the scheduler's pending one first (when Redis has it), then from the cron. */
  nextRuns: string[];
  /** The job scheduler in Redis; null when the worker never registered it (or Redis is unreachable). */
  scheduler: { id: string; pattern: string | null; tz: string | null; next: string | null } | null;
  /** The scheduler's pattern and zone are the configured ones (false: the worker runs an older config). */
  inSync: boolean;
}

/** `schedules --json`. */
export interface SchedulesDocument {
  redis: RedisState;
  schedules: ScheduleRow[];
  /** Dump schedulers in Redis whose target is not configured here. */
  orphanSchedulers: string[];
}

/** The dump schedulers in Redis, by target name. */
export async function dumpSchedulers(ctx: CliContext): Promise<Map<string, JobSchedulerJson>> {
  return dumpSchedulersByTarget(await ctx.queue());
}

/**
 * nextRuns, remembered by its arguments: a server's discovered databases share its schedule and
 * its scheduler, and computing the runs (the cron in its time zone) costs about a millisecond, so
 * `status` and `schedules` at 500 databases spent most of a second on the same three dates. A
 * backupctl process runs one command, so the memo holds a few entries.
 */
const runsMemo = new Map<string, readonly string[]>();
function memoNextRuns(schedule: string, timeZone: string, count: number, from: Date): readonly string[] {
  const key = `${schedule}\n${timeZone}\n${count}\n${from.getTime()}`;
  let runs = runsMemo.get(key);
  if (runs === undefined) {
    runs = nextRuns(schedule, timeZone, count, from).map((run) => run.toISOString());
    runsMemo.set(key, runs);
  }
  return runs;
}

export function scheduleRow(
  target: TargetConfig,
  scheduler: JobSchedulerJson | undefined,
  now = new Date(),
): ScheduleRow {
  const pending = pendingRunOf(scheduler);
  const runs = pending
    ? [pending.toISOString(), ...memoNextRuns(target.schedule, target.timeZone, 2, pending)]
    : [...memoNextRuns(target.schedule, target.timeZone, 3, now)];
  return {
    target: target.name,
    ...(target.server === undefined ? {} : { server: target.server }),
    schedule: target.schedule,
    timeZone: target.timeZone,
    nextRuns: runs,
    scheduler: scheduler
      ? {
          id: scheduler.key,
          pattern: scheduler.pattern ?? null,
          tz: scheduler.tz ?? null,
          next: pending ? pending.toISOString() : null,
        }
      : null,
    inSync:
      scheduler !== undefined &&
      scheduler.pattern === target.schedule &&
      (scheduler.tz ?? 'UTC') === target.timeZone,
  };
}

/** scheduleState (packages/queue) of one row of `schedules`/`status`. */
export function rowScheduleState(
  row: ScheduleRow,
  redisReachable: boolean,
  workers: number | undefined,
  now: Date,
): ScheduleState {
  return scheduleState({
    redisReachable,
    scheduler: row.scheduler
      ? { next: row.scheduler.next === null ? undefined : new Date(row.scheduler.next) }
      : undefined,
    workers,
    now,
  });
}

export async function schedulesCommand(ctx: CliContext): Promise<number> {
  const config = ctx.config();
  let schedulers: Map<string, JobSchedulerJson> | undefined;
  let redisError: CliError | undefined;
  try {
    schedulers = await dumpSchedulers(ctx);
  } catch (error) {
    if (classifyError(error).exitCode !== exitCodes.unreachable) throw error;
    redisError =
      error instanceof CliError
        ? error
        : new CliError('REDIS_UNREACHABLE', classifyError(error).message, exitCodes.unreachable);
  }
  // The databases servers discovered run on their server's scheduler; unknown without Redis.
  const targets = redisError ? config.targets : await withDiscoveredTargets(await ctx.redis(), config);
  const now = new Date();
  const rows = targets.map((target) =>
    scheduleRow(target, schedulers?.get(target.server ?? target.name), now),
  );
  const configured = new Set(config.targets.map((target) => target.name));
  const orphans = [...(schedulers?.keys() ?? [])]
    .filter((name) => !configured.has(name))
    .map(dumpSchedulerId);
  ctx.out.document({
    redis: { reachable: redisError === undefined, ...(redisError ? { error: redisError.message } : {}) },
    schedules: rows,
    orphanSchedulers: orphans,
  } satisfies SchedulesDocument);
  ctx.out.text(
    table(
      ['TARGET', 'CRON', 'TIME ZONE', 'NEXT RUNS', 'SCHEDULER'],
      rows.map((row) => [
        row.server === undefined ? row.target : `  ${row.target} (on ${row.server})`,
        row.schedule,
        row.timeZone,
        row.nextRuns.map((run) => `${shortTime(run)} (${humanAge(run)})`).join(', '),
        redisError
          ? 'unknown (Redis unreachable)'
          : !row.scheduler
            ? 'MISSING: no worker has started with this target'
            : row.inSync
              ? 'ok'
              : `differs: ${row.scheduler.pattern} ${row.scheduler.tz ?? ''} (restart the worker to apply the configuration)`,
      ]),
    ),
  );
  for (const orphan of orphans)
    ctx.out.note(`note: scheduler ${orphan} has no configured target (a worker with another configuration?)`);
  if (redisError) {
    ctx.out.note(
      `backupctl: ${redisError.code}: ${redisError.message}; next runs computed from the configuration only`,
    );
    return exitCodes.unreachable;
  }
  const missing = rows.filter((row) => !row.scheduler);
  if (missing.length > 0) {
    ctx.out.note(
      `warning: no scheduler in Redis for ${missing.map((row) => row.target).join(', ')}: the worker is not running or never started with this configuration`,
    );
    return exitCodes.failed;
  }
  return exitCodes.ok;
}
