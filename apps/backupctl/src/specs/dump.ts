import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerDump(program: Command): void {
  program
    .command('dump')
    .summary('back up a target now (dump, verify, prune)')
    .description('back up a target now: dump, then verify, then prune (the chain a scheduled run follows)')
    .option(
      '-t, --target <name>',
      'the target to back up (optional when only one is configured); a server target: each of its databases (discovered now) and its globals',
    )
    .option('-a, --all', 'back up every configured target')
    .option(
      '-w, --wait',
      'follow the dump, its verification, its copies and the prune; exit 0 once the backup is verified and copied to every destination',
    )
    .addHelpText(
      'after',
      examples([
        'backupctl dump --target app --wait',
        'backupctl dump --target prod-server --wait   # every database of a server target, and its globals',
        'backupctl dump --all',
        'backupctl dump --wait --json | jq .results[0].backupId',
      ]),
    )
    .action(lazyAction(async () => (await import('../commands/dump.js')).dumpCommand));
}
