import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerSchedules(program: Command): void {
  program
    .command('schedules')
    .summary("show each target's schedule and next runs")
    .description(
      "each target's cron, time zone and next runs; flags targets with no scheduler in Redis (no worker has started with them)",
    )
    .addHelpText('after', examples(['backupctl schedules', 'backupctl schedules --json']))
    .action(lazyAction(async () => (await import('../commands/schedules.js')).schedulesCommand));
}
