import { type Command, Option } from 'commander';
import { examples } from '../help.js';
import { lazyAction } from '../lazy-action.js';

/** The states `jobs --state` accepts. */
export const listedStates = ['failed', 'active', 'waiting', 'delayed', 'completed'] as const;

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .summary("list the queue's jobs")
    .description("list the queue's jobs, newest first, with the failure reason and attempts made")
    .addOption(
      new Option('-s, --state <state>', 'only jobs in this state (default: all)').choices(listedStates),
    )
    .option('-t, --target <name>', 'only jobs of this target')
    .option('-n, --limit <n>', 'at most this many jobs', '20')
    .addHelpText(
      'after',
      examples(['backupctl jobs --state failed', 'backupctl jobs --target app --limit 5 --json']),
    )
    .action(lazyAction(async () => (await import('../commands/jobs.js')).jobsCommand));
}
