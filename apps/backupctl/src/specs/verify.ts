import { verifyLevels } from '@pgbackup/backup-core/verify-levels';
import { type Command, Option } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .summary('verify a backup again, at a chosen level')
    .description("check a backup again, at a level (default: its target's BACKUP_VERIFY level)")
    .argument('<backup-id>', 'a backup id, as `backupctl backups` lists them')
    .addOption(
      new Option(
        '-l, --level <level>',
        'checksum (file intact), list (archive readable), read (every byte decoded), restore (restored into a scratch database, row counts compared)',
      ).choices(verifyLevels),
    )
    .option('-w, --wait', 'follow the verification; exit 1 if it fails')
    .option(
      '-d, --destination <name>',
      "verify the copy in this destination instead of the local file: downloaded, checked at the level, the result recorded in the destination's manifest object",
    )
    .addHelpText(
      'after',
      examples([
        'backupctl verify 20261125T020000123Z-app-1a2b3c --level restore --wait',
        'backupctl verify 20261125T020000123Z-app-1a2b3c --destination s3 --level read --wait',
      ]),
    )
    .action(lazyAction(async () => (await import('../commands/verify.js')).verifyCommand));
}
