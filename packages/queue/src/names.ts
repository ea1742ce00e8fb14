/** Names shared by the worker, backupctl and the dashboard: one place, so they cannot drift. */
export const QUEUE_NAME = 'backups' as const;

export const jobNames = {
  dump: 'dump',
  verify: 'verify',
  copy: 'copy',
  prune: 'prune',
  restore: 'restore',
  drill: 'drill',
  /** A server target's run: list its databases, then enqueue a dump of each (discover-run in the worker). */
  discover: 'discover',
} as const;
export type JobName = (typeof jobNames)[keyof typeof jobNames];

export const jobStates = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'failed',
  'prioritized',
  'waiting-children',
] as const;
export type JobState = (typeof jobStates)[number];

/** Job scheduler id of a target's dump schedule. */
export function dumpSchedulerId(target: string): string {
  return `dump:${target}`;
}

export function targetOfSchedulerId(id: string): string | undefined {
  return id.startsWith('dump:') ? id.slice('dump:'.length) : undefined;
}

/** Job scheduler id of a target's drill schedule. */
export function drillSchedulerId(target: string): string {
  return `drill:${target}`;
}

export function targetOfDrillSchedulerId(id: string): string | undefined {
  return id.startsWith('drill:') ? id.slice('drill:'.length) : undefined;
}
