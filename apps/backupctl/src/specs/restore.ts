import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .summary('restore a backup into a database')
    .description('restore a backup into a database (never half-restored: staged, checked, then swapped in)')
    .argument('<backup-id>', 'a backup id, as `backupctl backups` lists them')
    .requiredOption(
      '--to <database|url>',
      "a plain database name (letters, digits, _ and $; on the server of the backup's target), or " +
        'postgresql://[user@]host:port/database on the server of a configured target, whose credentials are used (no password in the URL)',
    )
    .option(
      '-f, --force',
      'replace a database that holds anything: tables, views, sequences, functions, types, large objects (a safety dump of it is taken first)',
    )
    .option(
      '--confirm <target>',
      "the target's name, typed again, to replace the very database a configured target backs up",
    )
    .option('--no-owner', "skip ownership and grants (when the backup's roles do not exist on that server)")
    .option(
      '--with-globals',
      "first replay the newest globals backup of the backup's server (roles, memberships, tablespaces; existing roles skipped), in this process",
    )
    .option('-w, --wait', 'follow the restore job; exit 1 if it fails')
    .option(
      '--direct',
      'restore in this process from the files alone, without Redis or a worker (disaster recovery)',
    )
    .option(
      '--from <destination>',
      "restore from a destination's bucket alone (no local file needed): downloaded, its size and SHA-256 checked against the manifest object, then restored as a local backup would be",
    )
    .addHelpText(
      'after',
      examples([
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app_copy --wait',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app --force --confirm app --wait',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to postgresql://db2.internal:5432/app --direct',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app_copy --from s3 --direct',
      ]),
    )
    .action(lazyAction(async () => (await import('../commands/restore.js')).restoreCommand));
}
