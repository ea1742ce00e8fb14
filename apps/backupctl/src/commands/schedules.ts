import { nextRuns, type TargetConfig } from '@pgbackup/backup-core';
import { dumpSchedulerId, targetOfSchedulerId, withDiscoveredTargets } from '@pgbackup/queue';
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
  const queue = await ctx.queue();
  const byTarget = new Map<string, JobSchedulerJson>();
  for (const scheduler of await queue.getJobSchedulers(0, -1, true)) {
    const target = targetOfSchedulerId(scheduler.key);
    if (target !== undefined) byTarget.set(target, scheduler);
  }
  return byTarget;
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
  const pending =
    scheduler?.next !== undefined && scheduler.next !== null ? new Date(Number(scheduler.next)) : undefined;
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

/**
 * Whether a target's scheduled runs will happen, as far as Redis shows it:
 * - `missing`: no job scheduler for it (no worker ever started with this target, or Redis lost
 *   its schedulers and no worker is running to put them back: the schedule keeper does that);
 * - `overdue`: the pending run is more than SCHEDULE_OVERDUE_GRACE_MS past its time and no
 *   worker is connected to take it. With workers connected a late run is a queue still working
 *   through a slot (500 databases due at once wait their turn), not a stopped schedule;
 * - `unknown`: Redis unreachable.
 */
export type ScheduleState = 'ok' | 'missing' | 'overdue' | 'unknown';

/** How late a pending run may be before it counts as overdue (when no worker is connected). */
export const SCHEDULE_OVERDUE_GRACE_MS = 2 * 60_000;

export function scheduleState(
  row: ScheduleRow,
  redisReachable: boolean,
  workers: number | undefined,
  now: Date,
): ScheduleState {
  if (!redisReachable) return 'unknown';
  if (!row.scheduler) return 'missing';
  const due = row.scheduler.next === null ? undefined : Date.parse(row.scheduler.next);
  if (workers === 0 && due !== undefined && now.getTime() - due > SCHEDULE_OVERDUE_GRACE_MS) return 'overdue';
  return 'ok';
}

/**
 * The workers connected to the queue (BullMQ names their connections), or undefined when the
 * server does not say (CLIENT LIST refused, as some managed Redis services do).
 */
export async function connectedWorkers(ctx: CliContext): Promise<number | undefined> {
  const queue = await ctx.queue();
  return queue.getWorkersCount().catch(() => undefined);
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
