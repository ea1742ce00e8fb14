import type { Command } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

export function registerRetry(program: Command): void {
  program
    .command('retry')
    .summary('retry failed jobs')
    .description(
      'retry failed jobs (attempts start again from zero), once their cause is fixed; restore jobs are ' +
        'never retried (run a new `backupctl restore`), and --all-failed skips and lists them',
    )
    .argument('[job-ids...]', 'ids of failed jobs, as `backupctl jobs --state failed` lists them')
    .option('--all-failed', 'every failed job (of --target, if given)')
    .option('-t, --target <name>', 'with --all-failed: only jobs of this target')
    .option(
      '-w, --wait',
      'follow the retried jobs (a dump: through its verification); exit 1 if one fails again',
    )
    .addHelpText(
      'after',
      examples(['backupctl retry 42 --wait', 'backupctl retry --all-failed --target app']),
    )
    .action(lazyAction(async () => (await import('../commands/retry.js')).retryCommand));
}
