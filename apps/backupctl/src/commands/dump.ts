import { dumpDeduplicationId, enqueueDump } from '@pgbackup/queue';
import { type ChainResult, describeChain, followDumpChain } from '../chain.js';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { interruptSignal } from '../follow.js';
import { createProgress } from '../progress.js';
import { chooseTarget } from '../resolve.js';

/** `dump --json`: the jobs enqueued (or joined) and, with --wait, each target's chain. */
export interface DumpDocument {
  jobs: Array<{ id: string; target: string; joined: boolean }>;
  results: ChainResult[];
}

interface DumpOptions {
  target?: string;
  all?: boolean;
  wait?: boolean;
}

export async function dumpCommand(ctx: CliContext, options: DumpOptions): Promise<number> {
  const config = ctx.config();
  if (options.all && options.target !== undefined) {
    throw new CliError('USAGE', '--target and --all exclude each other', exitCodes.usage);
  }
  const targets = options.all ? config.targets : [chooseTarget(config, options.target)];
  const queue = await ctx.queue();
  const jobs: DumpDocument['jobs'] = [];
  for (const target of targets) {
    // A manual dump joins one already waiting or running for the target (see enqueueDump).
    const pending = await queue.getDeduplicationJobId(dumpDeduplicationId(target.name));
    const job = await enqueueDump(queue, { target: target.name, origin: 'manual' });
    const joined = pending !== null && pending === job.id;
    jobs.push({ id: job.id!, target: target.name, joined });
    ctx.out.text(
      joined
        ? `dump job ${job.id} for ${target.name}: joined the dump already waiting or running`
        : `dump job ${job.id} for ${target.name}: enqueued`,
    );
  }
  await ctx.confirmReplicated();
  if (!options.wait) {
    ctx.out.document({ jobs, results: [] } satisfies DumpDocument);
    ctx.out.note(
      'Verify and prune follow automatically. Follow with `backupctl jobs` or re-run with --wait.',
    );
    return exitCodes.ok;
  }

  const interrupt = interruptSignal();
  const progress = createProgress(process.stderr);
  const results: ChainResult[] = [];
  try {
    for (const job of jobs) {
      const result = await followDumpChain(queue, job.id, job.target, {
        progress,
        signal: interrupt.signal,
        redis: await ctx.redis(),
      });
      results.push(result);
      ctx.out.text(describeChain(result));
      if (ctx.json && result.failure)
        ctx.out.note(`backupctl: ${result.failure.name} of ${job.target} failed: ${result.failure.reason}`);
    }
  } finally {
    interrupt.dispose();
  }
  ctx.out.document({ jobs, results } satisfies DumpDocument);
  return results.every((result) => result.ok && result.copyFailures.length === 0)
    ? exitCodes.ok
    : exitCodes.failed;
}
