import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerRestoreGlobals(program: Command): void {
  program
    .command('restore-globals')
    .summary("replay a server's roles and tablespaces (a <server>.globals backup)")
    .description(
      'replay the roles (with memberships and settings) and tablespaces of a globals backup into a server, in this process; existing roles are skipped unless --force',
    )
    .argument('<backup-id>', 'a backup id of a <server>.globals target, as `backupctl backups` lists them')
    .option(
      '--to <url>',
      "postgresql://[user@]host:port/database on the server of a configured target, whose credentials are used (default: the backup's server)",
    )
    .option('--dry-run', 'print what would be done, change nothing')
    .option('-f, --force', 'also apply the settings, comments and passwords of roles that already exist')
    .addHelpText(
      'after',
      examples([
        'backupctl restore-globals 20261125T020000123Z-prod.globals-1a2b3c --dry-run',
        'backupctl restore-globals 20261125T020000123Z-prod.globals-1a2b3c --to postgresql://db2.internal:5432/postgres',
      ]),
    )
    .action(lazyAction(async () => (await import('../commands/restore-globals.js')).restoreGlobalsCommand));
}
