import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerBackups(program: Command): void {
  program
    .command('backups')
    .summary('list the backups (from the manifests, no Redis)')
    .description('list the backups, newest first, from the manifests on disk (works with Redis down)')
    .option('-t, --target <name>', 'only this target')
    .option(
      '-d, --destination <name>',
      "a destination's catalog, from the bucket alone (no local files needed)",
    )
    .addHelpText('after', examples(['backupctl backups', 'backupctl backups --target app --json']))
    .action(lazyAction(async () => (await import('../commands/backups.js')).backupsCommand));
}
