import type { BackupConfig, TargetConfig } from '@pgbackup/backup-core';

/** A budget of concurrent jobs (locks/slots.ts), and what a job waiting for it says. */
export interface SlotPool {
  pool: string;
  limit: number;
  busy: string;
}

/** The fleet-wide drill budget (BACKUP_DRILL_CONCURRENCY): the drill server's, not the workers'. */
export function drillPool(config: Pick<BackupConfig, 'drill'>): SlotPool {
  return {
    pool: 'drills',
    limit: config.drill.concurrency,
    busy: `the drill budget (BACKUP_DRILL_CONCURRENCY=${config.drill.concurrency}) is in use`,
  };
}

/**
 * A discovered database's dumps share its server's budget (`discover.concurrency`,
 * BACKUP_SERVER_CONCURRENCY, default 2): a server with 300 databases never sees 300 dumps at
 * once, while other servers' dumps go on. Undefined for a target that is not of a server.
 */
export function serverPool(
  config: Pick<BackupConfig, 'targets'>,
  target: Pick<TargetConfig, 'server'>,
): SlotPool | undefined {
  if (target.server === undefined) return undefined;
  const server = config.targets.find((candidate) => candidate.name === target.server);
  const limit = server?.discover?.concurrency;
  if (server === undefined || limit === undefined) return undefined;
  return {
    pool: `servers:${server.name}`,
    limit,
    busy: `server ${server.name} already runs ${limit} dump(s) (BACKUP_SERVER_CONCURRENCY)`,
  };
}
