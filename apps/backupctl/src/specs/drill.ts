import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .summary("restore a target's newest verified backup on the drill server, measuring RTO and RPO")
    .description(
      "restore drill: restore a target's newest verified backup into a scratch database on the drill server (BACKUP_DRILL_DATABASE_URL), compare row counts, drop it, and record the restore time (RTO) and the backup's age (RPO) in its manifest",
    )
    .option('-t, --target <name>', 'the target to drill (optional when only one is configured)')
    .option('-a, --all', 'drill every target that has a drill server')
    .option('-w, --wait', 'follow the drills; exit 1 if one fails')
    .addHelpText('after', examples(['backupctl drill --target app --wait', 'backupctl drill --all']))
    .action(lazyAction(async () => (await import('../commands/drill.js')).drillCommand));
}
