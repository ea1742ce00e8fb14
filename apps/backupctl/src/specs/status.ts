import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .summary('health of each target (a monitoring check)')
    .description(
      'per target: last backup, last verified backup, next run, failed jobs. Exits 1 when a target is stale or failing, or its scheduled runs would not happen (a monitoring check)',
    )
    .addHelpText(
      'after',
      `${examples(['backupctl status', 'backupctl status --json || page-oncall'])}
A target is stale when it has no verified backup younger than its BACKUP_MAX_AGE (never backed up
counts as stale, except for a new target during its first BACKUP_MAX_AGE after a worker first saw
it: MISSING, grace), and failing when one of its jobs failed for good (restores and drills aside:
they are listed, and have their own alerts) and no backup verified since answers the failure:
one taken after it, or the failed verification's own backup verified again.
It also fails when no scheduled run would happen: NO SCHEDULE (no job scheduler in Redis for the
target), or no worker connected to the queue (workers: NONE; then a run past its time is OVERDUE).
Exit status: 0 all targets fine, 1 a target is stale, failing, behind on a copy or not scheduled,
or no worker is connected, 3 Redis unreachable (the manifests' view is still printed).
`,
    )
    .action(lazyAction(async () => (await import('../commands/status.js')).statusCommand));
}
