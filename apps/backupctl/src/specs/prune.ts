import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .summary('apply the retention policy (or show its plan)')
    .description(
      "apply the retention policy: delete the backups that fill no slot (by default every target's)",
    )
    .option('-t, --target <name>', 'only this target')
    .option(
      '-n, --dry-run',
      'print the plan (keep or delete, and why) and change nothing; computed from the manifests, works with Redis down',
    )
    .option('-w, --wait', 'follow the prune job and print what it deleted')
    .addHelpText(
      'after',
      examples(['backupctl prune --target app --dry-run', 'backupctl prune --wait --json']),
    )
    .action(lazyAction(async () => (await import('../commands/prune.js')).pruneCommand));
}
