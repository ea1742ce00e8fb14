import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerCopy(program: Command): void {
  program
    .command('copy')
    .summary('copy a backup to its destinations (S3-compatible buckets)')
    .description(
      "copy a local backup to a destination, or to every destination of its target; a copy counts once the object's size and SHA-256 are confirmed",
    )
    .argument('<backup-id>', 'a backup id, as `backupctl backups` lists them')
    .option('-d, --destination <name>', 'only this destination')
    .option('-w, --wait', 'follow the copies; exit 1 if one fails')
    .addHelpText('after', examples(['backupctl copy 20261125T020000123Z-app-1a2b3c --destination s3 --wait']))
    .action(lazyAction(async () => (await import('../commands/copy.js')).copyCommand));
}
